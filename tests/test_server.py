"""The real thing: `photocloud serve` (gunicorn + the database task worker) on a fresh data folder.

It runs against SQLite, or against a throw-away database on the server named by DATABASE_URL, so the background
worker is exercised on every database the suite runs on.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from urllib.parse import urlparse

import httpx
import pytest

from tests import images

pytestmark = pytest.mark.server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_database(url: str | None):
    """Create a throw-away database on the configured server; yields its URL (None for SQLite)."""
    if not url or url.startswith("sqlite"):
        return None, lambda: None
    parsed = urlparse(url)
    name = f"photocloud_serve_{uuid.uuid4().hex[:8]}"
    if parsed.scheme.startswith("postgres"):
        import psycopg

        admin = dict(host=parsed.hostname, port=parsed.port or 5432, user=parsed.username, dbname="postgres",
                     autocommit=True)
        with psycopg.connect(**admin) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

        def drop():
            with psycopg.connect(**admin) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        import MySQLdb

        admin = dict(host=parsed.hostname, port=parsed.port or 3306, user=parsed.username or "root",
                     password=parsed.password or "")
        conn = MySQLdb.connect(**admin)
        conn.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        conn.close()

        def drop():
            c = MySQLdb.connect(**admin)
            c.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
            c.close()
    return parsed._replace(path=f"/{name}").geturl(), drop


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("serve-data")
    database_url, drop_database = _server_database(os.environ.get("DATABASE_URL"))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PHOTOCLOUD_", "DJANGO_"))}
    env["PHOTOCLOUD_DATA_DIR"] = str(data_dir)
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    cli = [sys.executable, "-m", "photocloud.cli"]
    subprocess.run([*cli, "migrate", "--noinput", "-v", "0"], env=env, check=True, timeout=300)
    script = (
        "from photocloud.accounts.models import User, ApiToken;"
        "u = User.objects.create_user('sam', password='a-long-Passw0rd!');"
        "print(ApiToken.issue(u, 'test')[1])"
    )
    key = subprocess.run([*cli, "shell", "-c", script], env=env, check=True, capture_output=True, text=True,
                         timeout=120).stdout.strip().splitlines()[-1]
    port = _free_port()
    process = subprocess.Popen([*cli, "serve", "--port", str(port), "--web-workers", "1"], env=env,
                               start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.3)
    else:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("photocloud serve did not answer within 60 s")
    yield {"base": base, "key": key, "data_dir": data_dir, "process": process}
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        drop_database()


def test_upload_is_processed_by_the_background_worker(server):
    client = httpx.Client(base_url=server["base"], headers={"Authorization": f"Token {server['key']}"}, timeout=30)
    files = [("file", ("cat.jpg", images.jpeg("cat"), "image/jpeg")),
             ("file", ("coffee.png", images.encode(images.photo("coffee"), "PNG"), "image/png")),
             ("file", ("broken.jpg", images.truncated_jpeg(), "image/jpeg"))]
    response = client.post("/api/photos/upload/", files=files)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["stored"], body["rejected"]) == (2, 1)
    ids = [r["photo"]["id"] for r in body["results"] if r["status"] == "stored"]

    deadline = time.monotonic() + 90
    states = {}
    while time.monotonic() < deadline:
        states = {pid: client.get(f"/api/photos/{pid}/").json()["status"] for pid in ids}
        if all(state == "ready" for state in states.values()):
            break
        time.sleep(0.5)
    assert set(states.values()) == {"ready"}, states

    photo = client.get(f"/api/photos/{ids[0]}/").json()
    assert photo["camera_make"] == "Canon" and photo["taken_at"].startswith("2024-05-17")
    thumbnail = client.get(f"/photos/{ids[0]}/s")
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
    # The default "Uploads" album is private: nobody else gets the file.
    assert httpx.get(f"{server['base']}/photos/{ids[0]}/s").status_code == 404
    assert httpx.get(f"{server['base']}/photos/{ids[0]}/original").status_code == 404


def test_production_defaults(server):
    secret = server["data_dir"] / "secret_key"
    assert secret.exists() and oct(secret.stat().st_mode & 0o777) == "0o600"
    missing = httpx.get(f"{server['base']}/no/such/page/")
    assert missing.status_code == 404 and "Traceback" not in missing.text and "DEBUG" not in missing.text
    assert httpx.get(f"{server['base']}/static/photocloud/app.css").status_code == 200
    wrong_token = httpx.get(f"{server['base']}/api/me/", headers={"Authorization": "Token nope"})
    assert wrong_token.status_code == 401 and "Invalid" in wrong_token.json()["detail"]
