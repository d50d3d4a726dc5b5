from django.apps import AppConfig


class PeopleConfig(AppConfig):
    """Faces grouped into people the owner can name, merge, split and hide; private to the owner of the pictures."""

    name = "photocloud.people"
    label = "people"

    def recover_interrupted_work(self):
        """Called by `photocloud serve` at start and every few minutes (by one node, core/lease.py): pictures analysed
        before People existed get their faces found in the background (tasks.find_faces), unless it is under way."""
        from django.conf import settings
        from django_tasks_db.compat import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        from .selectors import faces_to_find
        from .tasks import find_faces

        # Counted up to 1,000 only: a full count reads the whole library, and this runs every few minutes.
        if not settings.PHOTOCLOUD["VISION"] or not (count := faces_to_find(at_most=1000)):
            return None
        pending = (TaskResultStatus.READY, TaskResultStatus.RUNNING)
        if DBTaskResult.objects.filter(task_path=find_faces.module_path, status__in=pending).exists():
            return None
        find_faces.enqueue()
        return f"Queued finding faces in {'over 1000' if count > 1000 else count} picture(s) analysed before People."

    def ready(self):
        from django.conf import settings

        from photocloud.library import pipeline

        from . import tasks

        # After analysis: the faces it found join the owner's people (services.faces_for_pictures).
        pipeline.register("people", tasks.cluster_faces.enqueue, lambda: settings.PHOTOCLOUD["VISION"])
