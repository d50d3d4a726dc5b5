from django.apps import AppConfig


class SyncConfig(AppConfig):
    """Keeps local folders and server-side import folders in the library: resumable uploads and folder watching."""

    name = "photocloud.sync"
    label = "sync"
    # `photocloud serve` runs it beside the workers: it imports pictures dropped into the watched import folders.
    background_command = "watch_imports"

    def recover_interrupted_work(self):
        """Uploads abandoned for a week (and part files without an upload) are removed from the data folder."""
        from .services import remove_stale_uploads

        if removed := remove_stale_uploads():
            return f"Removed {removed} abandoned upload(s)."
        return None
