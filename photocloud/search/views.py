"""The search page: one box, filters, facets, scopes; "The internet" hands over to the web crawler."""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django_ratelimit.decorators import ratelimit

from photocloud.library.models import Photo

from . import selectors
from .forms import SORTS, SearchForm


def _query_string(data: dict, **changes) -> str:
    params = {key: value for key, value in {**data, **changes}.items() if value not in (None, "", False)}
    return urlencode({key: str(value) for key, value in params.items()})


@ratelimit(key="user_or_ip", rate="120/m", block=True)
def results(request):
    form = SearchForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, "search/results.html", {"form": form}, status=400)
    data = form.cleaned_data
    similar_to = None
    if data["similar_to"]:
        similar_to = get_object_or_404(Photo.objects.visible_to(request.user), pk=data["similar_to"])
    if data["scope"] == "web":
        handover = _query_string({"q": data["q"], "photo": data["similar_to"]})
        return redirect(f"{reverse('crawler:new')}?{handover}")
    found = selectors.search(
        request.user, q=data["q"], scope=data["scope"], sort=data["sort"], filters=form.filters(), similar_to=similar_to
    )
    page = Paginator(found.results, selectors.PAGE_SIZE).get_page(data["page"])
    current = {key: value for key, value in data.items() if key != "page"}
    reasons = found.reasons(page.object_list)
    tiles = [(photo, reasons.get(photo.pk, [])) for photo in page.object_list]
    strong = len(tiles) if found.strong_count is None else max(0, found.strong_count - page.start_index() + 1)
    context = {
        "form": form,
        "searched": bool(data["q"] or similar_to or form.filters()),
        "query": data["q"],
        "page": page,
        "tiles": tiles[:strong],
        "weak_tiles": tiles[strong:],  # "less likely": only the album or a faint guess of the classifier matched
        "albums": found.albums,
        "similar_to": similar_to,
        "analysed": found.analysed,
        "suggestion": found.parsed.suggestion,
        "suggestion_url": "?" + _query_string(current, q=found.parsed.suggestion),
        "meaning": [e.term for e in found.parsed.expansions if e.kind == "meaning"],
        "facets": _facet_links(found.facets(), current) if page.paginator.count else [],
        "capped": found.capped,
        "notice": found.notice,
        "active_filters": [
            {
                "name": form.fields[name].label or name.replace("_", " ").capitalize(),
                "value": value,
                "remove": "?" + _query_string(current, **{name: None}),
            }
            for name, value in form.filters().items()
        ],
        "sorts": [
            {"key": key, "label": label, "url": "?" + _query_string(current, sort=key), "current": key == data["sort"]}
            for key, label in SORTS.items()
        ],
        "page_url": "?" + _query_string(current, page=None) + "&page=",
    }
    return render(request, "search/results.html", context)


def _facet_links(facets: dict, current: dict) -> list[dict]:
    """Each facet value as a link that adds its filter to the current search (and goes back to page one)."""
    return [
        {
            "name": selectors.FACETS[name],
            "values": [
                {
                    **value,
                    "url": "?" + _query_string(current, **value["params"]),
                    "active": all(str(current.get(k) or "") == str(v) for k, v in value["params"].items()),
                }
                for value in values
            ],
        }
        for name, values in facets.items()
    ]
