"""Parts of the sync client on their own: retries against a real flaky HTTP server, and which files are synced."""

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from watchdog.observers import Observer

from photocloud.sync import client
from photocloud.sync.client import Api, SyncError, TokenRefused
from photocloud.sync.files import ChangeHandler, SettleTracker, is_candidate, readable


@contextmanager
def flaky(host="127.0.0.1"):
    """Answers `busy` (503, with Retry-After: 0) to the first `failures` requests, then `final` as JSON."""
    state = {"failures": 2, "busy": 503, "final": (200, {"username": "sam"}), "seen": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            state["seen"] += 1
            code, body = (state["busy"], {"detail": "busy"}) if state["seen"] <= state["failures"] else state["final"]
            payload = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Retry-After", "0")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://{host}:{server.server_address[1]}", state
    server.shutdown()
    server.server_close()


@pytest.fixture
def flaky_server():
    with flaky() as running:
        yield running


def test_server_errors_are_retried(flaky_server):
    url, state = flaky_server
    assert Api(url, "key").me() == "sam" and state["seen"] == 3


def test_retries_give_up_with_the_reason(flaky_server):
    url, state = flaky_server
    state["failures"] = 100
    with pytest.raises(SyncError, match="503 busy"):
        Api(url, "key", attempts=2).request("GET", "/api/me/")
    assert state["seen"] == 2


def test_the_rate_limit_is_waited_out_not_counted_as_failures(flaky_server):
    url, state = flaky_server
    state["busy"], state["failures"] = 429, 4
    assert Api(url, "key", attempts=2).me() == "sam" and state["seen"] == 5


def test_a_refused_token_stops_at_once(flaky_server):
    url, state = flaky_server
    state["failures"], state["final"] = 0, (401, {"detail": "Invalid or revoked token."})
    with pytest.raises(TokenRefused, match="Invalid or revoked token"):
        Api(url, "key").me()
    assert state["seen"] == 1


def test_only_pictures_that_are_not_hidden_or_temporary():
    assert is_candidate(Path("a/IMG_1.JPG")) and is_candidate(Path("b.heic")) and is_candidate(Path("raw.CR2"))
    for name in (".hidden.jpg", "~lock.jpg", "x.jpg~", "x.jpg.part", "x.tmp.png", "notes.txt", "drawing.svg"):
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
    code = (
        "import sys; from photocloud.cli import main; sys.argv = ['photocloud', 'sync', '--help'];\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "assert not [m for m in sys.modules if m.startswith('django')], 'Django was imported'"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PHOTOCLOUD_"))}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "photocloud sync" in result.stdout and list(tmp_path.iterdir()) == []


def test_the_watcher_hands_out_no_symbolic_link(tmp_path):
    """Like the full scan (walk), file events never lead through a link, to a file or into a folder."""
    root, outside = tmp_path / "watched", tmp_path / "outside"
    (outside / "album").mkdir(parents=True)
    (outside / "secret.jpg").write_bytes(b"x")
    (outside / "album" / "inner.jpg").write_bytes(b"x")
    (root / "sub").mkdir(parents=True)
    found: queue.SimpleQueue = queue.SimpleQueue()
    observer = Observer()
    observer.schedule(ChangeHandler(root, found.put), str(root), recursive=True)
    observer.start()
    try:
        (root / "secret.jpg").symlink_to(outside / "secret.jpg")
        (root / "sub" / "album.jpg").symlink_to(outside / "album", target_is_directory=True)
        (outside / "moved.jpg").symlink_to(outside / "secret.jpg")
        os.rename(outside / "moved.jpg", root / "moved.jpg")
        (tmp_path / "folder-link").symlink_to(outside / "album", target_is_directory=True)
        os.rename(tmp_path / "folder-link", root / "folder-link")
        (root / "real.jpg").write_bytes(b"x")  # the events come in order: once this one is here, so are the others
        seen = set()
        deadline = time.monotonic() + 10
        while root / "real.jpg" not in seen and time.monotonic() < deadline:
            with suppress(queue.Empty):
                seen.add(found.get(timeout=0.2))
    finally:
        observer.stop()
        observer.join(5)
    assert seen == {root / "real.jpg"}


@pytest.mark.parametrize("value", ["17", "0", "-1", "lots"])
def test_a_chunk_size_the_server_refuses_is_a_clear_error(tmp_path, capsys, value):
    with pytest.raises(SystemExit) as stopped:
        client.main([str(tmp_path), "--server", "http://127.0.0.1:9", "--token", "k", "--chunk-mb", value])
    assert stopped.value.code == 2
    assert "--chunk-mb" in capsys.readouterr().err
    assert client.MAX_CHUNK_MB * 1024 * 1024 == 16 * 1024 * 1024  # photocloud.sync.services.MAX_CHUNK_BYTES


def network_address() -> str | None:
    """This computer's address on its network (not loopback), if it has one; no packet is sent."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 9))  # any routable address: only picks the interface
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_a_token_sent_over_plain_http_is_warned_about(flaky_server, tmp_path, capsys, monkeypatch):
    url, state = flaky_server
    state["failures"] = 0
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    folder = tmp_path / "empty"
    folder.mkdir()
    assert client.main([str(folder), "--server", url, "--token", "k", "--quiet"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert client._is_local("http://localhost:8000") and client._is_local("http://[::1]/")
    address = network_address()
    if address is None:
        pytest.skip("this computer has no network address besides loopback")
    with flaky(address) as (remote, remote_state):
        remote_state["failures"] = 0
        assert client.main([str(folder), "--server", remote, "--token", "k", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "plain http://" in err and "https://" in err
