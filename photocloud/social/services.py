"""Writes to the social space. A write someone else should hear about also leaves them a notification.

Callers look targets up through `visible_to()` first (see selectors.target_for); these functions trust that.
"""

import os

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from photocloud.library import imaging
from photocloud.library.access import can_see_location
from photocloud.library.models import Album, Photo
from photocloud.library.services import UploadResult, ingest_upload
from photocloud.library.storage import local_copy, original_name

from .models import COMMENT_MAX_LENGTH, Collect, Comment, Follow, Like, Notification, PhotoView

Verb = Notification.Verb


class SocialError(ValueError):
    """A request the social space refuses; the message is shown to the user."""


class FollowError(SocialError):
    pass


def target_fields(target) -> dict:
    """{"album": target} or {"photo": target}: how likes, comments and notifications point at their target."""
    if isinstance(target, Album):
        return {"album": target}
    if isinstance(target, Photo):
        return {"photo": target}
    raise TypeError(f"Not an album or picture: {target!r}")


def _create_once(model, **fields) -> bool:
    """Create the row unless the unique constraint says it exists; True when created."""
    try:
        with transaction.atomic():
            model.objects.create(**fields)
    except IntegrityError:
        return False
    return True


# --- notifications -----------------------------------------------------------------------------------------------


def notify(recipient, actor, verb, target=None, comment=None) -> Notification | None:
    """Leave `recipient` a notification, waiting until they read it; nobody is told about their own actions."""
    if recipient.pk == actor.pk:
        return None
    fields = target_fields(target) if target is not None else {}
    return Notification.objects.create(recipient=recipient, actor=actor, verb=verb, comment=comment, **fields)


def _withdraw(actor, verb, target=None) -> None:
    """An undone like, collect or follow takes back its notification if it was not read yet."""
    fields = target_fields(target) if target is not None else {"album": None, "photo": None}
    Notification.objects.filter(actor=actor, verb=verb, read_at__isnull=True, **fields).delete()


def mark_read(user, ids=None) -> int:
    """Mark the user's notifications read: all of them, or those with the given ids. Returns how many changed."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


# --- likes, collects, follows ------------------------------------------------------------------------------------


def like(user, target) -> bool:
    """Like an album or picture; False when it was already liked."""
    created = _create_once(Like, user=user, **target_fields(target))
    if created:
        notify(target.owner, user, Verb.LIKE, target)
    return created


def unlike(user, target) -> bool:
    deleted, _ = Like.objects.filter(user=user, **target_fields(target)).delete()
    if deleted:
        _withdraw(user, Verb.LIKE, target)
    return bool(deleted)


def collect(user, album: Album) -> bool:
    """Keep someone else's album, read-only, in the user's space; False when it was already collected."""
    if album.owner_id == user.pk:
        raise SocialError("This album is already yours.")
    created = _create_once(Collect, user=user, album=album)
    if created:
        notify(album.owner, user, Verb.COLLECT, album)
    return created


def uncollect(user, album: Album) -> bool:
    deleted, _ = Collect.objects.filter(user=user, album=album).delete()
    if deleted:
        _withdraw(user, Verb.COLLECT, album)
    return bool(deleted)


def follow(follower, followee) -> bool:
    """Make `follower` follow `followee`; returns False when it already did."""
    if follower.pk == followee.pk:
        raise FollowError("You cannot follow yourself.")
    created = _create_once(Follow, follower=follower, followee=followee)
    if created:
        notify(followee, follower, Verb.FOLLOW)
    return created


def unfollow(follower, followee) -> bool:
    deleted, _ = Follow.objects.filter(follower=follower, followee=followee).delete()
    if deleted:
        _withdraw(follower, Verb.FOLLOW)
    return bool(deleted)


def is_following(follower, followee) -> bool:
    return follower.is_authenticated and Follow.objects.filter(follower=follower, followee=followee).exists()


# --- comments ------------------------------------------------------------------------------------------------------


def clean_body(body: str) -> str:
    """Trimmed text, not empty and not over the limit (it is escaped when shown, never here)."""
    body = (body or "").strip()
    if not body:
        raise SocialError("Write something first.")
    if len(body) > COMMENT_MAX_LENGTH:
        raise SocialError(f"A comment has at most {COMMENT_MAX_LENGTH} characters ({len(body)} given).")
    return body


@transaction.atomic
def add_comment(author, target, body: str, parent: Comment | None = None) -> Comment:
    """Comment on an album or picture, or reply to a comment on it; tells the owner and the replied-to author."""
    fields = target_fields(target)
    (kind,) = fields
    if parent is not None and getattr(parent, f"{kind}_id") != target.pk:
        raise SocialError("A reply must be on the same album or picture as its comment.")
    comment = Comment.objects.create(author=author, parent=parent, body=clean_body(body), **fields)
    replied_to = parent.author if parent is not None else None
    if replied_to is not None:
        notify(replied_to, author, Verb.REPLY, target, comment)
    if replied_to is None or replied_to.pk != target.owner_id:
        notify(target.owner, author, Verb.COMMENT, target, comment)
    return comment


def edit_comment(user, comment: Comment, body: str) -> Comment:
    if comment.author_id != user.pk:
        raise SocialError("Only its author can edit a comment.")
    comment.body = clean_body(body)
    comment.edited_at = timezone.now()
    comment.save(update_fields=["body", "edited_at"])
    return comment


def can_delete_comment(user, comment: Comment) -> bool:
    """Authors delete their own comments; owners moderate the comments on their albums and pictures."""
    return user.is_authenticated and user.pk in (comment.author_id, comment.target.owner_id)


def delete_comment(user, comment: Comment) -> int:
    """Delete a comment with its replies; returns how many comments went."""
    if not can_delete_comment(user, comment):
        raise SocialError("You may only delete your own comments, or comments on your albums and pictures.")
    deleted, per_model = comment.delete()
    return per_model.get(Comment._meta.label, 0)


# --- views and copies ----------------------------------------------------------------------------------------------


def record_view(user, photo: Photo) -> None:
    """Remember that a logged-in user opened someone else's picture (a weak signal for recommendations)."""
    if not user.is_authenticated or photo.owner_id == user.pk:
        return
    seen = PhotoView.objects.filter(user=user, photo=photo)
    if not seen.update(count=F("count") + 1, last_viewed_at=timezone.now()):
        _create_once(PhotoView, user=user, photo=photo)


def copy_to_album(user, photo: Photo, album: Album, source_page_url: str) -> UploadResult:
    """Store the user's own copy of someone else's picture in one of their albums, crediting author and source.

    The copy goes through the normal upload path (validated, deduplicated per owner). GPS is dropped unless the
    author shares locations with this user, as for a download of the original.
    """
    if photo.owner_id == user.pk:
        raise SocialError("This picture is already yours.")
    if album.owner_id != user.pk:
        raise SocialError("Pictures can only be added to your own albums.")
    extension = imaging.FORMATS[photo.format][1]
    filename = os.path.basename(photo.original_name or "") or f"{photo.pk}.{extension}"
    provenance = {"copied_from": photo, "credited_author": photo.owner, "credit": photo.owner.shown_name[:200],
                  "source_page_url": source_page_url, "title": photo.title}
    name = original_name(photo.sha256, extension)
    if photo.has_location and not can_see_location(user, photo):
        with local_copy(name) as path:
            data, _ = imaging.without_location(path, imaging.probe(path))
        return ingest_upload(user, album, ContentFile(data, name=filename), provenance)
    with default_storage.open(name, "rb") as stored:
        return ingest_upload(user, album, File(stored.file, name=filename), provenance)
