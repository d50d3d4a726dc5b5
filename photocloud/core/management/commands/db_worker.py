from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from photocloud.core.workers import heartbeat


class Command(DatabaseWorkerCommand):
    """django-tasks' database worker with a heartbeat (core/workers.py), so its tasks are queued again within
    seconds if it dies. It replaces the package's own `db_worker` because the core app is listed before it."""

    help = "Run a background worker (database task queue) that reports it is alive."

    def handle(self, *args, worker_id, **options):
        with heartbeat(worker_id):
            super().handle(*args, worker_id=worker_id, **options)
