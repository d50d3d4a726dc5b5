"""The vision app's background tasks. Their modules are imported inside each task: this module is imported when the
app registers its pipeline stages, in every process, and processes that never run a model must not load one."""

from django_tasks import task


@task()
def analyze_photos(photo_ids: list[str]) -> None:
    """Background vision for newly processed pictures, batched with any others waiting (services.analyze_waiting)."""
    from . import services

    services.analyze_waiting(photo_ids)


@task()
def reanalyze_photos(photo_ids: list[str]) -> None:
    """Analyse these pictures again, analysed or not (their renditions changed: the owner turned them)."""
    from . import services

    services.analyze_photos(photo_ids)


@task()
def update_groupings(photo_ids: list[str]) -> None:
    """The groupings stage of the pipeline: regroup the owners' look-alikes once enough new pictures were analysed."""
    from . import lookalikes

    lookalikes.queue_for_pictures(photo_ids)


@task()
def train_taught_classes(owner_ids: list[int]) -> None:
    """Retrain the user's own classes after the categories they gave their pictures changed (see taught.train)."""
    from photocloud.accounts.models import User

    from . import taught

    for owner in User.objects.filter(pk__in=owner_ids):
        taught.train(owner)


@task()
def group_lookalikes(owner_id: int) -> None:
    """Regroup a user's look-alike albums once enough new pictures were analysed (see lookalikes.queue_if_stale)."""
    from photocloud.accounts.models import User

    from . import lookalikes

    if owner := User.objects.filter(pk=owner_id).first():
        lookalikes.group(owner)
