"""Pages that combine apps (the site layer, docs/ARCHITECTURE.md): they live above the apps they combine, so that
the library never imports vision or social. Their URLs keep the library's names (photocloud/urls.py)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.urls import path

from photocloud.core.pagination import scroll_page
from photocloud.library import selectors, stacks
from photocloud.library.access import can_edit, can_see_location
from photocloud.library.forms import LocationForm, TakenForm
from photocloud.library.models import Photo, category_label
from photocloud.library.views import render_grid
from photocloud.social.services import record_view
from photocloud.vision import lookalikes
from photocloud.vision.models import PhotoCluster


@login_required
def themes(request):
    rows = [dict(row, label=category_label(row["theme"])) for row in selectors.themes(request.user)]
    return render(request, "library/themes.html", {"themes": rows, "lookalikes": lookalikes.albums(request.user)})


@login_required
def lookalike(request, pk):
    cluster = get_object_or_404(PhotoCluster.objects.owned_by(request.user), pk=pk)
    page = scroll_page(request, lookalikes.photos(request.user, cluster))
    return render_grid(request, "library/lookalike.html", {"page": page, "cluster": cluster})


def photo_detail(request, pk):
    photo = get_object_or_404(Photo.objects.visible_to(request.user).select_related("album", "owner"), pk=pk)
    album = selectors.shown_album(photo, request.user)  # never an album the viewer may not see
    newer, older = selectors.neighbours(photo, request.user, album)
    record_view(request.user, photo)
    context = {
        "photo": photo,
        "album": album,
        "newer": newer,
        "older": older,
        "is_owner": can_edit(request.user, photo),
        "show_location": photo.has_location and can_see_location(request.user, photo),
        "tags": photo.tags.all(),
        "stack": stacks.members_shown(request.user, photo),  # the RAW beside its JPEG, and the way back
    }
    if context["is_owner"]:  # the owner corrects the date and place on the page itself
        context["taken_form"] = TakenForm.for_photo(photo)
        context["location_form"] = LocationForm.for_photo(photo)
        context["albums"] = selectors.albums_holding(photo)  # a picture added to other albums says where it is
    return render(request, "library/photo_detail.html", context)


# Before the library's own URLs: "library/themes/lookalikes/<pk>/" must win over "library/themes/<name>/".
library_urlpatterns = [
    path("library/themes/", themes, name="themes"),
    path("library/themes/lookalikes/<int:pk>/", lookalike, name="lookalike"),
    path("photos/<uuid:pk>/", photo_detail, name="photo"),
]
