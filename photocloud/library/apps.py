from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "photocloud.library"
    label = "library"

    def ready(self):
        # HEIC/HEIF (and AVIF where Pillow lacks it) become ordinary Pillow formats.
        import pillow_heif

        pillow_heif.register_heif_opener()

    def recover_interrupted_work(self):
        """Called by `photocloud serve` at start and every few minutes: stalled processing is queued again, and the
        purge of the Trash when something in it has passed its retention."""
        from .services import requeue_stalled
        from .tasks import purge_trash
        from .trash import expired_exist

        reports = []
        if count := requeue_stalled():
            reports.append(f"Queued {count} picture(s) again whose processing was interrupted.")
        if expired_exist():
            purge_trash.enqueue()
            reports.append("Queued the purge of the Trash.")
        return " ".join(reports) or None
