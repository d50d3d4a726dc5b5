"""Pagination that stays fast deep into a large library, for pages and for the API."""

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination


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


class ApiPagination(PageNumberPagination):
    django_paginator_class = KeysFirstPaginator


def page_of(request, queryset, per_page: int | None = None):
    """The page `?page=` asks for (the last one when past the end, the first when not a number)."""
    per_page = per_page or settings.PHOTOCLOUD["PAGE_SIZE"]
    return KeysFirstPaginator(queryset, per_page).get_page(request.GET.get("page"))


MOST_PAGES = 10_000_000


def scroll_page(request, queryset, per_page: int | None = None):
    """As `page_of`, for a grid that scrolls on ("Load more"): the page reads one key past its end to know whether
    another follows, and the listing is never counted, unless the page asked for is past the end. A count reads
    every picture of the listing: a whole timeline, 1,000,000 index entries in a large library (bench/pages.py)."""
    per_page = per_page or settings.PHOTOCLOUD["PAGE_SIZE"]
    paginator = KeysFirstPaginator(queryset, per_page)
    try:
        number = int(request.GET.get("page") or 1)
    except ValueError:
        number = 1
    if 1 <= number <= MOST_PAGES:  # beyond, past the end of any library: counted below, no giant OFFSET
        bottom = (number - 1) * per_page
        keys = list(queryset.values_list("pk", flat=True)[bottom : bottom + per_page + 1])
        if keys or number == 1:
            shown = keys[:per_page]
            rows = queryset.in_bulk(shown)
            return OpenEndedPage([rows[key] for key in shown if key in rows], number, paginator, len(keys) > per_page)
    return paginator.get_page(number)  # past either end: the last page, counted (as Django's get_page)
