"""Writes of the sync app: resumable upload sessions, and importing files from watched server folders.

Both end in `library.services.ingest_upload`, so pictures are validated, stored and de-duplicated exactly like
uploads from the web pages.
"""

import hashlib
import logging
import os
import tempfile
import threading
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from photocloud.library import services as library
from photocloud.library.models import Photo

from .files import FileChangedError, NotInside, SourceFile, readable, signature, walk
from .models import ImportEvent, ImportFolder, UploadSession

logger = logging.getLogger(__name__)

MAX_CHUNK_BYTES = 16 * 1024 * 1024
# Unfinished uploads kept per user (the least recently used go first): bounds the disk one user's partial files take.
MAX_OPEN_UPLOADS = 20
STALE_AFTER = timedelta(days=7)


def claim_lapsed() -> timedelta:
    """A request completing an upload refreshes its claim four times within this; an older claim died with its
    process (a crash, a killed web worker), so the client's retry, which waits 30 s, takes it over and finishes."""
    return timedelta(seconds=settings.PHOTOCLOUD["UPLOAD_CLAIM_SECONDS"])


class UploadError(Exception):
    """A request the session cannot accept; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400, **extra):
        super().__init__(message)
        self.message, self.status, self.extra = message, status, extra


def uploads_dir() -> Path:
    path = Path(settings.DATA_DIR) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def part_path(session: UploadSession) -> Path:
    return uploads_dir() / f"{session.pk}.part"


class _AssembledFile(File):
    """A server-private file shaped like one of Django's temporary uploads, so ingest reads it in place (by name, more
    than once: never hand it a path that someone else can write to or rename over)."""

    def temporary_file_path(self):
        return self.file.name


# --- resumable uploads --------------------------------------------------------------------------------------------


def start_upload(
    owner, *, sha256: str, size: int, name: str, album=None
) -> tuple[UploadSession | None, library.UploadResult | None]:
    """The session to send these bytes into: the owner's unfinished one for the same content, or a new one.

    Returns (None, duplicate) when the owner already has a picture with these bytes (restored if it was in the Trash,
    as an upload of the file would): nothing needs sending.
    """
    name = os.path.basename((name or "").replace("\\", "/"))[:255]
    duplicate = library.duplicate_of(owner, name, sha256)
    if duplicate:
        return None, duplicate
    limit = settings.PHOTOCLOUD["MAX_UPLOAD_BYTES"]
    if size > limit:
        raise UploadError(f"The file is larger than {limit // (1024 * 1024)} MB.", status=413, code="too_large")
    if size <= 0:
        raise UploadError("The file is empty.", code="empty")
    session = UploadSession.objects.filter(owner=owner, sha256=sha256).first()
    if session is None:
        try:
            with transaction.atomic():
                session = UploadSession.objects.create(owner=owner, sha256=sha256, size=size, name=name, album=album)
        except IntegrityError:  # the same content started by a parallel request: share its session
            session = UploadSession.objects.get(owner=owner, sha256=sha256)
        else:
            for oldest in UploadSession.objects.filter(owner=owner).order_by("-updated_at")[MAX_OPEN_UPLOADS:]:
                discard_upload(oldest)  # one being completed stays: its bytes are being read
    if session.size != size:
        raise UploadError(
            "An unfinished upload of these bytes has another size: the hash or size is wrong.",
            status=409,
            code="size_mismatch",
        )
    if (session.album_id, session.name) != (getattr(album, "pk", None), name):
        UploadSession.objects.filter(pk=session.pk).update(album=album, name=name)
        session.album, session.name = album, name
    return session, None


def receive_chunk(session: UploadSession, offset: int, stream, length: int) -> int:
    """Append `length` bytes from `stream` at `offset`, which must be where the session stands; returns the new offset.

    The bytes are read before any lock is taken, then written and flushed to disk before the offset is committed, so
    a crash at any point leaves `received` pointing at bytes that are really there.
    """
    if length <= 0:
        raise UploadError("Send the chunk's bytes in the request body.", code="empty_chunk")
    if length > MAX_CHUNK_BYTES:
        raise UploadError(
            f"A chunk may hold at most {MAX_CHUNK_BYTES // (1024 * 1024)} MB.", status=413, code="chunk_too_large"
        )
    if offset < 0 or offset + length > session.size:
        raise UploadError("The chunk does not fit in the file's announced size.", code="out_of_range")
    data = stream.read(length)
    if len(data) != length:
        raise UploadError("The chunk was shorter than announced.", code="short_chunk")
    with transaction.atomic():
        current = UploadSession.objects.select_for_update().filter(pk=session.pk).first()
        if current is None:
            raise UploadError("This upload no longer exists; start it again.", status=404)
        if current.received != offset:
            raise UploadError(
                f"Expected the bytes at offset {current.received}.",
                status=409,
                code="wrong_offset",
                offset=current.received,
            )
        path = part_path(current)
        with open(path, "r+b" if path.exists() else "wb") as handle:
            handle.truncate(offset)  # drop anything an interrupted write left after the committed offset
            handle.seek(offset)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        current.received = offset + length
        current.save(update_fields=["received", "updated_at"])
    return current.received


def complete_upload(session: UploadSession) -> library.UploadResult:
    """Check the assembled bytes against the announced hash, then ingest them like any upload."""
    if session.received != session.size:
        raise UploadError(
            f"Only {session.received} of {session.size} bytes have arrived.",
            status=409,
            code="incomplete",
            offset=session.received,
        )
    now = timezone.now()
    claimed = (
        UploadSession.objects.filter(pk=session.pk, received=session.size)
        .exclude(completing_since__gt=now - claim_lapsed())
        .update(completing_since=now)
    )
    if not claimed:
        raise UploadError(
            "This upload is being completed by another request; ask again shortly.", status=409, code="completing"
        )
    path = part_path(session)
    try:
        with _claim_kept(session):
            # Hashed once, here: ingest trusts this hash, as a complete session takes no more chunks into its file.
            if _file_sha256(path) != session.sha256:
                discard_upload(session, completing=True)
                raise UploadError(
                    "The bytes received do not match the announced SHA-256; send the file again.",
                    status=409,
                    code="hash_mismatch",
                )
            album = session.album if session.album_id else library.default_album(session.owner)
            with open(path, "rb") as handle:
                result = library.ingest_upload(
                    session.owner, album, _AssembledFile(handle, name=session.name), verified_sha256=session.sha256
                )
    except BaseException:
        UploadSession.objects.filter(pk=session.pk).update(completing_since=None)
        raise
    discard_upload(session, completing=True)
    return result


@contextmanager
def _claim_kept(session: UploadSession):
    """Refresh the session's completion claim from a thread while the block runs, so it lapses soon after a crash
    but never while a long ingest is still working."""
    done = threading.Event()

    def refresh():
        try:
            while not done.wait(claim_lapsed().total_seconds() / 4):
                UploadSession.objects.filter(pk=session.pk).update(completing_since=timezone.now())
        except Exception:  # the claim lapses and a retry takes over: no worse than a crash
            logger.exception("Could not refresh the completion claim of upload %s", session.pk)
        finally:
            connection.close()

    thread = threading.Thread(target=refresh, name=f"claim-{session.pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _file_sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while block := handle.read(1024 * 1024):
                digest.update(block)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


def discard_upload(session: UploadSession, *, completing: bool = False) -> bool:
    """Drop an unfinished upload and its bytes; nothing in the library changes. Returns whether it was dropped.

    An upload that a request is completing is left alone (its part file is being read, by name, by the ingest), unless
    that request itself drops it (`completing`). A claim not refreshed for claim_lapsed() died with its process.
    """
    sessions = UploadSession.objects.filter(pk=session.pk)
    if not completing:
        sessions = sessions.exclude(completing_since__gt=timezone.now() - claim_lapsed())
    if not sessions.delete()[0]:
        return False
    part_path(session).unlink(missing_ok=True)
    return True


def remove_stale_uploads() -> int:
    """Sessions nobody touched for a week, and part files without a session, go; returns how many."""
    stale = UploadSession.objects.filter(updated_at__lt=timezone.now() - STALE_AFTER)
    removed = sum(discard_upload(session) for session in stale)
    known = {str(pk) for pk in UploadSession.objects.values_list("pk", flat=True)}
    orphans = 0
    cutoff = timezone.now().timestamp() - 3600  # a part file may be a moment older than its session's commit
    for path in uploads_dir().glob("*.part"):
        if path.stem not in known and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            orphans += 1
    return removed + orphans


# --- watched import folders ---------------------------------------------------------------------------------------


def path_key(relative_path: str) -> str:
    return hashlib.sha256(relative_path.encode()).hexdigest()


def pending_files(folder: ImportFolder) -> list[Path]:
    """The folder's pictures not handled yet (a file changed since its last import counts as new)."""
    root = Path(folder.path)
    if not root.is_dir():
        return []
    handled = set(
        ImportEvent.objects.filter(folder=folder)
        .exclude(status=ImportEvent.Status.ERROR)
        .values_list("path_key", "size", "mtime_ns")
    )
    pending = []
    for path in walk(root):
        current = signature(path)
        if current and (path_key(readable(str(path.relative_to(root)))), *current) not in handled:
            pending.append(path)
    return pending


def _already_handled(folder: ImportFolder, relative_path: str, current: tuple[int, int]) -> bool:
    size, mtime_ns = current
    return (
        ImportEvent.objects.filter(folder=folder, path_key=path_key(relative_path), size=size, mtime_ns=mtime_ns)
        .exclude(status=ImportEvent.Status.ERROR)
        .exists()
    )


def record_scan(folder: ImportFolder, pending: int, error: str = "") -> None:
    ImportFolder.objects.filter(pk=folder.pk).update(
        pending_count=pending, last_scan_at=timezone.now(), last_error=error[:500]
    )


def _deleted_after_import(folder: ImportFolder, copy: Path) -> bool:
    """Whether the bytes of `copy` were imported from this copy-mode folder and their picture then moved to the Trash.

    In copy mode the files stay, so the same content under a new name (a file renamed or moved in the folder) must
    not bring the picture back from the Trash as an upload of the same file would; in move mode a file is only
    there again because someone dropped it again, which restores it.
    """
    if folder.mode != ImportFolder.Mode.COPY:
        return False
    imported = ImportEvent.objects.filter(folder=folder, photo__isnull=False).values("photo_id")
    trashed = Photo.objects.in_trash_of(folder.owner).filter(pk__in=imported)
    return trashed.exists() and trashed.filter(sha256=_file_sha256(copy)).exists()  # hashed only when it may be


def import_file(folder: ImportFolder, path: Path) -> ImportEvent | None:
    """Import one file of the folder through the normal ingest (same checks, same de-duplication).

    The file is opened once (no symbolic link followed) and copied to a private file, which alone is hashed, checked
    and stored: renaming another file over it, or writing into it, meanwhile cannot change what is stored. In move
    mode the source is deleted only once the picture is stored or known to be there already, and only if it is still
    the file that was read; rejected files stay where they are, and are reported. Returns None when the file is gone,
    still changing or was handled already.
    """
    root = Path(folder.path)
    relative = readable(str(path.relative_to(root)))
    try:
        info = path.lstat()
    except OSError:
        return None
    current = info.st_size, info.st_mtime_ns
    if _already_handled(folder, relative, current):
        return None
    album = folder.album if folder.album and folder.album.owner_id == folder.owner_id else None
    try:
        with SourceFile(root, path) as source:
            if source.signature != current:
                return None  # replaced since it was looked at: it comes again once settled
            with tempfile.NamedTemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR, prefix="import-") as private:
                source.copy_to(private, settings.PHOTOCLOUD["MAX_UPLOAD_BYTES"] + 1)  # one byte more: "too large"
                private.flush()
                private.seek(0)
                if _deleted_after_import(folder, Path(private.name)):
                    reason = "Deleted in Photocloud after it was imported, so not imported again."
                    result = library.UploadResult(readable(path.name), "duplicate", reason=reason)
                else:
                    result = library.ingest_upload(
                        folder.owner,
                        album or library.default_album(folder.owner),
                        _AssembledFile(private, name=readable(path.name)),
                    )
            if (
                folder.mode == ImportFolder.Mode.MOVE
                and result.status in ("stored", "duplicate")
                and source.unchanged()
            ):  # else it changed after it was read: imported again next scan
                source.unlink()
        status, reason, photo = result.status, result.reason, result.photo
    except (FileNotFoundError, FileChangedError):
        return None
    except NotInside as refusal:
        status, reason, photo = ImportEvent.Status.REJECTED, f"Not imported: {refusal}.", None
    except OSError as error:
        logger.warning("Import of %s failed", path, exc_info=True)
        status, reason, photo = ImportEvent.Status.ERROR, f"Could not read or move the file: {error.strerror}.", None
    # A file that keeps failing (unreadable, say) is retried at every scan: one event tells about it, not one a minute.
    ImportEvent.objects.filter(folder=folder, path_key=path_key(relative), status=ImportEvent.Status.ERROR).delete()
    event = ImportEvent.objects.create(
        folder=folder,
        relative_path=relative,
        path_key=path_key(relative),
        size=current[0],
        mtime_ns=current[1],
        status=status,
        reason=reason[:500],
        photo=photo,
    )
    counter = {"stored": "imported_count", "duplicate": "duplicate_count", "rejected": "rejected_count"}.get(status)
    changes = {"last_activity_at": timezone.now()}
    if counter:
        changes[counter] = F(counter) + 1
    ImportFolder.objects.filter(pk=folder.pk).update(**changes)
    ImportFolder.objects.filter(pk=folder.pk, pending_count__gt=0).update(pending_count=F("pending_count") - 1)
    return event
