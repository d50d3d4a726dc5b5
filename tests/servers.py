"""A real `photocloud serve` process on a fresh data folder, for the tests that talk to the running server.

It runs against SQLite, or against a throw-away database on the server named by DATABASE_URL, so the background
worker (and the apps' background commands) are exercised on every database the suite runs on.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

CLI = [sys.executable, "-m", "photocloud.cli"]


def process_tree(root: int) -> list[int]:
    """`root` and every process below it, from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def wait_until_answering(base: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.3)
    pytest.fail(f"photocloud serve did not answer within {seconds:.0f} s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_database(url: str | None):
    """Create a throw-away database on the configured server; yields its URL (None for SQLite)."""
    if not url or url.startswith("sqlite"):
        return None, lambda: None
    parsed = urlparse(url)
    name = f"photocloud_serve_{uuid.uuid4().hex[:8]}"
    if parsed.scheme.startswith("postgres"):
        import psycopg

        admin = {
            "host": parsed.hostname,
            "port": parsed.port or 5432,
            "user": parsed.username,
            "dbname": "postgres",
            "autocommit": True,
        }
        with psycopg.connect(**admin) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
            # Throw-away: its commits need not wait for the disk (as the test database's, tests/settings.py).
            conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')

        def drop():
            with psycopg.connect(**admin) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        import MySQLdb

        admin = {
            "host": parsed.hostname,
            "port": parsed.port or 3306,
            "user": parsed.username or "root",
            "password": parsed.password or "",
        }
        conn = MySQLdb.connect(**admin)
        conn.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        conn.close()

        def drop():
            c = MySQLdb.connect(**admin)
            c.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
            c.close()

    return parsed._replace(path=f"/{name}").geturl(), drop


@contextmanager
def running_server(data_dir: Path, username: str = "sam", extra_env: dict | None = None, web_workers: int = 1):
    """Migrate, create `username` with an API token, start `photocloud serve`; yields base, key, data_dir, env, port,
    process and log (env runs more commands, e.g. `photocloud shell`, against the same database and data folder;
    log is the file holding serve's output). `extra_env` sets PHOTOCLOUD_* variables of the server (e.g.
    PHOTOCLOUD_TASK_WORKERS)."""
    database_url, drop_database = server_database(os.environ.get("DATABASE_URL"))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PHOTOCLOUD_", "DJANGO_"))}
    env["PHOTOCLOUD_DATA_DIR"] = str(data_dir)
    for name in ("PHOTOCLOUD_MODEL_DIR", "PHOTOCLOUD_VISION_THREADS"):  # the exported image model, shared by the
        if name in os.environ:  # tests (tests/settings.py), and the threads the test run allows (scripts/test.sh)
            env[name] = os.environ[name]
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra_env or {})
    process = None
    try:
        subprocess.run([*CLI, "migrate", "--noinput", "-v", "0"], env=env, check=True, timeout=300)
        script = (
            "from photocloud.accounts.models import User, ApiToken;"
            f"u = User.objects.create_user({username!r}, password='a-long-Passw0rd!');"
            "print(ApiToken.issue(u, 'test')[1])"
        )
        key = (
            subprocess.run(
                [*CLI, "shell", "-c", script], env=env, check=True, capture_output=True, text=True, timeout=120
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        port = free_port()
        log = data_dir / "serve.log"
        process = subprocess.Popen(
            [*CLI, "serve", "--port", str(port), "--web-workers", str(web_workers)],
            env=env,
            start_new_session=True,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        wait_until_answering(base)
        yield {"base": base, "key": key, "data_dir": data_dir, "env": env, "port": port, "process": process, "log": log}
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        drop_database()
