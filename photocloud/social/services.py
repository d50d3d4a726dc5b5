"""Writes to the social space. A write someone else should hear about also leaves them a notification.

Callers look targets up through `visible_to()` first (see selectors.target_for); these functions trust that.
"""

import os
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from photocloud.accounts.models import Follow, User
from photocloud.crawler import services as crawler
from photocloud.crawler.engine import picture_words
from photocloud.crawler.models import Crawl
from photocloud.crawler.selectors import sources_configured
from photocloud.library import imaging
from photocloud.library.access import can_see_location
from photocloud.library.models import Album, Photo
from photocloud.library.services import UploadResult, ingest_upload
from photocloud.library.storage import local_copy, original_name

from .models import COMMENT_MAX_LENGTH, MAX_REPLY_DEPTH, Collect, Comment, Like, Notification, PhotoView
from .recommend import forget_recommendations

Verb = Notification.Verb


class SocialError(ValueError):
    """A request the social space refuses; the message is shown to the user."""


class FollowError(SocialError):
    pass


class CommentingTooFast(SocialError):
    """More than COMMENTS_PER_MINUTE comments in the last minute (spam and notification floods)."""


# At most this many comments by one user in any 60 seconds, through the pages and the API alike. Counted from the
# comments themselves (a sliding minute): a cache counter per fixed window let 10 through just before a window
# ended and 10 more just after.
COMMENTS_PER_MINUTE = 10


class CopyNotAllowed(SocialError):
    """The picture may be seen but not copied (answered 403)."""


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


def _withdraw(actor, recipient, verb, target=None) -> None:
    """An undone like, collect or follow takes back the one notification it left, if it was not read yet."""
    fields = target_fields(target) if target is not None else {"album": None, "photo": None}
    Notification.objects.filter(actor=actor, recipient=recipient, verb=verb, read_at__isnull=True, **fields).delete()


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
    forget_recommendations(user)
    if created:
        notify(target.owner, user, Verb.LIKE, target)
    return created


def unlike(user, target) -> bool:
    deleted, _ = Like.objects.filter(user=user, **target_fields(target)).delete()
    forget_recommendations(user)
    if deleted:
        _withdraw(user, target.owner, Verb.LIKE, target)
    return bool(deleted)


def collect(user, album: Album) -> bool:
    """Keep someone else's album, read-only, in the user's space; False when it was already collected."""
    if album.owner_id == user.pk:
        raise SocialError("This album is already yours.")
    created = _create_once(Collect, user=user, album=album)
    forget_recommendations(user)
    if created:
        notify(album.owner, user, Verb.COLLECT, album)
    return created


def uncollect(user, album: Album) -> bool:
    deleted, _ = Collect.objects.filter(user=user, album=album).delete()
    forget_recommendations(user)
    if deleted:
        _withdraw(user, album.owner, Verb.COLLECT, album)
    return bool(deleted)


def follow(follower, followee) -> bool:
    """Make `follower` follow `followee`; returns False when it already did."""
    if follower.pk == followee.pk:
        raise FollowError("You cannot follow yourself.")
    created = _create_once(Follow, follower=follower, followee=followee)
    forget_recommendations(follower)
    if created:
        notify(followee, follower, Verb.FOLLOW)
    return created


def unfollow(follower, followee) -> bool:
    deleted, _ = Follow.objects.filter(follower=follower, followee=followee).delete()
    forget_recommendations(follower)
    if deleted:
        _withdraw(follower, followee, Verb.FOLLOW)
    return bool(deleted)


# --- comments ------------------------------------------------------------------------------------------------------


def clean_body(body: str) -> str:
    """Trimmed text, not empty and not over the limit (it is escaped when shown, never here)."""
    body = (body or "").strip()
    if not body:
        raise SocialError("Write something first.")
    if len(body) > COMMENT_MAX_LENGTH:
        raise SocialError(f"A comment has at most {COMMENT_MAX_LENGTH} characters ({len(body)} given).")
    return body


def _attach_point(parent: Comment) -> Comment:
    """The comment a reply to `parent` hangs under: `parent` itself, or, when that would nest deeper than
    MAX_REPLY_DEPTH, its ancestor at that depth (one query: the ancestors are joined, not walked)."""
    lookups = ["parent" + "__parent" * n + "_id" for n in range(MAX_REPLY_DEPTH)]
    ancestors = Comment.objects.filter(pk=parent.pk).values_list(*lookups).get()
    if ancestors[-1] is None:  # parent is less than MAX_REPLY_DEPTH deep
        return parent
    return Comment.objects.get(pk=ancestors[0])


@transaction.atomic
def add_comment(author, target, body: str, parent: Comment | None = None, *, limited: bool = False) -> Comment:
    """Comment on an album or picture, or reply to a comment on it; tells the owner and the replied-to author.

    Threads nest at most MAX_REPLY_DEPTH levels: a deeper reply joins its parent's level, naming whom it answers.
    `limited` (what users post) refuses more than COMMENTS_PER_MINUTE in the last minute."""
    if limited and settings.RATELIMIT_ENABLE:  # PHOTOCLOUD_RATELIMIT=false turns every rate limit off
        _check_comment_rate(author)
    fields = target_fields(target)
    (kind,) = fields
    if parent is not None and getattr(parent, f"{kind}_id") != target.pk:
        raise SocialError("A reply must be on the same album or picture as its comment.")
    body = clean_body(body)
    replied_to = parent.author if parent is not None else None
    attach_to = _attach_point(parent) if parent is not None else None
    if attach_to is not None and attach_to.pk != parent.pk:
        named = f"@{replied_to.shown_name} {body}"
        body = named if len(named) <= COMMENT_MAX_LENGTH else body
    comment = Comment.objects.create(author=author, parent=attach_to, body=body, **fields)
    forget_recommendations(author)
    if replied_to is not None:
        notify(replied_to, author, Verb.REPLY, target, comment)
    if replied_to is None or replied_to.pk != target.owner_id:
        notify(target.owner, author, Verb.COMMENT, target, comment)
    return comment


def _check_comment_rate(author) -> None:
    # The author's row is locked till the comment is saved, so two posts at once cannot both see room for one more.
    list(User.objects.select_for_update().filter(pk=author.pk).values_list("pk", flat=True))
    since = timezone.now() - timedelta(seconds=60)
    if Comment.objects.filter(author=author, created_at__gt=since).count() >= COMMENTS_PER_MINUTE:
        raise CommentingTooFast("You are commenting too fast; wait a minute and try again.")


def edit_comment(user, comment: Comment, body: str) -> Comment:
    if comment.author_id != user.pk:
        raise SocialError("Only its author can edit a comment.")
    if comment.deleted_at is not None:
        raise SocialError("This comment was deleted.")
    comment.body = clean_body(body)
    comment.edited_at = timezone.now()
    comment.save(update_fields=["body", "edited_at"])
    return comment


def can_delete_comment(user, comment: Comment) -> bool:
    """Authors delete their own comments; owners moderate the comments on their albums and pictures."""
    return user.is_authenticated and user.pk in (comment.author_id, comment.target.owner_id)


def delete_comment(user, comment: Comment) -> int:
    """Delete a comment; returns how many comments went.

    The owner moderating removes the whole thread. An author removes only their own words: a comment others replied
    to stays as a "[deleted]" placeholder so that their replies survive."""
    if not can_delete_comment(user, comment):
        raise SocialError("You may only delete your own comments, or comments on your albums and pictures.")
    if comment.author_id == user.pk and comment.replies.exists():
        Comment.objects.filter(pk=comment.pk).update(body="", deleted_at=timezone.now())
        Notification.objects.filter(comment=comment).delete()  # they quoted the words that are gone
        return 0
    parent_id = comment.parent_id
    deleted, per_model = Comment.objects.filter(pk__in=descendants([comment.pk])).delete()
    count = per_model.get(Comment._meta.label, 0)
    # A placeholder whose last reply just went has nothing left to keep.
    while parent_id is not None:
        placeholder = Comment.objects.filter(pk=parent_id, deleted_at__isnull=False, replies__isnull=True)
        parent_id = placeholder.values_list("parent_id", flat=True).first()
        if not placeholder.delete()[0]:
            break
    return count


def descendants(ids) -> set:
    """The given comments and all their replies, in one query (threads nest at most MAX_REPLY_DEPTH levels)."""
    ids = list(ids)
    under = Q(pk__in=ids)
    for depth in range(1, MAX_REPLY_DEPTH + 1):
        under |= Q(**{"__".join(["parent"] * depth) + "__in": ids})
    return set(Comment.objects.filter(under).values_list("pk", flat=True))


# --- views and copies ----------------------------------------------------------------------------------------------


def record_view(user, photo: Photo) -> None:
    """Remember that a logged-in user opened someone else's picture (a weak signal for recommendations)."""
    if not user.is_authenticated or photo.owner_id == user.pk:
        return
    seen = PhotoView.objects.filter(user=user, photo=photo)
    if not seen.update(count=F("count") + 1, last_viewed_at=timezone.now()):
        _create_once(PhotoView, user=user, photo=photo)


def can_copy(user, photo: Photo) -> bool:
    """Only public pictures may be copied: a copy lands in the copier's albums, which may be shared wider than the
    author shared the original (followers only, or private)."""
    return (
        user.is_authenticated
        and photo.owner_id != user.pk
        and Photo.objects.visible_to(None).filter(pk=photo.pk).exists()
    )


def copy_to_album(user, photo: Photo, album: Album, source_page_url: str) -> UploadResult:
    """Store the user's own copy of someone else's public picture in one of their albums, crediting author and
    source. A copy of a copy credits the original author and keeps the original's web source, if any.

    The copy goes through the normal upload path (validated, deduplicated per owner). GPS is dropped unless the
    author shares locations with this user, as for a download of the original.
    """
    if photo.owner_id == user.pk:
        raise SocialError("This picture is already yours.")
    if album.owner_id != user.pk:
        raise SocialError("Pictures can only be added to your own albums.")
    if not can_copy(user, photo):
        raise CopyNotAllowed(
            "Only public pictures can be added to your albums: the author shared this one with fewer people."
        )
    extension = imaging.extension_of(photo.format)
    filename = os.path.basename(photo.original_name or "") or f"{photo.pk}.{extension}"
    author = photo.credited_author or (None if photo.credit else photo.owner)
    provenance = {
        "copied_from": photo.copied_from or photo,
        "credited_author": author,
        "credit": (photo.credit or photo.owner.shown_name)[:200],
        "source_url": photo.source_url,
        "source_page_url": (photo.source_page_url if photo.copied_from_id or photo.source_url else "")
        or source_page_url,
        "retrieved_at": photo.retrieved_at,
        "title": photo.title,
    }
    forget_recommendations(user)
    name = original_name(photo.sha256, extension)
    if photo.has_location and not can_see_location(user, photo):
        with local_copy(name) as path:
            data, _ = imaging.without_location(path, imaging.probe(path))
        return ingest_upload(user, album, ContentFile(data, name=filename), provenance)
    with default_storage.open(name, "rb") as stored:
        return ingest_upload(user, album, File(stored.file, name=filename), provenance)


def find_on_the_web(user, target: Photo | None) -> Crawl:
    """Start a crawl for more pictures like `target` (selectors.web_target), searched for with its labels, from the
    configured sources, within the crawler's budgets and checks. Raises SocialError, or crawler.CrawlRefused."""
    if not sources_configured():
        raise SocialError("An administrator must configure crawl sources first.")
    if target is None:
        raise SocialError("Like or upload a picture first: the crawl looks for more like it.")
    return crawler.start_crawl(user, target=target, keywords=picture_words(target))
