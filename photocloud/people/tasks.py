"""The people app's background tasks: the "people" stage of the picture pipeline (library/pipeline.py), and the
backfill of faces for pictures analysed before People existed."""

from django_tasks import task


@task()
def cluster_faces(photo_ids: list[str]) -> None:
    """Faces of newly analysed pictures become Face rows and join their owner's people (services.faces_for_pictures)."""
    from . import services

    services.faces_for_pictures(photo_ids)


@task()
def find_faces() -> None:
    """The backfill: faces found in pictures analysed before People existed, a batch at a time, queued again until
    none is left (started by PeopleConfig.recover_interrupted_work, which `photocloud serve` calls)."""
    from . import services

    if services.find_faces_batch():
        find_faces.enqueue()
