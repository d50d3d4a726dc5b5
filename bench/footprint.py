"""Memory of the default deployment and the first searches after a start (issues 18 and 13).

Starts `photocloud serve` (its default web workers, one task worker, the import-folder watcher) on a temporary data
folder, warms it as a first visitor would (one picture uploaded and processed, one keyword search, one meaning
search, one search by an uploaded picture, one "similar" list, each timed: they are the first the web processes
answer), then reads every process of the tree from /proc: resident memory (RSS, what `ps` shows, which counts pages
shared between processes once per process) and proportional memory (PSS, shared pages split between the processes
that share them: the sum is what the deployment really holds). Also says which processes loaded torch.

    python bench/footprint.py [--web-workers 2]

Baseline (issue 18, measured with `ps` before models were loaded once before gunicorn forks): about 3.1 GB RSS;
2.20 GB summed RSS with torch still in the web and task processes (before issue 19).
Targets: ≤ 1.5 GB after warm-up; each first search ≤ 1 s.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from tests import images  # noqa: E402
from tests.servers import command_line, process_tree, running_server  # noqa: E402

BASELINE_GB = 3.1
TARGET_GB = 1.5
FIRST_SEARCH_SECONDS = 1.0


def memory(pid: int) -> dict:
    """RSS and PSS in bytes, what the process is, and whether it mapped torch."""
    proc = Path(f"/proc/{pid}")
    rollup = dict(line.split(":", 1) for line in (proc / "smaps_rollup").read_text().splitlines()[1:])
    return {
        "pid": pid,
        "rss": int(rollup["Rss"].split()[0]) * 1024,
        "pss": int(rollup["Pss"].split()[0]) * 1024,
        "torch": "libtorch_cpu" in (proc / "maps").read_text(),
        "what": describe(command_line(pid)),
    }


def describe(command: str) -> str:
    for needle, name in (
        ("gunicorn", "web"),
        ("db_worker", "task worker"),
        ("watch_imports", "import watcher"),
        ("build_vector_index", "index builder"),
        (" serve", "supervisor (serve)"),
    ):
        if needle in command:
            return name
    return command[:60]


def timed(send) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = send()
    return time.perf_counter() - started, response


def warm(server) -> dict[str, float]:
    """One picture processed, then the first search of each kind; returns their times."""
    client = httpx.Client(base_url=server["base"], headers={"Authorization": f"Token {server['key']}"}, timeout=120)
    upload = client.post("/api/photos/upload/", files=[("file", ("cat.jpg", images.jpeg("cat"), "image/jpeg"))])
    upload.raise_for_status()
    photo_id = upload.json()["results"][0]["photo"]["id"]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        photo = client.get(f"/api/photos/{photo_id}/").json()
        if photo["status"] == "ready" and photo["analysis"]:
            break
        time.sleep(0.5)
    else:
        raise SystemExit("the picture was not processed within 3 minutes")
    picture = images.jpeg("coffee")
    requests = {
        "keyword search": lambda: client.get("/api/search/", params={"q": "cat"}),
        "meaning search": lambda: client.get("/api/search/", params={"q": "kitten"}),
        "search by image": lambda: client.post(
            "/api/search/image/", files={"picture": ("coffee.jpg", picture, "image/jpeg")}
        ),
        "similar": lambda: client.get(f"/api/photos/{photo_id}/similar/"),
    }
    times = {}
    for name, send in requests.items():
        seconds, response = timed(send)
        response.raise_for_status()
        times[name] = seconds
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--web-workers", type=int, default=2, help="as `photocloud serve`'s default")
    parser.add_argument("--settle", type=float, default=5, help="seconds to wait after the warm-up before measuring")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with running_server(Path(tmp) / "data", web_workers=args.web_workers) as server:
            print(f"serve answered {time.perf_counter() - started:.1f} s after the start (migrations included)")
            times = warm(server)
            time.sleep(args.settle)
            rows = [memory(pid) for pid in process_tree(server["process"].pid) if Path(f"/proc/{pid}").exists()]
    print("\nFirst requests after the start (target ≤ 1 s each):")
    for name, seconds in times.items():
        print(f"  {name:16} {seconds * 1000:7.0f} ms {'ok' if seconds <= FIRST_SEARCH_SECONDS else 'SLOW'}")
    print(f"\n{'pid':>8}  {'process':20} {'RSS MB':>8} {'PSS MB':>8}  torch")
    for row in rows:
        print(
            f"{row['pid']:>8}  {row['what']:20} {row['rss'] / 2**20:8.0f} {row['pss'] / 2**20:8.0f}  "
            f"{'yes' if row['torch'] else 'no'}"
        )
    rss, pss = (sum(row[key] for row in rows) / 2**30 for key in ("rss", "pss"))
    print(
        f"\nTotal: {pss:.2f} GB held (PSS), {rss:.2f} GB summed RSS; baseline {BASELINE_GB} GB, target ≤ {TARGET_GB} GB"
    )
    print(
        f"MALLOC_ARENA_MAX={os.environ.get('MALLOC_ARENA_MAX', 'unset')} in this shell; serve sets 2 for its children"
    )


if __name__ == "__main__":
    main()
