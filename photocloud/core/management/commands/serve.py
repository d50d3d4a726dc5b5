import functools
import logging
import os
import signal
import socket
import subprocess
import sys
import uuid

from django.core.management.base import BaseCommand, CommandError

from photocloud.core.checks import WITHOUT_URLS
from photocloud.core.supervisor import Child, PortTaken, Supervisor, die_with_parent, listen

RECOVER_SECONDS = 300  # apps' recovery of half-done work, and the search-by-image snapshot


class Command(BaseCommand):
    help = (
        "Run Photocloud: the web server (gunicorn), background worker(s) and the import-folder watcher, kept running."
    )
    requires_system_checks = WITHOUT_URLS

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("PHOTOCLOUD_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PHOTOCLOUD_PORT", "8000")))
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("PHOTOCLOUD_WEB_WORKERS", "2")))
        parser.add_argument(
            "--task-workers",
            type=int,
            default=int(os.environ.get("PHOTOCLOUD_TASK_WORKERS", "1")),
            help="Background workers (0 when they run elsewhere).",
        )

    def handle(self, *args, host, port, web_workers, task_workers, **options):
        logging.getLogger("photocloud.core").setLevel(logging.INFO)
        sys.stdout.reconfigure(line_buffering=True)  # what it reports shows at once, also in a log file
        try:
            sock = listen(host, port)
        except PortTaken as taken:
            raise CommandError(str(taken)) from None
        # glibc keeps a memory arena per libvips thread; two bound the workers' peak memory (measured in bench/).
        os.environ.setdefault("MALLOC_ARENA_MAX", "2")
        python = [sys.executable, "-m", "photocloud.cli"]
        web = [
            sys.executable,
            "-m",
            "gunicorn",
            "photocloud.wsgi:application",
            "--config",
            "python:photocloud.core.web",
        ]
        web += ["--bind", f"fd://{sock.fileno()}", "--workers", str(web_workers)]
        children = [Child("web server", web, death_signal=signal.SIGTERM, pass_fds=(sock.fileno(),))]
        children += [
            Child(
                "background worker",
                [*python, "db_worker", "--interval", "0.5", "--no-startup-delay", "--worker-id", uuid.uuid4().hex],
                on_exit=self._worker_died,
            )
            for _ in range(task_workers)
        ]
        # Also on web-only nodes: of several nodes, one does each piece of such work (the import-folder watcher
        # leases each folder, core/lease.py), so it runs once per cluster whichever nodes have workers.
        children += [Child(command.replace("_", " "), [*python, command]) for command in self._background_commands()]
        # Periodic work runs on one node of several (core/lease.py), also on web-only nodes (--task-workers 0).
        self.lease_holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.index_builder = None
        if self._hold_lease():
            self._recover_interrupted_work()
        ticks = [(RECOVER_SECONDS, self._recover_and_index)]
        self.stdout.write(f"Photocloud is running at http://{host}:{port}/ ({task_workers} background worker(s)).")
        self._report_setup()
        Supervisor(children, ticks).run()

    def _worker_died(self, child: Child) -> None:
        """Its task goes back to the queue now, not when its heartbeat goes stale (live workers catch that within
        DEAD_AFTER, core/workers.py); it starts again with a new id."""
        from photocloud.core.workers import requeue_dead_work

        worker_id = child.argv[-1]
        child.argv[-1] = uuid.uuid4().hex
        if count := requeue_dead_work((worker_id,)):
            self.stdout.write(f"Queued {count} task(s) of the stopped worker again.")

    def _hold_lease(self) -> bool:
        from django.db import close_old_connections

        from photocloud.core.lease import hold

        try:
            return hold("periodic", self.lease_holder, RECOVER_SECONDS * 2)
        except Exception:  # the cache is down: this node does the work rather than nobody
            logging.getLogger(__name__).exception("Lease for periodic work")
            return True
        finally:
            close_old_connections()

    def _recover_and_index(self) -> None:
        if not self._hold_lease():
            return
        self._recover_interrupted_work()
        self._maybe_rebuild_index()

    def _recover_interrupted_work(self):
        """Each app may define `recover_interrupted_work()` on its AppConfig: work a dead worker left half-done is
        queued again or marked failed, so nothing stays stuck. It returns a line to print, or None."""
        from django.apps import apps
        from django.db import close_old_connections

        for config in apps.get_app_configs():
            if (recover := getattr(config, "recover_interrupted_work", None)) and (report := recover()):
                self.stdout.write(report)
        close_old_connections()

    def _report_setup(self):
        """Each app may say how it is set up (AppConfig.setup_report(), a line or None): which search-by-image index
        is in use, for example."""
        from django.apps import apps
        from django.db import close_old_connections

        for config in apps.get_app_configs():
            if (describe := getattr(config, "setup_report", None)) and (line := describe()):
                self.stdout.write(line)
        close_old_connections()

    @staticmethod
    def _background_commands():
        """Long-running management commands apps ask to run beside the workers (AppConfig.background_command)."""
        from django.apps import apps

        return [
            config.background_command
            for config in apps.get_app_configs()
            if getattr(config, "background_command", None)
        ]

    def _maybe_rebuild_index(self):
        """One background build of the search-by-image snapshot at a time, when it pays off (see vision/similar.py)."""
        if self.index_builder is None or self.index_builder.poll() is not None:
            self.index_builder = subprocess.Popen(
                [sys.executable, "-m", "photocloud.cli", "build_vector_index", "--if-due"],
                start_new_session=True,
                preexec_fn=functools.partial(die_with_parent, signal.SIGKILL, os.getpid()),
            )
