"""Worker liveness: a dead worker's task goes back to the queue within seconds (core/workers.py)."""

from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus, task_finished
from django_tasks_db.models import DBTaskResult

from photocloud.core.models import WorkerHeartbeat
from photocloud.core.workers import DEAD_AFTER, MAX_CLAIMS, requeue_dead_work
from photocloud.library.tasks import process_photo

pytestmark = pytest.mark.django_db


def running(*worker_ids: str) -> DBTaskResult:
    now = timezone.now()
    return DBTaskResult.objects.create(
        status=TaskResultStatus.RUNNING,
        args_kwargs={"args": ["00000000-0000-0000-0000-000000000000"], "kwargs": {}},
        task_path="photocloud.library.tasks.process_photo",
        backend_name="default",
        run_after=now,
        started_at=now,
        worker_ids=list(worker_ids),
    )


def alive(worker_id: str, task: DBTaskResult, beat_at=None) -> None:
    WorkerHeartbeat.objects.create(
        worker_id=worker_id, host="here", pid=1, beat_at=beat_at or timezone.now(), task_id=task.pk
    )


def status(task: DBTaskResult) -> str:
    return DBTaskResult.objects.get(pk=task.pk).status


def test_the_task_of_a_worker_that_stopped_beating_goes_back_to_the_queue():
    lost, kept = running("dead"), running("live")
    alive("dead", lost, beat_at=timezone.now() - DEAD_AFTER - timedelta(seconds=1))
    alive("live", kept)
    assert requeue_dead_work() == 1
    assert (status(lost), status(kept)) == (TaskResultStatus.READY, TaskResultStatus.RUNNING)
    assert list(WorkerHeartbeat.objects.values_list("pk", flat=True)) == ["live"]
    assert DBTaskResult.objects.ready().filter(pk=lost.pk).exists()  # a worker takes it now


def test_serve_hands_back_the_task_of_a_worker_it_saw_exit_at_once():
    task = running("w1")
    alive("w1", task)  # its last beat is fresh, but serve saw the process exit
    assert requeue_dead_work() == 0
    assert requeue_dead_work(("w1",)) == 1 and status(task) == TaskResultStatus.READY


def test_a_task_whose_workers_keep_dying_fails_instead():
    task = running(*[f"w{n}" for n in range(MAX_CLAIMS)])
    assert requeue_dead_work((f"w{MAX_CLAIMS - 1}",), sweep=True) == 1
    failed = DBTaskResult.objects.get(pk=task.pk)
    assert failed.status == TaskResultStatus.FAILED and "stopped 3 times" in failed.traceback


def test_the_sweep_finds_tasks_of_workers_that_died_before_noting_them():
    orphan, kept = running("gone"), running("live")
    alive("live", kept)
    assert requeue_dead_work() == 0  # only the sweep looks at every running task
    assert apps.get_app_config("core").recover_interrupted_work() == "Queued 1 task(s) again whose worker stopped."
    assert (status(orphan), status(kept)) == (TaskResultStatus.READY, TaskResultStatus.RUNNING)


@pytest.mark.django_db(transaction=True)  # the worker closes connections between tasks, as in production
def test_a_real_worker_beats_and_notes_its_task(settings):
    settings.TASKS = {**settings.TASKS, "db": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    result = process_photo.using(backend="db").enqueue("00000000-0000-0000-0000-000000000000")
    seen = []

    def look(sender, task_result, **kwargs):  # called before the worker's own receiver clears its task
        seen.append(list(WorkerHeartbeat.objects.values_list("worker_id", "task_id")))

    task_finished.connect(look)
    try:
        call_command("db_worker", "--batch", "--backend", "db", "--worker-id", "w1", "--no-startup-delay", verbosity=0)
    finally:
        task_finished.disconnect(look)
    assert [[(worker, str(task))] for ((worker, task),) in seen] == [[("w1", str(result.id))]]
    assert status(DBTaskResult.objects.get(pk=result.id)) == TaskResultStatus.SUCCESSFUL
    assert not WorkerHeartbeat.objects.exists()  # gone when it stops
