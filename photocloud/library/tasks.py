from django_tasks import task

from . import services


@task()
def process_photo(photo_id: str) -> None:
    """Background ingest of one picture: metadata and renditions (vision comes later in the same pipeline)."""
    services.process_photo(photo_id)
