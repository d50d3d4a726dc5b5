from django_tasks import task

from . import services


@task()
def index_changes(photo_ids: list[str] = (), album_ids: list[str] = (), album_photo_ids: list[str] = ()) -> None:
    """The search index stage of the pipeline (library/pipeline.py): the documents of the pictures and albums that
    changed in one transaction, and of every picture of the albums whose title, description, category or tags
    changed."""
    services.index_changes(photo_ids, album_ids, album_photo_ids)


@task()
def index_missing() -> None:
    """Index the pictures and albums that have no search document yet (see SearchConfig.recover_interrupted_work)."""
    services.index_missing()


@task()
def rebuild_format() -> None:
    """Rewrite the whole index in the current format (see services.INDEX_FORMAT and claim_format_rebuild)."""
    services.rebuild_format()
