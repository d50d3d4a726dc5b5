import os
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.management.color import no_style
from django.db import connections
from django.test import TransactionTestCase

from tests import images

# Tests of these kinds load the real models, start real processes or a browser, or fuzz the whole API: the slow ones.
SLOW_KINDS = ("vision", "e2e", "server", "fuzz")


# Tests of no slow kind that were measured slow (how: the file's header).
MEASURED_SLOW = {
    line.split("#")[0].strip()
    for line in (Path(__file__).parent / "tests" / "slow_tests.txt").read_text().splitlines()
    if line.split("#")[0].strip()
}

# Rows that `migrate` writes and no test changes: kept when the database is emptied after a committing test.
MIGRATE_ROWS = {"django_content_type", "auth_permission"}
_django_fixture_teardown = TransactionTestCase._fixture_teardown


def _fixture_teardown(self):
    """Empty the database after a test that commits (`transactional_db`, several hundred a run), but for
    MIGRATE_ROWS. Django's teardown empties every table, content types and permissions included, and its post_migrate
    signal writes them all again (190 statements instead of 50: 0.15-0.25 s a test on PostgreSQL, unloaded); the rows
    it would write are those kept. Only this teardown: a `flush` a test runs itself is Django's own."""
    if self.available_apps is not None or self.serialized_rollback:
        return _django_fixture_teardown(self)
    for name in self._databases_names(include_mirrors=False):
        connection = connections[name]
        tables = set(connection.introspection.django_table_names(only_existing=True, include_views=False))
        connection.ops.execute_sql_flush(connection.ops.sql_flush(no_style(), sorted(tables - MIGRATE_ROWS)))


TransactionTestCase._fixture_teardown = _fixture_teardown

# Fixtures through which a test reaches the database (pytest-django refuses database access to any other test).
DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"}


def pytest_collection_modifyitems(config, items):
    """Mark the tests of a slow kind, and those measured slow (tests/slow_tests.txt), `slow`, so that
    `pytest -m "not slow"` is a quick run (CI runs everything).

    With PHOTOCLOUD_TEST_DATABASE_TESTS_ONLY=1 (scripts/test.sh's PostgreSQL and MariaDB runs), leave out the tests
    that cannot touch the database: pytest-django blocks database access for a test that asks for none of
    DATABASE_FIXTURES, so their outcome is the same on every engine and the SQLite run has them. Tests that start
    real server processes (`server`) reach the database through those processes and stay, but for those marked
    `any_engine`, whose subject lies elsewhere (a rate limit, kept in the cache) and which cost half a minute a run.
    """
    for item in items:
        if any(item.get_closest_marker(kind) for kind in SLOW_KINDS) or item.nodeid.split("[")[0] in MEASURED_SLOW:
            item.add_marker(pytest.mark.slow)
    if os.environ.get("PHOTOCLOUD_TEST_DATABASE_TESTS_ONLY") != "1":
        return
    kept, left_out = [], []
    for item in items:
        uses_database = item.get_closest_marker("django_db") or DATABASE_FIXTURES & set(item.fixturenames)
        server = item.get_closest_marker("server") and not item.get_closest_marker("any_engine")
        (kept if uses_database or server else left_out).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters (and the near-duplicate review's cache) must not leak from one test to the next."""
    for each in caches.all():
        each.clear()
    yield
    for each in caches.all():
        each.clear()


@pytest.fixture
def make_user(db, django_user_model):
    def make(username="alice", password="a-long-Passw0rd!", **extra):
        return django_user_model.objects.create_user(username=username, password=password, **extra)

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def api(alice):
    """An API client logged in as alice through a personal token, as the sync client would be."""
    from rest_framework.test import APIClient

    from photocloud.accounts.models import ApiToken

    _, key = ApiToken.issue(alice, "tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.user = alice
    return client


@pytest.fixture
def upload(django_capture_on_commit_callbacks):
    """Upload files through the API as the client's user and run the background processing, like the worker would."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    def do(client, files, album=None):
        payload = {"file": [SimpleUploadedFile(name, content) for name, content in files]}
        if album is not None:
            payload["album"] = str(album.pk)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/api/photos/upload/", payload, format="multipart")

    return do


@pytest.fixture
def sample_jpeg():
    return images.jpeg()


@pytest.fixture
def vision_on(settings):
    """Uploads run the whole pipeline inline, analysis with the real models included, against a fresh vector index.

    Used by the tests about what the models see (mark them `vision`); elsewhere tests/settings.py turns vision off.
    """
    from photocloud.vision.similar import reset_index

    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "VISION": True}
    reset_index()
    yield
    reset_index()
