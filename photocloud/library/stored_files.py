"""Stored originals, shared by content: claimed by uploads, removed after deletions, swept of litter, checked.

Storing and removing the file of a hash serialize on its StoredFile row: an upload claims the row in the transaction
that inserts its Photo, and writes the file again if it is gone; a file is removed only by a job that runs after the
deletion has committed, takes the same lock and finds that no Photo of the hash is left. Whichever of a deletion and an
upload of the same bytes comes first, on any of the three databases and on local or S3 storage, a picture row never
points at a missing file.
"""

import hashlib
import itertools
import logging
import os
import posixpath
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from . import imaging
from .models import Photo, StoredFile
from .storage import TEMPORARY_PREFIX, original_name, rendition_name

logger = logging.getLogger(__name__)

# Files younger than this may belong to an upload or a write in progress: the sweep leaves them alone. (Removing an
# original that an upload has written but not yet claimed would still be safe, the claim writes it again, only wasted.)
GRACE = timedelta(hours=1)
# Deadlock victims and SQLite's busy database are tried again; the codes are PostgreSQL's SQLSTATEs and MariaDB's.
TRANSIENT_ERRORS = {"40P01", "40001", 1205, 1213}
ATTEMPTS = 5


def in_transaction(work):
    """`work()` in a transaction of its own, run again when the database chose it as a deadlock victim (MariaDB does,
    when several uploads of the same new bytes insert their StoredFile row at once). Inside a caller's transaction it
    runs once: only the outermost transaction can be run again."""
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                return work()
        except OperationalError as error:
            cause = error.__cause__
            code = getattr(cause, "sqlstate", None) or (cause.args[0] if getattr(cause, "args", None) else None)
            transient = code in TRANSIENT_ERRORS or "database is locked" in str(error)
            if not transient or connection.in_atomic_block or attempt == ATTEMPTS - 1:
                raise
            time.sleep(0.02 * 2**attempt)


def _lock(sha256: str, **defaults) -> tuple[StoredFile, bool]:
    """The hash's StoredFile row, locked until the transaction ends; inserted when there is none, so that two
    transactions about a hash nobody stored yet wait for each other too. Returns (row, created)."""
    for _ in range(ATTEMPTS):
        row = StoredFile.objects.select_for_update().filter(sha256=sha256).first()
        if row is not None:
            return row, False
        try:
            with transaction.atomic():
                return StoredFile.objects.create(sha256=sha256, **defaults), True
        except IntegrityError:
            continue  # inserted by a transaction that has committed since our look: lock that row
    raise OperationalError(f"Could not lock the stored file {sha256}.")


def save_original(name: str, path: str) -> None:
    with open(path, "rb") as handle:
        default_storage.save(name, File(handle))


def claim(sha256: str, fmt: str, size: int, path: str) -> None:
    """In the transaction that inserts a Photo of these bytes: hold the hash's row, and make sure its file is there.

    The file may never have been written, or been removed by a deletion's job that held the lock just before; `path`
    holds the bytes to write it from. Until this transaction commits, no job can remove the file again.
    """
    _lock(sha256, format=fmt, size=size)
    name = original_name(sha256, imaging.extension_of(fmt))
    if not default_storage.exists(name):
        save_original(name, path)


def release(hashes) -> None:
    """After a deletion has committed: remove the files of these hashes that no picture refers to any more, in the
    background (each is checked again under its lock, so a picture of the same bytes uploaded meanwhile keeps it)."""
    from .tasks import remove_unreferenced_files

    hashes = sorted(set(hashes))
    for start in range(0, len(hashes), 500):
        remove_unreferenced_files.enqueue(hashes[start : start + 500])


def purge(sha256: str) -> bool:
    """Delete the original(s) and renditions of `sha256` and its StoredFile row if no picture refers to the hash;
    returns whether it did. A failure leaves the row, so the sweep tries again; an upload re-writes a missing file."""

    def work():
        row, created = _lock(sha256)
        referrer = Photo.objects.filter(sha256=sha256).values("format", "file_size").first()
        if referrer is not None:
            if created:  # a picture stored before StoredFile rows existed: its row now does
                StoredFile.objects.filter(pk=sha256).update(format=referrer["format"], size=referrer["file_size"])
            return False
        for name in _names_of(sha256):
            default_storage.delete(name)
        row.delete()
        return True

    return in_transaction(work)


def _names_of(sha256: str) -> list[str]:
    """Every stored file of a hash: its original, whatever the extension, and its renditions."""
    names = []
    for sample, prefix in ((original_name(sha256, "x"), f"{sha256}."), (rendition_name(sha256, "s"), f"{sha256}-")):
        folder = posixpath.dirname(sample)
        try:
            _, files = default_storage.listdir(folder)
        except FileNotFoundError:
            continue
        names += [f"{folder}/{name}" for name in files if name.startswith(prefix)]
    return names


# --- listing what is stored ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredObject:
    name: str
    size: int
    modified: datetime


def list_files(prefix: str):
    """Every file under `prefix` (a folder of the default storage) with its size and time, in name order: one walk of
    a local folder, or the paginated listing of an S3 bucket (a request per thousand files, not one per folder)."""
    if isinstance(default_storage, FileSystemStorage):
        root = Path(default_storage.path(prefix))
        for folder, folders, files in os.walk(root):
            folders.sort()
            for name in sorted(files):
                path = Path(folder, name)
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                modified = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
                yield StoredObject(f"{prefix}/{path.relative_to(root).as_posix()}", stat.st_size, modified)
        return
    if not hasattr(default_storage, "bucket"):
        raise NotImplementedError("Listing is implemented for local folders and S3 buckets.")
    root = _bucket_root()
    for item in default_storage.bucket.objects.filter(Prefix=f"{root}{prefix}/"):
        yield StoredObject(item.key.removeprefix(root), item.size, item.last_modified)


def _bucket_root() -> str:
    location = default_storage.location.strip("/")
    return f"{location}/" if location else ""


def _unfinished_uploads(old: datetime) -> list[tuple[str, str]]:
    """(name, upload id) of the S3 multipart uploads that a killed writer began before `old` and never finished: not
    listed as objects, but stored (and billed) until aborted."""
    if isinstance(default_storage, FileSystemStorage):
        return []
    root = _bucket_root()
    uploads = default_storage.bucket.multipart_uploads.filter(Prefix=root)
    return [(item.key.removeprefix(root), item.id) for item in uploads if item.initiated < old]


def _by_shard(prefix: str):
    """(shard, {name: file}) for each first folder ("ab" of originals/ab/cd/...) under `prefix`, in order."""
    for shard, items in itertools.groupby(list_files(prefix), key=lambda item: item.name.split("/")[1]):
        yield shard, {item.name: item for item in items}


# --- checking and sweeping ----------------------------------------------------------------------------------------


@dataclass
class StorageReport:
    pictures: int = 0
    stored_files: int = 0
    # name -> ids of the pictures whose original it is
    missing_originals: dict[str, list[str]] = field(default_factory=dict)
    corrupt_originals: list[str] = field(default_factory=list)
    # files (and StoredFile rows without a file) that no picture refers to, by hash
    orphans: dict[str, list[str]] = field(default_factory=dict)
    # half-written files: (name, S3 multipart upload id or "" for a file)
    temporary: list[tuple[str, str]] = field(default_factory=list)
    # sha256 -> sizes missing for its processed pictures
    missing_renditions: dict[str, list[str]] = field(default_factory=dict)

    def orphan_lines(self) -> list[str]:
        """The orphan files, and the records of hashes that have neither a picture nor a file."""
        return [
            line
            for sha256, names in self.orphans.items()
            for line in names or [f"{sha256} (a stored-file record without a picture or a file)"]
        ]

    @property
    def problems(self) -> int:
        renditions = sum(len(sizes) for sizes in self.missing_renditions.values())
        return (
            len(self.missing_originals)
            + len(self.corrupt_originals)
            + len(self.orphan_lines())
            + len(self.temporary)
            + renditions
        )


def inspect_storage(*, hashes: bool = False, now: datetime | None = None) -> StorageReport:
    """Compare what is stored with what the pictures need, one of 256 hash prefixes at a time (bounded memory), reading
    each listing once.

    Files younger than GRACE are not counted as orphans or litter: an upload may be writing or claiming them.
    """
    now = now or timezone.now()
    report = StorageReport()
    listings = [_by_shard("originals"), _by_shard("renditions")]
    heads = [next(listing, None) for listing in listings]
    for shard in (f"{number:02x}" for number in range(256)):
        files = {}
        for index, listing in enumerate(listings):
            while heads[index] is not None and heads[index][0] <= shard:
                if heads[index][0] == shard:
                    files.update(heads[index][1])
                heads[index] = next(listing, None)
        _inspect_shard(shard, files, report, hashes=hashes, old=now - GRACE)
    report.temporary += _unfinished_uploads(now - GRACE)
    return report


def _inspect_shard(shard: str, files: dict, report: StorageReport, *, hashes: bool, old: datetime) -> None:
    # Ranges, not LIKE: they use the sha256 index on every database (every hex digit sorts before "g").
    in_shard = {"sha256__gte": shard, "sha256__lt": f"{shard}g"}
    pictures: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    photos = Photo.objects.filter(**in_shard).order_by().values_list("pk", "sha256", "format", "status")
    for pk, sha256, fmt, status in photos:
        pictures[sha256].append((str(pk), fmt, status))
        report.pictures += 1
    rows = set(StoredFile.objects.filter(**in_shard).values_list("sha256", flat=True))
    report.stored_files += len(rows)

    for name, item in files.items():
        base = posixpath.basename(name)
        if base.startswith(TEMPORARY_PREFIX):
            if item.modified < old:
                report.temporary.append((name, ""))
        elif base[:64] not in pictures and item.modified < old:
            report.orphans.setdefault(base[:64], []).append(name)
    for sha256 in rows - set(
        pictures
    ):  # a row without a picture (its job never ran) is litter too, even without a file
        report.orphans.setdefault(sha256, [])

    sizes = settings.PHOTOCLOUD["EAGER_SIZES"]
    for sha256, photos in pictures.items():
        name = original_name(sha256, imaging.extension_of(photos[0][1]))
        if name not in files:
            report.missing_originals[name] = [pk for pk, _, _ in photos]
            continue
        if hashes and sha256_of(name) != sha256:
            report.corrupt_originals.append(name)
        if any(status == Photo.Status.READY for _, _, status in photos):
            missing = [size for size in sizes if rendition_name(sha256, size) not in files]
            if missing:
                report.missing_renditions[sha256] = missing


def sha256_of(name: str) -> str:
    digest = hashlib.sha256()
    with default_storage.open(name, "rb") as handle:
        for chunk in handle.chunks():
            digest.update(chunk)
    return digest.hexdigest()


def remove_orphans(report: StorageReport) -> tuple[int, int]:
    """Remove the orphans and half-written files a report found (each hash checked again under its lock, so one that a
    picture has claimed since stays); returns how many hashes and files went, and how many could not be removed."""
    removed = failed = 0
    for sha256 in report.orphans:
        try:
            removed += purge(sha256)
        except Exception:
            logger.warning("Could not remove the stored files of %s", sha256, exc_info=True)
            failed += 1
    for name, upload_id in report.temporary:
        try:
            if upload_id:
                key = _bucket_root() + name
                default_storage.connection.MultipartUpload(default_storage.bucket_name, key, upload_id).abort()
            else:
                default_storage.delete(name)
            removed += 1
        except Exception:
            logger.warning("Could not remove %s", name, exc_info=True)
            failed += 1
    return removed, failed


def sweep_storage() -> int:
    """Files no picture refers to (an upload or a job killed half-way, a deleted account) and half-written files are
    removed once older than GRACE; returns how many hashes and files went."""
    return remove_orphans(inspect_storage())[0]


def remove_stale_temporary_files(now: float | None = None) -> int:
    """Upload spools and copies left in this machine's temporary folder by a killed process (anything untouched for
    GRACE: files being written or read are touched or held open by a live request)."""
    cutoff = (now or time.time()) - GRACE.total_seconds()
    removed = 0
    with os.scandir(settings.FILE_UPLOAD_TEMP_DIR) as entries:
        for entry in entries:
            try:
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue
    return removed
