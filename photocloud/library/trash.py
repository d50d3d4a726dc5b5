"""The Trash: deleting pictures, or an album with its pictures, moves them here instead of deleting them.

A trashed picture keeps everything (album, tags, category, comments, likes, analysis, files); access.py hides it
from everyone but its owner's Trash. An album deleted with its pictures waits in the Trash too, so that restoring
any of them brings it back. Only "delete forever", "empty the Trash" and the purge after PHOTOCLOUD_TRASH_DAYS
remove anything, through `services.delete_photo`, which removes a file only when no other picture refers to it.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from . import services, tallies
from .models import Album, AlbumPlacement, Photo

logger = logging.getLogger(__name__)


def retention() -> timedelta:
    return timedelta(days=settings.PHOTOCLOUD["TRASH_DAYS"])


def purge_date(trashed_at: datetime) -> datetime:
    """When a picture or album trashed at `trashed_at` is deleted for good."""
    return trashed_at + retention()


@transaction.atomic
def trash_photos(owner, photo_ids) -> list:
    """Move the owner's pictures among `photo_ids` to their Trash; returns the ids moved (others are ignored)."""
    chosen = Photo.objects.owned_by(owner).filter(pk__in=list(photo_ids))
    chosen = chosen | Photo.objects.owned_by(owner).filter(stack_cover__in=chosen.values("pk"))  # a stack goes whole
    ids = list(chosen.values_list("pk", flat=True))
    albums = set(chosen.values_list("album_id", flat=True)) | _placed_in(ids)
    with tallies.changing(ids):
        Photo.objects.filter(pk__in=ids).update(trashed_at=timezone.now())
    services.fix_covers(albums)
    return ids


@transaction.atomic
def trash_album(album: Album) -> int | None:
    """Move an album and the pictures whose home it is to the Trash; returns how many pictures went. Pictures only
    placed in it stay where they are (the placements go, and are not restored with the album). An album that is
    home to no picture, not even in the Trash, has nothing to restore: it is deleted at once (None)."""
    AlbumPlacement.objects.filter(album=album).delete()
    if not Photo.objects.filter(album=album).exists():
        services.delete_album(album)
        return None
    now = timezone.now()
    # The members of its stacks go along, wherever their home: else they would stay hidden behind a trashed cover.
    going = Photo.objects.live().filter(Q(album=album) | Q(stack_cover__album=album))
    with tallies.changing(going.values_list("pk", flat=True)):
        count = going.update(trashed_at=now)
    Album.objects.filter(pk=album.pk).update(trashed_at=now)
    return count


@transaction.atomic
def restore(owner, photo_ids=(), album_ids=()) -> int:
    """Bring pictures back from the owner's Trash into their albums, with the albums themselves when they were
    deleted; `album_ids` restores such albums with every picture deleted with them. Returns how many pictures."""
    trashed = Photo.objects.in_trash_of(owner)
    # What may come back: the chosen pictures and albums' pictures, with their stacks (more is harmless).
    picked = list(trashed.filter(pk__in=list(photo_ids)).values_list("pk", "stack_cover"))
    covers = {cover or pk for pk, cover in picked}
    chosen_albums = list(Album.objects.in_trash_of(owner).filter(pk__in=list(album_ids)))
    candidates = trashed.filter(
        Q(pk__in=covers)
        | Q(stack_cover__in=covers)
        | Q(album__in=chosen_albums)
        | Q(stack_cover__album__in=chosen_albums)
    )
    with tallies.changing(candidates.values_list("pk", flat=True)):
        return _restore(trashed, covers, chosen_albums)


def _restore(trashed, covers, chosen_albums) -> int:
    """restore's writes, for the tallies to wrap."""
    count = 0
    albums = set()
    for album in chosen_albums:
        with_it = Q(album=album) | Q(stack_cover__album=album)  # and the members trashed with its stacks
        count += trashed.filter(with_it, trashed_at__gte=album.trashed_at).update(trashed_at=None)
        albums.add(album.pk)
    # A stack comes back whole, whichever of its pictures is chosen: its cover and the members in the Trash.
    chosen = trashed.filter(Q(pk__in=covers) | Q(stack_cover__in=covers))
    albums |= set(chosen.values_list("album_id", flat=True)) | _placed_in(chosen.values("pk"))
    count += chosen.update(trashed_at=None)
    Album.objects.filter(pk__in=albums, trashed_at__isnull=False).update(trashed_at=None)
    services.fix_covers(albums)
    return count


def _placed_in(photo_ids) -> set:
    return set(AlbumPlacement.objects.filter(photo_id__in=photo_ids).values_list("album_id", flat=True))


def delete_forever(owner, photo_ids=None) -> int:
    """Delete pictures of the owner's Trash for good (all of them when `photo_ids` is None); returns how many."""
    photos = Photo.objects.in_trash_of(owner)
    if photo_ids is not None:
        photos = photos.filter(pk__in=list(photo_ids))
    return _delete(photos)


def purge_expired(now: datetime | None = None) -> int:
    """Delete for good what has been in anyone's Trash longer than PHOTOCLOUD_TRASH_DAYS (the background job)."""
    cutoff = (now or timezone.now()) - retention()
    count = _delete(Photo.objects.filter(trashed_at__lt=cutoff))
    if count:
        logger.info("Purged %d picture(s) from the Trash after %s days.", count, settings.PHOTOCLOUD["TRASH_DAYS"])
    return count


def expired_exist(now: datetime | None = None) -> bool:
    cutoff = (now or timezone.now()) - retention()
    return Photo.objects.filter(trashed_at__lt=cutoff).exists() or _empty_trashed_albums().exists()


def _delete(photos) -> int:
    """Each picture through services.delete_photo (one transaction each, files released after commit), then the
    trashed albums left without any picture."""
    count = 0
    for pk in list(photos.order_by("trashed_at", "pk").values_list("pk", flat=True)):
        with transaction.atomic():  # locked and checked again: a picture restored meanwhile stays
            photo = Photo.objects.select_for_update().filter(pk=pk, trashed_at__isnull=False).first()
            if photo is not None:
                services.delete_photo(photo)
                count += 1
    for album in _empty_trashed_albums():
        services.delete_album(album)
    return count


def _empty_trashed_albums():
    return Album.objects.filter(trashed_at__isnull=False).exclude(Exists(Photo.objects.filter(album=OuterRef("pk"))))
