"""Review near-duplicates: choose the picture to keep in each group, merge the rest into it."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from photocloud.library import undo
from photocloud.library.models import Photo

from .duplicates import find_groups, mark_distinct, merge
from .models import PhotoAnalysis

GROUPS_PER_PAGE = 20


@login_required
def duplicates(request):
    page = Paginator(find_groups(request.user), GROUPS_PER_PAGE).get_page(request.GET.get("page"))
    waiting = Photo.objects.owned_by(request.user).exclude(pk__in=PhotoAnalysis.objects.values("photo_id")).count()
    return render(request, "vision/duplicates.html", {"page": page, "waiting": waiting})


@login_required
@require_POST
def duplicates_merge(request):
    owned = Photo.objects.owned_by(request.user)
    back = _back_to_page(request)
    if not request.POST.get("keep"):
        messages.error(request, "Choose the picture to keep first.")
        return redirect(back)
    keep = get_object_or_404(owned, pk=_uuid(request.POST.get("keep")))
    others = _owned(request, "merge", exclude=keep)
    if not others:
        messages.info(request, "Nothing to merge: tick the pictures to merge into the one you keep.")
        return redirect(back)
    merge(keep, others)
    count = len(others)
    undo.offer(
        request,
        f"Kept “{keep.title or 'the picture'}”; {count} near-duplicate{'s' if count > 1 else ''} merged into it and",
        photos=[photo.pk for photo in others],
    )
    return redirect(back)


@login_required
@require_POST
def duplicates_distinct(request):
    """ "These are different pictures": the group is not shown again (new look-alikes can still join later)."""
    group = _owned(request, "member")
    if len(group) > 1:
        mark_distinct(group)
        messages.success(request, f"Marked {len(group)} pictures as different; they will not be grouped again.")
    return redirect(_back_to_page(request))


def _owned(request, name: str, exclude: Photo | None = None) -> list[Photo]:
    """The pictures posted under `name` ("member": the whole group, "merge": those ticked to merge), all of them the
    user's own, else 404."""
    wanted = {_uuid(value) for value in request.POST.getlist(name)} - {exclude.pk if exclude else None}
    photos = list(Photo.objects.owned_by(request.user).filter(pk__in=wanted))
    if len(photos) != len(wanted):
        raise Http404("No such picture.")
    return photos


def _back_to_page(request) -> str:
    back = reverse("vision:duplicates")
    if request.POST.get("page", "").isdigit():
        back += f"?page={request.POST['page']}"
    return back


def _uuid(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404("No such picture.") from None
