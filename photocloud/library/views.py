"""Library pages. Thin: look objects up through access.py, call services/selectors, render."""

import logging
import re
from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from photocloud.accounts.authentication import accepts_api_token
from photocloud.core.errors import bad_request_page
from photocloud.core.pagination import page_of, scroll_page

from . import downloads, selectors, services, stacks, trash, undo
from .access import can_edit
from .forms import AlbumForm, DeleteAlbumForm, IdsForm, LocationForm, PhotoForm, TakenForm
from .models import DEFAULT_CATEGORIES, Album, Photo, category_label

logger = logging.getLogger(__name__)


def render_grid(request, template, context, items="library/_grid_items.html"):
    """Full page, or only the next run of grid items when htmx asks for more (infinite scroll)."""
    if _asks_for_more(request):
        template = items
    return render(request, template, context)


def _asks_for_more(request) -> bool:
    return bool(request.headers.get("HX-Request")) and "page" in request.GET


def _owned_album(request, pk) -> Album:
    return get_object_or_404(Album.objects.owned_by(request.user), pk=pk)


def _owned_photo(request, pk) -> Photo:
    return get_object_or_404(Photo.objects.owned_by(request.user).select_related("album"), pk=pk)


def home(request):
    return render(request, "library/home.html", {"page": page_of(request, selectors.public_albums(), 24)})


JUMP = re.compile(r"^(\d{4})-(\d{2})$")


def _jump_month(value: str | None) -> tuple[int, int] | None:
    """The month the date scrubber asks for (`?from=2024-05`), None for the newest; a 404 for anything else."""
    if not value:
        return None
    if not (found := JUMP.match(value)):
        raise Http404("Say the month as YYYY-MM, for example 2024-05.")
    year, month = int(found[1]), int(found[2])
    _valid_date(year, month)
    return year, month


@login_required
def timeline(request):
    """The user's pictures by day under month headers, 60 at a time as they scroll, from the newest or from the month
    the date scrubber jumps to."""
    jump = _jump_month(request.GET.get("from"))
    photos = selectors.timeline_before(request.user, *jump) if jump else selectors.library_photos(request.user)
    page = scroll_page(request, photos, skip=lambda first: selectors.timeline_skip(request.user, photos, first, jump))
    context = {
        "page": page,
        "days": selectors.days_of(page),
        "jump": jump,
        **_uploader_context(),
        "upload_albums": selectors.album_choices(request.user),
    }
    if jump:
        context["jump_value"] = f"{jump[0]:04d}-{jump[1]:02d}"
        context["page_prefix"] = f"from={context['jump_value']}&"
        context["jump_date"] = date(*jump, 1)
        later = selectors.month_end(*jump)
        context["newer_value"] = f"{later.year:04d}-{later.month:02d}"
    return render_grid(request, "library/timeline.html", context, items="library/_timeline_items.html")


@login_required
def scrubber(request):
    """The timeline's date scrubber, fetched by the timeline page once it shows (counting every month of a large
    library is the page's slowest part, so the pictures do not wait for it)."""
    jump = _jump_month(request.GET.get("from"))
    context = {"scrubber": selectors.month_counts(request.user), "jump_value": jump and f"{jump[0]:04d}-{jump[1]:02d}"}
    return render(request, "library/_scrubber.html", context)


def _uploader_context() -> dict:
    return {
        "upload_limit_mb": settings.PHOTOCLOUD["MAX_UPLOAD_BYTES"] // (1024 * 1024),
        "vision": settings.PHOTOCLOUD["VISION"],
    }


@login_required
def archive(request):
    page = scroll_page(request, selectors.archived_photos(request.user))
    return render_grid(request, "library/marked.html", {"page": page, "mark": "archived"})


@login_required
def favourites(request):
    page = scroll_page(request, selectors.favourite_photos(request.user))
    return render_grid(request, "library/marked.html", {"page": page, "mark": "favourite"})


@login_required
def dates(request):
    return render(request, "library/dates.html", {"years": selectors.years(request.user)})


def _valid_date(year: int, month: int = 1) -> None:
    if year not in selectors.YEARS or month not in selectors.MONTHS:
        raise Http404("No such year or month.")


@login_required
def dates_year(request, year):
    _valid_date(year)
    return render(request, "library/dates_year.html", {"year": year, "months": selectors.months(request.user, year)})


@login_required
def dates_month(request, year, month):
    _valid_date(year, month)
    page, events = selectors.events_page(
        request.user, year, month, request.GET.get("page"), settings.PHOTOCLOUD["PAGE_SIZE"] * 2
    )
    context = {"year": year, "month": month, "first_day": date(year, month, 1), "events": events, "page": page}
    return render(request, "library/dates_month.html", context)


@login_required
def theme(request, name):
    page = scroll_page(request, selectors.theme_photos(request.user, name))
    return render_grid(request, "library/theme.html", {"page": page, "theme": category_label(name)})


# --- albums ------------------------------------------------------------------------------------------------------


@login_required
def album_list(request):
    return render(request, "library/album_list.html", {"page": page_of(request, selectors.my_albums(request.user), 24)})


@login_required
def album_create(request):
    form = AlbumForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        album = services.create_album(request.user, **form.cleaned_data)
        messages.success(request, f"Album “{album.title}” created. Add some pictures.")
        return redirect(album)
    return render(
        request,
        "form_page.html",
        {
            "form": form,
            "categories": DEFAULT_CATEGORIES,
            "title": "New album",
            "submit_label": "Create album",
            "cancel_url": reverse("library:albums"),
        },
    )


@login_required
def album_edit(request, pk):
    album = _owned_album(request, pk)
    form = AlbumForm(request.POST or None, instance=album)
    if request.method == "POST" and form.is_valid():
        services.update_album(album, **form.cleaned_data)
        messages.success(request, "Album saved.")
        return redirect(album)
    return render(
        request,
        "form_page.html",
        {"form": form, "categories": DEFAULT_CATEGORIES, "title": "Edit album", "cancel_url": album.get_absolute_url()},
    )


@login_required
def album_delete(request, pk):
    album = _owned_album(request, pk)
    form = DeleteAlbumForm(request.POST or None, album=album)
    count = selectors.album_photos(album).count()
    if request.method == "POST" and form.is_valid():
        move_to = form.cleaned_data["move_to"] if form.cleaned_data["pictures"] == "move" else None
        # The counts of what went (the services'), not `count`: pictures only added to the album stay where they are.
        if move_to:
            moved = services.delete_album(album, move_to=move_to)
            where = f"{pluralize(moved, 'is,are')} now in “{move_to.title}”"
            messages.success(request, f"Album deleted; its {moved} picture{pluralize(moved)} {where}.")
        elif (trashed := trash.trash_album(album)) is None:
            messages.success(request, f"Album “{album.title}” deleted.")
        else:
            undo.offer(
                request, f"Album “{album.title}” and its {trashed} picture{pluralize(trashed)}", albums=[album.pk]
            )
        return redirect("library:albums")
    placed = album.placements.filter(photo__trashed_at__isnull=True).count()
    context = {"album": album, "form": form, "count": count, "placed": placed}
    context["trash_days"] = settings.PHOTOCLOUD["TRASH_DAYS"]
    return render(request, "library/album_delete.html", context)


def album_detail(request, pk):
    album = get_object_or_404(Album.objects.visible_to(request.user).select_related("owner", "cover"), pk=pk)
    page = scroll_page(request, selectors.album_photos(album))
    context = {"album": album, "page": page, "is_owner": can_edit(request.user, album)}
    if context["is_owner"]:
        context.update(_uploader_context())
    return render_grid(request, "library/album_detail.html", context)


@login_required
@require_POST
def album_cover(request, pk, photo_pk):
    album = _owned_album(request, pk)
    photo = get_object_or_404(selectors.album_photos(album), pk=photo_pk)
    services.update_album(album, cover=photo)
    messages.success(request, "Cover changed.")
    return redirect(photo)


# --- pictures ------------------------------------------------------------------------------------------------------


def photo_tile(request, pk):
    """One grid tile; tiles of pictures still being processed poll this until they are ready."""
    photo = get_object_or_404(Photo.objects.visible_to(request.user), pk=pk)
    return render(request, "library/_tile.html", {"photo": photo})


@login_required
def photo_edit(request, pk):
    photo = _owned_photo(request, pk)
    form = PhotoForm(request.POST or None, instance=photo)
    if request.method == "POST" and form.is_valid():
        services.update_photo(photo, **form.cleaned_data)
        messages.success(request, "Picture saved.")
        return redirect(photo)
    return render(
        request,
        "form_page.html",
        {
            "form": form,
            "categories": DEFAULT_CATEGORIES,
            "title": "Edit picture",
            "cancel_url": photo.get_absolute_url(),
        },
    )


@login_required
def photo_delete(request, pk):
    photo = _owned_photo(request, pk)
    if request.method == "POST":
        trash.trash_photos(request.user, [photo.pk])
        undo.offer(request, f"“{photo.title or 'The picture'}”", photos=[photo.pk])
        return redirect(photo.album or "library:timeline")  # a picture in the library alone has no album
    return render(
        request, "library/photo_delete.html", {"photo": photo, "trash_days": settings.PHOTOCLOUD["TRASH_DAYS"]}
    )


@login_required
@require_POST
def photo_unstack(request, pk):
    """Separate a stack (a form button on its cover's or a member's page): each file listed on its own again."""
    photo = _owned_photo(request, pk)
    apart = stacks.unstack(request.user, photo.pk)
    if apart:
        messages.success(request, f"Unstacked: {len(apart) + 1} pictures now show on their own.")
    return redirect(photo)


@login_required
@require_POST
def photo_marks(request, pk):
    """Archive or favourite one picture (a form button on its page): `archived` or `favourite` set to "1" or "0"."""
    photo = _owned_photo(request, pk)
    marks = {name: request.POST[name] == "1" for name in ("archived", "favourite") if name in request.POST}
    if not marks:
        messages.error(request, "Say what to mark.")
        return redirect(photo)
    services.set_marks(request.user, [photo.pk], **marks)
    if "archived" in marks:
        messages.success(
            request,
            "Archived: the picture stays in its album and in search, but leaves your library and automatic albums."
            if marks["archived"]
            else "The picture is back in your library.",
        )
    return redirect(photo)


def _edit_form_page(request, photo, form, title, submit_label, status=200):
    context = {"form": form, "title": title, "submit_label": submit_label, "cancel_url": photo.get_absolute_url()}
    return render(request, "form_page.html", context, status=status)


@login_required
def photo_taken(request, pk):
    """Correct the date taken (a form on the picture page; this page shows it again with what was wrong)."""
    photo = _owned_photo(request, pk)
    form = TakenForm.for_photo(photo, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.set_taken(request.user, [photo.pk], form.cleaned_data["taken"], form.cleaned_data["offset"])
        messages.success(request, "Date taken saved: the picture moved in your timeline and date albums.")
        return redirect(photo)
    return _edit_form_page(request, photo, form, "Date taken", "Save date", 400 if form.is_bound else 200)


@login_required
def photo_location(request, pk):
    """Correct or remove the location (a form on the picture page, with a "Remove location" button)."""
    photo = _owned_photo(request, pk)
    if request.method == "POST" and request.POST.get("remove") == "1":
        services.set_location(request.user, [photo.pk], None, None)
        messages.success(request, "Location removed: nobody else gets it, not even from the original file.")
        return redirect(photo)
    form = LocationForm.for_photo(photo, request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.set_location(request.user, [photo.pk], form.cleaned_data["latitude"], form.cleaned_data["longitude"])
        messages.success(request, "Location saved.")
        return redirect(photo)
    return _edit_form_page(request, photo, form, "Location", "Save location", 400 if form.is_bound else 200)


@login_required
@require_POST
def photo_rotate(request, pk):
    """Turn the picture left or right (`degrees` 270 or 90, clockwise): the original stays as it is."""
    photo = _owned_photo(request, pk)
    degrees = request.POST.get("degrees")
    if degrees not in ("90", "180", "270"):
        return bad_request_page(request, "Turn by 90, 180 or 270 degrees.")
    services.rotate(request.user, [photo.pk], int(degrees))
    return redirect(photo)


@login_required
@require_POST
def photo_retry(request, pk):
    photo = _owned_photo(request, pk)
    services.retry_processing(photo)
    messages.info(request, "Processing again.")
    return redirect(photo)


@accepts_api_token
def photo_file(request, pk, size):
    """Thumbnails and originals, only ever through the access check.

    The bytes go through Django from whichever storage holds them, an S3 bucket too, rather than by a redirect to a
    presigned URL: such a URL serves anyone who gets hold of it until it expires (so making an album private or
    unfollowing would lag behind), the bucket's endpoint would have to be reachable from every browser, and others'
    originals must be rewritten without their GPS position anyway. The price is the bytes passing through a worker.
    """
    return _file_response(request, get_object_or_404(Photo.objects.visible_to(request.user), pk=pk), size)


@accepts_api_token
def trash_file(request, pk, size):
    """Thumbnails of the pictures in the owner's Trash (the Trash page, /api/trash/): nobody else, nothing larger."""
    return _file_response(request, get_object_or_404(Photo.objects.in_trash_of(request.user), pk=pk), size)


def _file_response(request, photo, size):
    """The file, or 304 Not Modified when the browser holds these bytes: it asks again each time (no-cache), so that
    a picture made private, trashed or unshared (unfollowed, blocked) leaves a viewer's screen at once rather than
    after a cache's lifetime; the caller's access check runs on every request, the 304 reads no file."""
    if size != "original" and (
        size not in settings.PHOTOCLOUD["THUMBNAIL_SIZES"] or photo.status != Photo.Status.READY
    ):
        raise Http404("This rendition does not exist (yet).")
    tag = downloads.file_tag(request.user, photo, size)
    if (unchanged := downloads.not_modified(request, tag)) is not None:
        return unchanged
    try:
        if size == "original":
            response = _original_response(request, photo)
        else:
            # Stored as the owner turned it (services.refresh_renditions), so a plain file whatever the rotation.
            name = services.ensure_rendition(photo, size)
            response = FileResponse(default_storage.open(name, "rb"), content_type="image/jpeg")
    except FileNotFoundError as missing:
        # A picture row whose file is gone is damage to repair, not a fault of this request: say so, and log it.
        logger.error("The stored file of picture %s (%s) is missing: %s", photo.pk, size, missing)
        return HttpResponse(
            "The file of this picture is missing on the server; its owner may upload it again.",
            status=410,
            content_type="text/plain; charset=utf-8",
        )
    return downloads.revalidated(response, tag)


def _original_response(request, photo: Photo):
    """The original, byte-exact; without its GPS position for viewers the owner has not shared locations with."""
    original = downloads.original_for(request.user, photo)
    download = request.GET.get("download") == "1"
    if original.stripped is None:
        return FileResponse(
            original.file(), content_type=original.content_type, as_attachment=download, filename=original.filename
        )
    response = HttpResponse(original.stripped, content_type=original.content_type)
    response["Content-Disposition"] = content_disposition_header(download, original.filename)
    return response


@accepts_api_token
def album_download(request, pk):
    """An album's pictures as a ZIP, for anyone who may see the album (and each picture, checked again)."""
    album = get_object_or_404(Album.objects.visible_to(request.user), pk=pk)
    photos = Photo.objects.visible_to(request.user).in_album(album).order_by("-sort_date", "-created_at", "pk")
    return downloads.zip_response(request.user, photos, album.title)


@require_POST
def photos_download(request):
    """A selection (ids posted by the bulk bar) as a ZIP: only the pictures the viewer may see."""
    form = IdsForm(request.POST)
    if not form.is_valid() or not form.cleaned_data["photos"]:
        return bad_request_page(request, "Choose the pictures to download.")
    photos = Photo.objects.visible_to(request.user).filter(pk__in=form.cleaned_data["photos"])
    if not photos.exists():
        raise Http404("No such pictures.")
    return downloads.zip_response(request.user, photos.order_by("-sort_date", "-created_at", "pk"), "photos")


# --- the Trash -----------------------------------------------------------------------------------------------------


@login_required
def trash_page(request):
    page = page_of(request, selectors.trash_photos(request.user))
    for photo in page:
        photo.purge_at = trash.purge_date(photo.trashed_at)
    albums = list(selectors.trash_albums(request.user))
    for album in albums:
        album.purge_at = trash.purge_date(album.trashed_at)
    context = {"page": page, "albums": albums, "trash_days": settings.PHOTOCLOUD["TRASH_DAYS"]}
    return render(request, "library/trash.html", context)


@login_required
@require_POST
def trash_restore(request):
    form = IdsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the pictures to restore.")
        return redirect("library:trash")
    photos, albums = form.cleaned_data["photos"], form.cleaned_data["albums"]
    if not photos and not albums:  # "Restore selected" with no tick: say so, not "0 pictures restored"
        messages.error(request, "Choose the pictures to restore.")
        return redirect("library:trash")
    count = trash.restore(request.user, photo_ids=photos, album_ids=albums)
    if not count and not albums:  # restored or deleted meanwhile (another tab, the sync client); an album may be empty
        messages.info(request, "Nothing to restore: they are no longer in your Trash.")
        return redirect("library:trash")
    messages.success(request, f"{count} picture{pluralize(count)} restored to {pluralize(count, 'its,their')} album.")
    if len(albums) == 1 and not photos and count:
        return redirect("library:album", pk=albums[0])
    if len(photos) == 1 and not albums and count:
        return redirect("library:photo", pk=photos[0])
    return redirect("library:trash")


@login_required
def trash_delete(request):
    """Delete chosen pictures of the Trash for good, after a confirmation page."""
    form = IdsForm(request.POST or None)
    if request.method != "POST" or not form.is_valid() or not form.cleaned_data["photos"]:
        messages.error(request, "Choose the pictures to delete for good.")
        return redirect("library:trash")
    photos = list(selectors.trash_photos(request.user).filter(pk__in=form.cleaned_data["photos"]))
    if request.POST.get("confirm") != "yes":
        return render(request, "library/trash_confirm.html", {"photos": photos, "count": len(photos)})
    count = trash.delete_forever(request.user, [photo.pk for photo in photos])
    messages.success(request, f"{count} picture{pluralize(count)} deleted for good.")
    return redirect("library:trash")


@login_required
def trash_empty(request):
    count = selectors.trash_photos(request.user).count()
    if request.method == "POST":
        count = trash.delete_forever(request.user)
        messages.success(request, f"Trash emptied: {count} picture{pluralize(count)} deleted for good.")
        return redirect("library:trash")
    return render(request, "library/trash_confirm.html", {"count": count, "empty": True})
