from django_tasks import task

from . import services


@task()
def process_photo(photo_id: str) -> None:
    """Background ingest of one picture: metadata and renditions (vision comes later in the same pipeline)."""
    services.process_photo(photo_id)


@task()
def purge_trash() -> None:
    """Delete for good what has been in the Trash longer than PHOTOCLOUD_TRASH_DAYS (queued by LibraryConfig)."""
    from . import trash

    trash.purge_expired()
