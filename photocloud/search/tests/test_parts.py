"""The search without words reads what the viewer may see as parts (access.visible_parts), each in date order, merged:
the same results as the one query over visible_to, for every viewer, with or without the owner filter; and the facets
check each result once more through access.visible_among."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from photocloud.library.models import Photo
from photocloud.library.tests.test_api_pagination import _visibility_world
from photocloud.search import selectors


@pytest.fixture
def world(alice, bob, make_user):
    carol = make_user("carol")
    _visibility_world(alice, bob, carol)
    return {"alice": alice, "bob": bob, "carol": carol, "visitor": AnonymousUser()}


def _expected(viewer, owner: str | None, sort: str) -> list:
    photos = Photo.objects.visible_to(viewer).listed()
    if owner:
        photos = photos.filter(owner__username=owner)
    order = ("sort_date", "created_at") if sort == "oldest" else ("-sort_date", "-created_at")
    return list(photos.order_by(*order).values_list("pk", flat=True))


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "visitor"])
@pytest.mark.parametrize("owner", [None, "alice", "bob", "nobody"])
@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest"])
def test_results_in_date_order_are_those_of_visible_to(world, monkeypatch, who, owner, sort):
    """Cut at a small RESULT_LIMIT, so that the parts are cut and merged: the first results of the whole, in order,
    and `capped` when more are left; the facets count those results."""
    monkeypatch.setattr(selectors, "RESULT_LIMIT", 5)
    viewer = world[who]
    filters = {"owner": owner} if owner else {}
    expected = _expected(viewer, owner, sort)
    found = selectors.search(viewer, sort=sort, filters=filters)
    assert found.results.ids == expected[:5] and found.capped == (len(expected) > 5), (who, owner, sort)
    if expected:  # the year facet counts the pictures with a date taken
        years = found.facets().get("year", [])
        dated = Photo.objects.filter(pk__in=expected[:5], taken_at__isnull=False).count()
        assert sum(value["count"] for value in years) == dated
    mine = selectors.search(viewer, scope="mine", sort=sort, filters=filters) if viewer.is_authenticated else None
    if mine is not None:
        own = [pk for pk in _expected(viewer, owner, sort) if Photo.objects.get(pk=pk).owner_id == viewer.pk]
        assert mine.results.ids == own[:5]


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "visitor"])
def test_visible_among_is_visible_to_of_those_pictures(world, who):
    """access.visible_among(user, ids): exactly the pictures of `ids` that visible_to(user) holds, whichever they are
    (the user's own, others' by their home album or by an album they are placed in, hidden, in the Trash)."""
    viewer = world[who]
    every = list(Photo.objects.values_list("pk", flat=True))
    visible = set(Photo.objects.visible_to(viewer).values_list("pk", flat=True))
    assert visible and len(visible) < len(every)
    for chosen in (every, every[::2], every[1::3], []):
        among = set(Photo.objects.visible_among(viewer, chosen).values_list("pk", flat=True))
        assert among == visible & set(chosen), who


@pytest.mark.skipif(connection.vendor != "postgresql", reason="only PostgreSQL merges parts cut in order")
def test_on_postgresql_a_search_by_owner_reads_each_part_cut_at_the_limit(world):
    """The one query over visible_to has no index in date order: PostgreSQL gathered every picture a follower may
    see of an owner and sorted them (677,000 for 1,001 results at 1,000,000 pictures, bench/pages.py). Each part is
    read in order and cut at the limit, the parts merged by a UNION ALL."""
    with CaptureQueriesContext(connection) as queries:
        selectors.search(world["bob"], filters={"owner": "alice"})
    listed = [query["sql"] for query in queries.captured_queries if "UNION ALL" in query["sql"]]
    assert len(listed) == 1 and listed[0].count(f"LIMIT {selectors.RESULT_LIMIT + 1}") >= 3
