import functools
import logging
import os
import queue
import socket
import time
import uuid
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import close_old_connections
from watchdog.observers import Observer

from photocloud.core import lease
from photocloud.core.checks import WITHOUT_URLS
from photocloud.sync import services
from photocloud.sync.files import ChangeHandler, SettleTracker
from photocloud.sync.models import ImportFolder

logger = logging.getLogger(__name__)

RELOAD_SECONDS = 5
LEASE_SECONDS = 60  # a folder whose watcher died (its node with it) is taken over by another node within this long


class Command(BaseCommand):
    requires_system_checks = WITHOUT_URLS  # no view, no model: see core/checks.py
    help = (
        "Import the pictures dropped into the watched import folders (run by `photocloud serve`; keeps running, "
        "idle when no folder is configured)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--rescan-seconds",
            type=float,
            default=60,
            help="Full scan of every folder this often, for changes the file events missed.",
        )
        parser.add_argument(
            "--settle-seconds",
            type=float,
            default=2,
            help="A file is imported once its size and time stopped changing for this long.",
        )
        parser.add_argument("--once", action="store_true", help="Import what the folders hold now, then stop.")

    def handle(self, *args, rescan_seconds, settle_seconds, once, **options):
        self.tracker = SettleTracker(quiet=0 if once else settle_seconds)
        if once:
            folders = {f.pk: f for f in ImportFolder.objects.filter(enabled=True).select_related("owner", "album")}
            for folder in folders.values():
                self._scan(folder)
            self._import_ready(folders)
            return
        self.start_watching()
        folders: dict[int, ImportFolder] = {}
        next_reload = next_rescan = 0.0
        while True:
            try:
                now = time.monotonic()
                if now >= next_reload:
                    folders, added = self._reload()
                    for folder in added:
                        self._scan(folder)
                    next_reload = now + RELOAD_SECONDS
                if now >= next_rescan:
                    for folder in folders.values():
                        self._scan(folder)
                    next_rescan = now + rescan_seconds
                while not self.changes.empty():
                    folder_id, path = self.changes.get()
                    if folder_id in folders:
                        self.tracker.touch(path, folder_id)
                self._import_ready(folders)
            except Exception:  # a database hiccup must not stop `serve`, which ends when any child exits
                logger.exception("Watching the import folders failed; trying again shortly")
                close_old_connections()
                time.sleep(RELOAD_SECONDS)
            time.sleep(0.5)

    def start_watching(self) -> None:
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"  # this node, for the leases
        self.changes: queue.SimpleQueue = queue.SimpleQueue()
        self.observer = Observer()
        self.observer.start()
        self.watches: dict[int, tuple[str, object]] = {}

    def _reload(self) -> tuple[dict[int, ImportFolder], list[ImportFolder]]:
        """The enabled folders this node watches; returns them and those new or changed since the last reload."""
        close_old_connections()
        enabled = ImportFolder.objects.filter(enabled=True).select_related("owner", "album")
        folders = {f.pk: f for f in enabled if self._holds(f)}
        added = []
        for folder_id in set(self.watches) - set(folders):
            logger.info("Import folder %s: watched by another node now, or no more", self.watches[folder_id][0])
            self.observer.unschedule(self.watches.pop(folder_id)[1])
        for folder in folders.values():
            path, watch = self.watches.get(folder.pk, (None, None))
            if path == folder.path:
                continue
            if watch is not None:
                self.observer.unschedule(watch)
                del self.watches[folder.pk]
            try:
                found = functools.partial(self._changed, folder.pk)
                watch = self.observer.schedule(ChangeHandler(Path(folder.path), found), folder.path, recursive=True)
            except OSError as error:
                services.record_scan(folder, 0, error=f"Cannot watch the folder: {error.strerror or error}.")
                continue
            self.watches[folder.pk] = (folder.path, watch)
            added.append(folder)
            logger.info("Import folder %s: watched by this node", folder.path)
        return folders, added

    def _holds(self, folder: ImportFolder) -> bool:
        """Whether this node watches the folder (or goes on with it): of several nodes running `serve`, the one
        holding its lease, which only a node that sees the folder takes (the folder may be on one machine only). A
        folder no node sees is reported as missing here. Without a shared cache each node has its own leases."""
        name = f"imports:{folder.pk}"
        try:
            if Path(folder.path).is_dir():
                return lease.hold(name, self.holder, LEASE_SECONDS)
            return not lease.is_held(name)  # nobody sees it: this node reports it missing, as one machine alone does
        except Exception:  # the cache is down: this node imports rather than nobody (ingest leaves no duplicate)
            logger.exception("Lease for import folder %s", folder.path)
            return True

    def _changed(self, folder_id: int, path: Path) -> None:
        """Called from the observer thread: hand the change to the main loop."""
        self.changes.put((folder_id, path))

    def _scan(self, folder: ImportFolder) -> None:
        if not Path(folder.path).is_dir():
            services.record_scan(folder, 0, error="The folder does not exist or is not a directory.")
            return
        pending = services.pending_files(folder)
        for path in pending:
            self.tracker.touch(path, folder.pk)
        services.record_scan(folder, len(pending))

    def _import_ready(self, folders: dict[int, ImportFolder]) -> None:
        for path, folder_id in self.tracker.ready():
            if (folder := folders.get(folder_id)) and self._holds(folder):  # renewed: a long import keeps its lease
                event = services.import_file(folder, path)
                if event is not None:
                    logger.info("Import folder %s: %s %s", folder.path, event.relative_path, event.status)
