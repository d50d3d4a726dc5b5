from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Project plumbing below every domain app: the process supervisor (`photocloud serve`), background workers'
    liveness, and the client address behind trusted proxies. It imports no other Photocloud app."""

    name = "photocloud.core"
    label = "core"

    def recover_interrupted_work(self):
        """Called by `photocloud serve` at start and every few minutes: running tasks whose worker is gone (live
        workers catch most of them within seconds; this also finds those that died before noting their task)."""
        from .workers import requeue_dead_work

        if count := requeue_dead_work(sweep=True):
            return f"Queued {count} task(s) again whose worker stopped."
        return None
