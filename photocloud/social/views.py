"""Social pages: likes, collects, follows, comments, notifications, feed and recommendations. Thin: targets are
looked up through visible_to() (selectors), writes go through services. The forms work without JavaScript; the like
and collect buttons swap themselves in place when htmx is there."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from photocloud.accounts.models import User
from photocloud.core.errors import bad_request_page
from photocloud.core.pagination import page_of
from photocloud.crawler.services import CrawlRefused

from . import selectors, services
from .forms import CommentForm, CopyForm, MarkReadForm
from .recommend import recommendations


def _back_to(target):
    return redirect(target.get_absolute_url() + "#social")


def _is_htmx(request) -> bool:
    return bool(request.headers.get("HX-Request"))


# --- likes, collects, follows ------------------------------------------------------------------------------------


@login_required
@require_POST
def like(request, kind, pk):
    target = selectors.target_for(request.user, kind, pk)
    if request.POST.get("action") == "unlike":
        services.unlike(request.user, target)
    else:
        services.like(request.user, target)
    if _is_htmx(request):
        context = {"target": target, "kind": kind, "likes": selectors.like_summary(request.user, target)}
        return render(request, "social/_likes.html", context)
    return _back_to(target)


@login_required
@require_POST
def collect(request, pk):
    album = selectors.target_for(request.user, "album", pk)
    try:
        if request.POST.get("action") == "uncollect":
            services.uncollect(request.user, album)
            messages.info(request, f"“{album.title}” is no longer in your collection.")
        else:
            services.collect(request.user, album)
            messages.success(request, f"“{album.title}” is now in your collection.")
    except services.SocialError as error:
        messages.error(request, str(error))
    if _is_htmx(request):
        context = {"target": album, "collects": selectors.collect_summary(request.user, album)}
        return render(request, "social/_collect.html", context)
    return redirect("social:collected" if request.POST.get("next") == "collected" else album.get_absolute_url())


@login_required
def collected(request):
    return render(
        request, "social/collected.html", {"page": page_of(request, selectors.collected_albums(request.user), 24)}
    )


@login_required
@require_POST
def follow(request, username):
    followee = get_object_or_404(User, username=username, is_active=True)
    if request.POST.get("action") == "unfollow":
        services.unfollow(request.user, followee)
        messages.info(request, f"You no longer follow {followee.shown_name}.")
    else:
        try:
            services.follow(request.user, followee)
            messages.success(request, f"You now follow {followee.shown_name}.")
        except services.FollowError as error:
            messages.error(request, str(error))
    return redirect("people:profile", username=username)


def people(request, username, direction):
    """Followers of a user, or the people they follow."""
    owner = get_object_or_404(User, username=username, is_active=True)
    users = selectors.followers(owner) if direction == "followers" else selectors.following(owner)
    return render(
        request, "social/people.html", {"owner": owner, "direction": direction, "page": page_of(request, users, 50)}
    )


# --- comments ------------------------------------------------------------------------------------------------------


@login_required
@require_POST
def comment_create(request, kind, pk):
    target = selectors.target_for(request.user, kind, pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("body", form.errors.get("parent", ["Invalid comment."]))))
        return _back_to(target)
    parent_id = form.cleaned_data["parent"]
    parent = selectors.comment_for(request.user, parent_id) if parent_id else None
    try:
        comment = services.add_comment(request.user, target, form.cleaned_data["body"], parent=parent, limited=True)
    except services.SocialError as error:
        messages.error(request, str(error))
        return _back_to(target)
    return redirect(target.get_absolute_url() + f"#comment-{comment.pk}")


@login_required
def comment_edit(request, pk):
    comment = selectors.comment_for(request.user, pk)
    if comment.author_id != request.user.pk:
        messages.error(request, "Only its author can edit a comment.")
        return _back_to(comment.target)
    form = CommentForm(request.POST or None, initial={"body": comment.body})
    if request.method == "POST" and form.is_valid():
        services.edit_comment(request.user, comment, form.cleaned_data["body"])
        messages.success(request, "Comment saved.")
        return redirect(comment.target.get_absolute_url() + f"#comment-{comment.pk}")
    return render(request, "social/comment_edit.html", {"form": form, "comment": comment})


@login_required
def comment_delete(request, pk):
    comment = selectors.comment_for(request.user, pk)
    if not services.can_delete_comment(request.user, comment):
        messages.error(request, "You may only delete your own comments, or comments on your albums and pictures.")
        return _back_to(comment.target)
    if request.method == "POST":
        target = comment.target
        count = services.delete_comment(request.user, comment)
        messages.success(request, "Comment deleted." if count <= 1 else f"Comment and {count - 1} replies deleted.")
        return _back_to(target)
    context = {
        "comment": comment,
        "keeps_replies": comment.author_id == request.user.pk,
        "replies": len(services.descendants([comment.pk])) - 1,
    }
    return render(request, "social/comment_delete.html", context)


# --- notifications -------------------------------------------------------------------------------------------------


@login_required
def notifications(request):
    page = page_of(request, selectors.notifications_for(request.user), 30)
    return render(request, "social/notifications.html", {"page": page})


@login_required
@require_POST
def notifications_read(request):
    form = MarkReadForm(request.POST)
    if not form.is_valid():
        return bad_request_page(request, " ".join(form.errors["id"]))
    services.mark_read(request.user, form.cleaned_data["id"] or None)
    if _is_htmx(request):
        return HttpResponse(status=204)
    return redirect("social:notifications")


# --- feed and recommendations --------------------------------------------------------------------------------------


@login_required
def feed(request):
    page = page_of(request, selectors.feed_photos(request.user))
    albums = selectors.feed_albums(request.user)[:8] if page.number == 1 else []
    return render(request, "social/feed.html", {"page": page, "albums": albums})


@login_required
def for_you(request):
    context = recommendations(request.user, photos=24, albums=8)
    context["copy_form"] = CopyForm(user=request.user)
    context["copyable"] = selectors.copyable_ids([rec.item.pk for rec in context["photos"]])
    context["web"] = selectors.web_finds(request.user)
    return render(request, "social/for_you.html", context)


@login_required
@require_POST
@ratelimit(key="user", rate="20/m", method="POST", block=True)
def find_on_the_web(request):
    """Start a crawl for more of what the user likes; its page shows the progress and saves the results."""
    try:
        crawl = services.find_on_the_web(request.user, selectors.web_target(request.user))
    except (services.SocialError, CrawlRefused) as refusal:
        messages.error(request, str(refusal))
        return redirect("social:for_you")
    messages.success(request, "Looking for more like it on the web; the best finds will also show under For you.")
    return redirect(crawl)


@login_required
@require_POST
def copy_photo(request, pk):
    """Add someone else's picture, as the user's own credited copy, to one of their albums."""
    photo = selectors.target_for(request.user, "photo", pk)
    form = CopyForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, "Choose one of your albums.")
        return redirect(photo)
    album = form.cleaned_data["album"]
    try:
        page_url = request.build_absolute_uri(photo.get_absolute_url())
        result = services.copy_to_album(request.user, photo, album, page_url)
    except services.SocialError as error:
        messages.error(request, str(error))
        return redirect(photo)
    if result.status == "rejected":
        messages.error(request, f"The picture could not be copied: {result.reason}")
        return redirect(photo)
    if result.status == "duplicate":
        messages.info(request, "You already have this picture.")
    else:
        messages.success(request, f"Added to “{album.title}”, credited to {photo.owner.shown_name}.")
    return redirect(result.photo)
