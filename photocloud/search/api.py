"""GET /api/search/: the search page's results, reasons and facets as JSON, with the same parameters."""

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from photocloud.core import serializers as strict
from photocloud.library import selectors as library_selectors
from photocloud.library.models import Photo
from photocloud.library.serializers import PhotoSerializer
from photocloud.library.stacks import with_stack_size

from . import selectors
from .forms import SearchForm

_TYPES = {
    forms.DateField: OpenApiTypes.DATE,
    forms.UUIDField: OpenApiTypes.UUID,
    forms.BooleanField: OpenApiTypes.BOOL,
    forms.IntegerField: OpenApiTypes.INT,
}


def _parameters() -> list[OpenApiParameter]:
    """The schema's query parameters, read from the form the page uses, so the two cannot drift apart."""
    params = []
    for name, field in SearchForm.base_fields.items():
        enum = [key for key, _ in field.choices if key] if isinstance(field, forms.ChoiceField) else None
        if name == "scope":
            enum.remove("web")  # the internet scope is a page (/search/?scope=web), refused here
        kind = _TYPES.get(type(field), OpenApiTypes.STR)
        if isinstance(field, forms.IntegerField):
            kind = {"type": "integer", "minimum": field.min_value, "maximum": field.max_value}
        params.append(
            OpenApiParameter(
                name,
                kind,
                description=str(field.help_text or field.label or ""),
                enum=enum,
            )
        )
    return params


# Parameters whose schema is no plain text (a date, an id, a number, one of a list): an empty value is no value for
# them, as the schema says, though the page's form reads it as "any"; and a boolean is true or false, not any word.
_TYPED = [
    name
    for name, field in SearchForm.base_fields.items()
    if type(field) in _TYPES or isinstance(field, forms.ChoiceField | forms.IntegerField)
]
_BOOLEANS = [name for name, field in SearchForm.base_fields.items() if isinstance(field, forms.BooleanField)]


def _malformed(params) -> dict[str, list[str]]:
    """What the form would read leniently but the schema calls invalid, and a parameter it does not take (a typo:
    ?ownr=alice answered every picture, as the other lists refuse it; `format` is DRF's)."""
    errors = strict.unknown_filters(params, SearchForm.base_fields)
    for name in _TYPED:
        if "" in params.getlist(name):
            errors[name] = ["This value may not be empty; leave the parameter out instead."]
    for name in _BOOLEANS:
        if any(value not in ("true", "false") for value in params.getlist(name)):
            errors[name] = ["Must be true or false."]
    return errors


class SearchResultSerializer(serializers.Serializer):
    photo = PhotoSerializer()
    reasons = serializers.ListField(child=serializers.CharField())
    strong = serializers.BooleanField(
        help_text="Matches by what the picture itself shows; false: less likely (only its album or an uncertain "
        "automatic tag matched)"
    )


_response = inline_serializer(
    "SearchResponse",
    {
        "count": serializers.IntegerField(help_text="Matching pictures, at most 1,000 (see capped)"),
        "page": serializers.IntegerField(),
        "pages": serializers.IntegerField(),
        "results": SearchResultSerializer(many=True),
        "albums": serializers.ListField(child=serializers.DictField()),
        "facets": serializers.DictField(child=serializers.ListField(child=serializers.DictField())),
        "capped": serializers.BooleanField(help_text="More pictures match than the best 1,000 returned (and counted)"),
        "strong_count": serializers.IntegerField(
            allow_null=True, help_text="How many of the results are strong matches (they come first); null if unranked"
        ),
        "suggestion": serializers.CharField(),
        "similar_meaning": serializers.ListField(child=serializers.CharField()),
        "notice": serializers.CharField(
            help_text="Why nothing matches, when a filter names nothing that exists (an unknown owner); else empty"
        ),
    },
)


class SearchView(APIView):
    """Search pictures by words, meaning, filters and/or a picture, among those you may see, best first."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(parameters=_parameters(), responses=_response)
    def get(self, request):
        strict.read_query(request)
        if errors := _malformed(request.query_params):
            raise exceptions.ValidationError(errors)
        form = SearchForm(request.query_params, user=request.user)
        if not form.is_valid():
            raise exceptions.ValidationError(form.errors.get_json_data())
        data = form.cleaned_data
        if data["scope"] == "web":
            raise exceptions.ValidationError({"scope": ["The internet scope is a page: /search/?scope=web."]})
        similar_to = None
        if data["similar_to"]:
            similar_to = get_object_or_404(Photo.objects.visible_to(request.user), pk=data["similar_to"])
        found = selectors.search(
            request.user,
            q=data["q"],
            scope=data["scope"],
            sort=data["sort"],
            filters=form.filters(),
            similar_to=similar_to,
        )
        # The page's rows with all the serializer reads (a grid's leave out the analysis' text and faces: two
        # queries a picture, and one for its tags, 72 for a page), serialised as one list (the albums the viewer may
        # see and the stacks read for the page at once).
        results = found.results.read_from(with_stack_size(library_selectors.serialized(Photo.objects.listed())))
        paginator = Paginator(results, selectors.PAGE_SIZE)
        number = data["page"] or 1
        if number > paginator.num_pages:  # as every list of the API: a script reading pages until the end stops
            raise exceptions.NotFound("Invalid page.")
        page = paginator.page(number)
        reasons = found.reasons(page.object_list)
        serialized = PhotoSerializer(page.object_list, many=True, context={"request": request}).data
        return Response(
            {
                "count": paginator.count,
                "page": page.number,
                "pages": paginator.num_pages,
                "results": [
                    {
                        "photo": data,
                        "reasons": reasons.get(photo.pk, []),
                        "strong": found.strong_count is None or page.start_index() + index <= found.strong_count,
                    }
                    for index, (photo, data) in enumerate(zip(page.object_list, serialized, strict=True))
                ],
                "albums": [
                    {"id": str(album.pk), "title": album.title, "owner": album.owner.username} for album in found.albums
                ],
                "facets": found.facets() if paginator.count else {},
                "capped": found.capped,
                "strong_count": found.strong_count,
                "suggestion": found.parsed.suggestion,
                "similar_meaning": [e.term for e in found.parsed.expansions if e.kind == "meaning"],
                "notice": found.notice,
            }
        )
