"""Originals as served: one picture (its page's Download), or many as a ZIP streamed while it is built.

Originals go out byte-exact, except that a viewer the owner has not shared locations with gets them without their GPS
position (imaging.without_location). The callers have already looked every picture up through access.py.
"""

import io
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db.models import Q
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import content_disposition_header

from . import imaging
from .access import can_edit, can_see_location
from .models import Photo
from .storage import local_copy, original_name

READ_CHUNK = 1024 * 1024


@dataclass
class Original:
    """What a viewer gets of a picture's original: where to read it, its type and a file name."""

    photo: Photo
    content_type: str
    filename: str
    stripped: bytes | None = None  # the re-written original when its GPS position is withheld

    def file(self):
        """An open binary file of it, for the caller to close."""
        if self.stripped is not None:
            return io.BytesIO(self.stripped)
        return default_storage.open(original_name(self.photo.sha256, imaging.extension_of(self.photo.format)), "rb")


def _original_as_stored(viewer, photo: Photo) -> bool:
    """Whether `viewer` gets the original as stored, its GPS position included."""
    if photo.location_edited:  # corrected or removed by hand: the file's own GPS is the owner's alone
        return can_edit(viewer, photo)
    return not photo.has_location or can_see_location(viewer, photo)


def file_tag(viewer, photo: Photo, size: str) -> str:
    """The strong ETag of the bytes `viewer` gets of a picture's file (a rendition, or "original"), known without
    reading them: what they depend on, the file, the owner's turn of a rendition, a GPS position withheld."""
    if size == "original":
        return f'"{photo.sha256[:32]}-original{"" if _original_as_stored(viewer, photo) else "-nogps"}"'
    return f'"{photo.sha256[:32]}-{size}-{photo.rotation}"'


def not_modified(request, tag: str) -> HttpResponse | None:
    """304 Not Modified when the browser holds the bytes of ETag `tag` (read no file then), else None. Every picture
    file, the crawler's candidates too, is asked for again each time (`revalidated`), so that one made private,
    trashed or unshared leaves a viewer's screen at once: the caller's access check runs before, on every request."""
    unchanged = get_conditional_response(request, etag=tag)
    return None if unchanged is None else revalidated(unchanged, tag)


def revalidated(response: HttpResponse, tag: str) -> HttpResponse:
    """A picture file's answer: the browser keeps it, but asks again (with its strong ETag) before each use."""
    response["Cache-Control"] = "private, no-cache"
    response["ETag"] = tag
    return response


def original_for(viewer, photo: Photo) -> Original:
    """The original as `viewer` may have it: as stored, or without its GPS position (read into memory, one picture)."""
    extension = imaging.extension_of(photo.format)
    filename = photo.original_name or f"{photo.pk}.{extension}"
    if _original_as_stored(viewer, photo):
        return Original(photo, photo.mime_type, filename)
    with local_copy(original_name(photo.sha256, extension)) as path:
        data, content_type = imaging.without_location(path, imaging.probe(path))
    if content_type != photo.mime_type:
        filename = os.path.splitext(filename)[0] + ".jpg"
    return Original(photo, content_type, filename, stripped=data)


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")


def entry_name(photo: Photo, content_type: str, taken: set[str]) -> str:
    """A name inside the ZIP: the upload's base name without any path, made safe and unique (case-insensitively),
    with the extension of what is written (".jpg" when the original was re-encoded without its position)."""
    base = os.path.basename((photo.original_name or "").replace("\\", "/"))
    stem = _UNSAFE.sub("_", os.path.splitext(base)[0]).strip(" .")[:100] or str(photo.pk)
    extension = "jpg" if content_type == "image/jpeg" else imaging.extension_of(photo.format)
    name, number = f"{stem}.{extension}", 1
    while name.lower() in taken:
        number += 1
        name = f"{stem} ({number}).{extension}"
    taken.add(name.lower())
    return name


class _Sink:
    """A write-only file for ZipFile that hands out what was written since the last `take` (it cannot seek, so
    ZipFile writes sizes after each entry's data, and nothing has to be kept)."""

    def __init__(self):
        self._parts: list[bytes] = []

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


STACK_BATCH = 200  # pictures whose stacks are looked up in one query


def with_stacks(viewer, photos: Iterable[Photo]) -> Iterator[Photo]:
    """The pictures, each followed by the other files of its stack that `viewer` may see (a RAW after its JPEG
    cover), every picture once: one query per STACK_BATCH pictures, each file checked through access.py."""
    seen = set()
    batch: list[Photo] = []

    def flush():
        if not batch:
            return
        covers = {photo.stack_cover_id or photo.pk for photo in batch}
        rows = Photo.objects.visible_to(viewer).filter(Q(pk__in=covers) | Q(stack_cover__in=covers))
        stack: dict = {}
        for row in rows.order_by("format", "pk"):
            stack.setdefault(row.stack_cover_id or row.pk, []).append(row)
        for photo in batch:
            for row in [photo, *stack.get(photo.stack_cover_id or photo.pk, [])]:
                if row.pk not in seen:
                    seen.add(row.pk)
                    yield row
        batch.clear()

    for photo in photos:
        batch.append(photo)
        if len(batch) == STACK_BATCH:
            yield from flush()
    yield from flush()


def zip_stream(viewer, photos: Iterable[Photo]) -> Iterator[bytes]:
    """The pictures' originals as a ZIP, with the other files of their stacks, yielded a chunk at a time as it is
    built: memory stays at one read chunk (one picture when its position is removed), whatever the number of
    pictures. Stored, not deflated: pictures are compressed already."""
    sink, taken = _Sink(), set()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for photo in with_stacks(viewer, photos):
            original = original_for(viewer, photo)
            entry = zipfile.ZipInfo(entry_name(photo, original.content_type, taken), _zip_time(photo))
            entry.compress_type = zipfile.ZIP_STORED
            with original.file() as source, archive.open(entry, "w", force_zip64=photo.file_size > 2**31) as target:
                while chunk := source.read(READ_CHUNK):
                    target.write(chunk)
                    yield sink.take()
            yield sink.take()
    yield sink.take()


def _zip_time(photo: Photo) -> tuple:
    """ZIP times start in 1980."""
    moment = photo.sort_date
    return (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, moment.second)


def zip_filename(title: str) -> str:
    stem = _UNSAFE.sub("_", title).strip(" .")[:80]
    return f"{stem or 'photos'}.zip"


def zip_response(viewer, photos, title: str) -> StreamingHttpResponse:
    """A ZIP of these pictures (already looked up through access.py), streamed while it is built."""
    response = StreamingHttpResponse(zip_stream(viewer, photos.iterator(chunk_size=200)))
    response["Content-Type"] = "application/zip"
    response["Content-Disposition"] = content_disposition_header(True, zip_filename(title))
    response["Cache-Control"] = "private, no-store"
    return response
