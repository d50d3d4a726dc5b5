"""End-to-end fixtures: one real Chromium per session (Debian's package, driven by Playwright), a fresh browser
context per test. The helpers that act like a user in the pages are in ui.py.

The app runs in-process on pytest-django's `live_server`; with its transactional database `on_commit` fires, so the
ImmediateBackend from tests/settings.py processes uploads (EXIF, thumbnails) before the upload request answers.

Set PHOTOCLOUD_SCREENSHOTS=1 to save screenshots of the main pages into tests/e2e/screenshots/.
"""

import os
import shutil
from pathlib import Path

import pytest

from photocloud.crawler.tests.site import site  # noqa: F401 (a fixture, shared with the crawler's own tests)

# Playwright's sync API runs an event loop in the test thread, which makes Django refuse ORM calls made from the test
# itself ("You cannot call this from an async context"). The test thread never really runs async code: allow it.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("PHOTOCLOUD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
TIMEOUT_MS = 15_000


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """On SQLite, give the test database a file when end-to-end tests run.

    Django's default SQLite test database lives in memory, and then the live server hands one shared connection to
    all its request threads. The uploader sends two files at a time, so two requests' transactions collide on that
    connection ("database table is locked"). With a file (WAL, IMMEDIATE transactions, as in production) every thread
    has its own connection. This runs before any database is created; PostgreSQL and MariaDB need nothing.
    """
    if not any(item.get_closest_marker("e2e") for item in items):
        return
    from django.conf import settings

    database = settings.DATABASES["default"]
    test = database.setdefault("TEST", {})
    if database["ENGINE"].endswith("sqlite3") and test.get("NAME") in (None, "", ":memory:"):
        test["NAME"] = str(settings.DATA_DIR / "test-e2e.sqlite3")


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (Debian package `chromium`).")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser, live_server):
    """Open a fresh browser context (its own cookies: a separate visitor) on the live server; closed after the test.

    JavaScript errors in the pages fail the test, at the end, with what the console said.
    """
    contexts, errors = [], []

    def make(**options):
        options = {"base_url": live_server.url, "viewport": {"width": 1280, "height": 900}, **options}
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        context.on("weberror", lambda error: errors.append(str(error.error)))
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors in the pages: {errors}"


@pytest.fixture
def page(new_context):
    return new_context().new_page()


@pytest.fixture(scope="session")
def _screenshot_dir():
    if os.environ.get("PHOTOCLOUD_SCREENSHOTS") != "1":
        return None
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS


@pytest.fixture
def screenshot(_screenshot_dir):
    """screenshot(page, "name"): a full-page PNG in tests/e2e/screenshots/, only when PHOTOCLOUD_SCREENSHOTS=1."""

    def take(page, name):
        if _screenshot_dir is not None:
            page.screenshot(path=str(_screenshot_dir / f"{name}.png"), full_page=True)

    return take
