"""Liveness of background workers, so that the work of a dead one is queued again within seconds.

Every worker (`photocloud db_worker`, which `serve` runs) keeps a WorkerHeartbeat row fresh from a thread and notes
the task it runs in it. A row not refreshed for DEAD_AFTER belongs to a dead worker: its task goes back to the
queue (the product's tasks are idempotent), and after MAX_CLAIMS dead workers it is failed instead, so a task that
kills its worker (say, out of memory) cannot take the workers down forever. Live workers look for dead ones at each
beat, and `serve` does at once when one of its own workers exits.
"""

import logging
import os
import socket
import threading
from contextlib import contextmanager
from datetime import timedelta

from django.db import close_old_connections, connection
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus, task_finished, task_started
from django_tasks_db.models import DBTaskResult

from .models import WorkerHeartbeat

logger = logging.getLogger(__name__)

BEAT_SECONDS = 5
DEAD_AFTER = timedelta(seconds=30)
MAX_CLAIMS = 3  # workers a task may have outlived before it is failed


def beat(worker_id: str, **fields) -> None:
    updated = WorkerHeartbeat.objects.filter(pk=worker_id).update(beat_at=timezone.now(), **fields)
    if not updated:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=worker_id,
            defaults={"host": socket.gethostname()[:255], "pid": os.getpid(), "beat_at": timezone.now(), **fields},
        )


@contextmanager
def heartbeat(worker_id: str):
    """Keep this worker's heartbeat fresh while the block runs, with the task it is running; gone when it ends."""

    def started(sender, task_result, **kwargs):
        beat(worker_id, task_id=task_result.id)

    def finished(sender, task_result, **kwargs):
        beat(worker_id, task_id=None)

    stop = threading.Event()

    def keep_beating():
        try:
            while not stop.wait(BEAT_SECONDS):
                try:
                    beat(worker_id)
                    requeue_dead_work()
                except Exception:  # a database hiccup: the next beat tries again
                    logger.exception("Heartbeat of worker %s failed", worker_id)
        finally:
            connection.close()

    beat(worker_id, task_id=None)
    task_started.connect(started, weak=False, dispatch_uid=f"heartbeat-start-{worker_id}")
    task_finished.connect(finished, weak=False, dispatch_uid=f"heartbeat-finish-{worker_id}")
    thread = threading.Thread(target=keep_beating, name="heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        task_started.disconnect(dispatch_uid=f"heartbeat-start-{worker_id}")
        task_finished.disconnect(dispatch_uid=f"heartbeat-finish-{worker_id}")
        close_old_connections()
        WorkerHeartbeat.objects.filter(pk=worker_id).delete()


def requeue_dead_work(dead: tuple[str, ...] = (), *, sweep: bool = False) -> int:
    """Queue again (or fail) the tasks of workers that stopped beating, or that are known to be `dead`; returns how
    many. `sweep` also looks at every running task, for workers that died before noting their task (or before
    heartbeats existed): a full look at the task table, done at start and every few minutes, not at each beat."""
    stale = WorkerHeartbeat.objects.filter(beat_at__lt=timezone.now() - DEAD_AFTER) | WorkerHeartbeat.objects.filter(
        pk__in=dead
    )
    count = 0
    for worker_id, task_id in stale.values_list("worker_id", "task_id"):
        if task_id:
            count += _release(DBTaskResult.objects.filter(pk=task_id, status=TaskResultStatus.RUNNING).first())
        WorkerHeartbeat.objects.filter(pk=worker_id).delete()
    if sweep:
        live = set(WorkerHeartbeat.objects.values_list("worker_id", flat=True))
        for task in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING):
            if not task.worker_ids or task.worker_ids[-1] not in live:
                count += _release(task)
    return count


def _release(task: DBTaskResult | None) -> int:
    """Back to the queue, unless it was already claimed by MAX_CLAIMS workers; only if no one touched it since."""
    if task is None:
        return 0
    rows = DBTaskResult.objects.filter(pk=task.pk, status=TaskResultStatus.RUNNING, started_at=task.started_at)
    if len(task.worker_ids) >= MAX_CLAIMS:
        logger.error("Task %s (%s) failed: its worker stopped %d times", task.pk, task.task_path, MAX_CLAIMS)
        return rows.update(
            status=TaskResultStatus.FAILED,
            finished_at=timezone.now(),
            exception_class_path="photocloud.core.workers.WorkerDied",
            traceback=f"The worker running this task stopped {MAX_CLAIMS} times.",
        )
    logger.warning("Task %s (%s) queued again: its worker stopped", task.pk, task.task_path)
    return rows.update(status=TaskResultStatus.READY, started_at=None)
