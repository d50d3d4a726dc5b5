"""Ranking reads each word's strongest postings only (backends.ranked_sql): its best results are those of ranking
every match, and matches the bounded read misses are still found."""

import random
import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from photocloud.accounts.models import Follow
from photocloud.library import services as library
from photocloud.library import trash
from photocloud.library.models import Album
from photocloud.search import backends, selectors
from photocloud.search.query import Expansion, ParsedQuery, parse, tokens
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


def ranking_of(viewer, parsed, drive=True, within=None):
    """Every match of a parsed query, best first, as (hex id, score)."""
    albums = selectors._albums_sql(Album.objects.visible_to(viewer))
    sql, params = parsed.match_sql("photo", albums, within=within, drive=drive)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT m.object_id, m.score FROM ({sql}) m ORDER BY m.score DESC, m.object_id", params)
        return [(uuid.UUID(str(pk)).hex, int(score)) for pk, score in cursor.fetchall()]


def settled(viewer, parsed, cap):
    albums = selectors._albums_sql(Album.objects.visible_to(viewer))
    best = backends.settled_ranking("photo", parsed.terms, cap, albums)
    if best is None:  # a prefix's longer words have more postings than the cap: not read, every posting is ranked
        return None, False
    return [(uuid.UUID(str(pk)).hex, score) for pk, score in best[0]], best[1]


def strong_ranked(viewer, parsed, cap, enough=0):
    albums = selectors._albums_sql(Album.objects.visible_to(viewer))
    best = backends.strong_ranking("photo", parsed.terms, cap, albums, enough=enough)
    if best is None:
        return None
    assert best[1] is False  # the weak matches were not read: never known to be all
    return [(uuid.UUID(str(pk)).hex, score) for pk, score in best[0]]


@pytest.fixture
def mixed_library(alice):
    """Pictures holding three words in every column, in albums whose titles hold them too (one of them private), some
    placed in a second album, some with longer words of a prefix: many ties, many partial matches."""
    rng = random.Random(7)
    words = ["beach", "sunset", "dune"]
    albums = [
        album(alice, title="Beach trip"),
        album(alice, title="Sunset, dune and pier", access="private"),
        album(alice, title="Plain"),
        album(alice, title="Dune", access="followers"),
    ]
    pictures = []
    for n in range(70):
        pick = lambda: [w for w in words if rng.random() < 0.35]  # noqa: E731
        tags = pick() + (["beaches"] if rng.random() < 0.1 else []) + (["pier"] if n % 6 == 0 else [])  # a rare word
        labels = [[w, 0.9] for w in pick()[:1]] + [[w, 0.05] for w in pick()[:1]]  # a label and a faint guess
        pictures.append(
            photo(
                rng.choice(albums),
                title=" ".join(["shot", *pick()]),
                tags=tags,
                description=" ".join(pick()),
                analysis={"labels": labels, "text": " ".join(pick())} if rng.random() < 0.5 else None,
            )
        )
    for target in albums[:2]:
        library.add_to_album(alice, target, [p.pk for p in rng.sample(pictures, 15)])
    return pictures


@pytest.mark.parametrize(
    "text,expansions",
    [
        ("beach sunset", []),
        ("sunset dune", []),  # no longer words: the strong matches are joined, not grouped
        ("sunset dune beach", []),
        ("bea dune", []),  # a prefix: its longer words count in the labels and names
        ("beach sunset", [Expansion("dune", "meaning"), Expansion("sunset beach", "spelling")]),
        ("dune sunset", [Expansion("beach sunset", "meaning")]),  # a label of two words
    ],
)
def test_what_the_bounded_reads_settle_is_the_start_of_ranking_every_match(alice, bob, mixed_library, text, expansions):
    Follow.objects.create(follower=bob, followee=alice)
    for viewer in (alice, bob):  # bob may not see the private album, whose title then finds nothing
        parsed = ParsedQuery(text, tokens(text), expansions)
        every_match = ranking_of(viewer, parsed)
        assert len(every_match) > 20
        for cap in (1, 2, 3, 5, 8, 13, 21, 40, 60, 90):
            got, every = settled(viewer, parsed, cap)
            if got is None:
                continue
            assert got == every_match[: len(got)]
            if every:
                assert got == every_match[:cap]
        got, every = settled(viewer, parsed, 1000)
        assert every and got == every_match
        if not expansions:  # a query of required words only: its strong matches alone, grouped in the database
            strong = [(pk, score) for pk, score in every_match if score >= backends.STRONG]
            for cap in (1, 2, 3, 5, 8, 13, 21, len(strong), len(strong) + 1, 1000):
                got = strong_ranked(viewer, parsed, cap)
                assert got == every_match[: min(cap, len(strong))]
            assert strong_ranked(viewer, parsed, 1000, enough=len(strong) + 1) is None


def test_a_rare_word_drives_the_reading_of_common_ones_to_the_same_ranking(alice, bob, mixed_library, monkeypatch):
    Follow.objects.create(follower=bob, followee=alice)
    scope = selectors._scope(alice, "all").filter(title__contains="shot").values("pk").query.sql_with_params()
    queries = [
        ("pier beach", [Expansion("dune pier", "meaning"), Expansion("sunset pier", "spelling")]),
        ("bea sunset pier", [Expansion("pier", "meaning")]),  # a prefix, and an alternative of one word
    ]
    for text, expansions in queries:
        parsed = ParsedQuery(text, tokens(text), expansions)
        assert "SELECT d.object_id" in parsed.match_sql("photo", None)[0]  # "pier" (12 pictures) drives the others
        for viewer in (alice, bob):  # bob may not see the private album, whose title then finds nothing
            every_match = ranking_of(viewer, parsed, drive=False)
            assert len(every_match) > 3
            assert ranking_of(viewer, parsed) == every_match, (text, viewer)
            assert ranking_of(viewer, parsed, within=scope) == ranking_of(viewer, parsed, drive=False, within=scope)
    monkeypatch.setattr(backends, "DRIVER_COUNT", 12)  # "pier" is counted as common as the others: no driver
    assert "SELECT d.object_id" not in ParsedQuery(text, tokens(text), expansions).match_sql("photo", None)[0]


def test_a_label_of_several_words_settles_from_the_first_postings_of_each(alice):
    trips = album(alice, title="Trips")
    for _ in range(30):
        photo(trips, analysis={"labels": [["golden retriever", 0.9]]})
        photo(trips, description="golden")  # each word alone, weaker
        photo(trips, title="retriever")
    weaker = [photo(trips, description="golden retriever") for _ in range(3)]
    parsed = parse("golden retriever", expand=False)
    every_match = ranking_of(alice, parsed)
    got, every = settled(alice, parsed, 8)
    assert not every and len(got) == 8 and got == every_match[:8]  # ties at the last posting read: ids say
    assert {pk for pk, _ in every_match[-3:]} == {p.pk.hex for p in weaker}
    results = selectors.search(alice, q="golden retriever")
    assert [pk.hex for pk in results.results.ids] == [pk for pk, _ in every_match]


def test_pictures_found_by_their_albums_alone_are_weighed_against_what_is_settled(alice):
    """The reads of a word's postings end among its albums' postings (pictures in three albums titled with the words,
    36 points): a picture the reads never met, found by its albums alone, still outranks a weak match read (a faint
    guess of each word, 12 points), and the strong matches come first."""
    evenings = [album(alice, title=f"Sunset dune {n}") for n in range(3)]
    plain = album(alice, title="Plain")
    by_albums = [photo(evenings[0]) for _ in range(20)]
    for other in evenings[1:]:
        library.add_to_album(alice, other, [p.pk for p in by_albums])
    for _ in range(6):
        photo(plain, analysis={"labels": [["sunset", 0.05], ["dune", 0.05]]})
    for _ in range(3):
        photo(plain, tags=["sunset", "dune"])
    parsed = parse("sunset dune", expand=False)
    every_match = ranking_of(alice, parsed)
    assert len(every_match) == 29 and every_match[3][1] == 36 and every_match[-1][1] == 12
    lengths = []
    for cap in range(1, 80):
        got, every = settled(alice, parsed, cap)
        assert got == every_match[: len(got)]
        if every:
            assert got == every_match[:cap]
        lengths.append(len(got))
    assert max(lengths) == 29


def test_strong_matches_are_ranked_with_their_album_and_context_postings(alice, bob):
    """Of the pictures holding every word strongly, the one whose own postings score less but whose albums and faint
    guesses say both words comes first: the weak postings of every strong match that may reach the best are read."""
    Follow.objects.create(follower=bob, followee=alice)
    trips = album(alice, title="Trips")
    evenings = [album(alice, title=f"Beach sunset {n}", access="followers") for n in range(3)]
    hidden = album(alice, title="Beach sunset hidden", access="private")
    tagged = [photo(trips, tags=["beach", "sunset"]) for _ in range(3)]  # 66 + 66
    named = photo(evenings[0], title="beach sunset", description="beach sunset")  # 50 + 50, 6 an album and word
    library.add_to_album(alice, evenings[1], [named.pk])
    library.add_to_album(alice, evenings[2], [named.pk])
    library.add_to_album(alice, hidden, [named.pk])
    guessed = photo(trips, title="beach", tags=["sunsets"], analysis={"labels": [["sunset", 0.05]]})  # a prefix
    for _ in range(4):  # each word alone, or weakly: not strong matches
        photo(trips, tags=["beach"])
        photo(evenings[0], tags=["sunset"])
    parsed = parse("beach sunset", expand=False)
    for viewer, named_score in ((alice, 1_000_000 + 100 + 48), (bob, 1_000_000 + 100 + 36)):
        every_match = ranking_of(viewer, parsed)
        assert every_match[0] == (named.pk.hex, named_score)  # its own postings: 100, less than a tag of each
        assert {pk for pk, _ in every_match[1:4]} == {p.pk.hex for p in tagged}
        assert (guessed.pk.hex, 1_000_000 + 34 + 64 + 6) in every_match  # "sunsets" in the labels, "sunset" faintly
        strong = sum(score >= backends.STRONG for _, score in every_match)
        assert strong == 5 and len(every_match) > strong
        for cap in range(1, 7):
            assert strong_ranked(viewer, parsed, cap) == every_match[: min(cap, strong)]
        assert strong_ranked(viewer, parsed, 3, enough=6) is None
        results = selectors.search(viewer, q="beach sunset")
        assert [pk.hex for pk in results.results.ids] == [pk for pk, _ in every_match]


def test_queries_other_than_several_required_words_are_not_ranked_from_strong_matches(alice):
    trips = album(alice, title="Trips")
    photo(trips, tags=["beach", "sunset"])
    assert strong_ranked(alice, parse("beach", expand=False), 5) is None
    assert (
        strong_ranked(alice, ParsedQuery("beach sunset", ["beach", "sunset"], [Expansion("dune", "meaning")]), 5)
        is None
    )
    assert strong_ranked(alice, parse("bea beach", expand=False), 5) is None  # one word as a prefix


def test_a_strong_match_held_through_a_longer_word_counts_the_word_it_holds_faintly(alice):
    """ "sunsets" in the name finds it strongly, "sunset" is also its faint guess (the context column, 6 points): with
    its album's words, it outranks a picture whose strong postings score more."""
    trips, evening = album(alice, title="Trips"), album(alice, title="Beach sunset")
    first = photo(trips, title="sunset", tags=["beach"])  # 66 + 34
    faint = photo(
        evening,
        title="beach sunsets",
        description="beach",
        analysis={"labels": [["beach", 0.05], ["sunset", 0.05]]},
    )  # 54 + 32, and 6 + 12 from its faint guess and its album
    parsed = parse("beach sunset", expand=False)
    every_match = ranking_of(alice, parsed)
    assert every_match == [(faint.pk.hex, 1_000_104), (first.pk.hex, 1_000_100)]
    for cap in (1, 2, 3):
        assert strong_ranked(alice, parsed, cap) == every_match[:cap]


def test_common_words_that_meet_beyond_their_first_postings_are_ranked_from_their_strong_matches(alice, monkeypatch):
    trips, evening = album(alice, title="Trips"), album(alice, title="Beach sunset")
    for _ in range(10):  # the first postings of each word: never both
        photo(trips, tags=["beach"])
        photo(trips, tags=["sunset"])
    for n in range(9):  # both, in the descriptions and names, some in an album titled with both: after every tag
        photo(evening if n % 2 else trips, title="beach" if n % 3 else "", description="sunset beach")
    photo(evening)  # only its album's title: a weak match
    real, calls = backends.strong_ranking, []
    monkeypatch.setattr(
        backends, "strong_ranking", lambda *args, **options: calls.append(real(*args, **options)) or calls[-1]
    )
    every_match = ranking_of(alice, parse("beach sunset", expand=False))
    for limit in (1, 2):
        assert bounded(alice, "beach sunset", limit) == every_match[:limit]
        assert calls[-1] is not None and len(calls[-1][0]) == 4 * limit
    results = selectors.search(alice, q="beach sunset")
    assert [pk.hex for pk in results.results.ids] == [pk for pk, _ in every_match]  # fewer than 4,004: every posting


def test_strong_matches_count_exactly_the_album_postings_each_picture_has_for_each_viewer(alice, bob, make_user):
    """What a strong match's albums add is each picture's own album postings, for the albums the viewer may see: a
    picture placed in several albums counts each (a private one for its owner only), an album tagged with a word
    adds nothing to a picture that carries that tag itself (though the album's own document holds the word), and an
    album in the Trash adds nothing (its placements went with it), however its own document reads."""
    carol = make_user("carol")
    Follow.objects.create(follower=bob, followee=alice)
    trips = album(alice, title="Trips")
    said = album(alice, title="Beach sunset evenings", access="followers")
    hidden = album(alice, title="Sunset beach hidden", access="private")
    tagged = album(alice, title="Tagged", tags=["beach", "sunset"])
    gone = album(alice, title="Beach sunset gone")
    photo(gone, title="the album's own")
    everywhere = photo(trips, description="beach sunset")  # 18 + 18, and 2 words in each of 3 albums
    library.add_to_album(alice, said, [everywhere.pk])
    library.add_to_album(alice, hidden, [everywhere.pk])
    library.add_to_album(alice, tagged, [everywhere.pk])
    own_tag = photo(tagged, tags=["beach"], description="sunset")  # 66 + 18, and "sunset" alone from its album
    was_placed = photo(trips, title="beach sunset")  # 34 + 34; its album goes to the Trash
    library.add_to_album(alice, gone, [was_placed.pk])
    rng = random.Random(3)
    for n in range(30):  # more strong matches, in one album or several, at every strength
        words = ["beach", "sunset"]
        picture = photo(
            rng.choice([trips, said, hidden, tagged]),
            title=" ".join(w for w in words if rng.random() < 0.4),
            tags=[w for w in words if rng.random() < 0.4],
            description="beach sunset" if n % 2 else " ".join(reversed(words)),
        )
        library.add_to_album(alice, rng.choice([said, hidden, tagged, gone]), [picture.pk])
    trash.trash_album(gone)
    parsed = parse("beach sunset", expand=False)
    for viewer, albums_seen in ((alice, 3), (bob, 2), (carol, 1), (AnonymousUser(), 1)):
        every_match = ranking_of(viewer, parsed)
        scores = dict(every_match)
        assert scores[everywhere.pk.hex] == backends.STRONG + 36 + 2 * albums_seen * backends.ALBUM_SCORE
        assert scores[own_tag.pk.hex] == backends.STRONG + 84 + backends.ALBUM_SCORE
        assert scores[was_placed.pk.hex] == backends.STRONG + 68
        strong = sum(score >= backends.STRONG for _, score in every_match)
        assert strong == 33
        for cap in range(1, strong + 2):
            assert strong_ranked(viewer, parsed, cap) == every_match[: min(cap, strong)], (viewer, cap)


def test_a_strong_match_its_weak_postings_lift_exactly_to_the_cut_is_counted(alice, make_user):
    """Weak postings are counted only for the strong matches that may reach the best `limit` (backends.strong_ranking:
    the `limit`-th best score of the strong postings alone, less the most weak postings may add: a posting of each
    word from each album of the picture in the most albums). One whose own postings score exactly that much less, and
    whose two albums say both words, ties with the `limit`-th and ranks before it by its id for its owner: a bound one
    album short, or a strict cut, leaves it out. A stranger, who may not see its second album, ranks it lower."""
    trips, evening = album(alice, title="Trips"), album(alice, title="Beach sunset")
    hidden = album(alice, title="Sunset beach", access="private")
    ids = (uuid.UUID(int=n) for n in range(1, 20))  # ties rank by id, on every database
    tagged = photo(trips, tags=["beach", "sunset"], id=next(ids))  # 66 + 66
    lifted = photo(evening, title="beach", description="sunset", analysis={"text": "sunset"}, id=next(ids))  # 34 + 26
    library.add_to_album(alice, hidden, [lifted.pk])
    for _ in range(4):
        photo(trips, tags=["beach"], description="sunset", id=next(ids))  # 66 + 18
    parsed = parse("beach sunset", expand=False)
    for viewer, lifted_score in ((alice, 60 + 4 * backends.ALBUM_SCORE), (make_user("carol"), 60 + 12)):
        every_match = ranking_of(viewer, parsed)
        assert every_match[0] == (tagged.pk.hex, backends.STRONG + 132)
        assert (lifted.pk.hex, backends.STRONG + lifted_score) in every_match
        for cap in range(1, 8):
            assert strong_ranked(viewer, parsed, cap) == every_match[:cap], (viewer, cap)
    assert ranking_of(alice, parsed)[1] == (lifted.pk.hex, backends.STRONG + 84)
