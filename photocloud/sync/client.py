"""`photocloud sync DIR`: upload every picture of a local folder that the library does not have yet.

A plain HTTP client of the REST API (it needs no database and no data folder, so it runs on any computer):
pictures are named by their SHA-256, the server is asked which ones it already has before any byte is sent, the
others go up in resumable chunks. A small SQLite file per folder remembers what was hashed and sent, so a second
run reads only changed files and a killed run (kill -9 included) loses nothing: the server keeps every committed
chunk and hands the unfinished upload back, and it never stores the same bytes twice for one user.

Nothing is ever deleted on either side. A local file that changes is new content: it is uploaded as a new picture
and the earlier version stays in the library.
"""

import argparse
import hashlib
import ipaddress
import json
import os
import queue
import random
import signal
import sqlite3
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from tqdm import tqdm

from .files import ChangeHandler, SettleTracker, readable, signature, walk

LOOKUP_BATCH = 1000
BATCH_FILES = 20  # small files per upload request (the server takes at most 100)
HASH_BLOCK = 1024 * 1024
THROTTLED_WAITS = 30  # 429 answers waited out per request before giving up (each wait at most a minute)
MAX_CHUNK_MB = 16  # the server takes chunks of at most this size (photocloud.sync.services.MAX_CHUNK_BYTES)


class SyncError(Exception):
    """A problem the user must fix (configuration, token, server); the message says what to do."""


class TokenRefused(SyncError):
    pass


# --- saved configuration ------------------------------------------------------------------------------------------


def _xdg(variable: str, default: str) -> Path:
    return Path(os.environ.get(variable) or Path.home() / default) / "photocloud"


def config_path() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / "sync.json"


def load_config() -> dict:
    try:
        return json.loads(config_path().read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise SyncError(f"Cannot read the saved configuration {config_path()}: {error}") from None


def save_config(server: str, token: str) -> Path:
    """Written atomically, readable only by the owner (the token is a password)."""
    path = config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        json.dump({"server": server, "token": token}, handle, indent=2)
    os.replace(temporary, path)
    return path


# --- what was already done, per folder ----------------------------------------------------------------------------


class State:
    """path -> (size, mtime, sha256, outcome) in SQLite: every answer is committed at once, so kill -9 loses nothing.

    An unchanged file (same size and modification time) is neither read nor sent again; a changed one is hashed
    again and, being other content, uploaded as a new picture.
    """

    def __init__(self, path: Path):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, "
            "sha256 TEXT, outcome TEXT, reason TEXT)"
        )
        # `sent` asks by content for every file to send: without it, a scan of the table each (a first sync of 40,000
        # files spent 114 s CPU there).
        self.db.execute("CREATE INDEX IF NOT EXISTS files_sha256 ON files (sha256)")
        self.lock = threading.Lock()

    def get(self, relative: str):
        with self.lock:
            return self.db.execute(
                "SELECT size, mtime_ns, sha256, outcome, reason FROM files WHERE path = ?", (relative,)
            ).fetchone()

    def record(self, item: "Item", outcome: str | None = None, reason: str = "") -> None:
        with self.lock:
            self.db.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
                (item.relative, item.size, item.mtime_ns, item.sha256, outcome, reason),
            )

    def forget(self, relative: str) -> None:
        with self.lock:
            self.db.execute("DELETE FROM files WHERE path = ?", (relative,))

    def sent(self, sha256: str) -> bool:
        """Whether this content went up (or was found on the server) from this folder before, under any name.

        A renamed or moved file is then not offered again: the server would restore it from the Trash had its
        owner deleted it there meanwhile.
        """
        with self.lock:
            row = self.db.execute(
                "SELECT 1 FROM files WHERE sha256 = ? AND outcome IN ('uploaded', 'present') LIMIT 1", (sha256,)
            ).fetchone()
        return row is not None


def state_path(root: Path, server: str, username: str) -> Path:
    key = hashlib.sha256(f"{root}\n{server}\n{username}".encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return _xdg("XDG_STATE_HOME", ".local/state") / "sync" / f"{key}.sqlite3"


# --- the server ---------------------------------------------------------------------------------------------------


class Api:
    """The REST API with retries: network errors and 5xx are retried with exponential backoff and jitter; a 429 (the
    server's rate limit) is waited out as the server asks, and does not count as a failed attempt."""

    def __init__(self, server: str, token: str, attempts: int = 6, timeout: float = 120):
        self.server = server
        self.attempts = attempts
        self.http = httpx.Client(
            base_url=server,
            timeout=timeout,
            follow_redirects=False,
            headers={"Authorization": f"Token {token}", "User-Agent": "photocloud-sync"},
        )

    def request(self, method: str, url: str, *, attempts: int | None = None, **kwargs) -> httpx.Response:
        attempts = attempts or self.attempts
        failures = waits = 0
        while True:
            retry_after = ""
            try:
                response = self.http.request(method, url, **kwargs)
            except httpx.TransportError as error:
                problem = f"cannot reach {self.server} ({error.__class__.__name__}: {error})"
            else:
                if response.status_code == 401:
                    raise TokenRefused(
                        f"The server refused the token: {_detail(response)} Create a token at "
                        f"{self.server}/accounts/tokens/ and pass it with --token (add --save to keep it)."
                    )
                if response.status_code != 429 and response.status_code < 500:
                    return response
                problem = f"the server answered {response.status_code} {_detail(response)}"
                retry_after = response.headers.get("Retry-After", "").strip()
                if response.status_code == 429 and waits < THROTTLED_WAITS:
                    waits += 1
                    time.sleep(_backoff(waits, retry_after))
                    continue
            failures += 1
            if failures >= attempts:
                raise SyncError(f"{method} {url} failed {failures} times: {problem}")
            time.sleep(_backoff(failures, retry_after))

    def me(self) -> str:
        response = self.request("GET", "/api/me/", attempts=3)  # a wrong address should not take a minute
        if response.is_redirect:
            raise SyncError(
                f"{self.server} redirects to {response.headers.get('Location')}: give --server the "
                "address it redirects to (e.g. https://)."
            )
        try:
            return response.json()["username"]
        except (ValueError, KeyError, TypeError):
            raise SyncError(
                f"{self.server} does not look like a Photocloud server (GET /api/me/ answered {response.status_code})."
            ) from None


def _backoff(attempt: int, retry_after: str) -> float:
    """Seconds to wait before trying again: what the server asks (Retry-After), else doubling from half a second;
    plus jitter, so that the worker threads do not all come back at the same moment and collide again."""
    if retry_after.isdigit():
        return min(60.0, float(retry_after)) + random.random() / 2
    return min(30.0, 0.5 * 2 ** (attempt - 1)) * (1 + random.random() / 2)


def _json(response: httpx.Response) -> dict:
    """The answer's JSON object, or {} for anything else (an HTML error page from a proxy, say)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _outcome(result: dict) -> str:
    """The summary's word for the server's answer about one file: a duplicate the server restored from the Trash
    (it says so with code "restored") is told apart from one that was simply there."""
    status = result.get("status")
    if status == "duplicate":
        return "restored" if result.get("code") == "restored" else "present"
    return {"stored": "uploaded", "rejected": "rejected"}.get(status, "failed")


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or ""
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("reason") or body)
    return str(body)


# --- one run ------------------------------------------------------------------------------------------------------


@dataclass
class Item:
    path: Path
    relative: str
    size: int
    mtime_ns: int
    sha256: str | None = None


TRASHED_SHOWN = 20  # files named in the summary as in the Trash; the rest are counted


@dataclass
class Summary:
    uploaded: int = 0
    present: int = 0
    restored: int = 0  # the server said it brought the picture back from the owner's Trash (code "restored")
    trashed: list[str] = field(default_factory=list)  # sent before, in the owner's Trash since (not sent again)
    resumed: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, outcome: str, relative: str = "", reason: str = "") -> None:
        with self.lock:
            if outcome == "uploaded":
                self.uploaded += 1
            elif outcome == "present":
                self.present += 1
            elif outcome == "restored":
                self.restored += 1
            elif outcome == "trashed":
                self.trashed.append(relative)
            elif outcome == "rejected":
                self.rejected.append((relative, reason))
            else:
                self.failed.append((relative, reason))

    def text(self) -> str:
        lines = [
            f"Uploaded: {self.uploaded} · Already there: {self.present} · Rejected: {len(self.rejected)}"
            + (f" · Restored from your Trash on the server: {self.restored}" if self.restored else "")
            + (f" · In your Trash on the server: {len(self.trashed)}" if self.trashed else "")
            + (f" · Failed: {len(self.failed)}" if self.failed else "")
            + (f" · Resumed: {self.resumed}" if self.resumed else "")
        ]
        if self.trashed:
            lines.append("  Deleted on the server since they were sent: restore them from the Trash to keep them.")
            shown = sorted(self.trashed)[:TRASHED_SHOWN]
            lines += [f"  in the Trash {name}" for name in shown]
            if len(self.trashed) > len(shown):
                lines.append(f"  … and {len(self.trashed) - len(shown)} more (the Trash page lists them all)")
        lines += [f"  rejected {name}: {reason}" for name, reason in self.rejected]
        lines += [f"  failed {name}: {reason}" for name, reason in self.failed]
        return "\n".join(lines)


class RateLimit:
    """Caps the bytes per second sent by all upload threads together (for slow or shared connections)."""

    def __init__(self, bytes_per_second: float | None):
        self.rate = bytes_per_second
        self.lock = threading.Lock()
        self.next_at = time.monotonic()

    def take(self, count: int) -> None:
        if not self.rate:
            return
        with self.lock:
            now = time.monotonic()
            start = max(now, self.next_at)
            self.next_at = start + count / self.rate
        time.sleep(max(0.0, start - now))


class FileChanged(Exception):
    pass


class FileFailed(Exception):
    """The server refused something about this one file; the others go on, and it is tried again next run."""


class Stopped(Exception):
    """Raised in upload threads once the run is being interrupted; what the server has is kept for next time."""


class Syncer:
    def __init__(
        self,
        api: Api,
        root: Path,
        state: State,
        *,
        album: str | None,
        album_per_folder: bool,
        workers: int,
        chunk_bytes: int,
        rate: RateLimit,
        progress: bool,
    ):
        self.api, self.root, self.state = api, root, state
        self.album, self.album_per_folder = album, album_per_folder
        self.workers, self.chunk_bytes, self.rate, self.progress = workers, chunk_bytes, rate, progress
        self.albums: dict[str, str] | None = None
        self.album_lock = threading.Lock()
        self.stopping = threading.Event()

    def run(self, paths: list[Path] | None = None) -> Summary:
        """Sync the whole folder, or only `paths` (from watch mode)."""
        self.stopping.clear()
        summary = Summary()
        todo, done = [], []
        for path in walk(self.root) if paths is None else paths:
            item = self._item(path)
            if item is None:
                continue
            known = self.state.get(item.relative)
            if known and tuple(known[:2]) == (item.size, item.mtime_ns):
                item.sha256 = known[2]
                if known[3] == "rejected":  # done before, unchanged since
                    summary.add("rejected", item.relative, known[4])
                    continue
                if known[3]:
                    done.append(item)
                    continue
            todo.append(item)
        self._hash([item for item in todo if item.sha256 is None], summary)
        todo = [item for item in todo if item.sha256]
        sent_before = {item.sha256 for item in todo if self.state.sent(item.sha256)}
        # Asked about what went up before too: its picture may be in the Trash since, which the summary must say.
        present, trashed = self._lookup({item.sha256 for item in todo + done})
        groups: dict[str, list[Item]] = {}
        for item in todo:
            if item.sha256 in present or item.sha256 in sent_before:
                self.state.record(item, "present")
                done.append(item)
            else:
                groups.setdefault(item.sha256, []).append(item)
        for item in done:  # not sent (again): there, or in the Trash since
            summary.add("trashed" if item.sha256 in trashed else "present", item.relative)
        self._upload(groups, summary)
        return summary

    def _item(self, path: Path) -> Item | None:
        current = signature(path)
        if current is None:
            return None
        return Item(path, readable(path.relative_to(self.root).as_posix()), *current)

    def _hash(self, items: list[Item], summary: Summary) -> None:
        if not items:
            return
        with tqdm(
            total=sum(i.size for i in items),
            desc="Hashing",
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            disable=not self.progress,
            leave=False,
        ) as bar:

            def one(item: Item) -> None:
                digest = hashlib.sha256()
                try:
                    with open(item.path, "rb") as handle:
                        while block := handle.read(HASH_BLOCK):
                            if self.stopping.is_set():
                                raise Stopped
                            digest.update(block)
                            bar.update(len(block))
                except OSError as error:
                    summary.add("failed", item.relative, f"cannot read the file ({error.strerror})")
                    return
                if signature(item.path) != (item.size, item.mtime_ns):
                    summary.add("failed", item.relative, "the file changed while it was read; it goes up next time")
                    return
                item.sha256 = digest.hexdigest()
                self.state.record(item)

            self._in_parallel(one, items)

    def _lookup(self, hashes: set[str]) -> tuple[set[str], set[str]]:
        """The hashes the server already has, and those whose picture is in the Trash, asked in batches before
        anything is sent."""
        present: set[str] = set()
        trashed: set[str] = set()
        ordered = sorted(hashes)
        for start in range(0, len(ordered), LOOKUP_BATCH):
            response = self.api.request(
                "POST", "/api/photos/lookup/", json={"sha256": ordered[start : start + LOOKUP_BATCH]}
            )
            if response.status_code != 200:
                raise SyncError(f"The server refused the hash lookup: {_detail(response)}")
            present.update(response.json()["present"])
            trashed.update(response.json().get("trashed", ()))
        return present, trashed

    def _upload(self, groups: dict[str, list[Item]], summary: Summary) -> None:
        """One upload per distinct content (copies of a file in the folder are the same picture).

        Files larger than a chunk go up alone, in resumable chunks; smaller ones go several to a request (fewer
        round trips, and one hit of the server's upload rate limit for many pictures).
        """
        if not groups:
            return
        firsts = [items[0] for items in groups.values()]
        with tqdm(
            total=sum(i.size for i in firsts),
            desc="Uploading",
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            disable=not self.progress,
            dynamic_ncols=True,
        ) as bar:
            done = [0]
            lock = threading.Lock()

            def finish(items: list[Item], outcome: str, reason: str) -> None:
                for item in items:  # copies of the same content in the folder: one picture
                    first = item is items[0]
                    result = "present" if not first and outcome in ("uploaded", "restored") else outcome
                    if result != "failed":  # restored: live on the server again, like one found there
                        self.state.record(item, "present" if result == "restored" else result, reason)
                    summary.add(result, item.relative, reason)
                with lock:
                    done[0] += 1
                    bar.set_postfix_str(f"{done[0]}/{len(firsts)} files", refresh=False)

            def send(job: list[list[Item]]) -> None:
                try:
                    if len(job) == 1 and job[0][0].size > self.chunk_bytes:
                        outcomes = [self._upload_file(job[0][0], bar, summary)]
                    else:
                        outcomes = self._upload_batch([items[0] for items in job], bar)
                except FileChanged:
                    for items in job:
                        self.state.forget(items[0].relative)
                    outcomes = [("failed", "the file changed while it was sent; it goes up next time")] * len(job)
                except FileFailed as failure:
                    outcomes = [("failed", str(failure))] * len(job)
                except OSError as error:
                    outcomes = [("failed", f"cannot read the file ({error.strerror})")] * len(job)
                for items, (outcome, reason) in zip(job, outcomes, strict=True):
                    finish(items, outcome, reason)

            self._in_parallel(send, self._jobs(list(groups.values())))

    def _jobs(self, groups: list[list[Item]]) -> list[list[list[Item]]]:
        """Small files batched by album, up to a chunk's bytes and BATCH_FILES files (distinct names, as the
        server answers by name); each large file on its own."""
        jobs, open_batches = [], {}
        for items in groups:
            item = items[0]
            if item.size > self.chunk_bytes:
                jobs.append([items])
                continue
            album = self._album_id(item)
            batch = open_batches.get(album)
            if (
                batch is None
                or len(batch) >= BATCH_FILES
                or sum(g[0].size for g in batch) + item.size > self.chunk_bytes
                or any(g[0].path.name == item.path.name for g in batch)
            ):
                batch = open_batches[album] = []
                jobs.append(batch)
            batch.append(items)
        return jobs

    def _upload_batch(self, items: list[Item], bar: tqdm) -> list[tuple[str, str]]:
        """Several small files in one POST /api/photos/upload/; returns each one's (outcome, reason)."""
        if self.stopping.is_set():
            raise Stopped
        outcomes: list[tuple[str, str]] = [
            ("failed", "the file changed while it was read; it goes up next time")
        ] * len(items)
        files, sent = [], []
        for index, item in enumerate(items):
            data = item.path.read_bytes()
            if len(data) != item.size or signature(item.path) != (item.size, item.mtime_ns):
                self.state.forget(item.relative)  # hashed again next time
                continue
            files.append(("file", (readable(item.path.name), data, "application/octet-stream")))
            sent.append(index)
        if files:
            self.rate.take(sum(len(f[1][1]) for f in files))
            album = self._album_id(items[0])
            response = self.api.request(
                "POST", "/api/photos/upload/", files=files, data={"album": album} if album else {}
            )
            results = _json(response).get("results")
            if not isinstance(results, list) or [r.get("name") for r in results] != [f[1][0] for f in files]:
                raise FileFailed(f"the server refused the upload: {_detail(response)}")
            for index, result in zip(sent, results, strict=True):
                outcomes[index] = (_outcome(result), result.get("reason") or "")
        bar.update(sum(item.size for item in items))
        return outcomes

    def _in_parallel(self, work, items: list) -> None:
        """Run work(item) on the worker threads. The first error (a refused token, an unreachable server, Ctrl-C)
        stops the others after their current block or chunk and is raised; what the server has is kept."""
        with ThreadPoolExecutor(self.workers) as pool:
            futures = [pool.submit(work, item) for item in items]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                self.stopping.set()
                pool.shutdown(wait=True, cancel_futures=True)
                raise

    def _upload_file(self, item: Item, bar: tqdm, summary: Summary) -> tuple[str, str]:
        """Send one file in chunks, resuming what the server already holds; returns (outcome, reason)."""
        for _ in range(3):
            body = {
                "sha256": item.sha256,
                "size": item.size,
                "name": readable(item.path.name),
                "album": self._album_id(item),
            }
            response = self.api.request("POST", "/api/uploads/", json=body)
            session = _json(response)
            if response.status_code == 413 or session.get("code") == "empty":
                return "rejected", _detail(response)  # the file itself can never be stored
            if response.status_code not in (200, 201):
                raise FileFailed(f"the server refused the upload: {_detail(response)}")
            if session["status"] == "duplicate":
                bar.update(item.size)
                return _outcome(session), session.get("reason") or ""
            offset = session["offset"]
            if offset:
                with summary.lock:
                    summary.resumed += 1
            bar.update(offset)
            offset = self._send_chunks(
                item, session["id"], offset, min(self.chunk_bytes, session["max_chunk_bytes"]), bar
            )
            if offset is None:
                continue  # the server dropped the upload (e.g. after a week): start again
            outcome = self._complete(item, session["id"])
            if outcome is not None:
                return outcome
        return "failed", "the server kept losing the upload"

    def _send_chunks(self, item: Item, upload_id: str, offset: int, chunk_bytes: int, bar: tqdm) -> int | None:
        with open(item.path, "rb") as handle:
            while offset < item.size:
                if self.stopping.is_set():
                    raise Stopped
                if signature(item.path) != (item.size, item.mtime_ns):
                    raise FileChanged
                handle.seek(offset)
                chunk = handle.read(min(chunk_bytes, item.size - offset))
                self.rate.take(len(chunk))
                response = self.api.request(
                    "PUT",
                    f"/api/uploads/{upload_id}/",
                    params={"offset": offset},
                    content=chunk,
                    headers={"Content-Type": "application/octet-stream"},
                )
                if response.status_code == 404:
                    return None
                answer = _json(response)
                if response.status_code not in (200, 409) or "offset" not in answer:
                    raise FileFailed(f"the server refused a chunk: {_detail(response)}")
                bar.update(answer["offset"] - offset)
                offset = answer["offset"]  # after a 409: where the server really stands
        return offset

    def _complete(self, item: Item, upload_id: str) -> tuple[str, str] | None:
        for _ in range(30):
            response = self.api.request("POST", f"/api/uploads/{upload_id}/complete/")
            answer = _json(response)
            if response.status_code == 404:
                # Completed by an earlier attempt whose answer was lost, or dropped: the library knows which.
                return ("uploaded", "") if self._lookup({item.sha256})[0] else None
            if answer.get("code") == "completing":
                time.sleep(1)
                continue
            if answer.get("code") == "hash_mismatch":
                raise FileChanged
            if answer.get("code") == "incomplete":
                return None
            status = answer.get("status")
            if status in ("stored", "duplicate", "rejected"):
                return _outcome(answer), answer.get("reason", "")
            return "failed", _detail(response)
        return "failed", "the server took too long to add the picture"

    def _album_id(self, item: Item) -> str | None:
        name = self.album
        if self.album_per_folder:
            parent = Path(item.relative).parent.as_posix()
            name = parent if parent != "." else None  # pictures at the top: the server's "Uploads" album
        if not name:
            return None
        with self.album_lock:
            if self.albums is None:
                self.albums = self._my_albums()
            if name not in self.albums:
                category = " ".join(name.rsplit("/", 1)[-1].split()).lower()[:50] or "sync"
                response = self.api.request(
                    "POST", "/api/albums/", json={"title": name[:200], "category": category, "access": "private"}
                )
                if response.status_code != 201:
                    raise SyncError(f"Cannot create the album “{name}”: {_detail(response)}")
                self.albums[name] = response.json()["id"]
            return self.albums[name]

    def _my_albums(self) -> dict[str, str]:
        albums: dict[str, str] = {}
        url = "/api/albums/?mine=true"
        while url:
            response = self.api.request("GET", url)
            if response.status_code != 200:
                raise SyncError(f"Cannot list your albums: {_detail(response)}")
            page = response.json()
            for album in page["results"]:
                albums.setdefault(album["title"], album["id"])
            url = page.get("next")
        return albums

    # --- watch mode ---------------------------------------------------------------------------------------------

    def watch(self, stop: threading.Event, settle_seconds: float, rescan_seconds: float) -> None:
        """Upload new or changed pictures once they have stopped changing, until `stop` is set."""
        from watchdog.observers import Observer

        changes: queue.SimpleQueue = queue.SimpleQueue()
        observer = Observer()
        observer.schedule(ChangeHandler(self.root, changes.put), str(self.root), recursive=True)
        observer.start()  # before the first full sync, so nothing added meanwhile is missed
        tracker = SettleTracker(quiet=settle_seconds)
        next_rescan = time.monotonic() + rescan_seconds
        try:
            print(self.run().text(), flush=True)
            self.progress = False
            print(f"Watching {self.root} for new pictures (Ctrl-C to stop).", flush=True)
            while not stop.wait(0.5):
                while not changes.empty():
                    tracker.touch(changes.get())
                ready = [path for path, _ in tracker.ready()]
                if time.monotonic() >= next_rescan:
                    ready, next_rescan = None, time.monotonic() + rescan_seconds
                if ready == []:
                    continue
                try:
                    summary = self.run(ready)
                except TokenRefused:
                    raise
                except SyncError as error:  # the server is away: keep watching, and look at everything later
                    print(time.strftime("%H:%M:%S"), f"{error} (trying again in a minute)", flush=True)
                    next_rescan = time.monotonic() + 60
                    continue
                if summary.uploaded or summary.restored or summary.rejected or summary.failed:
                    print(time.strftime("%H:%M:%S"), summary.text(), flush=True)
        finally:
            observer.stop()
            observer.join(timeout=5)


# --- the command --------------------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="photocloud sync",
        description="Upload every picture under DIR that your Photocloud library does not have yet. Nothing is ever "
        "deleted; a changed file is uploaded as a new picture (the earlier one stays).",
    )
    p.add_argument(
        "dir",
        metavar="DIR",
        type=Path,
        help="the folder to sync, sub-folders included (hidden files and folders are left out)",
    )
    p.add_argument("--server", help="e.g. https://photos.example.org (or PHOTOCLOUD_SERVER; saved with --save)")
    p.add_argument("--token", help="a personal API token (or PHOTOCLOUD_TOKEN; saved with --save)")
    p.add_argument(
        "--save",
        action="store_true",
        help="remember the server and token (in ~/.config/photocloud/sync.json, readable only by you)",
    )
    albums = p.add_mutually_exclusive_group()
    albums.add_argument("--album", metavar="NAME", help="put the pictures into this album (created if needed)")
    albums.add_argument(
        "--album-per-folder",
        action="store_true",
        help="one album per sub-folder, named by its path (pictures at the top go to “Uploads”)",
    )
    p.add_argument("--watch", action="store_true", help="keep running and upload new or changed pictures")
    p.add_argument("--workers", type=int, default=4, help="parallel uploads (default 4)")
    p.add_argument(
        "--chunk-mb",
        type=_chunk_mb,
        default=8,
        help=f"size of the pieces large files are sent in (default 8, at most {MAX_CHUNK_MB})",
    )
    p.add_argument("--max-rate", type=float, metavar="MB/S", help="cap the upload speed")
    p.add_argument(
        "--settle-seconds",
        type=float,
        default=2,
        help="watch mode: wait until a file has not changed for this long (it may still be written)",
    )
    p.add_argument("--rescan-minutes", type=float, default=10, help="watch mode: look at the whole folder this often")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def _chunk_mb(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= MAX_CHUNK_MB:
        raise argparse.ArgumentTypeError(
            f"give a size above 0 and at most {MAX_CHUNK_MB} (MB), the server's limit for one piece"
        )
    return value


def _is_local(server: str) -> bool:
    host = urlsplit(server).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return _run(args)
    except SyncError as error:
        print(f"photocloud sync: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nInterrupted. Run the same command again to go on where it stopped.", file=sys.stderr)
        return 130


def _run(args) -> int:
    root = args.dir.expanduser().resolve()
    if not root.is_dir():
        raise SyncError(f"{args.dir} is not a folder.")
    saved = load_config()
    server = (args.server or os.environ.get("PHOTOCLOUD_SERVER") or saved.get("server") or "").rstrip("/")
    token = args.token or os.environ.get("PHOTOCLOUD_TOKEN") or saved.get("token")
    if not server or not token:
        raise SyncError(
            "Which server, with which token? Give --server URL --token TOKEN (add --save to remember "
            "them for next time)."
        )
    if not server.startswith(("http://", "https://")):
        raise SyncError(f"The server must be an http:// or https:// address, not {server!r}.")
    if server.startswith("http://") and not _is_local(server):
        print(
            f"photocloud sync: warning: {server} is plain http://, so your token and pictures cross the network "
            "unencrypted and can be read or changed on the way. Use the server's https:// address.",
            file=sys.stderr,
            flush=True,
        )
    api = Api(server, token)
    username = api.me()  # checks the token before anything else
    if args.save:
        print(f"Saved the server and token in {save_config(server, token)} (readable only by you).")
    progress = not args.quiet
    syncer = Syncer(
        api,
        root,
        State(state_path(root, server, username)),
        album=args.album,
        album_per_folder=args.album_per_folder,
        workers=max(1, args.workers),
        chunk_bytes=max(64 * 1024, int(args.chunk_mb * 1024 * 1024)),
        rate=RateLimit(args.max_rate * 1024 * 1024 if args.max_rate else None),
        progress=progress,
    )
    print(f"Syncing {root} to {server} as {username}.", flush=True)
    if args.watch:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        syncer.watch(stop, args.settle_seconds, args.rescan_minutes * 60)
        return 0
    summary = syncer.run()
    print(summary.text(), flush=True)
    return 1 if summary.failed else 0


if __name__ == "__main__":
    sys.exit(main())
