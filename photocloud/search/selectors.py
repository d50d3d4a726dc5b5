"""Reads: search pictures and albums by words, meaning, filters and example, always within what the viewer may see.

Every result set, count and facet starts from `Photo.objects.visible_to()` (or `owned_by()` for "my library"), or
from the same rules split in parts (`visible_parts`, the date order) or applied to given pictures (`visible_among`,
the facets), and is only ever narrowed from there; the keyword index (backends.py) and the vector index only propose
candidates.
"""

import functools
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import ExtractYear

from photocloud.core.pagination import first_keys
from photocloud.library.access import location_visible
from photocloud.library.models import Album, Photo, category_label, effective_category_sql, in_category
from photocloud.library.selectors import displayed
from photocloud.people import selectors as people_selectors

from . import backends, people
from .models import SearchDocument
from .query import LabelCheck, ParsedQuery, WordsCheck, parse, tokens

PAGE_SIZE = 24
SIMILAR_LIMIT = 240  # search by image: the nearest pictures (ten pages) among those passing words and filters
FACET_VALUES = 12
RESULT_LIMIT = 1000  # results (and facet counts) stop at the best this many; more words or filters narrow them
CANDIDATES_PER_RESULT = 4  # ranked candidates read per result wanted, before letting the database intersect
MEGAPIXEL = 1_000_000
_ALBUM_TEXT = ("album", "album description")  # kinds of a picture's terms that are an album's text, not labels
REASON_LABELS = {"names": "name", "body": "description", "text": "text in picture", "context": "album"}


def _scope(viewer, scope: str, model=Photo):
    """What a search may find; pictures as listings show them (a stack once, by its cover)."""
    found = model.objects.owned_by(viewer) if scope == "mine" else model.objects.visible_to(viewer)
    return found.listed() if model is Photo else found


def _start_of(day, *, after=False) -> datetime:
    """The first (or last) moment of a day of the camera's calendar: in UTC, as sort_date holds it (Photo.sort_date)."""
    return datetime.combine(day, time.max if after else time.min, tzinfo=UTC)


def apply_filters(photos, viewer, filters: dict):
    """Narrow a picture queryset by the search filters (never widen it)."""
    if day := filters.get("date_from"):
        photos = photos.filter(sort_date__gte=_start_of(day))
    if day := filters.get("date_to"):
        photos = photos.filter(sort_date__lte=_start_of(day, after=True))
    if category := filters.get("category"):
        photos = photos.filter(in_category(category))
    if system := filters.get("system_category"):
        photos = photos.filter(analysis__category=system)
    if album := filters.get("album"):
        photos = photos.in_album(album)
    if owner := filters.get("owner"):
        photos = photos.filter(owner=owner_key(owner))
    if make := filters.get("make"):
        photos = photos.filter(camera_make__iexact=make)
    if model := filters.get("model"):
        photos = photos.filter(camera_model__iexact=model)
    if filters.get("has_gps"):
        # Only where the viewer may see the location: filtering must not reveal that a hidden one exists.
        photos = photos.filter(location_visible(viewer), latitude__isnull=False, longitude__isnull=False)
    if (archived := filters.get("archived")) and viewer.is_authenticated:  # a private mark: only the viewer's own
        mine = Q(owner=viewer, archived_at__isnull=False)
        photos = photos.filter(mine) if archived == "only" else photos.exclude(mine)
    if people := [*filters.get("people", ()), *([filters["person"]] if filters.get("person") else [])]:
        photos = photos.filter(people_selectors.showing(viewer, people))  # the viewer's own people only
    if color := filters.get("color"):
        photos = photos.filter(dominant_color=color)
    if orientation := filters.get("orientation"):
        photos = photos.annotate(shape=_orientation()).filter(shape=orientation)
    if size := filters.get("size"):
        photos = photos.annotate(pixels=F("width") * F("height"))
        photos = {
            "small": photos.filter(pixels__lt=MEGAPIXEL),
            "medium": photos.filter(pixels__gte=MEGAPIXEL, pixels__lt=8 * MEGAPIXEL),
            "large": photos.filter(pixels__gte=8 * MEGAPIXEL),
        }[size]
    return photos


def owner_key(name: str):
    """The key of the user called `name`, whatever its case ("Alice" is the user alice): the exact name first, else
    the one name equal but for case (the first one made, should two differ only so); None: nobody is called so. The
    whole name, never a part of it. A lookup by the unique name (a second one when the case differs), so that the
    pictures are filtered by their owner column rather than joined to the users."""
    users = get_user_model().objects.order_by("pk")
    key = users.filter(username=name).values_list("pk", flat=True).first()
    return key if key is not None else users.filter(username__iexact=name).values_list("pk", flat=True).first()


def _nobody_called(name: str) -> bool:
    """Whether no active user is called `name`, in any case: no more than a profile says (a deactivated account's is
    not found either), so that the notice never tells that an account someone closed exists."""
    return not get_user_model().objects.filter(username__iexact=name, is_active=True).exists()


def _orientation():
    return Case(
        When(width__gt=F("height"), then=Value("landscape")),
        When(width__lt=F("height"), then=Value("portrait")),
        When(width=F("height"), then=Value("square")),
        output_field=CharField(),
    )


def _albums_sql(albums) -> tuple[str, list] | None:
    """The SQL of the albums whose words may find a picture (backends._Word.postings_sql)."""
    return None if albums is None else albums.order_by().values("pk").query.sql_with_params()


def ranked_ids(allowed, parsed: ParsedQuery, limit: int, narrow: bool = False, albums=None) -> list:
    """Ids of `allowed` rows (pictures or albums) that match, best first, at most `limit`."""
    return [pk for pk, _ in ranked(allowed, parsed, limit, narrow, albums)]


def ranked(allowed, parsed: ParsedQuery, limit: int, narrow: bool = False, albums=None) -> list[tuple[uuid.UUID, int]]:
    """(id, score) of `allowed` rows (pictures or albums) that match, best first, at most `limit`; a score of at least
    backends.STRONG is a strong match. `albums`: the albums the viewer may see, whose words (title, description,
    tags) find the pictures they hold; None: no album's words count.

    The keyword index ranks the matches on its own and hands over the best few thousand, each checked against
    `allowed` in the same query (a correlated EXISTS: a few primary-key lookups per candidate). It reads only the
    strongest few thousand postings of each word first (backends.ranked_sql), so that a common word in a million
    pictures costs what it does in ten thousand; when that yields too few, every posting of the words is ranked.
    A query of several words that must all be held is ranked from each word's strongest postings too, as far as
    they settle its best (backends.settled_ranking), or from the postings outside the context column when enough
    documents hold every word there (backends.strong_ranking), and from every posting when neither. A viewer usually
    may see a good share of what matches, so that is enough. When not (narrow filters, a small scope), the
    database intersects every match with `allowed` instead, which is cheap exactly then, because `allowed` is
    small; `narrow` (filters were given) goes there directly.
    """
    kind = "photo" if allowed.model is Photo else "album"
    wanted = CANDIDATES_PER_RESULT * limit
    found, rows, settled = [], [], False
    if not narrow and not parsed.one_word_each:
        best = (
            None
            if parsed.names_a_year
            else backends.settled_ranking(kind, parsed.terms, wanted, _albums_sql(albums), enough=limit)
        )
        if best is None:  # common words that meet at random: their best strong matches, grouped in the database
            # (only when there are `wanted` of them: fewer, and their visible share would mostly be too few)
            best = backends.strong_ranking(kind, parsed.terms, wanted, _albums_sql(albums), enough=wanted)
        if best is not None:
            rows, every = best
            for start in range(0, len(rows), limit):  # in rank order, until enough are visible
                part = rows[start : start + limit]
                shown = _visible_ids(allowed, [pk for pk, _ in part])
                found += [(pk, score) for pk, score in part if _as_uuid(pk) in shown]
                if len(found) >= limit:
                    found = found[:limit]
                    break
            settled = every or len(rows) == wanted  # every match, or the best `wanted` of them: exact
    for bounded in (True, False) if parsed.one_word_each else (False,):
        if narrow or len(found) >= limit or settled:
            break
        ranked_sql, ranked_params = parsed.ranked_sql(kind, wanted, _albums_sql(albums), bounded=bounded)
        exists, exists_params = (
            allowed.filter(pk=RawSQL("c.object_id", [])).order_by().values("pk").query.sql_with_params()
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT c.object_id, c.score, EXISTS ({backends.per_row(exists)}) FROM ({ranked_sql}) c "
                "ORDER BY c.score DESC, c.object_id",
                [*exists_params, *ranked_params],
            )
            rows = cursor.fetchall()
        found = [(pk, score) for pk, score, visible in rows if visible][:limit]
    if narrow or (len(found) < limit and len(rows) == wanted):  # many matches, too few of the best visible
        # Each posting is checked before the grouping: "garden" in green pictures of 2019 at a million groups 400
        # postings instead of 187,000 (the statement 125 → 50 ms).
        within = allowed.order_by().values("pk").query.sql_with_params()
        match_sql, match_params = parsed.match_sql(kind, _albums_sql(albums), within=within)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT m.object_id, m.score FROM ({match_sql}) m ORDER BY m.score DESC, m.object_id LIMIT %s",
                [*match_params, limit],
            )
            found = cursor.fetchall()
    return [(uuid.UUID(str(pk)), int(score)) for pk, score in found]


def _as_uuid(pk) -> uuid.UUID:
    return pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))


def _visible_ids(allowed, ids: list) -> set:
    """Which of these ids (as the database gave them) `allowed` holds: a few primary-key lookups each. PostgreSQL
    would scan every picture for a long `IN` list, so there each is checked by the correlated EXISTS of `ranked`."""
    if connection.vendor != "postgresql":
        return {
            pk
            for start in range(0, len(ids), 500)
            for pk in allowed.filter(pk__in=ids[start : start + 500]).order_by().values_list("pk", flat=True)
        }
    exists, exists_params = allowed.filter(pk=RawSQL("c.object_id", [])).order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.object_id FROM unnest(%s::uuid[]) AS c(object_id) WHERE EXISTS ({backends.per_row(exists)})",
            [ids, *exists_params],
        )
        return {uuid.UUID(str(pk)) for (pk,) in cursor.fetchall()}


def visible_labels(viewer, scope: str = "all") -> LabelCheck:
    """Whether a picture or an album in the viewer's scope carries a label made of these words: spelling and meaning
    suggestions come only from those. The label's own postings are read until one belongs to something the viewer
    may see (a primary-key lookup each), so the cost follows the few labels proposed, not the vocabulary."""
    scopes = {"photo": _scope(viewer, scope), "album": _scope(viewer, scope, Album)}

    @functools.cache
    def check(words: tuple[str, ...]) -> bool:
        if not words:
            return False
        for kind, allowed in scopes.items():
            labelled, labelled_params = backends.labelled_sql(kind, list(words))
            exists, exists_params = (
                allowed.filter(pk=RawSQL("p.object_id", [])).order_by().values("pk").query.sql_with_params()
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    f"{labelled} AND EXISTS ({backends.per_row(exists)}) LIMIT 1", [*labelled_params, *exists_params]
                )
                if cursor.fetchone():
                    return True
        return False

    return check


# Pictures and albums counted per word by `held_words`: enough to tell a common word from a stray one; and the
# postings of a word read for it at most, visible or not (a word common in others' libraries is not read whole to
# find the few a stranger may see: spelling help then passes it by).
HELD_COUNT_CAP = 50
HELD_SCAN_CAP = 2000


def held_words(viewer, scope: str = "all") -> WordsCheck:
    """How many of the pictures and albums in the viewer's scope hold each of the given words (up to HELD_COUNT_CAP
    each), for the words any of them holds: spelling help looks for a slip among these. Words no document holds are
    dropped first by one probe of the index each; the few left are counted through the access rules, so a word only
    someone else's private picture holds is never proposed."""
    scopes = {"photo": _scope(viewer, scope), "album": _scope(viewer, scope, Album)}
    albums = _albums_sql(_scope(viewer, "all", Album))

    def check(words: list[str]) -> dict[str, int]:
        counts = {}
        for word in backends.present_terms(words):
            count = 0
            for kind, allowed in scopes.items():
                holding, holding_params = backends.holding_sql(kind, word, albums if kind == "photo" else None)
                exists, exists_params = (
                    allowed.filter(pk=RawSQL("s.object_id", [])).order_by().values("pk").query.sql_with_params()
                )
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT COUNT(*) FROM (SELECT s.object_id FROM ({holding} LIMIT {HELD_SCAN_CAP}) s "
                        f"WHERE EXISTS ({backends.per_row(exists)}) LIMIT {HELD_COUNT_CAP}) c",
                        [*holding_params, *exists_params],
                    )
                    count += cursor.fetchone()[0]
            if count:
                counts[word] = count
        return counts

    return check


class ResultList:
    """Ranked ids that a Paginator slices; only the slice's rows are read, in rank order."""

    def __init__(self, ids: list, model=Photo, rows=None):
        self.ids, self.model = ids, model
        self.rows = rows  # the queryset the rows are read from; by default as a grid shows them

    def read_from(self, rows) -> "ResultList":
        """The same results, their rows read from the queryset `rows` (the API's: what its serializer shows)."""
        return ResultList(self.ids, self.model, rows)

    def __len__(self):
        return len(self.ids)

    def __iter__(self):
        return iter(self[:])

    def __getitem__(self, window: slice):
        ids = self.ids[window]
        if self.rows is not None:
            shown = self.rows
        elif self.model is Photo:
            shown = displayed(Photo.objects)
        else:
            shown = self.model.objects.select_related("owner", "cover")
        rows = shown.in_bulk(ids)
        return [rows[pk] for pk in ids if pk in rows]


@dataclass
class SearchResults:
    parsed: ParsedQuery
    allowed: object  # queryset of the pictures in scope that pass the filters, words aside
    results: ResultList  # the best RESULT_LIMIT matches, in the order asked for
    capped: bool = False  # there are more matches than RESULT_LIMIT
    albums: list = field(default_factory=list)
    similar_to: Photo | None = None
    distances: dict = field(default_factory=dict)
    analysed: bool = True  # False when the picture to compare with has no features yet
    people: list = field(default_factory=list)  # the viewer's people named in the words, now a filter
    # The first `strong_count` results match by what the pictures themselves show; the others ("less likely") only
    # by their album or a faint guess of the classifier. None: not ranked by relevance (all shown alike).
    strong_count: int | None = None
    viewer: object = None  # whose search: the album facet names only albums they may see
    notice: str = ""  # why nothing can match, when a filter names nothing that exists (an unknown owner)

    def facets(self) -> dict[str, list[dict]]:
        """Counts over the results (the best RESULT_LIMIT), checked against the viewer's access once more."""
        if not self.results.ids:
            return {}
        # Each result checked against the access rules once more (the results came through `allowed` already).
        return facets(Photo.objects.visible_among(self.viewer, self.results.ids), Album.objects.visible_to(self.viewer))

    def reasons(self, photos) -> dict:
        explained = reasons(self.parsed, photos, self.distances, self.viewer)
        named = [f"person “{person.name}”" for person in self.people]  # the viewer's own people only
        return {pk: [*named, *found][:3] for pk, found in explained.items()}


def search(
    viewer,
    *,
    q: str = "",
    scope: str = "all",
    sort: str = "relevance",
    filters: dict | None = None,
    similar_to: Photo | None = None,
) -> SearchResults:
    """Pictures matching the words (and/or similar to a picture) that pass the filters, in the order asked for.

    Results stop at the best RESULT_LIMIT (`capped` says when there were more): nobody pages further, and it
    bounds the work of a search that matches most of a large library. The names of the viewer's own people in the
    words are filters ("Anna beach": Anna's pictures matching "beach"); names never enter the shared index.
    """
    named, q = people_selectors.names_in_query(viewer, q)
    if named:
        filters = {**(filters or {}), "people": [person.pk for person in named]}
    parsed = parse(q, visible=visible_labels(viewer, scope), held=held_words(viewer, scope))
    strong_count = None
    allowed = apply_filters(_scope(viewer, scope), viewer, filters or {})
    albums = _scope(viewer, "all", Album)  # whose words may find a picture: the albums the viewer may see
    # Ranked by relevance, the matches are read by `ranked`, not through this SQL: not worth counting words for.
    ranking = sort == "relevance" and similar_to is None
    match = parsed.match_sql("photo", _albums_sql(albums), drive=not ranking) if parsed else None
    if parsed and match is None:  # nothing to look for
        matched = allowed.none()
    elif match is not None:
        matched = allowed.filter(pk__in=RawSQL(f"SELECT m.object_id FROM ({match[0]}) m", match[1]))
    else:
        matched = allowed
    if similar_to is not None:
        ids, distances = _similar_ids(viewer, scope, similar_to, matched)
    elif ranking and match is not None:
        scored = ranked(allowed, parsed, RESULT_LIMIT + 1, narrow=bool(filters), albums=albums)
        strong_count = sum(1 for _, score in scored[:RESULT_LIMIT] if score >= backends.STRONG)
        if not scored and (loose := parsed.any_word()):  # nothing holds every word: what holds some, as less likely
            scored, strong_count = ranked(allowed, loose, RESULT_LIMIT + 1, narrow=bool(filters), albums=albums), 0
        ids, distances = [pk for pk, _ in scored], {}
    else:
        order = ("sort_date", "created_at") if sort == "oldest" else ("-sort_date", "-created_at")
        parts = _parts(viewer, scope, filters or {}) if match is None else None
        ids, distances = first_keys(matched.order_by(*order), parts, RESULT_LIMIT + 1), {}
    notice = ""
    if (owner := (filters or {}).get("owner")) and not ids and _nobody_called(owner):
        notice = f"Nobody is called “{owner}”: no user has that name."
    found = SearchResults(
        parsed,
        allowed,
        ResultList(ids[:RESULT_LIMIT]),
        capped=len(ids) > RESULT_LIMIT,
        similar_to=similar_to,
        distances=distances or {},
        analysed=distances is not None,
        people=named,
        strong_count=strong_count,
        viewer=viewer,
        notice=notice,
    )
    if match is not None and not filters and similar_to is None:
        found.albums = ResultList(ranked_ids(_scope(viewer, scope, Album), parsed, 6), Album)[:]
    return found


def _parts(viewer, scope: str, filters: dict) -> list | None:
    """What the viewer may see that passes the filters, as parts that hold it between them, none in two
    (access.visible_parts, narrowed to the owner filter's owner), for `first_keys` to read each in date order and
    merge; None where one query serves (their own library; SQLite, which cannot cut the parts of a union). In one
    query, what a follower may see of an owner (an OR of albums and placed pictures) has no index in date order on
    PostgreSQL: the search by owner gathered 677,000 pictures and sorted them for the newest 1,001 (1 s at 1,000,000
    pictures, bench/pages.py). Not for words in date order, whose matches bound the work already (each part would
    find them again)."""
    if scope == "mine" or not connection.features.supports_slicing_ordering_in_compound:
        return None
    owner = None
    if name := filters.get("owner"):
        owner = owner_key(name)
        if owner is None:
            return [Photo.objects.none()]
        filters = {key: value for key, value in filters.items() if key != "owner"}
    return [apply_filters(part.listed(), viewer, filters) for part in Photo.objects.visible_parts(viewer, owner=owner)]


def _similar_ids(viewer, scope: str, photo: Photo, matched) -> tuple[list, dict | None]:
    """Ids of the pictures nearest to `photo` among `matched`, and their distances (None: `photo` not analysed)."""
    from photocloud.vision.services import photo_vector
    from photocloud.vision.similar import similar_photos

    vector = photo_vector(photo)
    if vector is None:
        return [], None
    hits = similar_photos(viewer, vector, scope=scope, limit=SIMILAR_LIMIT, exclude=photo, within=matched)
    return [hit.pk for hit, _ in hits], {hit.pk: distance for hit, distance in hits}


FACETS = {
    "category": "Category",
    "system_category": "System category",
    "album": "Album",
    "owner": "Owner",
    "camera": "Camera",
    "color": "Colour",
    "orientation": "Orientation",
    "year": "Year",
}


def facets(photos, albums=None) -> dict[str, list[dict]]:
    """Counts of these pictures by category, album, owner, camera, colour, orientation and year, most common first;
    each value carries the filter parameters that select it. One query, counted here: the set is at most
    RESULT_LIMIT pictures, and one pass over it is cheaper than a GROUP BY per facet. `albums`, the albums the viewer
    may see: a picture seen through another album it is placed in never names its hidden home album. A picture with
    no date taken is in no year, as a year typed finds only pictures taken then (services._photo_fields): its
    sort_date is when it was uploaded."""
    taken_year = Case(When(taken_at__isnull=False, then=ExtractYear("sort_date", tzinfo=UTC)))
    rows = (
        photos.order_by()
        .annotate(effective_category=effective_category_sql(), shape=_orientation(), year=taken_year)
        .values_list(
            "effective_category",
            "analysis__category",
            "album_id",
            "album__title",
            "owner__username",
            "camera_make",
            "camera_model",
            "dominant_color",
            "shape",
            "year",
        )
    )
    counters = {name: Counter() for name in FACETS}
    for category, system, album_id, album_title, owner, make, model, color, shape, year in rows:
        counters["category"][(category,)] += 1
        counters["system_category"][(system,)] += bool(system)
        counters["album"][(album_id, album_title)] += 1
        counters["owner"][(owner,)] += 1
        counters["camera"][(make, model)] += bool(make or model)
        counters["color"][(color,)] += bool(color)
        counters["orientation"][(shape,)] += bool(shape)
        counters["year"][(year,)] += year is not None
    if albums is not None:
        shown = set(albums.filter(pk__in=[key[0] for key in counters["album"]]).values_list("pk", flat=True))
        counters["album"] = Counter({key: n for key, n in counters["album"].items() if key[0] in shown})
    describe = {
        "category": lambda key: (category_label(key[0]), {"category": key[0]}),
        "system_category": lambda key: (category_label(key[0]), {"system_category": key[0]}),
        "album": lambda key: (key[1], {"album": str(key[0])}),
        "owner": lambda key: (key[0], {"owner": key[0]}),
        "camera": lambda key: (f"{key[0]} {key[1]}".strip(), {"make": key[0], "model": key[1]}),
        "color": lambda key: (key[0], {"color": key[0]}),
        "orientation": lambda key: (key[0], {"orientation": key[0]}),
        "year": lambda key: (str(key[0]), {"date_from": f"{key[0]}-01-01", "date_to": f"{key[0]}-12-31"}),
    }
    result = {}
    for name, counter in counters.items():
        common = sorted(
            ((key, count) for key, count in counter.items() if count), key=lambda item: (-item[1], str(item[0]))
        )[:FACET_VALUES]
        if common:
            result[name] = [
                dict(zip(("label", "params"), describe[name](key), strict=True), count=count) for key, count in common
            ]
    return result


def reasons(parsed: ParsedQuery, photos, distances: dict, viewer=None) -> dict:
    """Why each picture matched, in words: {photo id: ["tag “beach”", "similar meaning: “golden retriever”", …]};
    never a word of an album the viewer may not see."""
    documents = {doc.photo_id: doc for doc in SearchDocument.objects.filter(photo__in=[p.pk for p in photos])}
    named = {term[2] for doc in documents.values() for term in doc.terms if len(term) == 3}
    shown = {str(pk) for pk in Album.objects.visible_to(viewer).filter(pk__in=named).values_list("pk", flat=True)}
    for doc in documents.values():  # what hidden albums say is left out
        doc.terms = [term for term in doc.terms if len(term) < 3 or term[2] in shown]
    explained = {}
    for photo in photos:
        doc = documents.get(photo.pk)
        found = []
        if photo.pk in distances:
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
        labels = (term for term in doc.terms if term[0] not in _ALBUM_TEXT)
        term = next((term for term in labels if _contains(term[1], [word], prefix=True)), None)
        if term:
            found.append(f"{term[0]} “{term[1]}”")
            continue
        column = next(
            (c for c in ("names", "body", "text", "context") if _contains(getattr(doc, c), [word], prefix=True)), None
        )
        if column is None and any(_contains(t[1], [word], prefix=True) for t in doc.terms if t[0] in _ALBUM_TEXT):
            column = "context"  # the title or description of an album the viewer may see
        if column:
            found.append(REASON_LABELS[column])
    for expansion in parsed.expansions:
        if expansion.kind in ("translation", "any word") and found:  # the words typed explain it already
            continue
        if expansion.kind == "people" and expansion.words[-1] != people.PORTRAIT:  # a marker, never shown
            if people.FACES in tokens(doc.labels):
                found.append("faces in the picture")
            continue
        words = tokens(expansion.term)  # the label, without the dates it must hold too
        term = next((term for term in doc.terms if _contains(term[1], words, prefix=False)), None)
        if term is None:
            continue
        if expansion.kind == "meaning":
            found.append(f"similar meaning: {term[0]} “{term[1]}”")
        elif expansion.kind == "spelling":
            found.append(f"spelling: {term[0]} “{term[1]}”")
        else:
            found.append(f"{term[0]} “{term[1]}”")
    return found
