"""Stacks: a camera RAW file and the JPEG (or HEIC) the camera wrote beside it show as one picture, the JPEG its
cover. Listings show the cover alone with the stack's size (access.listed); the cover's page offers every member's
original; the owner can unstack. Trashing the cover trashes the stack, restoring one restores it (trash.py).

A stack forms when a picture's metadata has been read (`services.process_photo`, right after the metadata stage), so
it needs no order: the second file of a shot to be read finds the first. Two files are one shot when they have the
same owner, the same base name (`shot_name`: NFC-normalised and case-folded, so IMG_0042.CR2 and img_0042.jpg, and
ÉTÉ.NEF and été.jpg on SQLite too), capture times within STACK_SECONDS of each other when both have one, and are both
outside the Trash and in no other stack. A file the owner unstacked (`Photo.unstacked`) never stacks again by itself.

A stack acts as one picture: what the owner does to its tile (album home and placements, category, tags, favourite,
archive, date, location, rotation, Trash) applies to every file of it (`whole`, used by the services), and a ZIP of
pictures carries each one's other files the viewer may see (`downloads.zip_stream`).
"""

import os
import unicodedata

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from . import tallies
from .imaging import RAW_FORMATS
from .models import Photo

COVER_FORMATS = {"JPEG", "MPO", "HEIF"}
# The extensions a camera gives each kind of file (names are matched whole, case-folded, through an index).
RAW_EXTENSIONS = ("dng", "cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "orf", "raf", "rw2")
COVER_EXTENSIONS = ("jpg", "jpeg", "jpe", "heic", "heif", "hif")
STACK_SECONDS = 2


def shot_name(name: str) -> str:
    """The key two files of one shot share (Photo.shot_name): the name without its extension, NFC-normalised (a Mac
    sends names decomposed) and case-folded in Python, so that every database compares it alike."""
    return unicodedata.normalize("NFC", os.path.splitext(name or "")[0]).casefold()[:255]


def _extension(name: str) -> str:
    return os.path.splitext(name or "")[1][1:].casefold()


def stack_shot(photo: Photo) -> Photo | None:
    """Stack a picture whose metadata was just read (`photo` carries it) with the other file of its shot, if there is
    one; returns the cover when stacked. One query when there is no other file (the common case), none for formats
    that never stack."""
    if photo.format in RAW_FORMATS:
        wanted, extensions = COVER_FORMATS, COVER_EXTENSIONS
    elif photo.format in COVER_FORMATS:
        wanted, extensions = RAW_FORMATS, RAW_EXTENSIONS
    else:
        return None
    key = photo.shot_name
    if not key or photo.unstacked or photo.trashed_at is not None or photo.stack_cover_id is not None:
        return None
    if _extension(photo.original_name) not in (RAW_EXTENSIONS if wanted is COVER_FORMATS else COVER_EXTENSIONS):
        return None
    candidates = (
        Photo.objects.live()
        .filter(owner_id=photo.owner_id, shot_name=key, status=Photo.Status.READY, format__in=wanted)
        .filter(stack_cover__isnull=True, unstacked=False)
        .exclude(pk=photo.pk)
        .order_by()  # no ORDER BY, else SQLite walks the date index of every live picture for its order
    )
    partners = sorted(
        (other for other in candidates if _extension(other.original_name) in extensions and _same_moment(photo, other)),
        key=lambda other: (_apart(photo, other), other.created_at, str(other.pk)),
    )
    for partner in partners:
        cover, raw = (partner, photo) if photo.format in RAW_FORMATS else (photo, partner)
        if _stack(cover, raw):
            return cover
    return None


def _stack(cover: Photo, raw: Photo) -> bool:
    """Put `raw` under `cover` if both are still live and in no stack, the cover with no RAW yet. Rows locked in key
    order, so two workers reading both files at once stack them once (both choose the same cover)."""
    with transaction.atomic():
        rows = {
            row.pk: row for row in Photo.objects.select_for_update().filter(pk__in=[cover.pk, raw.pk]).order_by("pk")
        }
        free = len(rows) == 2 and all(
            row.trashed_at is None and row.stack_cover_id is None and not row.unstacked for row in rows.values()
        )
        if not free or Photo.objects.filter(stack_cover=cover.pk).exists():
            return False
        with tallies.changing([raw.pk]):
            Photo.objects.filter(pk=raw.pk).update(stack_cover=cover.pk)
    return True


def _apart(photo: Photo, other: Photo) -> float:
    if photo.taken_at is None or other.taken_at is None:
        return float("inf")
    return abs((photo.taken_at - other.taken_at).total_seconds())


def _same_moment(photo: Photo, other: Photo) -> bool:
    both = photo.taken_at is not None and other.taken_at is not None
    return not both or _apart(photo, other) <= STACK_SECONDS


def unstack(owner, photo_id) -> list:
    """Separate the stack holding the owner's picture (its cover or a member): each member becomes a picture of its
    own again, listed beside the cover. Every file of it is marked `unstacked`, so that processing one again does not
    undo the owner's choice. Returns the ids of the pictures set apart (none when it was no stack)."""
    photo = Photo.objects.owned_by(owner).filter(pk=photo_id).first()
    if photo is None:
        return []
    cover = photo.stack_cover_id or photo.pk
    with transaction.atomic():
        ids = list(Photo.objects.filter(owner=owner, stack_cover=cover).values_list("pk", flat=True))
        if ids:
            with tallies.changing([cover, *ids]):
                Photo.objects.filter(pk__in=[cover, *ids]).update(stack_cover=None, unstacked=True)
    return ids


def whole(photos, photo_ids) -> list:
    """The ids of the chosen pictures among `photos` (already narrowed by access.py, e.g. `owned_by`) and of the
    other files of their stacks among `photos`: what the owner does to a tile applies to the stack. One query, two
    when a member is chosen without its cover."""
    chosen = list(photo_ids)
    rows = list(photos.filter(Q(pk__in=chosen) | Q(stack_cover__in=chosen)).order_by().values_list("pk", "stack_cover"))
    found = {pk for pk, _ in rows}
    covers = {cover for _, cover in rows if cover is not None and cover not in found}
    if covers:
        rows += photos.filter(Q(pk__in=covers) | Q(stack_cover__in=covers)).order_by().values_list("pk", "stack_cover")
    return list(dict.fromkeys(pk for pk, _ in rows))


def members_shown(viewer, photo: Photo) -> list[Photo]:
    """The other pictures of `photo`'s stack that `viewer` may see, for its page (the originals to download)."""
    attach(viewer, [photo])
    return photo.stack_shown


def attach(viewer, photos) -> None:
    """Set `stack_shown` (as members_shown) on each of a page's pictures, in one query for the page and none when
    none can be in a stack (a lone picture's `stack_size` of 1 says so, and a stack forms once metadata is read)."""
    maybe = [
        photo
        for photo in photos
        if photo.stack_cover_id is not None
        or (photo.status == Photo.Status.READY and getattr(photo, "stack_size", 2) > 1)
    ]
    rows = []
    covers = {photo.stack_cover_id for photo in maybe if photo.stack_cover_id}
    stacks = Q(stack_cover__in={photo.stack_cover_id or photo.pk for photo in maybe}) | Q(pk__in=covers)
    # Pictures without `stack_size` (search results) are mostly lone: one look at the stack index says so, before
    # the access-checked read of the members (whose conditions alone take a few milliseconds to build).
    if covers or (maybe and Photo.objects.filter(stacks).exists()):
        rows = list(Photo.objects.visible_to(viewer).filter(stacks).order_by("format", "pk"))
    for photo in photos:
        cover = photo.stack_cover_id or photo.pk
        photo.stack_shown = [row for row in rows if cover in (row.pk, row.stack_cover_id) and row.pk != photo.pk]


def with_stack_size(photos):
    """Annotate `stack_size`: 1 for a lone picture, else the cover and its live members. A correlated count per row
    of the page shown (an index range of stack_cover each), never a join that groups the whole listing."""
    members = Photo.objects.live().filter(stack_cover=OuterRef("pk")).order_by().values("stack_cover")
    count = members.annotate(n=Count("*")).values("n")
    return photos.annotate(stack_size=Coalesce(Subquery(count, output_field=IntegerField()), 0) + 1)
