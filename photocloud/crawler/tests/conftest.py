import pytest

from .site import serve, site  # noqa: F401 (a fixture, shared with tests/e2e/test_crawler.py)


@pytest.fixture
def crawler_settings(settings):
    """Fast, small budgets, and the allow-list that lets the crawler reach the test site on 127.0.0.1 only."""
    settings.PHOTOCLOUD = {
        **settings.PHOTOCLOUD,
        "CRAWLER": {
            **settings.PHOTOCLOUD["CRAWLER"],
            "ALLOW_NETWORKS": ["127.0.0.1/32"],
            "HOST_DELAY": 0.0,
            "TIMEOUT": 1.0,
            "MAX_PAGE_BYTES": 256 * 1024,
            "MAX_SECONDS": 60,
        },
    }
    return settings.PHOTOCLOUD["CRAWLER"]


def configure(settings, **values):
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "CRAWLER": {**settings.PHOTOCLOUD["CRAWLER"], **values}}


@pytest.fixture
def other_loopback():
    """A server on 127.0.0.2: loopback, but not on the allow-list. It must never be asked anything."""
    server = serve("127.0.0.2")
    yield server
    server.stop()
