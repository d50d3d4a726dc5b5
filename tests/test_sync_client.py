"""`photocloud sync` as a real process against a real `photocloud serve` on 127.0.0.1, with real pictures.

The server runs on SQLite, or on a throw-away PostgreSQL / MariaDB database when DATABASE_URL names one. A server that
throttles the client or loses its web worker: tests/test_sync_client_resilience.py.
"""

import hashlib
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests import images
from tests.servers import CLI, running_server
from tests.sync_support import api, client_env, my_photos, new_home, sha, sync, wait_for_picture, write

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("sync-serve-data")) as running:
        yield running


home = pytest.fixture(new_home, name="home")


def test_sync_uploads_what_is_missing_and_nothing_twice(server, tmp_path, home):
    folder = tmp_path / "Pictures"
    cat, coffee, rocket = images.unique_jpeg("cat"), images.in_format("PNG", "coffee"), images.unique_jpeg("rocket")
    write(folder / "cat.jpg", cat)
    write(folder / "holiday" / "coffee.png", coffee)
    write(folder / "holiday" / "cat.jpg", other_cat := images.unique_jpeg("cat"))  # same name, other picture
    write(folder / "holiday" / "deep" / "rocket.JPG", rocket)
    write(folder / "broken.jpg", images.truncated_jpeg())
    write(folder / "page.jpg", images.html_as_jpeg())
    write(folder / ".hidden.jpg", images.unique_jpeg("astronaut"))
    write(folder / "notes.txt", b"not a picture")
    before = {p["sha256"] for p in my_photos(server)}

    first = sync(server, folder, home)
    assert first.returncode == 0, first.stderr
    assert "Uploaded: 4 · Already there: 0 · Rejected: 2" in first.stdout, first.stdout
    assert "rejected broken.jpg:" in first.stdout and "rejected page.jpg:" in first.stdout
    assert "Uploading" in first.stderr and "B/s" in first.stderr  # the progress bar: bytes, rate, ETA
    hashes = {p["sha256"] for p in my_photos(server)} - before
    assert hashes == {sha(cat), sha(other_cat), sha(coffee), sha(rocket)}

    again = sync(server, folder, home, "--quiet")
    assert again.returncode == 0 and "Uploaded: 0 · Already there: 4 · Rejected: 2" in again.stdout, again.stdout
    assert {p["sha256"] for p in my_photos(server)} - before == hashes

    # A new file, a changed file (new picture; the old one stays) and a copy of one the server has.
    added, changed = images.unique_jpeg("astronaut"), images.unique_jpeg("cat")
    write(folder / "holiday" / "astronaut.jpg", added)
    time.sleep(0.01)
    write(folder / "cat.jpg", changed)
    write(folder / "copy of rocket.jpg", rocket)
    third = sync(server, folder, home, "--quiet")
    assert third.returncode == 0 and "Uploaded: 2 · Already there: 4 · Rejected: 2" in third.stdout, third.stdout
    assert {p["sha256"] for p in my_photos(server)} - before == hashes | {sha(added), sha(changed)}


def test_a_picture_deleted_on_the_server_stays_deleted_when_its_file_is_renamed(server, tmp_path, home):
    folder = tmp_path / "Pictures"
    beach, dune = images.unique_jpeg("cat"), images.unique_jpeg("coffee")
    write(folder / "IMG_0001.jpg", beach)
    write(folder / "IMG_0002.jpg", dune)  # unchanged since: the client skips it from its own state
    assert "Uploaded: 2 ·" in sync(server, folder, home, "--quiet").stdout
    with api(server) as client:
        for photo in [p for p in my_photos(server) if p["sha256"] in (sha(beach), sha(dune))]:
            assert client.delete(f"/api/photos/{photo['id']}/").status_code == 204

    (folder / "IMG_0001.jpg").rename(folder / "海滩 2025.jpg")
    again = sync(server, folder, home, "--quiet")

    # Not "Already there": the summary says where they are, so that they are not left to be purged unknowingly.
    line = "Uploaded: 0 · Already there: 0 · Rejected: 0 · In your Trash on the server: 2"
    assert again.returncode == 0 and line in again.stdout, again.stdout
    assert "restore them from the Trash to keep them" in again.stdout
    assert "in the Trash 海滩 2025.jpg" in again.stdout and "in the Trash IMG_0002.jpg" in again.stdout  # which
    with api(server) as client:  # still in the Trash, not restored
        assert {sha(beach), sha(dune)} <= {p["sha256"] for p in client.get("/api/trash/").json()["results"]}


def test_a_picture_the_server_restores_from_the_trash_is_told_apart(server, tmp_path, home):
    """The server brings a trashed picture back when its bytes are sent again, and says so: the summary must not
    call it "Already there"."""
    beach = images.unique_jpeg("coffee")
    write(tmp_path / "Phone" / "IMG_0002.jpg", beach)
    assert "Uploaded: 1 ·" in sync(server, tmp_path / "Phone", home, "--quiet").stdout
    [photo] = [p for p in my_photos(server) if p["sha256"] == sha(beach)]
    with api(server) as client:
        assert client.delete(f"/api/photos/{photo['id']}/").status_code == 204

    write(tmp_path / "Camera" / "beach.jpg", beach)  # another folder: its client has never sent these bytes
    write(tmp_path / "Camera" / "beach copy.jpg", beach)
    again = sync(server, tmp_path / "Camera", home, "--quiet")

    assert again.returncode == 0, again.stderr
    line = "Uploaded: 0 · Already there: 1 · Rejected: 0 · Restored from your Trash on the server: 1"
    assert line in again.stdout, again.stdout  # the copy in the same folder is the same picture, already there
    assert sha(beach) in {p["sha256"] for p in my_photos(server)}
    rerun = sync(server, tmp_path / "Camera", home, "--quiet")  # nothing restored this time: it is in the library
    assert "Uploaded: 0 · Already there: 2 · Rejected: 0" in rerun.stdout and "Trash" not in rerun.stdout


def test_asking_whether_a_content_was_sent_reads_no_other_file(tmp_path):
    """Each file to send is asked about by its content (State.sent): a scan of every file known each time made a
    first sync quadratic (40,000 files: 114 s CPU in those questions alone). Counted in SQLite's steps, one
    question must not grow with the folder."""
    from photocloud.sync.client import State

    state = State(tmp_path / "state.db")
    known = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(20_000)]
    with state.lock:
        state.db.executemany(
            "INSERT INTO files VALUES (?, 1, 1, ?, ?, '')",
            [(f"{n}.jpg", digest, "uploaded" if n % 2 else None) for n, digest in enumerate(known)],
        )
    steps = []
    state.db.set_progress_handler(lambda: steps.append(1), 100)  # called every 100 virtual machine steps
    assert state.sent(known[1]) and not state.sent(known[2]) and not state.sent("0" * 64)
    assert len(steps) < 10, len(steps)


def test_sync_uploads_camera_raw_photoshop_and_jpeg_xl_files(server, tmp_path, home):
    folder = tmp_path / "Shoot"
    files = {"IMG_0001.DNG": images.dng("cat"), "mood board.psd": images.psd("coffee"), "export.jxl": images.jpeg_xl()}
    for name, data in files.items():
        write(folder / name, data)
    result = sync(server, folder, home, "--quiet")
    assert result.returncode == 0, result.stderr
    assert "Rejected: 0" in result.stdout, result.stdout
    library = {p["sha256"]: p for p in my_photos(server)}
    assert [library[sha(data)]["format"] for data in files.values()] == ["DNG", "PSD", "JXL"]


def test_sync_stacks_a_raw_and_its_jpeg(server, tmp_path, home):
    """A camera card's RAW and JPEG of one shot, synced together, become one stack on the server (library/stacks.py)
    whichever the worker reads first: one picture listed, the RAW reachable from it."""
    folder = tmp_path / "Card"
    taken = datetime(2023, 8, 2, 9, 15, 0)
    raw, jpeg = images.dng("astronaut", taken=taken), images.jpeg("astronaut", taken=taken)
    write(folder / "DCIM" / "DSC_0101.DNG", raw)
    write(folder / "DCIM" / "dsc_0101.JPG", jpeg)
    result = sync(server, folder, home, "--quiet")
    assert result.returncode == 0 and "Uploaded: 2" in result.stdout, result.stdout + result.stderr

    deadline = time.monotonic() + 60
    while True:
        listed = {p["sha256"]: p for p in my_photos(server)}
        if listed.get(sha(jpeg), {}).get("stack_size") == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert listed[sha(jpeg)]["stack_size"] == 2 and sha(raw) not in listed
    with api(server) as client:
        cover = client.get(f"/api/photos/{listed[sha(jpeg)]['id']}/").json()
        (member,) = cover["stack"]
        assert member["format"] == "DNG" and member["stack_cover"] == cover["id"]
        assert hashlib.sha256(client.get(member["original"]).content).hexdigest() == sha(raw)


def test_albums_by_name_or_per_folder(server, tmp_path, home):
    folder = tmp_path / "Shoot"
    top, inner = images.unique_jpeg("cat"), images.unique_jpeg("coffee")
    write(folder / "top.jpg", top)
    write(folder / "2025" / "Trip" / "inner.jpg", inner)
    result = sync(server, folder, home, "--album-per-folder", "--quiet")
    assert result.returncode == 0, result.stderr
    by_hash = {p["sha256"]: p["album"] for p in my_photos(server)}
    with api(server) as client:
        titles = {a["id"]: a["title"] for a in client.get("/api/albums/?mine=true").json()["results"]}
    assert titles[by_hash[sha(inner)]] == "2025/Trip" and titles[by_hash[sha(top)]] == "Uploads"

    other = tmp_path / "Named"
    named = images.unique_jpeg("rocket")
    write(other / "a.jpg", named)
    assert sync(server, other, home, "--album", "Mood board", "--quiet").returncode == 0
    album = next(p["album"] for p in my_photos(server) if p["sha256"] == sha(named))
    with api(server) as client:
        assert client.get(f"/api/albums/{album}/").json()["title"] == "Mood board"


def test_saved_configuration_is_private_and_used(server, tmp_path, home):
    folder = tmp_path / "Saved"
    write(folder / "a.jpg", images.unique_jpeg("cat"))
    saved = sync(server, folder, home, "--save", "--quiet")
    assert saved.returncode == 0 and "Saved the server and token" in saved.stdout, saved.stderr
    config = home / ".config" / "photocloud" / "sync.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600 and stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    write(folder / "b.jpg", images.unique_jpeg("coffee"))
    alone = subprocess.run(
        [*CLI, "sync", str(folder), "--quiet"], env=client_env(home), capture_output=True, text=True, timeout=120
    )
    assert alone.returncode == 0 and "Uploaded: 1 · Already there: 1" in alone.stdout, alone.stdout + alone.stderr


def test_a_wrong_token_is_a_clear_error(server, tmp_path, home):
    folder = tmp_path / "Any"
    write(folder / "a.jpg", images.unique_jpeg("cat"))
    result = sync(server, folder, home, "--save", token="pc_not-a-token")
    assert result.returncode == 2
    assert "refused the token" in result.stderr and "Invalid or revoked token" in result.stderr
    assert "/accounts/tokens/" in result.stderr and "Traceback" not in result.stderr
    assert not (home / ".config" / "photocloud" / "sync.json").exists()  # a refused token is not saved
    missing = subprocess.run(
        [*CLI, "sync", str(folder)], env=client_env(home), capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2 and "--server URL --token TOKEN" in missing.stderr


def test_a_killed_sync_resumes_without_losing_or_duplicating(server, tmp_path, home):
    folder = tmp_path / "Big"
    big = images.large_png(6 * 1024 * 1024)
    small = images.unique_jpeg("coffee")
    write(folder / "big.png", big)
    write(folder / "small.jpg", small)
    uploads = server["data_dir"] / "uploads"
    args = [
        *CLI,
        "sync",
        str(folder),
        "--server",
        server["base"],
        "--token",
        server["key"],
        "--chunk-mb",
        "0.25",
        "--max-rate",
        "0.5",
        "--workers",
        "1",
        "--quiet",
    ]
    process = subprocess.Popen(args, env=client_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    received = 0
    while time.monotonic() < deadline and received < 512 * 1024:
        received = max((p.stat().st_size for p in uploads.glob("*.part")), default=0)
        time.sleep(0.05)
    process.kill()  # kill -9, mid-file
    process.wait()
    assert 0 < received < len(big), "the client was not killed in the middle of the large file"

    resumed = sync(server, folder, home, "--chunk-mb", "4", "--quiet")  # chunks larger than Django keeps in memory
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Resumed: 1" in resumed.stdout and "Rejected: 0" in resumed.stdout, resumed.stdout
    mine = [p["sha256"] for p in my_photos(server)]
    assert mine.count(sha(big)) == 1 and mine.count(sha(small)) == 1
    assert not list(uploads.glob("*.part"))
    again = sync(server, folder, home, "--quiet")
    assert "Uploaded: 0 · Already there: 2" in again.stdout


def test_watch_mode_uploads_new_pictures_once_written(server, tmp_path, home):
    folder = tmp_path / "Watched"
    folder.mkdir()
    args = [
        *CLI,
        "sync",
        str(folder),
        "--server",
        server["base"],
        "--token",
        server["key"],
        "--watch",
        "--settle-seconds",
        "1.5",
        "--quiet",
    ]
    process = subprocess.Popen(args, env=client_env(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any("Watching" in line for line in output) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert any("Watching" in line for line in output), output
        # A picture written slowly, in three parts: it must not be sent (and rejected) half-written.
        data = images.unique_jpeg("astronaut")
        target = folder / "new" / "slow.jpg"
        target.parent.mkdir()
        with open(target, "wb") as handle:
            for part in (data[: len(data) // 3], data[len(data) // 3 : 2 * len(data) // 3], data[2 * len(data) // 3 :]):
                handle.write(part)
                handle.flush()
                time.sleep(0.7)
        assert wait_for_picture(server, sha(data), 30), output
        # A picture changed in place goes up as a new picture; the earlier one stays.
        edited = images.unique_jpeg("rocket")
        target.write_bytes(edited)
        assert wait_for_picture(server, sha(edited), 30), output
        assert sha(data) in {p["sha256"] for p in my_photos(server)}
        # A whole folder moved in at once (one event for the folder, none for its pictures).
        moved = images.unique_jpeg("coffee")
        write(tmp_path / "outside" / "album" / "moved.jpg", moved)
        os.rename(tmp_path / "outside" / "album", folder / "album")
        assert wait_for_picture(server, sha(moved), 30), output
        assert not any("rejected" in line for line in output), output
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    assert process.returncode == 0, output


def test_an_import_folder_on_the_server_is_imported(server, tmp_path):
    """The watch_imports command that `serve` runs picks up a newly configured folder and moves pictures in."""
    incoming = tmp_path / "incoming"
    write(incoming / "dropped.jpg", dropped := images.unique_jpeg("rocket"))
    write(incoming / "bad.jpg", images.truncated_jpeg())
    script = (
        "from photocloud.accounts.models import User; from photocloud.sync.models import ImportFolder;"
        f"ImportFolder.objects.create(owner=User.objects.get(username='sam'), path={str(incoming)!r}, "
        "mode='move')"
    )
    subprocess.run([*CLI, "shell", "-c", script], env=server["env"], check=True, timeout=120)
    assert wait_for_picture(server, sha(dropped), 45)
    deadline = time.monotonic() + 10
    while (incoming / "dropped.jpg").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not (incoming / "dropped.jpg").exists() and (incoming / "bad.jpg").exists()  # rejected files stay
    assert server["process"].poll() is None


def test_the_sync_client_installs_and_runs_without_django_or_torch(server, tmp_path, home):
    """`pip install ./clients/sync` into a fresh virtual environment (dependencies from the package index): Django, DRF
    and torch cannot even be imported there, and the installed `photocloud-sync` uploads a folder."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    clients = Path(__file__).resolve().parent.parent / "clients" / "sync"
    install = subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(clients)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr
    probe = "import importlib.util as u; print([m for m in ('django', 'rest_framework', 'torch') if u.find_spec(m)])"
    found = subprocess.run([venv / "bin" / "python", "-c", probe], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"

    folder = tmp_path / "Alone"
    picture = write(folder / "alone.jpg", images.unique_jpeg("rocket"))
    args = [venv / "bin" / "photocloud-sync", str(folder), "--server", server["base"], "--token", server["key"]]
    done = subprocess.run(args, env=client_env(home), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Uploaded: 1 · Already there: 0 · Rejected: 0" in done.stdout, done.stdout
    assert sha(picture.read_bytes()) in {p["sha256"] for p in my_photos(server)}
