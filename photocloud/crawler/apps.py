from django.apps import AppConfig


class CrawlerConfig(AppConfig):
    """Fetches pictures like one the user cares about from the web, politely and safely."""

    name = "photocloud.crawler"
    label = "crawler"
