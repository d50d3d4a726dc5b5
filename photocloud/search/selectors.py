"""Reads: search pictures and albums by words, meaning, filters and example, always within what the viewer may see.

Every result set, count and facet starts from `Photo.objects.visible_to()` (or `owned_by()` for "my library") and
is only ever narrowed from there; the full-text index (backends.py) and the vector index only propose candidates.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, time

from django.db import connection
from django.db.models import Case, CharField, Count, F, Q, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, ExtractYear, NullIf
from django.utils import timezone

from photocloud.library.models import Album, Photo, category_label

from . import backends
from .models import SearchDocument
from .query import ParsedQuery, parse, tokens

PAGE_SIZE = 24
SIMILAR_LIMIT = 240  # search by image: the nearest pictures (ten pages) among those passing words and filters
FACET_VALUES = 12
MEGAPIXEL = 1_000_000
REASON_LABELS = {"names": "name", "body": "description", "text": "text in picture"}


def _scope(viewer, scope: str, model=Photo):
    return model.objects.owned_by(viewer) if scope == "mine" else model.objects.visible_to(viewer)


def _start_of(day, *, after=False) -> datetime:
    moment = datetime.combine(day, time.max if after else time.min)
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def apply_filters(photos, viewer, filters: dict):
    """Narrow a picture queryset by the search filters (never widen it)."""
    if day := filters.get("date_from"):
        photos = photos.filter(sort_date__gte=_start_of(day))
    if day := filters.get("date_to"):
        photos = photos.filter(sort_date__lte=_start_of(day, after=True))
    if category := filters.get("category"):
        photos = photos.filter(Q(category=category) | Q(category="", album__category=category))
    if system := filters.get("system_category"):
        photos = photos.filter(analysis__category=system)
    if album := filters.get("album"):
        photos = photos.filter(album_id=album)
    if owner := filters.get("owner"):
        photos = photos.filter(owner__username=owner)
    if make := filters.get("make"):
        photos = photos.filter(camera_make__iexact=make)
    if model := filters.get("model"):
        photos = photos.filter(camera_model__iexact=model)
    if filters.get("has_gps"):
        # Only where the viewer may see the location: filtering must not reveal that a hidden one exists.
        shared = Q(owner__share_location=True) | (Q(owner=viewer) if viewer.is_authenticated else Q(pk__in=[]))
        photos = photos.filter(shared, latitude__isnull=False, longitude__isnull=False)
    if color := filters.get("color"):
        photos = photos.filter(dominant_color=color)
    if orientation := filters.get("orientation"):
        photos = photos.annotate(shape=_orientation()).filter(shape=orientation)
    if size := filters.get("size"):
        photos = photos.annotate(pixels=F("width") * F("height"))
        photos = {"small": photos.filter(pixels__lt=MEGAPIXEL),
                  "medium": photos.filter(pixels__gte=MEGAPIXEL, pixels__lt=8 * MEGAPIXEL),
                  "large": photos.filter(pixels__gte=8 * MEGAPIXEL)}[size]
    return photos


def _orientation():
    return Case(When(width__gt=F("height"), then=Value("landscape")), When(width__lt=F("height"),
                then=Value("portrait")), When(width=F("height"), then=Value("square")), output_field=CharField())


def _effective_category():
    return Coalesce(NullIf("category", Value("")), "album__category")


class RankedMatches:
    """Pictures or albums of `allowed` that match the full-text query, best first; sliced in the database, so a
    Paginator fetches one page at a time."""

    def __init__(self, allowed, match: tuple[str, list]):
        self.allowed = allowed
        self.sql, self.params = match
        self.scores: dict = {}

    def count(self) -> int:
        return self.allowed.filter(pk__in=RawSQL(f"SELECT m.object_id FROM ({self.sql}) m", self.params)).count()

    def __getitem__(self, window: slice):
        allowed_sql, allowed_params = self.allowed.values("pk").query.sql_with_params()
        offset = window.start or 0
        query = (f"SELECT m.object_id, m.score FROM ({self.sql}) m WHERE m.object_id IN ({allowed_sql}) "
                 "ORDER BY m.score DESC, m.object_id LIMIT %s OFFSET %s")
        with connection.cursor() as cursor:
            cursor.execute(query, [*self.params, *allowed_params, window.stop - offset, offset])
            rows = [(uuid.UUID(str(pk)), score) for pk, score in cursor.fetchall()]
        self.scores.update(rows)
        found = self.allowed.model.objects.select_related(*_related(self.allowed.model)).in_bulk([pk for pk, _ in rows])
        return [found[pk] for pk, _ in rows if pk in found]


def _related(model):
    return ("album", "owner") if model is Photo else ("owner", "cover")


@dataclass
class SearchResults:
    parsed: ParsedQuery
    results: object  # a queryset, RankedMatches or list: what the Paginator pages through
    matched: object  # queryset of every matching picture the viewer may see (counts and facets)
    albums: list = field(default_factory=list)
    similar_to: Photo | None = None
    distances: dict = field(default_factory=dict)
    analysed: bool = True  # False when the picture to compare with has no features yet

    def facets(self) -> dict[str, list[dict]]:
        return facets(self.matched)

    def reasons(self, photos) -> dict:
        return reasons(self.parsed, photos, self.distances)


def search(viewer, *, q: str = "", scope: str = "all", sort: str = "relevance", filters: dict | None = None,
           similar_to: Photo | None = None) -> SearchResults:
    """Pictures matching the words (and/or similar to a picture) that pass the filters, in the order asked for."""
    parsed = parse(q)
    allowed = apply_filters(_scope(viewer, scope), viewer, filters or {}).select_related("album", "owner")
    match = backends.match_sql("photo", parsed.required, parsed.phrases) if parsed else None
    if parsed and match is None:  # only words the database does not index (e.g. very short ones on MariaDB)
        matched = allowed.none()
    elif match is not None:
        matched = allowed.filter(pk__in=RawSQL(f"SELECT m.object_id FROM ({match[0]}) m", match[1]))
    else:
        matched = allowed
    found = SearchResults(parsed, matched, matched, similar_to=similar_to)
    if similar_to is not None:
        _rank_by_similarity(found, viewer, scope)
    elif sort == "relevance" and match is not None:
        found.results = RankedMatches(allowed, match)
    else:
        found.results = matched.order_by(*(("sort_date", "created_at") if sort == "oldest"
                                           else ("-sort_date", "-created_at")))
    if match is not None and not filters and similar_to is None:
        album_match = backends.match_sql("album", parsed.required, parsed.phrases)
        found.albums = RankedMatches(_scope(viewer, scope, Album), album_match)[0:6]
    return found


def _rank_by_similarity(found: SearchResults, viewer, scope: str) -> None:
    from photocloud.vision.search import similar_photos
    from photocloud.vision.services import photo_vector

    vector = photo_vector(found.similar_to)
    if vector is None:
        found.results, found.matched, found.analysed = [], found.matched.none(), False
        return
    hits = similar_photos(viewer, vector, scope=scope, limit=SIMILAR_LIMIT, exclude=found.similar_to,
                          within=found.matched)
    found.results = [photo for photo, _ in hits]
    found.distances = {photo.pk: distance for photo, distance in hits}
    found.matched = found.matched.filter(pk__in=list(found.distances))


FACETS = {
    "category": "Category", "system_category": "System category", "album": "Album", "owner": "Owner",
    "camera": "Camera", "color": "Colour", "orientation": "Orientation", "year": "Year",
}


def facets(matched) -> dict[str, list[dict]]:
    """Counts of the matching pictures by category, album, owner, camera, colour, orientation and year; each entry
    carries the filter parameters that select it."""

    def grouped(queryset, *values):
        return list(queryset.values(*values).annotate(count=Count("pk")).order_by("-count", *values)[:FACET_VALUES])

    plain = matched.order_by()
    result = {
        "category": [{"label": category_label(row["key"]), "count": row["count"], "params": {"category": row["key"]}}
                     for row in grouped(plain.annotate(key=_effective_category()), "key")],
        "system_category": [
            {"label": category_label(row["analysis__category"]), "count": row["count"],
             "params": {"system_category": row["analysis__category"]}}
            for row in grouped(plain.exclude(analysis__category__isnull=True).exclude(analysis__category=""),
                               "analysis__category")],
        "album": [{"label": row["album__title"], "count": row["count"], "params": {"album": str(row["album"])}}
                  for row in grouped(plain, "album", "album__title")],
        "owner": [{"label": row["owner__username"], "count": row["count"],
                   "params": {"owner": row["owner__username"]}} for row in grouped(plain, "owner__username")],
        "camera": [{"label": f"{row['camera_make']} {row['camera_model']}".strip(), "count": row["count"],
                    "params": {"make": row["camera_make"], "model": row["camera_model"]}}
                   for row in grouped(plain.exclude(camera_make="", camera_model=""), "camera_make", "camera_model")],
        "color": [{"label": row["dominant_color"], "count": row["count"], "params": {"color": row["dominant_color"]}}
                  for row in grouped(plain.exclude(dominant_color=""), "dominant_color")],
        "orientation": [{"label": row["shape"], "count": row["count"], "params": {"orientation": row["shape"]}}
                        for row in grouped(plain.annotate(shape=_orientation()).exclude(shape=None), "shape")],
        "year": [{"label": str(row["year"]), "count": row["count"],
                  "params": {"date_from": f"{row['year']}-01-01", "date_to": f"{row['year']}-12-31"}}
                 for row in grouped(plain.annotate(year=ExtractYear("sort_date")), "year")],
    }
    return {name: values for name, values in result.items() if values}


def reasons(parsed: ParsedQuery, photos, distances: dict | None = None) -> dict:
    """Why each picture matched, in words: {photo id: ["tag “beach”", "similar meaning: “golden retriever”", …]}."""
    documents = {doc.photo_id: doc for doc in SearchDocument.objects.filter(photo__in=[p.pk for p in photos])}
    explained = {}
    for photo in photos:
        doc = documents.get(photo.pk)
        found = []
        if distances and photo.pk in distances:
            found.append("looks similar")
        if doc is not None and parsed:
            found += _document_reasons(parsed, doc)
        explained[photo.pk] = list(dict.fromkeys(found))[:3]
    return explained


def _contains(text: str, words: list[str], prefix: bool) -> bool:
    have = tokens(text)
    if prefix:
        return all(any(token.startswith(word) for token in have) for word in words)
    joined = " " + " ".join(have) + " "
    return " " + " ".join(words) + " " in joined


def _document_reasons(parsed: ParsedQuery, doc: SearchDocument) -> list[str]:
    found = []
    for word in parsed.required:
        term = next((term for term in doc.terms if _contains(term[1], [word], prefix=True)), None)
        if term:
            found.append(f"{term[0]} “{term[1]}”")
            continue
        column = next((c for c in ("names", "body", "text") if _contains(getattr(doc, c), [word], prefix=True)), None)
        if column:
            found.append(REASON_LABELS[column])
    for expansion in parsed.expansions:
        term = next((term for term in doc.terms if _contains(term[1], expansion.words, prefix=False)), None)
        if term is None:
            continue
        if expansion.kind == "meaning":
            found.append(f"similar meaning: {term[0]} “{term[1]}”")
        elif expansion.kind == "spelling":
            found.append(f"spelling: {term[0]} “{term[1]}”")
        else:
            found.append(f"{term[0]} “{term[1]}”")
    return found
