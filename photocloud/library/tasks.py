from django_tasks import task

from . import bulk, services, stored_files


@task()
def process_photo(photo_id: str) -> None:
    """Background ingest of one picture: metadata and renditions (vision comes later in the same pipeline)."""
    services.process_photo(photo_id)


@task()
def remove_unreferenced_files(hashes: list[str]) -> None:
    """After deletions: the files of these hashes go if, under their lock, no picture refers to them any more."""
    for sha256 in hashes:
        stored_files.purge(sha256)


@task()
def sweep_storage() -> None:
    """Originals and renditions that no picture refers to, and half-written files, left by killed processes."""
    stored_files.sweep_storage()


@task()
def purge_trash() -> None:
    """Delete for good what has been in the Trash longer than PHOTOCLOUD_TRASH_DAYS (queued by LibraryConfig)."""
    from . import trash

    trash.purge_expired()


@task()
def run_bulk_job(job_id: str) -> None:
    """A bulk action on a large selection (bulk.start), a chunk per transaction, its progress in its BulkJob."""
    bulk.run_job(job_id)


@task()
def refresh_renditions(photo_ids: list[str]) -> None:
    """After the owner turned pictures: their renditions made turned, and their analysis done again."""
    services.refresh_renditions(photo_ids)
