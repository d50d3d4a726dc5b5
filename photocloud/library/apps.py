import time

from django.apps import AppConfig

SWEEP_EVERY_SECONDS = 6 * 3600


class LibraryConfig(AppConfig):
    name = "photocloud.library"
    label = "library"
    next_sweep = 0.0  # monotonic time of the next storage sweep; the first call of each process sweeps

    def ready(self):
        # HEIC/HEIF (and AVIF where Pillow lacks it) become ordinary Pillow formats.
        import pillow_heif

        pillow_heif.register_heif_opener()

    def recover_interrupted_work(self):
        """Called by `photocloud serve` at start and every few minutes: pictures whose processing was interrupted are
        queued again; what killed processes left (temporary files at once; stored files no picture refers to, by a
        background sweep at start and every few hours) is removed; the Trash is purged of what passed its retention."""
        from .services import refresh_planner_statistics, requeue_stalled
        from .stored_files import remove_stale_temporary_files
        from .tasks import purge_trash, sweep_storage
        from .trash import expired_exist

        if time.monotonic() >= self.next_sweep:
            sweep_storage.enqueue()
            self.next_sweep = time.monotonic() + SWEEP_EVERY_SECONDS
        refresh_planner_statistics()
        lines = []
        if count := requeue_stalled():
            lines.append(f"Queued {count} picture(s) again whose processing was interrupted.")
        if count := remove_stale_temporary_files():
            lines.append(f"Removed {count} temporary file(s) left by interrupted work.")
        if expired_exist():
            purge_trash.enqueue()
            lines.append("Queued the purge of the Trash.")
        return " ".join(lines) or None
