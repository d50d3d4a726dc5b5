"""Review near-duplicates: choose the picture to keep in each group, merge the rest into it."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from photocloud.library.models import Photo

from .duplicates import find_groups, merge
from .models import PhotoAnalysis

GROUPS_PER_PAGE = 20


@login_required
def duplicates(request):
    page = Paginator(find_groups(request.user), GROUPS_PER_PAGE).get_page(request.GET.get("page"))
    waiting = Photo.objects.owned_by(request.user).exclude(
        pk__in=PhotoAnalysis.objects.values("photo_id")
    ).count()
    return render(request, "vision/duplicates.html", {"page": page, "waiting": waiting})


@login_required
@require_POST
def duplicates_merge(request):
    owned = Photo.objects.owned_by(request.user)
    keep = get_object_or_404(owned, pk=_uuid(request.POST.get("keep")))
    wanted = {_uuid(value) for value in request.POST.getlist("merge")} - {keep.pk}
    others = list(owned.filter(pk__in=wanted))
    if len(others) != len(wanted):
        raise Http404("No such picture.")
    back = reverse("vision:duplicates")
    if request.POST.get("page", "").isdigit():
        back += f"?page={request.POST['page']}"
    if not others:
        messages.info(request, "Nothing to merge.")
        return redirect(back)
    merge(keep, others)
    count = len(others)
    messages.success(request, f"Kept “{keep.title or 'the picture'}”; {count} near-duplicate"
                              f"{'s were' if count > 1 else ' was'} merged into it and deleted.")
    return redirect(back)


def _uuid(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404("No such picture.") from None
