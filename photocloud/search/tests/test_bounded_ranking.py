"""Ranking reads each word's strongest postings only (backends.ranked_sql): its best results are those of ranking
every match, and matches the bounded read misses are still found."""

import pytest
from django.db import connection

from photocloud.library.models import Album
from photocloud.search import selectors
from photocloud.search.query import parse
from tests.factories import album, photo

pytestmark = pytest.mark.usefixtures("no_meaning")


def every_match_ranked(viewer, q):
    """(id, score) of every match, best first: the unbounded ranking."""
    albums = selectors._albums_sql(Album.objects.visible_to(viewer))
    sql, params = parse(q, expand=False).match_sql("photo", albums)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT m.object_id, m.score FROM ({sql}) m ORDER BY m.score DESC, m.object_id", params)
        return [(str(pk).replace("-", ""), int(score)) for pk, score in cursor.fetchall()]


def bounded(viewer, q, limit):
    allowed, albums = selectors._scope(viewer, "all"), Album.objects.visible_to(viewer)
    return [(pk.hex, score) for pk, score in selectors.ranked(allowed, parse(q, expand=False), limit, albums=albums)]


def test_the_best_results_of_the_bounded_read_are_those_of_ranking_every_match(alice):
    trips, beach_day = album(alice, title="Trips"), album(alice, title="Beach day")
    for n in range(14):  # more than the read holds (4 per result wanted): 8 for the best 2
        photo(trips, title=f"shore {n}", tags=["beach"])
    for n in range(6):
        photo(trips, title=f"beach {n}")  # in the name: weaker than a tag
    best = photo(beach_day, title="Beach", tags=["beach"])  # a tag, its name and its album's title: the best
    other = photo(beach_day, title="beach 6")  # its name and its album's title
    photo(beach_day, title="sand")  # its album's title only: weakest
    photo(trips, title="beaches", tags=["beachfront"])  # longer words of the prefix, in labels and names
    ranking = every_match_ranked(alice, "beach")
    assert ranking[0] == (best.pk.hex, 1_000_104) and (other.pk.hex, 1_000_040) in ranking  # + 6: the album's title
    for limit in (1, 2, 3):
        assert bounded(alice, "beach", limit) == ranking[:limit]
    assert bounded(alice, "beach", 5)[:5] == ranking[:5]
    results = selectors.search(alice, q="beach")
    assert results.strong_count == len(ranking) - 1  # all but the picture only its album's title finds
    assert [pk.hex for pk in results.results.ids] == [pk for pk, _ in ranking]


def test_pictures_holding_several_common_words_beyond_each_words_best_are_found(alice):
    trips = album(alice, title="Trips")
    for n in range(10):
        photo(trips, title=f"one {n}", tags=["beach"])
        photo(trips, title=f"two {n}", tags=["sunset"])
    both = photo(trips, description="beach at sunset")  # in the descriptions: after every tag of either word
    assert bounded(alice, "beach sunset", 1) == every_match_ranked(alice, "beach sunset")[:1]
    assert bounded(alice, "beach sunset", 1)[0][0] == both.pk.hex
    assert [p.pk for p in selectors.search(alice, q="beach sunset").results[0:10]] == [both.pk]
