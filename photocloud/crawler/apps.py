from django.apps import AppConfig


class CrawlerConfig(AppConfig):
    """Fetches pictures like one the user cares about from the web, politely and safely."""

    name = "photocloud.crawler"
    label = "crawler"

    def recover_interrupted_work(self):
        """Called by `photocloud serve` at start and every few minutes: no crawl stays "running" without a worker."""
        from .services import forget_deleted_crawls, recover_stalled, remove_orphan_files

        resumed, failed = recover_stalled()
        remove_orphan_files()
        forget_deleted_crawls()
        if resumed or failed:
            return f"Crawls whose worker stopped: {resumed} resumed, {failed} marked failed."
        return None
