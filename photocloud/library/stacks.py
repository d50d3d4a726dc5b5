"""Stacks: a camera RAW file and the JPEG (or HEIC) the camera wrote beside it show as one picture, the JPEG its
cover. Listings show the cover alone with the stack's size (access.listed); the cover's page offers every member's
original; the owner can unstack. Trashing the cover trashes the stack, restoring one restores it (trash.py).

A stack forms when a picture's metadata has been read (`services.process_photo`, right after the metadata stage), so
it needs no order: the second file of a shot to be read finds the first. Two files are one shot when they have the
same owner, the same base name (case-folded: IMG_0042.CR2 and img_0042.jpg), capture times within STACK_SECONDS of
each other when both have one, and are both outside the Trash and in no other stack.
"""

import os

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Lower

from .imaging import RAW_FORMATS
from .models import Photo

COVER_FORMATS = {"JPEG", "MPO", "HEIF"}
# The extensions a camera gives each kind of file (names are matched whole, case-folded, through an index).
RAW_EXTENSIONS = ("dng", "cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "orf", "raf", "rw2")
COVER_EXTENSIONS = ("jpg", "jpeg", "jpe", "heic", "heif", "hif")
STACK_SECONDS = 2


def _stem(name: str) -> str:
    return os.path.splitext(name)[0].lower()


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
    stem = _stem(photo.original_name)
    if not stem or photo.trashed_at is not None or photo.stack_cover_id is not None:
        return None
    candidates = (
        Photo.objects.live()
        .filter(owner_id=photo.owner_id, status=Photo.Status.READY, format__in=wanted, stack_cover__isnull=True)
        .exclude(pk=photo.pk)
        .annotate(folded_name=Lower("original_name"))
        .filter(folded_name__in=[f"{stem}.{extension}" for extension in extensions])
    )
    partners = sorted(
        (other for other in candidates if _same_moment(photo, other)),
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
        free = len(rows) == 2 and all(row.trashed_at is None and row.stack_cover_id is None for row in rows.values())
        if not free or Photo.objects.filter(stack_cover=cover.pk).exists():
            return False
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
    own again, listed beside the cover. Returns the ids of the pictures set apart (none when it was no stack)."""
    photo = Photo.objects.owned_by(owner).filter(pk=photo_id).first()
    if photo is None:
        return []
    cover = photo.stack_cover_id or photo.pk
    members = Photo.objects.filter(owner=owner, stack_cover=cover)
    ids = list(members.values_list("pk", flat=True))
    members.update(stack_cover=None)
    return ids


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
    if maybe:
        covers = {photo.stack_cover_id for photo in maybe if photo.stack_cover_id}
        stacks = Q(stack_cover__in={photo.stack_cover_id or photo.pk for photo in maybe}) | Q(pk__in=covers)
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
