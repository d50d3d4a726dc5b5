from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "photocloud.library"
    label = "library"

    def ready(self):
        # HEIC/HEIF (and AVIF where Pillow lacks it) become ordinary Pillow formats.
        import pillow_heif

        pillow_heif.register_heif_opener()

    def recover_interrupted_work(self):
        """Called by `photocloud serve` at start and every few minutes."""
        from .services import requeue_stalled

        if count := requeue_stalled():
            return f"Queued {count} picture(s) again whose processing was interrupted."
        return None
