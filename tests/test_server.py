"""The real thing: `photocloud serve` (gunicorn + the database task worker) on a fresh data folder.

It runs against SQLite, or against a throw-away database on the server named by DATABASE_URL, so the background
worker is exercised on every database the suite runs on.
"""

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests import images
from tests.servers import CLI, command_line, process_tree, running_server, wait_until_answering

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("serve-data")) as running:
        yield running


def api_client(server) -> httpx.Client:
    return httpx.Client(base_url=server["base"], headers={"Authorization": f"Token {server['key']}"}, timeout=30)


def children(server, name: str) -> list[int]:
    return [pid for pid in process_tree(server["process"].pid) if name in command_line(pid)]


def wait_for(condition, seconds: float, what: str, server=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    log = server["log"].read_text()[-3000:] if server else ""
    pytest.fail(f"{what} within {seconds:.0f} s\n{log}")


def test_upload_is_processed_by_the_background_worker(server):
    client = api_client(server)
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


def test_the_first_searches_after_a_start_answer_within_a_second(server):
    """The models are loaded before the web server forks (photocloud/core/web.py), not by the first request."""
    client = api_client(server)
    picture = images.jpeg("coffee")
    for name, send in {
        "keyword": lambda: client.get("/api/search/", params={"q": "cat"}),
        "meaning": lambda: client.get("/api/search/", params={"q": "kitten"}),
        "by image": lambda: client.post("/api/search/image/", files={"picture": ("q.jpg", picture, "image/jpeg")}),
    }.items():
        started = time.perf_counter()
        response = send()
        seconds = time.perf_counter() - started
        assert response.status_code == 200, response.text
        assert seconds <= 1.0, f"the first {name} search took {seconds:.1f} s"


def test_no_process_of_the_deployment_loads_torch(server):
    """The image model runs on ONNX Runtime and the sentence model in numpy: after a picture was analysed and each
    kind of search answered, no process (supervisor, web master and workers, task worker, watcher) mapped torch."""
    client = api_client(server)
    upload = client.post("/api/photos/upload/", files=[("file", ("rocket.jpg", images.jpeg("rocket"), "image/jpeg"))])
    assert upload.status_code == 201, upload.text
    photo_id = upload.json()["results"][0]["photo"]["id"]
    wait_for(lambda: client.get(f"/api/photos/{photo_id}/").json()["analysis"], 120, "the picture was not analysed")
    picture = images.jpeg("coffee")
    assert client.get("/api/search/", params={"q": "spaceship"}).status_code == 200
    assert client.post("/api/search/image/", files={"picture": ("q.jpg", picture, "image/jpeg")}).status_code == 200
    processes = {pid: command_line(pid) for pid in process_tree(server["process"].pid)}
    kinds = ("gunicorn", "db_worker", "watch_imports")
    assert all(any(kind in line for line in processes.values()) for kind in kinds), processes
    for pid, line in processes.items():
        assert "libtorch" not in Path(f"/proc/{pid}/maps").read_text(), line


def test_a_second_serve_on_a_taken_port_says_so_and_stops(server):
    second = subprocess.run(
        [*CLI, "serve", "--port", str(server["port"])], env=server["env"], capture_output=True, text=True, timeout=60
    )
    assert second.returncode == 1
    assert f"Cannot listen on 127.0.0.1:{server['port']}" in second.stderr and "already running" in second.stderr
    assert "Photocloud is running" not in second.stdout
    assert httpx.get(server["base"] + "/").status_code == 200  # the first one is untouched


def test_a_killed_worker_is_replaced_and_its_picture_processed(server):
    """kill -9 of the worker while it analyses a picture: the site stays up, serve starts a new worker at once and
    puts the task back in the queue, and the picture is analysed (the new worker loads the models first: within two
    minutes even on a CI machine running three test runs side by side, where one minute once fell short)."""
    client = api_client(server)
    if not any(kill_the_worker_while_it_analyses(server, client) for _ in range(3)):
        pytest.fail("the worker had always finished before it was killed")
    assert httpx.get(server["base"] + "/").status_code == 200


def kill_the_worker_while_it_analyses(server, client) -> bool:
    """One try; whether the kill caught the worker in the middle of the analysis (serve says it queued its task)."""
    (worker,) = wait_for(lambda: children(server, "db_worker"), 30, "a worker runs", server)
    upload = client.post("/api/photos/upload/", files={"file": ("p.jpg", images.unique_jpeg("astronaut"))})
    photo = f"/api/photos/{upload.json()['results'][0]['photo']['id']}/"
    # Processed (metadata, renditions), so its analysis is queued: the worker is loading the models for it.
    wait_for(lambda: client.get(photo).json()["status"] == "ready", 30, "processed", server)
    os.kill(worker, signal.SIGKILL)
    assert httpx.get(server["base"] + "/").status_code == 200
    wait_for(lambda: children(server, "db_worker") not in ([], [worker]), 10, "a new worker started", server)
    wait_for(lambda: client.get(photo).json()["analysis"], 120, "analysed", server)
    return "Queued 1 task(s) of the stopped worker again." in server["log"].read_text()


def test_a_killed_serve_leaves_no_process_and_starts_again(server):
    """kill -9 of serve: its children (web server and its workers, worker, watcher) go with it and free the port."""
    processes = process_tree(server["process"].pid)
    assert len(processes) >= 5, [command_line(pid) for pid in processes]  # serve, gunicorn + 1 worker, worker, watcher
    os.kill(server["process"].pid, signal.SIGKILL)
    wait_for(lambda: not [pid for pid in processes if command_line(pid)], 20, "every child gone")
    again = subprocess.Popen([*CLI, "serve", "--port", str(server["port"])], env=server["env"], start_new_session=True)
    try:
        wait_until_answering(server["base"])
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(timeout=40)
    assert again.returncode == 0
