from django.apps import AppConfig


class SearchConfig(AppConfig):
    """One search box: keywords, meaning, filters and scopes over everything the viewer may see."""

    name = "photocloud.search"
    label = "search"
