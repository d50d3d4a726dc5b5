"""Sync client benchmark: pictures per second `photocloud sync` sends to a real `photocloud serve` on 127.0.0.1.

The figure that matters for "back up my folder" is how fast a folder of new pictures goes up, and how little a
second run costs. This times the real client process (hashing, the hash lookup, parallel chunked uploads, the
state file) against the naive baseline of one `POST /api/photos/upload/` per picture, one after the other, on
fresh copies of the scikit-image photographs (distinct bytes each, ~0.1-0.2 MB). It then times a re-run (nothing
to send) and a run with a fresh state file on pictures the server already has (everything hashed and looked up,
nothing sent). The server runs on SQLite without background workers, so thumbnails do not compete for the CPU:
this measures the upload path (receiving, checking by content, storing). Run from the repository root:
python bench/sync.py [--count N] [--workers N]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from tests import images  # noqa: E402
from tests.servers import CLI, running_server  # noqa: E402


def make_folder(path: Path, count: int, tag: str) -> int:
    path.mkdir(parents=True)
    names = list(images.PHOTOS)
    total = 0
    for i in range(count):
        data = images.unique_jpeg(names[i % len(names)], token=f"{tag}-{i}")
        (path / f"{i // 50:03d}" / f"p{i:05d}.jpg").parent.mkdir(exist_ok=True)
        (path / f"{i // 50:03d}" / f"p{i:05d}.jpg").write_bytes(data)
        total += len(data)
    return total


def timed_sync(server, folder: Path, home: Path, workers: int) -> float:
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
    }
    start = time.perf_counter()
    result = subprocess.run(
        [
            *CLI,
            "sync",
            str(folder),
            "--server",
            server["base"],
            "--token",
            server["key"],
            "--workers",
            str(workers),
            "--quiet",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"sync failed: {result.stdout}{result.stderr}")
    print("   ", result.stdout.strip().splitlines()[-1])
    return elapsed


def naive_upload(server, folder: Path) -> float:
    start = time.perf_counter()
    with httpx.Client(
        base_url=server["base"], headers={"Authorization": f"Token {server['key']}"}, timeout=60
    ) as client:
        for path in sorted(folder.rglob("*.jpg")):
            response = client.post("/api/photos/upload/", files=[("file", (path.name, path.read_bytes()))])
            assert response.status_code == 201, response.text
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        synced = make_folder(tmp / "synced", args.count, "sync")
        make_folder(tmp / "naive", args.count, "naive")
        megabytes = synced / 1e6
        print(f"{args.count} pictures, {megabytes:.1f} MB per folder")
        env = {"PHOTOCLOUD_TASK_WORKERS": "0", "PHOTOCLOUD_RATELIMIT": "false", "PHOTOCLOUD_USER_RATE": "100000/min"}
        with running_server(tmp / "data", extra_env=env) as server:
            baseline = naive_upload(server, tmp / "naive")
            first = timed_sync(server, tmp / "synced", tmp / "home", args.workers)
            again = timed_sync(server, tmp / "synced", tmp / "home", args.workers)
            fresh_state = timed_sync(server, tmp / "synced", tmp / "other-home", args.workers)
    rows = [
        (
            "baseline: one upload request per picture, in turn",
            f"{args.count / baseline:6.1f} pictures/s ({megabytes / baseline:.1f} MB/s)",
        ),
        (
            f"photocloud sync, first run, {args.workers} workers",
            f"{args.count / first:6.1f} pictures/s "
            f"({megabytes / first:.1f} MB/s), "
            f"{baseline / first:.2f}x the baseline",
        ),
        ("re-run, nothing new", f"{again:6.2f} s (nothing read or sent)"),
        ("fresh state, all on the server already", f"{fresh_state:6.2f} s (hashed and looked up, nothing sent)"),
    ]
    for label, figure in rows:
        print(f"{label:<50} {figure}")


if __name__ == "__main__":
    main()
