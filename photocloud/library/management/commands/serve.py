import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand

STALLED_CHECK_SECONDS = 300


class Command(BaseCommand):
    help = "Run Photocloud: the web server (gunicorn) and background worker(s), stopping both together."

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
        web = [
            sys.executable,
            "-m",
            "gunicorn",
            "photocloud.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(web_workers),
            "--threads",
            "4",
            "--timeout",
            "300",
            "--access-logfile",
            "-",
            "--no-control-socket",  # its default path is per user, so two instances would remove each other's
        ]
        worker = [sys.executable, "-m", "photocloud.cli", "db_worker", "--interval", "0.5", "--no-startup-delay"]
        # glibc keeps a memory arena per libvips thread; two bound the workers' peak memory (measured in bench/).
        os.environ.setdefault("MALLOC_ARENA_MAX", "2")
        if task_workers:
            self._recover_interrupted_work()
        children = [subprocess.Popen(web)] + [subprocess.Popen(worker) for _ in range(task_workers)]
        if task_workers:
            children += [
                subprocess.Popen([sys.executable, "-m", "photocloud.cli", command])
                for command in self._background_commands()
            ]
        self.stdout.write(f"Photocloud is running at http://{host}:{port}/ ({task_workers} background worker(s)).")

        def stop(*_):
            for child in children:
                if child.poll() is None:
                    child.terminate()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        index_builder = None
        try:
            next_check = time.monotonic() + STALLED_CHECK_SECONDS
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
                if task_workers and time.monotonic() > next_check:
                    self._recover_interrupted_work()
                    index_builder = self._maybe_rebuild_index(index_builder)
                    next_check = time.monotonic() + STALLED_CHECK_SECONDS
        finally:
            stop()
            for child in children:
                try:
                    child.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    child.kill()
        if any(child.returncode not in (0, -signal.SIGTERM) for child in children):
            sys.exit(1)

    def _recover_interrupted_work(self):
        """Each app may define `recover_interrupted_work()` on its AppConfig: work a dead worker left half-done is
        queued again or marked failed, so nothing stays stuck. It returns a line to print, or None."""
        from django.apps import apps
        from django.db import close_old_connections

        from photocloud.library.services import refresh_planner_statistics

        refresh_planner_statistics()
        for config in apps.get_app_configs():
            if (recover := getattr(config, "recover_interrupted_work", None)) and (report := recover()):
                self.stdout.write(report)
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

    def _maybe_rebuild_index(self, builder):
        """One background build of the search-by-image snapshot at a time, when it pays off (see vision/search.py)."""
        if builder is not None and builder.poll() is None:
            return builder
        return subprocess.Popen([sys.executable, "-m", "photocloud.cli", "build_vector_index", "--if-due"])
