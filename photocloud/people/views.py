"""Pages: the People page, a person's page and the owner's corrections. All of them are the owner's alone."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from photocloud.core.errors import bad_request_page
from photocloud.core.pagination import scroll_page

from . import selectors, services
from .forms import FaceMoveForm, MergeForm, PersonForm
from .models import Person

# The People page counts the pictures the backfill has left up to this many ("more than 1000" beyond).
FACES_COUNTED = 1000


def _person_or_404(request, pk) -> Person:
    person = selectors.person_of(request.user, pk)
    if person is None:
        raise Http404("No such person.")
    return person


@login_required
def people(request):
    hidden = request.GET.get("hidden") == "1"
    shown = list(selectors.people_of(request.user, hidden=hidden))
    for one in shown:
        one.shown_cover = selectors.shown_cover(one)
    return render(
        request,
        "people/people.html",
        {
            "people": shown,
            "hidden": hidden,
            "hidden_count": selectors.people_of(request.user, hidden=True).count() if not hidden else 0,
            "faces_to_find": selectors.faces_to_find(request.user.pk, at_most=FACES_COUNTED),
            "faces_counted": FACES_COUNTED,
        },
    )


@login_required
def person(request, pk):
    shown = _person_or_404(request, pk)
    return render(
        request,
        "people/person.html",
        {
            "person": shown,
            "cover": selectors.shown_cover(shown),
            "page": scroll_page(request, selectors.photos_of(request.user, shown)),
            "others": selectors.choices(request.user, exclude=shown),
        },
    )


@login_required
@require_POST
def person_edit(request, pk):
    shown = _person_or_404(request, pk)
    if "hidden" in request.POST:
        services.set_hidden(shown, request.POST["hidden"] == "1")
        messages.success(request, "Hidden from People and search." if shown.hidden else "Shown again.")
        return redirect(shown)
    form = PersonForm(request.POST)
    if not form.is_valid():
        return bad_request_page(request, f"Name: {'; '.join(form.errors.get('name', ['not valid']))}")
    services.rename(shown, form.cleaned_data["name"])
    messages.success(request, "Name saved.")
    return redirect(shown)


@login_required
@require_POST
def person_merge(request, pk):
    target = _person_or_404(request, pk)
    form = MergeForm(request.POST)
    other = (
        Person.objects.owned_by(request.user).filter(pk=form.cleaned_data["other"]).first() if form.is_valid() else None
    )
    if other is None:
        return bad_request_page(request, "Choose one of your people to merge with.")
    if other.pk == target.pk:
        return bad_request_page(request, "Choose another person: a person cannot be merged with itself.")
    services.merge(target, [other])
    messages.success(request, "People merged.")
    return redirect(target)


@login_required
@require_POST
def face_move(request, pk):
    face = selectors.face_of(request.user, pk)
    if face is None:
        raise Http404("No such face.")
    form = FaceMoveForm(request.POST)
    if not form.is_valid():
        return bad_request_page(request, "Choose a person, a new person or nobody.")
    choice = form.cleaned_data["person"]
    target = None
    if choice not in ("new", "none"):
        target = Person.objects.owned_by(request.user).filter(pk=int(choice)).first()
        if target is None:
            return bad_request_page(request, "No such person.")
    services.move_face(face, target, new_person=choice == "new")
    messages.success(request, "Face moved." if choice != "none" else "Face taken away from that person.")
    return redirect(face.photo)


@login_required
def face_similar(request, pk):
    face = selectors.face_of(request.user, pk)
    if face is None:
        raise Http404("No such face.")
    return render(request, "people/similar.html", {"face": face, "hits": selectors.similar_faces(request.user, face)})
