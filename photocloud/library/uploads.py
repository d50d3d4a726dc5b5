"""Upload handling that keeps the cost of a request bounded before any view code runs."""

import os
import tempfile
from contextlib import contextmanager

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


class SizeLimitUploadHandler(FileUploadHandler):
    """Stops receiving a file as soon as it passes the size limit, instead of spooling gigabytes to disk.

    The names of the files it skipped are kept on the handler, so the view can report them as rejected.
    """

    def __init__(self, request=None):
        super().__init__(request)
        self.oversized: list[str] = []
        self._received = 0

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self._received = 0

    def receive_data_chunk(self, raw_data, start):
        self._received += len(raw_data)
        if self._received > settings.PHOTOCLOUD["MAX_UPLOAD_BYTES"]:
            self.oversized.append(self.file_name or "")
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size):
        return None


def oversized_files(request) -> list[str]:
    for handler in getattr(request, "upload_handlers", []):
        if isinstance(handler, SizeLimitUploadHandler):
            return handler.oversized
    return []


@contextmanager
def local_file(uploaded):
    """A path to the upload's bytes: the temporary file Django already wrote, or a copy of an in-memory one."""
    path = getattr(uploaded, "temporary_file_path", lambda: None)()
    if path:
        yield path
        return
    fd, tmp = tempfile.mkstemp(dir=settings.FILE_UPLOAD_TEMP_DIR, prefix="upload-")
    try:
        with os.fdopen(fd, "wb") as handle:
            uploaded.seek(0)
            for chunk in uploaded.chunks():
                handle.write(chunk)
        yield tmp
    finally:
        os.unlink(tmp)
