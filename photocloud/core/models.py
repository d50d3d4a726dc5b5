from django.db import models

MAX_ID = 2**63 - 1  # the largest key a database id column holds: a larger one is bad input, not a server error


class WorkerHeartbeat(models.Model):
    """A background worker that is alive: it refreshes `beat_at` every few seconds while it runs (see workers.py), so
    a task it claimed whose worker stopped beating is known to be dead within seconds, not after a long timeout."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    beat_at = models.DateTimeField(db_index=True)
    task_id = models.UUIDField(null=True, blank=True, help_text="The django-tasks result row it is running.")

    def __str__(self):
        return f"{self.worker_id} ({self.host}:{self.pid})"
