"""Where originals and renditions live, and how they get there without ever being half-written."""

import os
import tempfile
from contextlib import contextmanager, suppress

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage

# Half-written files in the storage folders start with this; a killed writer's are swept (stored_files.py).
TEMPORARY_PREFIX = ".incoming-"


class AtomicFileSystemStorage(FileSystemStorage):
    """A local folder where a file appears whole or not at all: written to a temporary file, then renamed."""

    def _save(self, name, content):
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        os.makedirs(directory, exist_ok=True)
        fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=TEMPORARY_PREFIX)
        try:
            with os.fdopen(fd, "wb") as handle:
                if hasattr(content, "seek"):
                    content.seek(0)
                for chunk in content.chunks():
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            if self.file_permissions_mode is not None:
                os.chmod(tmp_path, self.file_permissions_mode)
            else:
                os.chmod(tmp_path, 0o640)
            os.replace(tmp_path, full_path)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp_path)
            raise
        return str(name).replace("\\", "/")


def original_name(sha256: str, extension: str) -> str:
    return f"originals/{sha256[:2]}/{sha256[2:4]}/{sha256}.{extension}"


def rendition_name(sha256: str, size: str, rotation: int = 0) -> str:
    """Renditions are shared by content; a turned one (the owner's Photo.rotation) by content and turn."""
    turn = f"-r{rotation}" if rotation % 360 else ""
    return f"renditions/{sha256[:2]}/{sha256[2:4]}/{sha256}-{size}{turn}.jpg"


@contextmanager
def local_copy(name: str):
    """A filesystem path to a stored file: the file itself on local storage (libvips streams from it), else a
    temporary copy (object storage) in the upload temporary folder, where one that a killed process left is swept."""
    try:
        path = default_storage.path(name)
    except NotImplementedError:
        pass
    else:
        if not os.path.exists(path):
            raise FileNotFoundError(f"File does not exist: {name}")
        yield path
        return
    with (
        default_storage.open(name, "rb") as remote,
        tempfile.NamedTemporaryFile(suffix=".img", dir=settings.FILE_UPLOAD_TEMP_DIR) as tmp,
    ):
        for chunk in remote.chunks():
            tmp.write(chunk)
        tmp.flush()
        yield tmp.name
