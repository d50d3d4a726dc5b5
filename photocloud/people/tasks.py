"""The people app's background task: the "people" stage of the picture pipeline (library/pipeline.py)."""

from django_tasks import task


@task()
def cluster_faces(photo_ids: list[str]) -> None:
    """Faces of newly analysed pictures become Face rows and join their owner's people (services.faces_for_pictures)."""
    from . import services

    services.faces_for_pictures(photo_ids)
