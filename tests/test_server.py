"""The real thing: `photocloud serve` (gunicorn + the database task worker) on a fresh data folder.

It runs against SQLite, or against a throw-away database on the server named by DATABASE_URL, so the background
worker is exercised on every database the suite runs on.
"""

import time

import httpx
import pytest

from tests import images
from tests.servers import running_server

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("serve-data")) as running:
        yield running


def test_upload_is_processed_by_the_background_worker(server):
    client = httpx.Client(base_url=server["base"], headers={"Authorization": f"Token {server['key']}"}, timeout=30)
    files = [
        ("file", ("cat.jpg", images.jpeg("cat"), "image/jpeg")),
        ("file", ("coffee.png", images.encode(images.photo("coffee"), "PNG"), "image/png")),
        ("file", ("broken.jpg", images.truncated_jpeg(), "image/jpeg")),
    ]
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
