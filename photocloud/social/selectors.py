"""Reads from the social space. Whatever can reveal an album or picture, counts included, goes through
`visible_to()`: a notification, feed entry or collected album about something the viewer may no longer see is left
out at read time."""

import uuid

from django.db.models import Exists, OuterRef, Q, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404

from photocloud.accounts.models import Follow, User
from photocloud.crawler import selectors as crawler
from photocloud.library.models import Album, Photo
from photocloud.library.selectors import with_photo_count

from .models import MAX_REPLY_DEPTH, Collect, Comment, Like, Notification
from .services import descendants, target_fields

KINDS = {"album": Album, "photo": Photo}
WEB_FINDS = 6  # images of the latest crawl shown under "From the web"


def target_for(viewer, kind: str, pk):
    """The album or picture `viewer` may see, else 404 (also for ones that exist but are hidden)."""
    model = KINDS.get(kind)
    if model is None:
        raise Http404("Nothing of that kind.")
    try:
        pk = uuid.UUID(str(pk))
    except ValueError:
        raise Http404(f"No {kind} has the id “{pk}”.") from None
    return get_object_or_404(model.objects.visible_to(viewer).select_related("owner"), pk=pk)


def kind_of(target) -> str:
    (kind,) = target_fields(target)
    return kind


def _visible_targets(viewer) -> Q:
    """Rows (likes, comments, notifications) whose album or picture, if any, `viewer` may see."""
    albums = Album.objects.visible_to(viewer).filter(pk=OuterRef("album_id"))
    photos = Photo.objects.visible_to(viewer).filter(pk=OuterRef("photo_id"))
    return (Q(album__isnull=True) | Exists(albums)) & (Q(photo__isnull=True) | Exists(photos))


# --- likes, collects ----------------------------------------------------------------------------------------------


def like_summary(viewer, target, shown: int = 12) -> dict:
    """{count, liked (by the viewer), likers (the most recent `shown` users)} for a target the viewer can see."""
    likes = Like.objects.filter(**target_fields(target))
    return {
        "count": likes.count(),
        "liked": viewer.is_authenticated and likes.filter(user=viewer).exists(),
        "likers": [like.user for like in likes.select_related("user").order_by("-created_at")[:shown]],
    }


def collect_summary(viewer, album: Album) -> dict:
    collects = Collect.objects.filter(album=album)
    return {"count": collects.count(), "collected": viewer.is_authenticated and collects.filter(user=viewer).exists()}


def collected_albums(user):
    """The albums the user collected and may still see, most recently collected first."""
    mine = Collect.objects.filter(user=user, album=OuterRef("pk"))
    albums = Album.objects.visible_to(user).filter(Exists(mine))
    return (
        with_photo_count(albums)
        .annotate(collected_at=Subquery(mine.values("created_at")[:1]))
        .select_related("cover", "owner")
        .order_by("-collected_at", "pk")
    )


def copyable_ids(photo_ids) -> set:
    """Which of these pictures may be copied into someone's album: the public ones (services.can_copy)."""
    return set(Photo.objects.visible_to(None).filter(pk__in=list(photo_ids)).values_list("pk", flat=True))


# --- comments ------------------------------------------------------------------------------------------------------


def comment_thread(target, limit: int | None = None) -> tuple[list[Comment], int]:
    """(threads, how many older threads were left out): top-level comments, oldest first, each with
    `.thread_replies`, its replies at every level in reading order (each reply oldest first, followed by its own
    replies), each with `.depth` (1 to MAX_REPLY_DEPTH). Only the newest `limit` threads are loaded when given;
    either way in a fixed number of queries."""
    comments = comments_on(target)
    hidden = 0
    if limit is not None:
        top = list(comments.filter(parent=None).order_by("-created_at", "-id").values_list("pk", flat=True)[:limit])
        hidden = comments.filter(parent=None).count() - len(top)
        if hidden:
            comments = comments.filter(pk__in=descendants(top))
    children: dict[int | None, list[Comment]] = {}
    for comment in comments:
        children.setdefault(comment.parent_id, []).append(comment)
    threads = children.get(None, [])
    for thread in threads:
        thread.thread_replies = []
        stack = [(reply, 1) for reply in reversed(children.get(thread.pk, []))]
        while stack:  # depth-first without recursion, so no stored chain can exhaust the stack
            reply, depth = stack.pop()
            reply.depth = min(depth, MAX_REPLY_DEPTH)
            thread.thread_replies.append(reply)
            stack.extend((child, depth + 1) for child in reversed(children.get(reply.pk, [])))
    return threads, hidden


def comment_for(viewer, pk) -> Comment:
    """A comment on something the viewer may see, else 404."""
    queryset = Comment.objects.filter(_visible_targets(viewer)).select_related("author", "album", "photo")
    return get_object_or_404(queryset, pk=pk)


# --- people --------------------------------------------------------------------------------------------------------


def followers(user):
    return User.objects.filter(is_active=True, following__followee=user).order_by("-following__created_at")


def following(user):
    return User.objects.filter(is_active=True, followers__follower=user).order_by("-followers__created_at")


def _followees(user):
    return Follow.objects.filter(follower=user).values("followee")


# --- notifications and feed ----------------------------------------------------------------------------------------


def notifications_for(user):
    """The user's notifications about things they may still see, newest first."""
    return (
        Notification.objects.filter(recipient=user)
        .filter(_visible_targets(user))
        .select_related("actor", "album", "photo", "comment")
    )


def unread_count(user) -> int:
    """The badge on every page. Most page views find nothing unread: one index lookup answers them, without
    building and running the access conditions (7 % of the CPU of the access and search tests went into them)."""
    if not Notification.objects.filter(recipient=user, read_at__isnull=True).exists():
        return 0
    return notifications_for(user).filter(read_at__isnull=True).count()


def feed_photos(viewer):
    """Recent pictures, visible to the viewer, of the people they follow."""
    return (
        Photo.objects.visible_to(viewer)
        .listed()  # a stack once, by its cover
        .filter(owner__in=_followees(viewer), status=Photo.Status.READY)
        .select_related("album", "owner")
        .order_by("-created_at", "pk")
    )


def feed_albums(viewer):
    """Recent albums, visible to the viewer, of the people they follow."""
    albums = Album.objects.visible_to(viewer).filter(owner__in=_followees(viewer))
    return with_photo_count(albums).select_related("cover", "owner").order_by("-created_at", "pk")


def comments_on(target):
    """Comments on a target the viewer may see, oldest first; replies name their parent."""
    return Comment.objects.filter(**target_fields(target)).select_related("author").order_by("created_at", "id")


def web_target(user) -> Photo | None:
    """The picture to find more of on the web: the one the user most recently liked, else the newest of an album
    they most recently liked or collected, as long as they may still see it; else their own newest picture."""
    photos = Photo.objects.visible_to(user)
    liked = Like.objects.filter(user=user, photo__in=photos).select_related("photo").order_by("-created_at", "-pk")
    interests = [(mark.created_at, mark.photo) for mark in liked[:1]]
    albums = Album.objects.visible_to(user).filter(Exists(photos.filter(album=OuterRef("pk"))))
    for model in (Like, Collect):
        marks = model.objects.filter(user=user, album__in=albums).order_by("-created_at", "-pk")
        interests += [(mark.created_at, photos.filter(album_id=mark.album_id).first()) for mark in marks[:1]]
    if interests:
        return max(interests, key=lambda interest: interest[0])[1]
    return photos.filter(owner=user).first()


def web_finds(user) -> dict:
    """The "From the web" part of the recommendations: whether a crawl can start at all, one still running, and the
    best unsaved images of the latest finished one (their thumbnails are served to the crawl's owner only)."""
    crawl, results = crawler.recent_results(user, WEB_FINDS)
    return {
        "sources": crawler.sources_configured(),
        "running": crawler.active_crawls(user).first(),
        "crawl": crawl,
        "results": results,
    }
