"""Parts of the sync client on their own: retries against a real flaky HTTP server, and which files are synced."""

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from photocloud.sync.client import Api, SyncError, TokenRefused
from photocloud.sync.files import SettleTracker, is_candidate, readable


@pytest.fixture
def flaky_server():
    """Answers 503 (with Retry-After: 0) to the first `failures` requests, then `final` as JSON."""
    state = {"failures": 2, "final": (200, {"username": "sam"}), "seen": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            state["seen"] += 1
            code, body = (503, {"detail": "busy"}) if state["seen"] <= state["failures"] else state["final"]
            payload = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Retry-After", "0")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()
    server.server_close()


def test_server_errors_are_retried(flaky_server):
    url, state = flaky_server
    assert Api(url, "key").me() == "sam" and state["seen"] == 3


def test_retries_give_up_with_the_reason(flaky_server):
    url, state = flaky_server
    state["failures"] = 100
    with pytest.raises(SyncError, match="503 busy"):
        Api(url, "key", attempts=2).request("GET", "/api/me/")
    assert state["seen"] == 2


def test_a_refused_token_stops_at_once(flaky_server):
    url, state = flaky_server
    state["failures"], state["final"] = 0, (401, {"detail": "Invalid or revoked token."})
    with pytest.raises(TokenRefused, match="Invalid or revoked token"):
        Api(url, "key").me()
    assert state["seen"] == 1


def test_only_pictures_that_are_not_hidden_or_temporary():
    assert is_candidate(Path("a/IMG_1.JPG")) and is_candidate(Path("b.heic"))
    for name in (".hidden.jpg", "~lock.jpg", "x.jpg~", "x.jpg.part", "x.tmp.png", "notes.txt", "raw.cr2"):
        assert not is_candidate(Path(name)), name
    assert readable("caf\udce9.jpg") == "caf\ufffd.jpg"


def test_a_file_is_ready_once_it_stops_changing(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(b"x")
    tracker = SettleTracker(quiet=0.3)
    tracker.touch(path, "tag")
    assert tracker.ready() == []
    time.sleep(0.2)
    with open(path, "ab") as handle:
        handle.write(b"more")  # still being written: the clock starts again
    assert tracker.ready() == []
    time.sleep(0.35)
    assert tracker.ready() == [(path, "tag")] and len(tracker) == 0


def test_the_client_needs_no_django_settings_nor_data_folder(tmp_path):
    """Loading settings would create a data folder: the client runs on computers that have none."""
    code = ("import sys; from photocloud.cli import main; sys.argv = ['photocloud', 'sync', '--help'];\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "assert not [m for m in sys.modules if m.startswith('django')], 'Django was imported'")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PHOTOCLOUD_"))}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "photocloud sync" in result.stdout and list(tmp_path.iterdir()) == []
