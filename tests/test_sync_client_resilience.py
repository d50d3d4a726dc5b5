"""The sync client against a server that throttles it or loses its web worker in the middle of an upload: every
picture still arrives once and whole, and nothing is left behind. Each test starts a server of its own
(tests/servers.py), on SQLite or the database DATABASE_URL names; they sit apart from tests/test_sync_client.py so
that parallel test processes can share the work."""

import os
import signal
import time

import pytest

from tests import images
from tests.servers import running_server
from tests.sync_support import (
    api,
    completing,
    my_photos,
    new_home,
    restart_and_check_storage,
    sha,
    stored_once,
    sync,
    sync_in_background,
    web_worker,
    write,
)

pytestmark = pytest.mark.server


home = pytest.fixture(new_home, name="home")


@pytest.mark.any_engine  # the limit lives in the cache; the uploads themselves are tested on every engine
def test_the_upload_rate_limit_slows_the_client_down_without_failing(tmp_path_factory, tmp_path, home):
    """Starting and completing an upload count against the server's `upload` rate; the client waits out each 429 as
    Retry-After asks, and every picture arrives."""
    with running_server(
        tmp_path_factory.mktemp("throttled-serve-data"), extra_env={"PHOTOCLOUD_UPLOAD_RATE": "2/s"}
    ) as server:
        with api(server) as client:
            answers = [client.post("/api/uploads/", json={}).status_code for _ in range(4)]
        assert answers[-1] == 429, answers  # the limit is really there
        folder = tmp_path / "Many"
        pictures = [images.unique_jpeg(name) for name in ("coffee", "astronaut") * 4]
        for index, data in enumerate(pictures):
            write(folder / f"{index}.jpg", data)
        assert min(map(len, pictures)) > 64 * 1024  # each goes up alone: start, chunk, complete
        result = sync(server, folder, home, "--chunk-mb", "0.0625", "--quiet", timeout=240)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Uploaded: 8 · Already there: 0 · Rejected: 0" in result.stdout, result.stdout
        assert {sha(data) for data in pictures} <= {p["sha256"] for p in my_photos(server)}


def test_web_workers_killed_mid_upload_and_while_completing_the_client_finishes_and_nothing_is_left(tmp_path, home):
    """kill -9 of the web worker, first while chunks arrive (gunicorn starts another, the client's retry resumes at
    the offset the server committed), then while it completes an upload (hashes, stores the original: the claim it
    held lapses, the client's retry takes it over); each picture arrives once and whole, and after a restart no
    litter remains. A short claim (6 s instead of 20) keeps the wait for its lapse short."""
    with running_server(tmp_path / "data", extra_env={"PHOTOCLOUD_UPLOAD_CLAIM_SECONDS": "6"}) as server:
        big = images.large_png(6 * 1024 * 1024)
        write(tmp_path / "Big" / "big.png", big)
        process = sync_in_background(server, tmp_path / "Big", home, "--chunk-mb", "0.25", "--max-rate", "1")
        uploads, received = server["data_dir"] / "uploads", 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and received < 1024 * 1024:
            received = max((p.stat().st_size for p in uploads.glob("*.part")), default=0)
            time.sleep(0.05)
        os.kill(web_worker(server), signal.SIGKILL)
        out, err = process.communicate(timeout=90)
        assert 0 < received < len(big), "the worker was not killed in the middle of the upload"
        assert process.returncode == 0 and "Rejected: 0" in out, out + err
        stored_once(server, big)

        other = images.large_png(6 * 1024 * 1024, subject="coffee")
        write(tmp_path / "Other" / "other.png", other)
        process = sync_in_background(server, tmp_path / "Other", home, "--chunk-mb", "2")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not completing(server):
            time.sleep(0.02)
        caught = completing(server)
        os.kill(web_worker(server), signal.SIGKILL)
        caught = caught and completing(server)  # still claimed once killed: the retry must take the claim over
        out, err = process.communicate(timeout=120)
        assert caught, "the upload was not being completed when the worker was killed"
        assert process.returncode == 0, out + err
        assert "Uploaded: 1" in out or "Already there: 1" in out, out
        stored_once(server, other)
        restart_and_check_storage(server)
