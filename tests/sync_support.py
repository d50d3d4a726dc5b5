"""What the sync client tests share: the client's environment, running it, and reading the server's library back.

The client runs as a real process (`photocloud sync`) against a real `photocloud serve` (tests/servers.py).
"""

import hashlib
import os
import signal
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path
from urllib.parse import urlparse

import httpx

from tests.servers import CLI, command_line, process_tree, wait_until_answering


def new_home(tmp_path: Path) -> Path:
    """A user's home of its own per test (the `home` fixture): saved configuration and sync state live under it."""
    path = tmp_path / "home"
    path.mkdir()
    return path


def client_env(home: Path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PHOTOCLOUD_", "DJANGO_", "XDG_")) and key != "DATABASE_URL"
    }
    return {
        **env,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local/state"),
    }


def sync(server, folder, home, *extra, token=None, timeout=120):
    """Run the client to completion; returns the finished process (stdout, stderr, returncode)."""
    args = [*CLI, "sync", str(folder), "--server", server["base"], "--token", token or server["key"], *extra]
    return subprocess.run(args, env=client_env(home), capture_output=True, text=True, timeout=timeout)


def api(server):
    return httpx.Client(base_url=server["base"], headers={"Authorization": f"Token {server['key']}"}, timeout=30)


def my_photos(server) -> list[dict]:
    photos, url = [], "/api/photos/?mine=true"
    with api(server) as client:
        while url:
            page = client.get(url).json()
            photos += page["results"]
            url = page["next"]
    return photos


def wait_for_picture(server, digest: str, seconds: float = 30) -> bool:
    """Whether a picture with these bytes arrives in the library within `seconds`."""
    deadline = time.monotonic() + seconds
    while digest not in {p["sha256"] for p in my_photos(server)}:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.3)
    return True


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def web_worker(server) -> int:
    """The pid of gunicorn's (only) web worker: the gunicorn process below gunicorn's master."""
    master, *workers = [pid for pid in process_tree(server["process"].pid) if "gunicorn" in command_line(pid)]
    assert len(workers) == 1, [command_line(pid) for pid in (master, *workers)]
    return workers[0]


def completing(server) -> bool:
    """Whether a request is completing an upload now (its claim is set), read from the server's database."""
    query = "SELECT COUNT(*) FROM sync_uploadsession WHERE completing_since IS NOT NULL"
    url = server["env"].get("DATABASE_URL")
    if not url:
        with closing(sqlite3.connect(server["data_dir"] / "db.sqlite3", timeout=5)) as conn:
            return conn.execute(query).fetchone()[0] > 0
    if url.startswith("postgres"):
        import psycopg

        with psycopg.connect(url) as conn:
            return conn.execute(query).fetchone()[0] > 0
    import MySQLdb

    parsed = urlparse(url)
    conn = MySQLdb.connect(
        host=parsed.hostname, port=parsed.port or 3306, user=parsed.username, password=parsed.password or ""
    )
    try:
        cursor = conn.cursor()
        cursor.execute(query.replace("sync_uploadsession", f"`{parsed.path[1:]}`.sync_uploadsession"))
        return cursor.fetchone()[0] > 0
    finally:
        conn.close()


def sync_in_background(server, folder, home, *extra) -> subprocess.Popen:
    args = [*CLI, "sync", str(folder), "--server", server["base"], "--token", server["key"], "--workers", "1", *extra]
    return subprocess.Popen(args, env=client_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stored_once(server, data: bytes) -> None:
    """The picture is in the library exactly once, and its original's bytes are these."""
    mine = [p for p in my_photos(server) if p["sha256"] == sha(data)]
    assert len(mine) == 1, mine
    with api(server) as client:
        original = client.get(f"/photos/{mine[0]['id']}/original")
    assert original.status_code == 200 and sha(original.content) == sha(data)


def restart_and_check_storage(server) -> None:
    """Stop serve, age what the kill may have left (spools, part files, stored files, half-written files) past the
    sweeps' hour of grace, start serve again: it must leave no orphan original and no temporary file behind."""
    server["process"].send_signal(signal.SIGTERM)
    server["process"].wait(timeout=40)
    two_hours_ago = time.time() - 2 * 3600
    for folder in ("tmp", "uploads", "media"):
        for path in (server["data_dir"] / folder).rglob("*"):
            os.utime(path, (two_hours_ago, two_hours_ago))
    again = subprocess.Popen(
        [*CLI, "serve", "--port", str(server["port"]), "--web-workers", "1"],
        env=server["env"],
        start_new_session=True,
        stdout=server["log"].open("a"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_answering(server["base"])
        deadline = time.monotonic() + 30
        while True:  # the storage sweep runs in the background worker, queued by serve at start
            check = subprocess.run(
                [*CLI, "check-storage"], env=server["env"], capture_output=True, text=True, timeout=60
            )
            if check.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert check.returncode == 0, check.stdout + check.stderr
        assert not list((server["data_dir"] / "tmp").iterdir())
        assert not list((server["data_dir"] / "uploads").iterdir())
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(timeout=40)
