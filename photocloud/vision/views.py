"""Search by image: "similar" on a picture, or an uploaded query picture that is not stored."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django_ratelimit.decorators import ratelimit

from photocloud.library import services as library
from photocloud.library.imaging import ImageRejected
from photocloud.library.models import Photo
from photocloud.library.selectors import displayed

from . import services
from .forms import ImageQueryForm, SimilarityForm, TeachForm
from .models import TaughtClassifier
from .similar import METRICS, similar_photos
from .taught import MIN_EXAMPLES, teaching_status

RESULTS = 48


def similar(request, pk):
    photo = get_object_or_404(Photo.objects.visible_to(request.user).select_related("album"), pk=pk)
    form = SimilarityForm({**SimilarityForm.DEFAULTS, **request.GET.dict()})  # the form shows what was searched
    options = form.options()
    vector = services.photo_vector(photo)
    results = [] if vector is None else similar_photos(request.user, vector, exclude=photo, limit=RESULTS, **options)
    context = {
        "photo": photo,
        "form": form,
        "results": results,
        "analysed": vector is not None,
        "metric_label": METRICS[options["metric"]],
        **options,
    }
    return render(request, "vision/similar.html", context)


@login_required
@ratelimit(key="user", rate="30/m", method="POST", block=True)
def search_by_image(request):
    form = ImageQueryForm(request.POST or None, request.FILES or None)
    results = None
    options = form.options() if request.method == "POST" else dict(ImageQueryForm.DEFAULTS)
    if request.method == "POST" and form.is_valid():
        try:
            vector = services.embed_upload(form.cleaned_data["picture"])
        except ImageRejected as rejection:
            form.add_error("picture", rejection.message)
        else:
            results = similar_photos(request.user, vector, limit=RESULTS, **options)
    context = {"form": form, "results": results, "metric_label": METRICS[options["metric"]], **options}
    return render(request, "vision/search_by_image.html", context)


TEACH_CHOICES = 120


@login_required
def teach(request):
    """Teach Photocloud a category of your own from some of your pictures; it then suggests it for others."""
    recent = Photo.objects.owned_by(request.user).filter(status=Photo.Status.READY).order_by("-created_at")
    choices = Photo.objects.filter(pk__in=list(recent.values_list("pk", flat=True)[:TEACH_CHOICES]))
    form = TeachForm(request.POST or None, photos=displayed(choices).order_by("-created_at"))
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["name"]
        count = library.set_category(request.user, form.cleaned_data["photos"], name)
        pictures = "1 picture is" if count == 1 else f"{count} pictures are"
        messages.success(request, f"{pictures} now “{name}”. {teaching_status(request.user, name)}")
        return redirect("vision:teach")
    classifier = TaughtClassifier.objects.filter(owner=request.user).first()
    context = {"form": form, "classifier": classifier, "min_examples": MIN_EXAMPLES}
    return render(request, "vision/teach.html", context)
