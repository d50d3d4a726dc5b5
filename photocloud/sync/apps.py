from django.apps import AppConfig


class SyncConfig(AppConfig):
    """Keeps local folders and server-side import folders in the library: resumable uploads and folder watching."""

    name = "photocloud.sync"
    label = "sync"
