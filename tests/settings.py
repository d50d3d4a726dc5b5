"""Test settings: the real settings, with a throw-away data folder and tasks run in-process.

The database comes from DATABASE_URL as in production, so the same suite runs on SQLite, PostgreSQL and MariaDB.
"""

import os
import tempfile

os.environ.setdefault("PHOTOCLOUD_DATA_DIR", tempfile.mkdtemp(prefix="photocloud-test-"))
if worker := os.environ.get("PYTEST_XDIST_WORKER"):
    # Tests in parallel (pytest-xdist): each worker has its own files, as it has its own test database; files are
    # shared by content, so a test deleting a picture in one worker must not remove a file a test in another uses.
    os.environ["PHOTOCLOUD_DATA_DIR"] = os.path.join(os.environ["PHOTOCLOUD_DATA_DIR"], worker)
    os.makedirs(os.environ["PHOTOCLOUD_DATA_DIR"], exist_ok=True)
# The image model exported from its packaged weights (vision/features.py), named by their checksum: one export per
# machine rather than one per test run.
os.environ.setdefault("PHOTOCLOUD_MODEL_DIR", os.path.join(tempfile.gettempdir(), "photocloud-test-models"))
if os.environ.get("PHOTOCLOUD_TEST_PGVECTOR") == "1" and "PHOTOCLOUD_TEST_PGVECTOR_URL" not in os.environ:
    # PostgreSQL with pgvector, started for this test run (tests/pgvector_server.py); test processes it starts share it.
    from tests import pgvector_server

    os.environ["PHOTOCLOUD_TEST_PGVECTOR_URL"] = pgvector_server.start()
if url := os.environ.get("PHOTOCLOUD_TEST_PGVECTOR_URL"):
    os.environ["DATABASE_URL"] = url
os.environ.setdefault("PHOTOCLOUD_TASK_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")

from photocloud.settings import *  # noqa: E402,F403

# Fast hashing for the many users tests create; production uses Argon2 (see photocloud/settings.py).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Rate-limit counters in memory, cleared between tests by conftest.py.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "duplicates": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "duplicates"},
}
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# WhiteNoise reads every static file's details when its middleware starts, and the test client starts the middleware
# anew for each client: a third of the CPU of the access tests. Tests look a file up when it is asked for instead
# (WhiteNoise's development mode); tests/test_server.py serves them through `photocloud serve` as production does.
WHITENOISE_AUTOREFRESH = True

# The real models run in the tests that are about them (photocloud/vision/tests, marked "vision", and the flows
# that show their results); elsewhere uploads stop after metadata and thumbnails, which keeps the suite fast.
PHOTOCLOUD = {**PHOTOCLOUD, "VISION": False}  # noqa: F405

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, as in production (WAL, IMMEDIATE transactions): an in-memory database shared between threads answers
    # "database table is locked" instead of waiting, so tests of concurrent writers could not run on it.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}  # noqa: F405
elif DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    # Emptied with DELETE after each committing test, not TRUNCATE (seconds a test; tests/postgresql_flush).
    DATABASES["default"]["ENGINE"] = "tests.postgresql_flush"  # noqa: F405
    # A throw-away database need not survive a crash: its commits do not wait for the disk (the server's setting is
    # left alone). 2.5 ms a commit against 0.2 ms on the shared CI machine under load; ~10 % of the run's time.
    options = DATABASES["default"].setdefault("OPTIONS", {})  # noqa: F405
    options["options"] = f"{options.get('options', '')} -c synchronous_commit=off".strip()
