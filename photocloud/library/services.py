"""Writes to the library: albums, uploads, background processing and deletion.

Views and API endpoints stay thin and call these functions; the owner is always an argument taken from the
authenticated user, never from a request body.
"""

import hashlib
import logging
import os
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from . import colors, imaging, pipeline, stacks, stored_files, tallies
from .access import holds
from .imaging import ImageRejected
from .models import Access, Album, AlbumPlacement, Photo, Tag, wall_clock
from .storage import local_copy, original_name, rendition_name
from .uploads import local_file

logger = logging.getLogger(__name__)


# --- tags and albums ----------------------------------------------------------------------------------------------


def normalise_label(text: str) -> str:
    """A category, tag or class name as stored and compared: "  Sea   View " -> "sea view"."""
    return " ".join(text.split()).lower()


def parse_tags(text: str) -> list[str]:
    """ "Beach, sunset ,beach" -> ["beach", "sunset"]: trimmed, lower case, unique, in order."""
    seen: dict[str, None] = {}
    for raw in text.replace("，", ",").split(","):
        name = normalise_label(raw)[:50]
        if name:
            seen.setdefault(name, None)
    return list(seen)


def set_tags(obj, names: list[str]) -> None:
    tags = []
    for name in names:
        tag, _ = Tag.objects.get_or_create(name=name)
        tags.append(tag)
    obj.tags.set(tags)


@transaction.atomic
def create_album(owner, *, title, category, access=Access.PRIVATE, description="", tags=()) -> Album:
    album = Album.objects.create(owner=owner, title=title, category=category, access=access, description=description)
    set_tags(album, list(tags))
    pipeline.albums_changed([album.pk], "created")
    return album


@transaction.atomic
def update_album(album: Album, *, tags=None, **fields) -> Album:
    cover = fields.get("cover")
    if cover is not None and not holds(album, cover):
        raise ValueError("The cover must be a picture of this album.")
    relabelled = "category" in fields and fields["category"] != album.category
    for name, value in fields.items():
        setattr(album, name, value)
    album.save()
    if tags is not None:
        set_tags(album, list(tags))
    if tags is not None or set(fields) - {"cover"}:  # the cover is in no search document
        pipeline.albums_changed([album.pk], "category" if relabelled else "fields", owner_ids=[album.owner_id])
    return album


def default_album(owner) -> Album:
    """Where pictures go when no album is named (API and sync client): private until the owner shares it."""
    album = Album.objects.filter(owner=owner, title="Uploads").order_by("created_at").first()
    return album or create_album(owner, title="Uploads", category="uploads", access="private")


def delete_album(album: Album, *, move_to: Album | None = None) -> int:
    """Delete an album. Its pictures move to `move_to` when given, else they are deleted with it. Returns how many
    pictures moved outside the Trash (those the album showed; its pictures in the Trash move their home too), or how
    many were deleted."""
    with transaction.atomic():
        photos = Photo.objects.filter(album=album)
        # Its pictures, and the members of their stacks, which a deleted cover leaves listed on their own.
        changed = list(Photo.objects.filter(Q(album=album) | Q(stack_cover__album=album)).values_list("pk", flat=True))
        if move_to is not None:
            if move_to.owner_id != album.owner_id or move_to.pk == album.pk:
                raise ValueError("Pictures can only move to another album of yours.")
            AlbumPlacement.objects.filter(album=move_to, photo__album=album).delete()  # now their home instead
            count = photos.live().count()
            with tallies.changing(changed):
                photos.update(album=move_to)
                album.delete()
            fix_covers([move_to.pk])
            # Only the pictures now in `move_to` carry a new album title and tags, not the owner's whole library.
            pipeline.albums_changed([move_to.pk], "album", owner_ids=[album.owner_id])
            return count
        hashes = list(photos.values_list("sha256", flat=True))
        with tallies.changing(changed):
            album.delete()
    transaction.on_commit(lambda: stored_files.release(hashes), robust=True)
    return len(hashes)


def fix_covers(album_ids) -> None:
    """Keep each album's cover a picture of that album outside the Trash (its newest one instead, or none), so that
    a picture moved to another album or trashed never stays on show as a cover (see access.shown_cover)."""
    for album in Album.objects.filter(pk__in=[pk for pk in album_ids if pk is not None]).only("pk", "cover_id"):
        live = Photo.objects.live().in_album(album)
        if album.cover_id and live.filter(pk=album.cover_id).exists():
            continue
        newest = live.values_list("pk", flat=True).first()
        if newest != album.cover_id:
            Album.objects.filter(pk=album.pk).update(cover=newest)


@transaction.atomic
def update_photo(photo: Photo, *, tags=None, **fields) -> Photo:
    moved = "album" in fields and getattr(fields["album"], "pk", None) != photo.album_id
    relabelled = fields.get("category", photo.category) != photo.category or moved
    left = photo.album_id
    for name, value in fields.items():
        setattr(photo, name, value)
    counted = nullcontext()
    if tallies.TALLIED & set(fields):  # the stack whole: its other files follow the cover's album and category
        counted = tallies.changing(stacks.whole(Photo.objects.filter(owner_id=photo.owner_id), [photo.pk]))
    with counted:
        # Only what this edit changes: a title edit must not write back an album, date or trash state a concurrent
        # move or trash changed since `photo` was read.
        concrete = {name: field.name for field in Photo._meta.concrete_fields for name in (field.name, field.attname)}
        known = set(fields) <= concrete.keys()
        photo.save(update_fields=sorted({concrete[name] for name in fields} | {"updated_at"}) if known else None)
        changed = [photo.pk]
        if moved or "category" in fields or tags is not None:  # what a tile shows: the other files of its stack follow
            changed += _carry_to_stack(photo, moved, "category" in fields, tags)
    if moved:
        AlbumPlacement.objects.filter(album_id=photo.album_id, photo=photo).delete()  # its home now
        fix_covers([left, photo.album_id])
    if tags is not None:
        set_tags(photo, list(tags))
    pipeline.pictures_changed(changed, "category" if relabelled else "fields", owner_ids=[photo.owner_id])
    return photo


def _carry_to_stack(photo: Photo, moved: bool, relabelled: bool, tags) -> list:
    """Give the other files of `photo`'s stack the album home, category and tags just set on it; returns their ids."""
    stack = stacks.whole(Photo.objects.live().filter(owner_id=photo.owner_id), [photo.pk])
    others = [pk for pk in stack if pk != photo.pk]
    if not others:
        return []
    rows = Photo.objects.filter(pk__in=others)
    if moved:
        left = set(rows.values_list("album_id", flat=True))
        AlbumPlacement.objects.filter(album_id=photo.album_id, photo_id__in=others).delete()
        rows.update(album_id=photo.album_id)
        fix_covers(left)
    if relabelled:
        rows.update(category=photo.category)
    if tags is not None:
        for other in rows:
            set_tags(other, list(tags))
    return others


def set_marks(owner, photo_ids, **marks) -> int:
    """Archive or unarchive, favourite or unfavourite (marks `archived`, `favourite`: True or False) the owner's
    pictures among `photo_ids`; returns how many pictures there were."""
    unknown = set(marks) - {"archived", "favourite"}
    if unknown or not marks:
        raise ValueError(f"Marks are `archived` and `favourite`, not {sorted(unknown)}.")
    now = timezone.now()
    moments = {f"{name}_at": now if value else None for name, value in marks.items()}
    chosen = _owned_live(owner, photo_ids)
    with tallies.changing(chosen.values_list("pk", flat=True)):
        return chosen.update(**moments)


def set_category(owner, photos, category: str) -> int:
    """Give many of the owner's pictures (and the other files of their stacks) one category of their own (teaching);
    returns how many changed."""
    ids = stacks.whole(Photo.objects.owned_by(owner), [photo.pk for photo in photos])
    with tallies.changing(ids):
        changed = Photo.objects.filter(pk__in=ids).update(category=category)
    if changed:
        pipeline.pictures_changed(ids, "category", owner_ids=[owner.pk])
    return changed


# --- pictures in several albums ------------------------------------------------------------------------------------


def _owned_live(owner, photo_ids):
    """The owner's pictures among `photo_ids` with the other files of their stacks (a stack acts as one picture)."""
    return Photo.objects.filter(pk__in=stacks.whole(Photo.objects.owned_by(owner), photo_ids))


def _check_album(owner, album: Album | None) -> None:
    if album is not None and (album.owner_id != owner.pk or album.trashed_at is not None):
        raise PermissionError("Pictures can only be put in your own albums.")


@transaction.atomic
def add_to_album(owner, album: Album, photo_ids) -> list:
    """Place the owner's pictures in one more album of theirs (no copy of the file); returns the ids now in it.
    A picture whose home is this album, or already placed in it, stays as it is."""
    _check_album(owner, album)
    ids = list(_owned_live(owner, photo_ids).values_list("pk", "album_id"))
    homeless = [pk for pk, home in ids if home is None]
    if homeless:  # a picture that lived only in the library gets this album as its home
        with tallies.changing(homeless):
            Photo.objects.filter(pk__in=homeless).update(album=album)
    present = set(AlbumPlacement.objects.filter(album=album).values_list("photo_id", flat=True))
    AlbumPlacement.objects.bulk_create(
        [
            AlbumPlacement(album=album, photo_id=pk)
            for pk, home in ids
            if home is not None and home != album.pk and pk not in present
        ]
    )
    fix_covers([album.pk])
    if ids:
        pipeline.pictures_changed([pk for pk, _ in ids], "fields", owner_ids=[owner.pk])
    return [pk for pk, _ in ids]


@transaction.atomic
def move_to_album(owner, album: Album | None, photo_ids) -> list:
    """Make `album` the home of the owner's pictures (None: only in the library), leaving the albums they are placed
    in as they are; returns the ids moved."""
    _check_album(owner, album)
    chosen = _owned_live(owner, photo_ids)
    rows = list(chosen.values_list("pk", "album_id"))
    ids = [pk for pk, _ in rows]
    if album is not None:
        AlbumPlacement.objects.filter(album=album, photo_id__in=ids).delete()  # its home now
    with tallies.changing(ids):
        Photo.objects.filter(pk__in=ids).update(album=album)
    fix_covers({home for _, home in rows} | {getattr(album, "pk", None)})
    if ids:
        pipeline.pictures_changed(ids, "category", owner_ids=[owner.pk])
    return ids


@transaction.atomic
def remove_from_album(owner, album: Album, photo_ids) -> list:
    """Take the owner's pictures out of one album, never deleting them: a placement goes; a picture whose home it
    is gets one of the albums it is placed in as its new home, else lives on in the library alone."""
    _check_album(owner, album)
    rows = list(_owned_live(owner, photo_ids).values_list("pk", "album_id"))
    removed = [pk for pk, _ in rows]
    AlbumPlacement.objects.filter(album=album, photo_id__in=removed).delete()
    rehomed = [pk for pk, home in rows if home == album.pk]
    with tallies.changing(rehomed):
        for pk in rehomed:
            promoted = AlbumPlacement.objects.filter(photo_id=pk).order_by("added_at", "pk").first()
            Photo.objects.filter(pk=pk).update(album=promoted.album_id if promoted else None)
            if promoted:
                promoted.delete()
    fix_covers([album.pk])
    if removed:
        pipeline.pictures_changed(removed, "category", owner_ids=[owner.pk])
    return removed


def add_tags(owner, photo_ids, names: list[str]) -> int:
    """Add tags to many of the owner's pictures, keeping the tags they have."""
    photos = list(_owned_live(owner, photo_ids))
    tags = [Tag.objects.get_or_create(name=name)[0] for name in names]
    through = Photo.tags.through
    with transaction.atomic():
        existing = set(through.objects.filter(photo__in=photos, tag__in=tags).values_list("photo_id", "tag_id"))
        through.objects.bulk_create(
            [
                through(photo_id=photo.pk, tag_id=tag.pk)
                for photo in photos
                for tag in tags
                if (photo.pk, tag.pk) not in existing
            ]
        )
        if photos:
            pipeline.pictures_changed([photo.pk for photo in photos], "fields", owner_ids=[owner.pk])
    return len(photos)


def remove_tags(owner, photo_ids, names: list[str]) -> int:
    ids = list(_owned_live(owner, photo_ids).values_list("pk", flat=True))
    with transaction.atomic():
        Photo.tags.through.objects.filter(photo_id__in=ids, tag__name__in=names).delete()
        if ids:
            pipeline.pictures_changed(ids, "fields", owner_ids=[owner.pk])
    return len(ids)


def rotate(owner, photo_ids, degrees: int) -> list:
    """Turn the owner's pictures clockwise by a right angle: a lossless flag (Photo.rotation) and the displayed size
    change now; the original stays byte for byte as uploaded, and the renditions are made again turned, in the
    background (`refresh_renditions`), so that serving them stays a plain file response."""
    if degrees % 90 or not degrees % 360:
        raise ValueError("Turn by 90, 180 or 270 degrees.")
    photos = list(_owned_live(owner, photo_ids).only("pk", "rotation", "width", "height"))
    for photo in photos:
        photo.rotation = (photo.rotation + degrees) % 360
        if degrees % 180:
            photo.width, photo.height = photo.height, photo.width
    ids = [photo.pk for photo in photos]
    with transaction.atomic():
        Photo.objects.bulk_update(photos, ["rotation", "width", "height"], batch_size=500)
        if ids:
            transaction.on_commit(lambda: _enqueue_rendition_refresh(ids))
            pipeline.pictures_changed(ids, "fields", owner_ids=[owner.pk])
    return ids


def _enqueue_rendition_refresh(ids) -> None:
    from .tasks import refresh_renditions as task

    for start in range(0, len(ids), 100):
        task.enqueue([str(pk) for pk in ids[start : start + 100]])


def refresh_renditions(photo_ids) -> list:
    """After a turn: the pictures' eager renditions made from their originals with the owner's rotation applied
    before encoding (one generation, no turned copy of a copy; a turn of these bytes already stored is kept, being
    the same), the turns no picture of these bytes uses any more removed, and the analysis done again on the turned
    pixels (pipeline stage "renditions")."""
    done, sizes = [], settings.PHOTOCLOUD["EAGER_SIZES"]
    for photo in Photo.objects.filter(pk__in=list(photo_ids), status=Photo.Status.READY):
        names = {size: rendition_name(photo.sha256, size, photo.rotation) for size in sizes}
        missing = [size for size, name in names.items() if not default_storage.exists(name)]
        try:
            if missing:
                store_renditions(photo, missing)
        except FileNotFoundError:
            logger.error("The original of picture %s is missing; its renditions stay as they were", photo.pk)
            continue
        _forget_unused_turns(photo.sha256)
        done.append(photo.pk)
    pipeline.stage_done("renditions", done)
    return done


def _forget_unused_turns(sha256: str) -> None:
    """Remove the turned renditions of these bytes that no picture shows any more (the upright ones stay: they are
    the shared ones, and made again on first use if they are missing)."""
    used = set(Photo.objects.filter(sha256=sha256).values_list("rotation", flat=True))
    for turn in {90, 180, 270} - used:
        for size in settings.PHOTOCLOUD["THUMBNAIL_SIZES"]:
            default_storage.delete(rendition_name(sha256, size, turn))


# --- the date taken and the location, corrected by hand ------------------------------------------------------------

MAX_OFFSET_MINUTES = 18 * 60  # as far from UTC as the metadata reader accepts


def set_taken(owner, photo_ids, local: datetime, offset: int | None) -> list:
    """Say when the owner's pictures were taken: the camera's wall-clock time `local` (naive) and, when known, its
    zone as minutes east of UTC, stored as the metadata reader stores them (Photo.taken_at/taken_offset), so the
    timeline and the date albums (sort_date) place them at that local time."""
    if local.tzinfo is not None:
        raise ValueError("Give the wall-clock time without a zone, and the zone as an offset.")
    if offset is not None and abs(offset) > MAX_OFFSET_MINUTES:
        raise ValueError("The offset from UTC is at most 18 hours.")
    if not 1800 <= local.year <= 2200:
        raise ValueError("The year must be between 1800 and 2200.")
    wall_clock = local.replace(tzinfo=UTC)
    taken_at = wall_clock - timedelta(minutes=offset or 0)
    with transaction.atomic():
        ids = list(_owned_live(owner, photo_ids).values_list("pk", flat=True))
        with tallies.changing(ids):
            Photo.objects.filter(pk__in=ids).update(
                taken_at=taken_at,
                taken_offset=offset,
                sort_date=wall_clock,
                taken_edited=True,
                updated_at=timezone.now(),
            )
        if ids:
            pipeline.pictures_changed(ids, "fields", owner_ids=[owner.pk])
    return ids


def set_location(owner, photo_ids, latitude: float | None, longitude: float | None) -> list:
    """Place the owner's pictures at a point, or (both None) remove their location: it is then gone for everyone,
    from the pages, the API and search; the original keeps what the camera wrote, and is served without GPS to anyone
    but the owner as before (downloads.original_for)."""
    if (latitude is None) != (longitude is None):
        raise ValueError("Give both latitude and longitude, or neither to remove the location.")
    if latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValueError("Latitude is between -90 and 90, longitude between -180 and 180.")
    with transaction.atomic():
        ids = list(_owned_live(owner, photo_ids).values_list("pk", flat=True))
        Photo.objects.filter(pk__in=ids).update(
            latitude=latitude, longitude=longitude, location_edited=True, updated_at=timezone.now()
        )
        if ids:
            pipeline.pictures_changed(ids, "fields", owner_ids=[owner.pk])
    return ids


def delete_photo(photo: Photo) -> None:
    """Delete a picture for good. Its files are shared by content: they go after commit, in the background, once no
    picture of anyone refers to them any more (stored_files.release; if that cannot be queued, the sweep does it)."""
    sha256 = photo.sha256
    members = Photo.objects.filter(stack_cover=photo.pk).values_list("pk", flat=True)  # listed on their own after
    with tallies.changing([photo.pk, *members]):
        photo.delete()
    transaction.on_commit(lambda: stored_files.release([sha256]), robust=True)


# --- upload -------------------------------------------------------------------------------------------------------


@dataclass
class UploadResult:
    name: str
    status: str  # "stored" | "duplicate" | "rejected"
    photo: Photo | None = None
    reason: str = ""
    code: str = ""
    http_status: int = 201


def _sha256_of(uploaded) -> str:
    digest = hashlib.sha256()
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        digest.update(chunk)
    return digest.hexdigest()


def display_name(filename: str) -> str:
    """A title from the client's file name: only the last path part, no extension, printable, bounded."""
    base = os.path.basename((filename or "").replace("\\", "/"))
    stem = os.path.splitext(base)[0]
    return "".join(ch for ch in stem if ch.isprintable())[:255]


PROVENANCE_FIELDS = {
    "source_url",
    "source_page_url",
    "retrieved_at",
    "credited_author",
    "credit",
    "copied_from",
    "title",
    "description",
}


def duplicate_of(owner, name: str, sha256: str) -> UploadResult | None:
    """The answer to bytes the owner has a picture of already, None when not: that picture, brought back from the
    Trash if it is there (the same file sent again means the owner wants it, not to see it purged) and said so with
    code "restored", so that the web upload, the API and the sync client all tell it apart from "already there"."""
    existing = Photo.objects.filter(owner=owner, sha256=sha256).first()
    if existing is None:
        return None
    if existing.trashed_at is None:
        return UploadResult(name, "duplicate", photo=existing, reason="Already in your library.", http_status=200)
    from .trash import restore

    restore(owner, photo_ids=[existing.pk])
    existing.refresh_from_db()
    return UploadResult(
        name, "duplicate", photo=existing, reason="Restored from the Trash.", code="restored", http_status=200
    )


def ingest_upload(
    owner, album: Album | None, uploaded, provenance: dict | None = None, *, verified_sha256: str | None = None
) -> UploadResult:
    """Validate one uploaded file by content, store it once, and queue its processing.

    Nothing is stored unless the whole file decodes; the same bytes already in the owner's library are reported as a
    duplicate of the existing picture. `provenance` sets the Photo's source fields (source_url, source_page_url,
    retrieved_at, credited_author, credit, copied_from, title, description) for pictures from the web or from
    another user. `verified_sha256` spares reading a large file twice when the caller has just hashed these very
    bytes itself; never pass a hash that a client announced and the server did not compute. With `album` None the
    picture lives in the owner's library alone (visible to the owner only) until put in an album.
    """
    provenance = dict(provenance or {})
    unknown = set(provenance) - PROVENANCE_FIELDS
    if unknown:
        raise ValueError(f"Not provenance fields: {sorted(unknown)}")
    name = os.path.basename((uploaded.name or "").replace("\\", "/"))[:255]
    if album is not None and album.owner_id != owner.pk:
        raise PermissionError("Pictures can only be added to your own albums.")
    size = uploaded.size or 0
    if size == 0:
        return UploadResult(name, "rejected", reason="The file is empty.", code="empty", http_status=400)
    if size > settings.PHOTOCLOUD["MAX_UPLOAD_BYTES"]:
        limit = settings.PHOTOCLOUD["MAX_UPLOAD_BYTES"] // (1024 * 1024)
        return UploadResult(
            name, "rejected", reason=f"The file is larger than {limit} MB.", code="too_large", http_status=413
        )
    sha256 = verified_sha256 or _sha256_of(uploaded)
    if duplicate := duplicate_of(owner, name, sha256):
        return duplicate
    wrote = False
    try:
        with local_file(uploaded) as path:
            info = imaging.probe(path)
            # The upload's one decode: it checks the file and makes the renditions processing would make again.
            renditions = imaging.verify(path, info, _sizes(settings.PHOTOCLOUD["EAGER_SIZES"]))
            stored_name = original_name(sha256, info.extension)
            if not default_storage.exists(stored_name):  # else another picture already shares these bytes
                # Written before the transaction, so that no lock is held while it is: the claim checks it again.
                stored_files.save_original(stored_name, path)
                wrote = True
                _save_renditions(sha256, renditions)

            def insert():
                stored_files.claim(sha256, info.format, size, path)
                photo = Photo.objects.create(
                    owner=owner,
                    album=album,
                    title=provenance.get("title") or display_name(name),
                    original_name=name,
                    shot_name=stacks.shot_name(name),
                    sha256=sha256,
                    format=info.format,
                    mime_type=info.mime_type,
                    file_size=size,
                    width=info.width,
                    height=info.height,
                    sort_date=wall_clock(timezone.now()),
                    **{field: value for field, value in provenance.items() if field != "title"},
                )
                tallies.created(photo)
                if album is not None and album.cover_id is None:
                    Album.objects.filter(pk=album.pk, cover__isnull=True).update(cover=photo)
                transaction.on_commit(lambda: enqueue_processing(photo))
                return photo

            photo = stored_files.in_transaction(insert)
    except ImageRejected as rejection:
        return UploadResult(
            name, "rejected", reason=rejection.message, code=rejection.code, http_status=rejection.status
        )
    except IntegrityError:
        # Two uploads of the same bytes by one owner racing: the unique constraint keeps one; the other is a duplicate.
        if duplicate := duplicate_of(owner, name, sha256):
            return duplicate
        _forget_written(wrote, sha256)
        raise
    except BaseException:
        # Any other failure (database down, request aborted): leave no original that no picture refers to.
        _forget_written(wrote, sha256)
        raise
    return UploadResult(name, "stored", photo=photo)


def _forget_written(wrote: bool, sha256: str) -> None:
    """Remove the original a failed upload wrote, unless a picture refers to it by now (else the sweep will)."""
    if wrote:
        try:
            stored_files.purge(sha256)
        except Exception:
            logger.warning("Could not remove the unclaimed original %s", sha256, exc_info=True)


# --- background processing ----------------------------------------------------------------------------------------


def enqueue_processing(photo: Photo, delay_seconds: float = 0) -> None:
    from .tasks import process_photo

    task = process_photo
    if delay_seconds and task.get_backend().supports_defer:
        task = task.using(run_after=timezone.now() + timedelta(seconds=delay_seconds))
    task.enqueue(str(photo.pk))


def process_photo(photo_id) -> None:
    """Metadata and renditions for one picture. Failures are retried with back-off, then shown with the reason."""
    photo = Photo.objects.filter(pk=photo_id).first()
    if photo is None:
        return  # deleted while waiting
    Photo.objects.filter(pk=photo.pk).update(
        status=Photo.Status.PROCESSING, attempts=photo.attempts + 1, updated_at=timezone.now()
    )
    photo.attempts += 1
    try:
        fields = _extract(photo)
    except Exception as exc:
        logger.exception("Processing picture %s failed (attempt %d)", photo.pk, photo.attempts)
        if photo.attempts < settings.PHOTOCLOUD["INGEST_MAX_ATTEMPTS"]:
            Photo.objects.filter(pk=photo.pk).update(
                status=Photo.Status.PENDING, status_detail=f"Retrying after an error: {exc}"[:500]
            )
            enqueue_processing(photo, delay_seconds=10 * 2**photo.attempts)
        else:
            Photo.objects.filter(pk=photo.pk).update(status=Photo.Status.FAILED, status_detail=str(exc)[:500])
            pipeline.stage_done("failed", [photo.pk])
        return
    # The date read from the file may move it to another month: counted from the row as locked, not as read before
    # the (slow) extraction, when the owner may have re-dated it.
    with tallies.changing([photo.pk]) if "sort_date" in fields else nullcontext():
        Photo.objects.filter(pk=photo.pk).update(status=Photo.Status.READY, status_detail="", **fields)
    for name, value in fields.items():
        setattr(photo, name, value)
    stacks.stack_shot(photo)  # with the other file of the shot (RAW + JPEG), now that its capture time is known
    pipeline.stage_done("metadata", [photo.pk])


def _extract(photo: Photo) -> dict:
    with local_copy(original_name(photo.sha256, imaging.extension_of(photo.format))) as path:
        return _extract_from(photo, path)


def _extract_from(photo: Photo, path: str) -> dict:
    info = imaging.probe(path)  # header only; stored dimensions already have the orientation applied
    meta = imaging.read_metadata(path, info)
    renditions = _eager_renditions(photo, path, info)
    fields = vars(meta)
    # The timeline sorts and groups by the wall-clock time on the camera (see Photo.sort_date).
    taken = meta.taken_at
    fields["sort_date"] = taken + timedelta(minutes=meta.taken_offset or 0) if taken else wall_clock(photo.created_at)
    if photo.taken_edited:  # the owner's correction stands
        for name in ("taken_at", "taken_offset", "sort_date"):
            fields.pop(name, None)
    if photo.location_edited:
        fields.pop("latitude", None)
        fields.pop("longitude", None)
    if "s" in renditions:  # for the colour filter and facet of search
        fields["dominant_color"] = colors.of_rendition(renditions["s"], photo.pk)
    return fields


def _eager_renditions(photo: Photo, path: str, info) -> dict[str, bytes]:
    """The renditions made at ingest: those the upload already made (imaging.verify) are read, not decoded again."""
    stored = {}
    for size in settings.PHOTOCLOUD["EAGER_SIZES"]:
        if default_storage.exists(name := rendition_name(photo.sha256, size)):
            with default_storage.open(name, "rb") as handle:
                stored[size] = handle.read()
    missing = [size for size in settings.PHOTOCLOUD["EAGER_SIZES"] if size not in stored]
    return stored | (_store_renditions(photo, path, info, missing) if missing else {})


def _sizes(names) -> dict[str, int]:
    return {name: settings.PHOTOCLOUD["THUMBNAIL_SIZES"][name] for name in names}


def _save_renditions(sha256: str, renditions: dict[str, bytes], rotation: int = 0) -> None:
    for size, data in renditions.items():
        default_storage.save(rendition_name(sha256, size, rotation), ContentFile(data))


def _store_renditions(photo: Photo, path: str, info, names, rotation: int = 0) -> dict[str, bytes]:
    renditions = imaging.render_renditions(path, info, _sizes(names), rotation=rotation)
    _save_renditions(photo.sha256, renditions, rotation)
    return renditions


def ensure_rendition(photo: Photo, size: str) -> str:
    """The stored name of a rendition of a processed picture as its owner turned it, made now if it was left for
    first use."""
    name = rendition_name(photo.sha256, size, photo.rotation)
    if not default_storage.exists(name):
        store_renditions(photo, [size])
    return name


def store_renditions(photo: Photo, sizes, rotation: int | None = None) -> None:
    """(Re)make renditions of a picture from its original, turned by `rotation` (default: the owner's turn): on first
    use, after a turn, or when `check-storage` finds the shared upright ones missing."""
    turn = photo.rotation if rotation is None else rotation
    with local_copy(original_name(photo.sha256, imaging.extension_of(photo.format))) as path:
        _store_renditions(photo, path, imaging.probe(path), sizes, turn)


def repair_renditions(missing: dict[str, list[str]]) -> tuple[int, list[str]]:
    """Make again the missing renditions found by `stored_files.inspect_storage` ({sha256: sizes}); returns how many
    were made and a line per hash that failed."""
    repaired, failures = 0, []
    for sha256, sizes in missing.items():
        photo = Photo.objects.filter(sha256=sha256, status=Photo.Status.READY).first()
        if photo is None:
            continue
        try:
            store_renditions(photo, sizes, rotation=0)  # the shared upright ones are what the report checks
        except Exception as error:
            failures.append(f"Could not make the renditions of {sha256}: {error}")
            continue
        repaired += len(sizes)
    return repaired, failures


def refresh_planner_statistics() -> None:
    """Let SQLite's query planner know the tables' sizes and index selectivity (ANALYZE: 0.2 s at 100,000 pictures).

    Without statistics SQLite guesses, and for "pictures I may see, newest first" it guesses wrong: it sorts every
    visible picture (0.4 s at 100,000) instead of walking the date index and stopping at one page (8 ms).
    PostgreSQL and MariaDB keep their statistics up to date by themselves.
    """
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA analysis_limit=0")  # sampled statistics misled the planner in bench/pages.py
            cursor.execute("ANALYZE")


def requeue_stalled(older_than=timedelta(minutes=10)) -> int:
    """Queue again the pictures whose worker died mid-job (processing is idempotent, so a rare repeat is harmless)."""
    stalled = Photo.objects.filter(status=Photo.Status.PROCESSING, updated_at__lt=timezone.now() - older_than).only(
        "pk"
    )
    count = 0
    for photo in stalled:
        Photo.objects.filter(pk=photo.pk).update(status=Photo.Status.PENDING, updated_at=timezone.now())
        enqueue_processing(photo)
        count += 1
    return count


def retry_processing(photo: Photo) -> None:
    Photo.objects.filter(pk=photo.pk).update(status=Photo.Status.PENDING, status_detail="", attempts=0)
    enqueue_processing(photo)
