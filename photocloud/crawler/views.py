"""Crawl pages: my crawls, start one, watch it, pick and save results. Thin: services and selectors do the work."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from photocloud.core.pagination import page_of
from photocloud.library import downloads
from photocloud.library.models import Photo

from . import ranking, selectors, services
from .forms import CrawlForm, SaveForm

RESULTS_PER_PAGE = 48  # fewer than services.MAX_SAVE: a whole page can be saved at once


def _crawl(request, pk):
    return get_object_or_404(selectors.crawls_of(request.user), pk=pk)


@login_required
def crawl_list(request):
    page = page_of(request, selectors.crawls_of(request.user), 30)
    return render(request, "crawler/list.html", {"page": page})


@login_required
@ratelimit(key="user", rate="20/m", method="POST", block=True)
def crawl_new(request):
    initial = {"keywords": request.GET.get("q", "")[:200], "photo": request.GET.get("photo", "")}
    form = CrawlForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid() and (crawl := form.start()):
        return redirect(crawl)
    target = _visible_photo(request.user, form["photo"].value())
    context = {
        "form": form,
        "target": target,
        "vision": ranking.vision_enabled(),
        "title": "New web crawl",
        "submit_label": "Start crawl",
        "cancel_url": reverse("crawler:list"),
    }
    return render(request, "crawler/new.html", context)


def _visible_photo(user, pk) -> Photo | None:
    try:
        return Photo.objects.visible_to(user).filter(pk=pk).first() if pk else None
    except ValidationError:  # not a UUID
        return None


@login_required
def crawl_detail(request, pk):
    crawl = _crawl(request, pk)
    return _detail(request, crawl, SaveForm(crawl=crawl, user=request.user))


def _detail(request, crawl, form, status=200):
    page = page_of(request, selectors.ranked_candidates(crawl), RESULTS_PER_PAGE)
    context = {
        "crawl": crawl,
        "page": page,
        "form": form,
        "vision": ranking.vision_enabled(),
        "target": selectors.visible_target(crawl, request.user),
        "in_library": selectors.library_hashes(request.user, page.object_list),
    }
    return render(request, "crawler/detail.html", context, status=status)


@login_required
def crawl_progress(request, pk):
    """The live counters, polled by htmx while the crawl runs; the page reloads itself once it has ended."""
    crawl = _crawl(request, pk)
    response = render(request, "crawler/_progress.html", {"crawl": crawl})
    if not crawl.is_active and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@login_required
def candidate_image(request, pk, candidate):
    """A candidate's thumbnail (a JPEG Photocloud made itself, never the site's bytes), to the crawl's owner only."""
    crawl = _crawl(request, pk)
    found = get_object_or_404(crawl.candidates, pk=candidate)
    # Cached as the library's picture files are: asked for again each time, so that a crawl deleted or a user logged
    # out stops showing it; the bytes are named by their content, so their hash is a strong ETag.
    tag = f'"{found.sha256[:32]}-candidate"'
    if (unchanged := downloads.not_modified(request, tag)) is not None:
        return unchanged
    try:
        # Through Django from whichever storage holds it (an S3 bucket too), like the library's photo_file.
        handle = default_storage.open(found.thumbnail_name, "rb")
    except FileNotFoundError:
        raise Http404("The image is gone.") from None
    return downloads.revalidated(FileResponse(handle, content_type="image/jpeg"), tag)


@login_required
@require_POST
def crawl_save(request, pk):
    crawl = _crawl(request, pk)
    form = SaveForm(request.POST, crawl=crawl, user=request.user)
    if not form.is_valid():  # the results again, with what was wrong
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _detail(request, crawl, form, status=400)
    album = form.cleaned_data["album"]
    results = services.save_candidates(request.user, crawl, form.cleaned_data["candidates"], album)
    stored = sum(result.status == "stored" for result in results)
    duplicates = sum(result.status == "duplicate" for result in results)
    messages.success(
        request,
        f"Saved {stored} image(s) into “{album.title}”"
        + (f"; {duplicates} already in your library." if duplicates else "."),
    )
    for result in results:
        if result.status == "rejected":
            messages.error(request, f"{result.name}: {result.reason}")
    return redirect(crawl)


@login_required
@require_POST
def crawl_cancel(request, pk):
    crawl = _crawl(request, pk)
    if services.cancel_crawl(crawl):
        messages.success(request, "The crawl is cancelled. What it found so far stays here.")
    return redirect(crawl)


@login_required
def crawl_delete(request, pk):
    crawl = _crawl(request, pk)
    if request.method == "POST":
        services.delete_crawl(crawl)
        messages.success(request, "Crawl deleted. Images you saved stay in your library.")
        return redirect("crawler:list")
    return render(request, "crawler/delete.html", {"crawl": crawl})
