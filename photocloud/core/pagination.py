"""Pagination that stays fast deep into a large library, for pages and for the API."""

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import QuerySet, Value
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from .serializers import QueryFilters, checked_query


class KeysFirstPaginator(Paginator):
    """Find a page's primary keys first, then load just those rows with their joins.

    Skipping to picture 96,000 of a timeline then walks an index instead of building 96,000 joined rows that are
    thrown away: 30 ms instead of 145 ms at 100,000 pictures on SQLite (bench/pages.py).
    """

    def _get_page(self, object_list, number, paginator):
        if isinstance(object_list, QuerySet):
            keys = list(object_list.values_list("pk", flat=True))
            rows = self.object_list.in_bulk(keys)
            object_list = [rows[key] for key in keys if key in rows]
        return super()._get_page(object_list, number, paginator)


class OpenEndedPage(Page):
    """A page that knows whether another follows without the listing's count (see `scroll_page`)."""

    open_ended = True

    def __init__(self, object_list, number, paginator, more: bool):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self):
        return self.more

    def has_previous(self):
        return self.number > 1

    def next_page_number(self):
        return self.number + 1

    def previous_page_number(self):
        return self.number - 1

    def end_index(self):
        return self.start_index() + len(self) - 1 if len(self) else 0


def _refuse_unread_filters(request):
    """A list whose view read no filters (`core.serializers.checked_query`) takes only `page`: any other query
    parameter is a 400, as a filter of another list silently ignored would answer a script with what it filtered out."""
    if not request.__dict__.get("_checked_query"):
        checked_query(request, QueryFilters)


class ApiPagination(PageNumberPagination):
    django_paginator_class = KeysFirstPaginator

    def paginate_queryset(self, queryset, request, view=None):
        _refuse_unread_filters(request)
        return super().paginate_queryset(queryset, request, view)


COUNTED_AT_MOST = 1_000


class CappedCountPagination(ApiPagination):
    """Page-number pagination for a list as long as a whole library: `count` is exact up to COUNTED_AT_MOST, and past
    it a lower bound (`count_exact: false`: "more than 1,000", as a search engine says of its results). An exact count
    reads every row the viewer may see: most of the photo list's time at 100,000 pictures (bench/pages.py), and the
    capped one reads up to 1,000 rows. A page reads one key past its end to know whether another follows, so the last
    page knows the count exactly; `?page=last` counts them all. A view may give `listing_parts(queryset)`: see `_keys`.
    """

    def paginate_queryset(self, queryset, request, view=None):
        _refuse_unread_filters(request)
        page_size = self.get_page_size(request)
        asked = request.query_params.get(self.page_query_param) or 1
        if not page_size or not isinstance(queryset, QuerySet) or asked in self.last_page_strings:
            self.count_exact = True
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        paginator = self.django_paginator_class(queryset, page_size)
        parts = view.listing_parts(queryset) if hasattr(view, "listing_parts") else None
        try:
            page = _keys_page(queryset, int(asked), paginator, parts)
        except ValueError:
            page = None
        if page is None:
            raise NotFound(self.invalid_page_message)
        bottom = (page.number - 1) * page_size
        if not page.more:
            self.count_exact, count = True, bottom + len(page)
        else:  # only a count tells how many follow: up to the cap
            known = bottom + page_size + 1  # at least: this page and the key read past it
            counted = known if known > COUNTED_AT_MOST else _count_up_to(parts or [queryset], COUNTED_AT_MOST + 1)
            self.count_exact = counted <= COUNTED_AT_MOST
            count = counted if self.count_exact else max(COUNTED_AT_MOST, known - 1)
        paginator.count = count  # a cached_property, set: the page's numbering reads it and nothing counts again
        self.page = page
        self.display_page_controls = page.more or page.number > 1
        return list(page)

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "count_exact": self.count_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count"]["description"] = (
            f"How many there are, exactly up to {COUNTED_AT_MOST:,}; when `count_exact` is false, more than this."
        )
        described["properties"]["count_exact"] = {"type": "boolean", "example": True}
        described["required"] = [*described["required"], "count_exact"]
        return described


def page_of(request, queryset, per_page: int | None = None):
    """The page `?page=` asks for (the last one when past the end, the first when not a number)."""
    per_page = per_page or settings.PHOTOCLOUD["PAGE_SIZE"]
    return KeysFirstPaginator(queryset, per_page).get_page(request.GET.get("page"))


MOST_PAGES = 10_000_000


def _keys_page(queryset, number: int, paginator, parts=None, skipped: int = 0) -> OpenEndedPage | None:
    """Page `number` of the queryset, its keys read first and one more past its end (whether another follows), or
    None past either end (an empty first page is a page). Never a count of the listing. `parts`: see `_keys`.
    `skipped`: how many rows of the listing the queryset already leaves out before its first (see `scroll_page`)."""
    if not 1 <= number <= MOST_PAGES:  # beyond, past the end of any library: no giant OFFSET
        return None
    bottom = (number - 1) * paginator.per_page - skipped
    keys, holders = _keys(queryset, parts, bottom, paginator.per_page + 1)
    if not keys and number != 1:
        return None
    shown = keys[: paginator.per_page]
    rows = _rows(queryset, parts, shown, holders)
    return OpenEndedPage([rows[key] for key in shown if key in rows], number, paginator, len(keys) > len(shown))


def scroll_page(request, queryset, per_page: int | None = None, skip=None):
    """As `page_of`, for a grid that scrolls on ("Load more"): the page reads one key past its end to know whether
    another follows, and the listing is never counted, unless the page asked for is past the end. A count reads
    every picture of the listing: a whole timeline, 1,000,000 index entries in a large library (bench/pages.py).

    `skip(first_row)`, when given, says how to start deep in the listing without reading the rows before:
    (the queryset narrowed to start later, how many rows of the listing it leaves out), at most `first_row` of them
    (the timeline skips whole months it knows the count of, selectors.timeline_skip)."""
    per_page = per_page or settings.PHOTOCLOUD["PAGE_SIZE"]
    paginator = KeysFirstPaginator(queryset, per_page)
    try:
        number = int(request.GET.get("page") or 1)
    except ValueError:
        number = 1
    page = None
    if skip is not None and 1 < number <= MOST_PAGES:
        later, skipped = skip((number - 1) * per_page)
        page = _keys_page(later, number, KeysFirstPaginator(later, per_page), skipped=skipped)
    if page is None:
        page = _keys_page(queryset, number, paginator)
    return paginator.get_page(number) if page is None else page  # past the end: the last, counted


def _keys(queryset, parts, bottom: int, limit: int) -> tuple[list, dict]:
    """Keys `bottom` to `bottom + limit` of the queryset in its order, and {key: index of the part holding it} when
    read through `parts`. `parts` (a view's `listing_parts`), querysets that hold its rows between them, none twice,
    are each read in that order and cut at the page's end, then merged (UNION ALL), where the database can cut the
    parts of a UNION (not SQLite): each part can walk an index of its own in order where the whole, a disjunction,
    has none and was read and sorted in full. Each part holds the rows as the page shows them (see `_rows`)."""
    if not parts or not connections[queryset.db].features.supports_slicing_ordering_in_compound:
        return list(queryset.values_list("pk", flat=True)[bottom : bottom + limit]), {}
    order = queryset.query.order_by or queryset.model._meta.ordering
    if len(parts) == 1:  # nothing to merge (a search narrowed to the viewer's own pictures)
        keys = list(parts[0].order_by(*order).values_list("pk", flat=True)[bottom : bottom + limit])
        return keys, dict.fromkeys(keys, 0)
    columns = ["pk", *dict.fromkeys(name.lstrip("-") for name in order), "listing_part"]
    first, *rest = (
        part.annotate(listing_part=Value(index)).values_list(*columns).order_by(*order)[: bottom + limit]
        for index, part in enumerate(parts)
    )
    rows = list(first.union(*rest, all=True).order_by(*order)[bottom : bottom + limit])
    return [row[0] for row in rows], {row[0]: row[-1] for row in rows}


def first_keys(queryset, parts, limit: int) -> list:
    """The first `limit` keys of the queryset in its order, read through `parts` as a page's are (see `_keys`): for a
    list cut at a number of rows, not a page (the search's best RESULT_LIMIT)."""
    return _keys(queryset, parts, 0, limit)[0]


def _rows(queryset, parts, keys, holders: dict) -> dict:
    """{key: row} of these keys, each read through the part that holds it when the keys came from `parts` (`holders`,
    see `_keys`): a part's condition is then checked on the page's rows alone, where the whole queryset's, a
    disjunction, may first build what it checks them against from the whole library (on PostgreSQL the list of every
    picture placed in an album the viewer may see, 35,000 at 1,000,000 pictures, bench/pages.py)."""
    if not holders:
        return queryset.in_bulk(keys)
    rows: dict = {}
    for index in sorted(set(holders.values())):
        rows.update(parts[index].in_bulk([key for key in keys if holders[key] == index]))
    return rows


def _count_up_to(parts, most: int) -> int:
    """The rows of these querysets (none in two) counted up to `most`: their keys alone, without the annotations a
    page shows, each part in its own query (an index of its own)."""
    found = 0
    for part in parts:
        found += part.order_by().values("pk")[: most - found].count()
        if found >= most:
            break
    return found
