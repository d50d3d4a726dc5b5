"""Which files are pictures to sync, and when a file has stopped changing. Shared by the sync client (which must
not import Django) and the server's import-folder watcher."""

import errno
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from watchdog.events import FileSystemEventHandler

PICTURE_SUFFIXES = {
    ".jpg",
    ".jpeg",
    ".jpe",
    ".png",
    ".gif",
    ".webp",
    ".heic",
    ".heif",
    ".tif",
    ".tiff",
    ".bmp",
    ".avif",
    ".jp2",
    ".j2k",
    ".jxl",
    ".psd",
    ".psb",
    # camera RAW
    ".dng",
    ".cr2",
    ".cr3",
    ".nef",
    ".arw",
    ".orf",
    ".raf",
    ".rw2",
}
# Names that editors, browsers and copy tools give files while they are still being written.
TEMPORARY_SUFFIXES = {".tmp", ".part", ".partial", ".crdownload", ".download", ".swp"}


def is_candidate(path: Path) -> bool:
    """A picture by its name (the server checks the content), and not hidden or temporary."""
    name = path.name
    if name.startswith((".", "~")) or name.endswith("~"):
        return False
    suffixes = {suffix.lower() for suffix in path.suffixes}
    return path.suffix.lower() in PICTURE_SUFFIXES and not suffixes & TEMPORARY_SUFFIXES


def walk(root: Path) -> Iterator[Path]:
    """Every candidate file under root, in a stable order, skipping hidden folders; symbolic links are not followed."""
    for directory, folders, names in os.walk(root):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        for name in sorted(names):
            path = Path(directory, name)
            if is_candidate(path) and path.is_file() and not path.is_symlink():
                yield path


def signature(path: Path) -> tuple[int, int] | None:
    """(size, mtime in ns), or None when the file is gone."""
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


class SettleTracker:
    """Collects paths from file-system events and hands them out once they have stopped changing.

    A file is ready when its size and modification time have been the same for `quiet` seconds, so a picture that is
    still being copied or saved is not read half-written.
    """

    def __init__(self, quiet: float = 1.0):
        self.quiet = quiet
        self._seen: dict[Path, tuple[tuple[int, int] | None, float, object]] = {}

    def touch(self, path: Path, tag=None) -> None:
        """Note a change to `path`; `tag` comes back with it from ready() (e.g. the import folder it belongs to)."""
        self._seen[path] = (signature(path), time.monotonic(), tag)

    def __len__(self):
        return len(self._seen)

    def ready(self) -> list[tuple[Path, object]]:
        now = time.monotonic()
        settled = []
        for path, (last, since, tag) in list(self._seen.items()):
            current = signature(path)
            if current is None:
                del self._seen[path]
            elif current != last:
                self._seen[path] = (current, now, tag)
            elif now - since >= self.quiet and current[0] > 0:
                settled.append((path, tag))
                del self._seen[path]
        return settled


class ChangeHandler(FileSystemEventHandler):
    """Passes each candidate file that appears or changes under `root` to `found` (from watchdog's thread).

    A folder moved in arrives as one event for the folder, so its pictures are listed here.
    """

    def __init__(self, root: Path, found):
        self.root, self.found = root, found

    def on_any_event(self, event):
        if event.event_type not in ("created", "modified", "moved", "closed"):
            return
        path = Path(os.fsdecode(getattr(event, "dest_path", "") or event.src_path))
        try:
            parts = path.relative_to(self.root).parts
        except ValueError:
            return
        if any(part.startswith(".") for part in parts):
            return
        if Path(os.path.realpath(path)) != Path(os.path.realpath(self.root), *parts):
            return  # a symbolic link (to a file or a folder), here or on the way: like walk(), not followed
        if event.is_directory:
            if event.event_type in ("created", "moved"):
                for inner in walk(path):
                    self.found(inner)
        elif is_candidate(path):
            self.found(path)


class NotInside(Exception):
    """The path leads out of the folder: a symbolic link, here or on the way."""


class SourceFile:
    """A regular file under `root`, opened once without following any symbolic link on the way down.

    For the server's import folders, which others can write to: what is read is then a file of the folder itself,
    never (through a link) another user's picture or a file of the server. Every check afterwards (has it changed,
    may it be deleted) is about this one opened file. The root itself may be a link; the administrator chose it.
    """

    def __init__(self, root: Path, path: Path):
        parts = path.relative_to(root).parts
        if not parts or ".." in parts:
            raise NotInside("not a file inside the folder")
        self.parent = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for part in parts[:-1]:
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=self.parent)
                os.close(self.parent)
                self.parent = inner
            self.name = parts[-1]
            # O_NONBLOCK: opening a named pipe must not wait for a writer; nothing reads from it (not S_ISREG).
            fd = os.open(self.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY, dir_fd=self.parent)
        except OSError as error:
            os.close(self.parent)
            # ELOOP: the file is a link; ENOTDIR: a folder on the way is (O_DIRECTORY | O_NOFOLLOW refuses it so).
            if error.errno in (errno.ELOOP, errno.ENOTDIR):
                raise NotInside("a symbolic link; only the folder's own files are imported") from None
            raise
        self.file = os.fdopen(fd, "rb")
        self.opened = os.fstat(fd)
        if not stat.S_ISREG(self.opened.st_mode):  # a folder, a pipe, a device
            self.close()
            raise OSError(errno.EINVAL, "not a regular file")

    @property
    def signature(self) -> tuple[int, int]:
        return self.opened.st_size, self.opened.st_mtime_ns

    def copy_to(self, target, limit: int) -> None:
        """Copy at most `limit` bytes to `target`; FileChangedError if the file was written to meanwhile."""
        while limit > 0 and (block := self.file.read(min(limit, 1024 * 1024))):
            target.write(block)
            limit -= len(block)
        if _identity(os.fstat(self.file.fileno())) != _identity(self.opened):
            raise FileChangedError

    def unchanged(self) -> bool:
        """Whether the folder's entry is still the file that was opened and read, unmodified."""
        try:
            current = os.stat(self.name, dir_fd=self.parent, follow_symlinks=False)
        except OSError:
            return False
        return _identity(current) == _identity(self.opened)

    def unlink(self) -> None:
        os.unlink(self.name, dir_fd=self.parent)

    def close(self) -> None:
        self.file.close()
        os.close(self.parent)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FileChangedError(Exception):
    """The file was written to while it was read: it is taken again once it has settled."""


def _identity(info: os.stat_result) -> tuple[int, int, int, int]:
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns


def readable(text: str) -> str:
    """A file name that can be stored and shown: bytes that are not UTF-8 become replacement characters."""
    return os.fsencode(text).decode("utf-8", "replace")
