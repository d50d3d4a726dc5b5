"""Issue 13 (search precision): a year or a month typed finds the pictures taken then as well as text saying it, the
owner filter takes a user name in any case, and 火箭 / rocket find what ImageNet calls a missile."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from photocloud.library import services as library
from photocloud.search import selectors
from photocloud.search.query import parse
from tests.factories import album, ids, photo

pytestmark = pytest.mark.usefixtures("no_meaning")


def _found(viewer, q="", **options) -> set:
    return ids(selectors.search(viewer, q=q, **options).results[0:100])


@pytest.fixture
def dated(alice):
    trip = album(alice, title="Trips")
    return {
        "beach_2023": photo(trip, tags=["beach"], taken_at=datetime(2023, 5, 3, 10, tzinfo=UTC)),
        "city_2023": photo(trip, tags=["city"], taken_at=datetime(2023, 6, 9, 10, tzinfo=UTC)),
        "beach_2022": photo(trip, tags=["beach"], taken_at=datetime(2022, 5, 3, 10, tzinfo=UTC)),
        # Not taken in 2023, but its text says so: still found, ranked as text is.
        "receipt": photo(trip, analysis={"text": "Coffee shop receipt 12 May 2023 total 4.50"}),
        # Uploaded in 2023 with no date taken: the year is when it was taken, not uploaded.
        "undated": photo(trip, tags=["beach"], taken=datetime(2023, 7, 1, tzinfo=UTC)),
        # 23:30 on 31 December 2022 in UTC, 01:30 on 1 January 2023 on the camera at UTC+2: taken in 2023.
        "new_year": photo(trip, tags=["party"], taken_at=datetime(2022, 12, 31, 23, 30, tzinfo=UTC), taken_offset=120),
    }


def _only(pictures, *keys) -> set:
    return {pictures[key].pk for key in keys}


@pytest.mark.parametrize("query", ["2023", "2023年", "in 2023", "taken in 2023", "2023 年"])
def test_a_year_finds_the_pictures_taken_then_and_text_saying_it(alice, dated, query):
    results = selectors.search(alice, q=query)
    assert set(results.results.ids) == _only(dated, "beach_2023", "city_2023", "receipt", "new_year")
    assert results.strong_count == 4
    assert results.results.ids[-1] == dated["receipt"].pk  # a date taken is a label, the receipt's text ranks after
    reasons = results.reasons(results.results[0:10])
    assert reasons[dated["beach_2023"].pk] == ["date taken “2023”"]
    assert reasons[dated["receipt"].pk] == ["text in picture"]


@pytest.mark.parametrize("query", ["beach 2023", "2023 beach", "beach in 2023", "beach 2023年", "海滩 2023年"])
def test_a_year_and_other_words_must_all_hold(alice, dated, query):
    assert _found(alice, query) == _only(dated, "beach_2023")


def test_a_year_with_other_words_is_not_read_best_first(alice, dated, monkeypatch):
    """A year's postings are all equally strong: reading the best few thousand of them settles nothing, so the
    search goes straight to the strong matches (or every posting), with the same results."""
    from photocloud.search import backends

    calls = []
    real = backends.settled_ranking
    monkeypatch.setattr(
        backends, "settled_ranking", lambda *args, **options: calls.append(args) or real(*args, **options)
    )
    assert _found(alice, "beach 2023") == _only(dated, "beach_2023")
    assert calls == []
    assert parse("beach 2023", expand=False).names_a_year and not parse("beach May 2023", expand=False).names_a_year
    _found(alice, "beach May 2023")
    assert calls  # a month's marker is a rarer word: read best first as any word is


@pytest.mark.parametrize("query", ["May 2023", "may 2023", "in May 2023", "from may 2023"])
def test_a_month_finds_the_pictures_taken_then_and_text_saying_it(alice, dated, query):
    assert _found(alice, query) == _only(dated, "beach_2023", "receipt")


@pytest.mark.parametrize("query", ["2023年5月", "2023 年 5 月", "2023年05月"])
def test_a_month_in_chinese(alice, dated, query):
    invoice = photo(dated["beach_2023"].album, analysis={"text": "发票 开票日期 2023年5月12日"})
    assert _found(alice, query) == {dated["beach_2023"].pk, invoice.pk}


def test_a_month_and_other_words(alice, dated):
    assert _found(alice, "beach May 2023") == _only(dated, "beach_2023")
    nothing = selectors.search(alice, q="city May 2023")  # no picture holds every word: some, as less likely
    assert nothing.strong_count == 0
    assert _found(alice, "city June 2023") == _only(dated, "city_2023")
    assert _found(alice, "2023年1月") == _only(dated, "new_year")


def test_a_date_corrected_by_hand_is_found_by_its_new_year(alice, dated):
    library.set_taken(alice, [dated["beach_2022"].pk], datetime(2023, 8, 1, 12), None)
    assert dated["beach_2022"].pk in _found(alice, "beach 2023")
    assert dated["beach_2022"].pk in _found(alice, "August 2023")
    assert dated["beach_2022"].pk not in _found(alice, "2022")


def test_one_date_rule_the_cameras_whatever_the_servers_zone(alice, api, client, settings):
    """At 20:00 on 31 December 2023 on the camera (UTC+1), 04:00 on 1 January 2024 in Shanghai where the server is:
    the year words, the year facet, the date filter, the timeline and the date albums all say 31 December 2023."""
    from photocloud.library import selectors as library_selectors

    settings.TIME_ZONE = "Asia/Shanghai"
    camera = datetime(2023, 12, 31, 20, tzinfo=UTC)  # as sort_date holds it: the wall-clock time as if UTC
    party = photo(
        album(alice), tags=["party"], taken_at=datetime(2023, 12, 31, 19, tzinfo=UTC), taken_offset=60, taken=camera
    )
    assert _found(alice, "party 2023") == _found(alice, "party December 2023") == {party.pk}
    facets = selectors.search(alice, q="party").facets()
    assert [(value["label"], value["count"]) for value in facets["year"]] == [("2023", 1)]
    day = camera.date()
    assert _found(alice, "party", filters={"date_from": day, "date_to": day}) == {party.pk}
    assert api.get("/api/search/", {"q": "party", "date_from": "2024-01-01"}).json()["count"] == 0
    assert [row["year"] for row in library_selectors.years(alice)] == [2023]
    assert [(row["month"], row["count"]) for row in library_selectors.months(alice, 2023)] == [(12, 1)]
    assert [event.start for event in library_selectors.events(alice, 2023, 12)] == [datetime(2023, 12, 31, 20)]
    assert api.get("/api/library/years/2023/12/").json()[0]["start"] == "2023-12-31T20:00:00Z"
    assert api.get(f"/api/photos/{party.pk}/").json()["sort_date"] == "2023-12-31T20:00:00Z"
    assert [day.day for day in library_selectors.days_of([party])] == [day]
    client.force_login(alice)
    assert "Sunday 31 December, 20:00" in client.get("/library/dates/2023/12/").content.decode()


def test_only_a_plausible_year_is_read_as_a_date():
    assert parse("in 2023", expand=False).required == ["2023"]
    assert parse("2023年", expand=False).required == ["2023"]
    assert parse("in 1234", expand=False).required == ["in", "1234"]  # before the first photograph: just a number
    assert parse("9999年", expand=False).required == ["9999", "年"]
    assert parse("May 1234", expand=False).dates == []
    assert parse("2023年13月", expand=False).required == ["2023", "年", "13", "月"]
    assert parse("room 2023", expand=False).required == ["room", "2023"]


def test_a_year_is_no_label_of_the_vocabulary(alice, dated):
    from photocloud.search.models import SearchTerm

    assert not SearchTerm.objects.filter(name__in=["2023", "2022"]).exists()


# --- the owner filter ------------------------------------------------------------------------------------------------


@pytest.fixture
def owned(alice, bob):
    return {
        "alice": photo(album(alice, title="Alice's"), tags=["beach"]),
        "bob": photo(album(bob, title="Bob's"), tags=["beach"]),
    }


@pytest.mark.parametrize("q", ["", "beach"])
@pytest.mark.parametrize("sort", ["relevance", "newest"])
def test_the_owner_filter_takes_the_user_name_in_any_case(bob, owned, q, sort):
    for name in ("alice", "Alice", "ALICE"):
        found = selectors.search(bob, q=q, sort=sort, filters={"owner": name})
        assert set(found.results.ids) == {owned["alice"].pk}
        assert found.notice == ""


@pytest.mark.parametrize("name", ["Ali", "alic", "lice", "ALI%", "ali_e", "nobody"])
def test_the_owner_filter_is_the_whole_name_and_an_unknown_one_says_so(bob, owned, name):
    found = selectors.search(bob, q="beach", filters={"owner": name})
    assert list(found.results.ids) == []
    assert found.notice == f"Nobody is called “{name}”: no user has that name."


def test_the_owner_notice_tells_no_more_than_a_profile(client, bob, owned, make_user):
    """A deactivated account has no profile (404): the notice must not tell that its name is taken, so it reads as
    for a name nobody has; its pictures that the viewer may see are still found (no notice then)."""
    closed = make_user("carol", is_active=False)
    photo(album(closed, access="private"), tags=["beach"])
    client.force_login(bob)
    assert client.get("/api/users/carol/").status_code == 404
    for name in ("carol", "Carol"):
        found = selectors.search(bob, q="beach", filters={"owner": name})
        assert list(found.results.ids) == []
        assert found.notice == f"Nobody is called “{name}”: no user has that name."
    kept = photo(album(closed, access="public"), tags=["beach"])
    found = selectors.search(bob, q="beach", filters={"owner": "carol"})
    assert list(found.results.ids) == [kept.pk] and found.notice == ""


def test_the_owner_filter_in_the_api_and_the_page(client, bob, owned):
    client.force_login(bob)
    body = client.get(reverse("api:search"), {"q": "beach", "owner": "Alice"}).json()
    assert [result["photo"]["id"] for result in body["results"]] == [str(owned["alice"].pk)]
    assert body["notice"] == ""
    response = client.get(reverse("api:search"), {"owner": "Nobody"})
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert response.json()["notice"] == "Nobody is called “Nobody”: no user has that name."
    page = client.get(reverse("search:results"), {"q": "beach", "owner": "Nobody"})
    assert page.status_code == 200
    assert "Nobody is called “Nobody”" in page.content.decode()
    assert client.get(reverse("search:results"), {"owner": "ALICE"}).status_code == 200


def test_the_search_api_refuses_a_parameter_it_does_not_take(client, bob, owned):
    """ "?ownr=alice" answered every picture, as if unfiltered: a 400 naming it, as on the other lists."""
    client.force_login(bob)
    response = client.get(reverse("api:search"), {"q": "beach", "ownr": "alice"})
    assert response.status_code == 400
    assert response.json()["ownr"][0].startswith("Unknown filter; this list takes q, scope, sort,")
    assert client.get(reverse("api:search"), {"q": "beach", "owner": "alice", "format": "json"}).status_code == 200


# --- rockets and spacecraft ----------------------------------------------------------------------------------------


@pytest.fixture
def space(alice):
    shelf = album(alice, title="Misc")
    return {
        "rocket": photo(shelf, analysis={"labels": [["missile", 0.8]]}),
        "shuttle": photo(shelf, analysis={"labels": [["space shuttle", 0.7]]}),
        "crew": photo(shelf, title="Astronaut training day"),
        "other": photo(shelf, analysis={"labels": [["airliner", 0.9]]}),
    }


@pytest.mark.parametrize(
    "query, expected",
    [
        ("火箭", ["rocket"]),
        ("rocket", ["rocket"]),
        ("rockets", ["rocket"]),
        ("飞船", ["shuttle"]),
        ("spaceship", ["shuttle"]),
        ("spacecraft", ["shuttle"]),
        ("航天器", ["shuttle"]),
        ("宇航员", ["crew"]),  # no ImageNet class is an astronaut: only a name, a description or text says so
        ("航天员", ["crew"]),
    ],
)
def test_rockets_and_spacecraft_by_their_everyday_names(alice, space, query, expected):
    assert _found(alice, query) == _only(space, *expected)


@pytest.fixture
def _with_meaning(settings, no_meaning):
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "SEARCH": {}}  # the real sentence model, after this module's default


@pytest.mark.usefixtures("_with_meaning")
def test_a_label_close_in_meaning_holds_the_year_too(alice):
    """ "puppy 2023": a golden retriever (close in meaning) taken in 2023, not one taken in 2022; the meaning shown
    is the label alone."""
    shelf = album(alice, title="Pets")
    then = photo(shelf, analysis={"labels": ["golden retriever"]}, taken_at=datetime(2023, 4, 1, tzinfo=UTC))
    photo(shelf, analysis={"labels": ["golden retriever"]}, taken_at=datetime(2022, 4, 1, tzinfo=UTC))
    found = selectors.search(alice, q="puppy 2023")
    assert set(found.results.ids) == {then.pk}
    assert "golden retriever" in [e.term for e in found.parsed.expansions if e.kind == "meaning"]
    reasons = found.reasons([then])[then.pk]
    assert "date taken “2023”" in reasons
    assert any(reason.startswith("similar meaning") and "golden retriever" in reason for reason in reasons)
