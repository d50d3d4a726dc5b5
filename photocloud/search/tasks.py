from django_tasks import task

from . import services


@task()
def index_album_photos(album_id: str) -> None:
    """An album's title, description, category or tags changed: its pictures' documents carry them too."""
    services.index_album_photos(album_id)


@task()
def index_owner_photos(owner_id: int) -> None:
    """Many of a user's pictures changed category at once (a queryset update sends no per-picture signal)."""
    services.index_owner_photos(owner_id)


@task()
def index_missing() -> None:
    """Index the pictures and albums that have no search document yet (see SearchConfig.recover_interrupted_work)."""
    services.index_missing()
