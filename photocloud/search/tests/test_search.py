"""Keyword search: fields, ranking, filters, facets, sorting, pagination, the page and the API."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from photocloud.search import selectors
from tests.factories import album, ids, photo

pytestmark = pytest.mark.usefixtures("no_meaning")


def found(viewer, q="", **options):
    return list(selectors.search(viewer, q=q, **options).results[0:100])


def test_every_field_is_searched_and_a_tag_ranks_above_a_mention(alice):
    trip = album(alice, title="Summer", description="a week away")
    in_description = photo(trip, description="We walked to the beach after lunch")
    in_text = photo(trip, analysis={"text": "BEACH CLOSED"})
    tagged = photo(trip, tags=["beach"])
    named = photo(trip, title="Beach at dawn")
    automatic = photo(trip, analysis={"labels": ["seashore", "beach"]})
    photo(trip, tags=["mountain"])
    results = found(alice, "beach")
    assert ids(results) == ids([in_description, in_text, tagged, named, automatic])
    order = [p.pk for p in results]
    assert order.index(tagged.pk) < order.index(named.pk) < order.index(in_description.pk) < order.index(in_text.pk)
    reasons = selectors.search(alice, q="beach").reasons(results)
    assert reasons[tagged.pk] == ["tag “beach”"]
    assert reasons[in_text.pk] == ["text in picture"]
    assert reasons[in_description.pk] == ["description"]
    assert reasons[automatic.pk] == ["automatic tag “beach”"]


def test_album_fields_and_categories_are_searched(alice):
    cups = album(alice, title="Cup designs", category="product", tags=["ceramics"], description="Glazes we tried")
    other = album(alice, title="Other")
    in_album = photo(cups)
    own_category = photo(other, category="blueprint")
    system = photo(other, analysis={"category": "illustration"})
    assert ids(found(alice, "cup")) == {in_album.pk}
    assert ids(found(alice, "ceramics")) == {in_album.pk}
    assert ids(found(alice, "glazes")) == {in_album.pk}
    assert ids(found(alice, "product")) == {in_album.pk}
    assert ids(found(alice, "blueprint")) == {own_category.pk}
    assert ids(found(alice, "anime")) == {system.pk}
    assert [a.pk for a in selectors.search(alice, q="cup designs").albums] == [cups.pk]


def test_all_words_must_match_and_prefixes_count(alice):
    holiday = album(alice, title="Holiday")
    both = photo(holiday, tags=["beach", "sunset"])
    photo(holiday, tags=["beach"])
    assert ids(found(alice, "beach sunset")) == {both.pk}
    assert ids(found(alice, "sunse")) == {both.pk}
    assert ids(found(alice, "Sunset BEACH")) == {both.pk}


def test_filters_combine_with_keywords(alice, bob):
    trips = album(alice, title="Trips", category="travel")
    home = album(alice, title="Home", category="family")
    day = datetime(2023, 5, 1, tzinfo=UTC)
    a = photo(
        trips,
        tags=["beach"],
        taken=day,
        camera_make="Canon",
        camera_model="EOS 5D",
        latitude=1.0,
        longitude=2.0,
        dominant_color="blue",
        width=6000,
        height=4000,
    )
    b = photo(
        home,
        tags=["beach"],
        taken=datetime(2021, 5, 1, tzinfo=UTC),
        width=300,
        height=600,
        dominant_color="red",
        analysis={"category": "portrait"},
    )
    c = photo(trips, tags=["beach"], category="family", width=500, height=500)
    assert ids(found(alice, "beach", filters={"date_from": day.date(), "date_to": day.date()})) == {a.pk}
    assert ids(found(alice, "beach", filters={"category": "family"})) == {b.pk, c.pk}
    assert ids(found(alice, "beach", filters={"system_category": "portrait"})) == {b.pk}
    assert ids(found(alice, "beach", filters={"album": home.pk})) == {b.pk}
    assert ids(found(alice, "beach", filters={"owner": "alice"})) == {a.pk, b.pk, c.pk}
    assert ids(found(alice, "beach", filters={"owner": "bob"})) == set()
    assert ids(found(alice, "beach", filters={"make": "canon", "model": "eos 5d"})) == {a.pk}
    assert ids(found(alice, "beach", filters={"has_gps": True})) == {a.pk}
    assert ids(found(alice, "beach", filters={"color": "red"})) == {b.pk}
    assert ids(found(alice, "beach", filters={"orientation": "portrait"})) == {b.pk}
    assert ids(found(alice, "beach", filters={"orientation": "square"})) == {c.pk}
    assert ids(found(alice, "beach", filters={"size": "large"})) == {a.pk}
    assert ids(found(alice, "beach", filters={"size": "small"})) == {b.pk, c.pk}
    assert ids(found(alice, "", filters={"color": "blue"})) == {a.pk}  # filters alone, no words
    assert ids(found(alice, "beach", filters={"category": "travel", "orientation": "landscape"})) == {a.pk}


def test_location_filter_only_sees_locations_the_viewer_may_see(alice, bob):
    shared = album(alice, access="public")
    photo(shared, tags=["beach"], latitude=1.0, longitude=2.0)
    assert found(bob, "beach", filters={"has_gps": True}) == []
    alice.share_location = True
    alice.save()
    assert len(found(bob, "beach", filters={"has_gps": True})) == 1


def test_facets_count_the_matching_pictures(alice):
    trips = album(alice, title="Trips", category="travel")
    photo(trips, tags=["beach"], dominant_color="blue", camera_make="Canon", camera_model="R5")
    taken = datetime(2020, 1, 1, tzinfo=UTC)
    photo(trips, tags=["beach"], dominant_color="blue", taken=taken, taken_at=taken)
    photo(trips, tags=["beach"], category="family", analysis={"category": "landscape"}, width=300, height=300)
    photo(trips, tags=["forest"], dominant_color="green")
    facets = selectors.search(alice, q="beach").facets()

    def counts(name):
        return {value["label"]: value["count"] for value in facets[name]}

    assert counts("category") == {"travel": 2, "family": 1}
    assert counts("system_category") == {"Landscape": 1}
    assert counts("album") == {"Trips": 3}
    assert counts("owner") == {"alice": 3}
    assert counts("camera") == {"Canon R5": 1}
    assert counts("color") == {"blue": 2}
    assert counts("orientation") == {"landscape": 2, "square": 1}
    # Only the picture with a date taken: the others have none (sorted by their upload), and "2024" finds none of them.
    assert counts("year") == {"2020": 1} and found(alice, "2024") == [] and len(found(alice, "2020")) == 1
    assert facets["year"][0]["params"] == {"date_from": "2020-01-01", "date_to": "2020-12-31"}


def test_sort_by_date_and_pagination(alice, client):
    trips = album(alice)
    made = [photo(trips, tags=["beach"], taken=datetime(2020, 1, day, tzinfo=UTC)) for day in range(1, 31)]
    newest = found(alice, "beach", sort="newest")
    assert [p.pk for p in newest] == [p.pk for p in reversed(made)]
    assert [p.pk for p in found(alice, "beach", sort="oldest")] == [p.pk for p in made]
    client.force_login(alice)
    first = client.get(reverse("search:results"), {"q": "beach"})
    assert first.status_code == 200
    assert "30 pictures" in first.content.decode()
    assert len(first.context["tiles"]) == selectors.PAGE_SIZE
    second = client.get(reverse("search:results"), {"q": "beach", "page": 2})
    assert len(second.context["tiles"]) == 30 - selectors.PAGE_SIZE
    assert not ids(p for p, _ in first.context["tiles"]) & ids(p for p, _ in second.context["tiles"])


def test_page_shows_why_facets_and_an_empty_state(alice, client):
    photo(album(alice, title="Trips"), tags=["beach"], dominant_color="blue")
    client.force_login(alice)
    page = client.get(reverse("search:results"), {"q": "beach"}).content.decode()
    assert "tag “beach”" in page
    assert "Colour" in page and "swatch-blue" in page
    empty = client.get(reverse("search:results"), {"q": "volcano"}).content.decode()
    assert "No pictures match “volcano”" in empty
    escaped = client.get(reverse("search:results"), {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)</script>" not in escaped and "&lt;script&gt;" in escaped


def test_the_api_shows_each_result_as_the_picture_api_does_in_the_same_queries_for_any_page(api, alice):
    """A page of results is read and serialised as one list (its rows with all the serializer shows): the text and
    faces of the analysis that a grid leaves out, and the tags, are not read once per picture."""
    from django.db import connection

    trip = album(alice, title="Beach week")

    def beach(day):
        analysis = {"text": f"BEACH DAY {day}", "faces": [[1, 2, 30, 40, 0.9]], "labels": ["seashore"]}
        return photo(trip, title=f"Day {day}", tags=["beach", f"day{day}"], analysis=analysis)

    def queries() -> tuple[int, dict]:
        executed = []
        with connection.execute_wrapper(lambda run, sql, *rest: executed.append(sql) or run(sql, *rest)):
            body = api.get("/api/search/", {"q": "beach"}).json()
        return len(executed), body

    beach(1)
    queries()  # the first search of a test also catches up on the index and notes the token's use
    few, _ = queries()
    for day in range(2, 8):
        beach(day)
    many, body = queries()
    assert body["count"] == 7 and many == few
    for item in body["results"]:
        shown = item["photo"]
        assert shown == api.get(f"/api/photos/{shown['id']}/").json()
        assert shown["analysis"]["text"].startswith("BEACH DAY") and shown["analysis"]["faces"] == 1
        assert sorted(shown["tags"]) == sorted(["beach", f"day{shown['title'].split()[1]}"])


def test_api_returns_results_reasons_and_facets(api, alice):
    photo(album(alice), tags=["beach"])
    response = api.get("/api/search/", {"q": "beach"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"][0]["reasons"] == ["tag “beach”"]
    assert body["facets"]["owner"][0] == {"label": "alice", "count": 1, "params": {"owner": "alice"}}
    assert api.get("/api/search/", {"date_from": "yesterday"}).status_code == 400
    assert api.get("/api/search/", {"similar_to": "not-a-uuid"}).status_code == 400
    assert api.get("/api/search/", {"color": "plaid"}).status_code == 400
    past_the_end = api.get("/api/search/", {"q": "beach", "page": 2})  # not page 1 again, which never ends a loop
    assert past_the_end.status_code == 404 and past_the_end.json() == {"detail": "Invalid page."}
    assert api.get("/api/search/", {"q": "nothing matches this", "page": 1}).json()["results"] == []
    schema = api.get("/api/schema/").content.decode()
    assert "/api/search/" in schema and "similar_to" in schema


HOSTILE = [
    "",
    "   ",
    '"',
    "'",
    "*",
    "(((",
    ")",
    "a OR b NOT c",
    "NEAR(beach sunset)",
    "labels: beach",
    "beach*",
    "-beach",
    "+beach",
    "~beach",
    "<beach>",
    "@beach",
    "'; DROP TABLE library_photo; --",
    '" OR 1=1 --',
    "%_%",
    "\\",
    "\x00",
    "beach\x00sunset",
    "a:*",
    "!!!",
    "&|!<->",
    "{labels}: x",
    "^beach",
    "日本語のテキスト",
    "🏖️ beach",
    "x" * 5000,
    " ".join(["beach"] * 400),
    "ab",
    "the",
    "a b c d e f g h i j k l m n o p q r s t u v w x y z",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_error(alice, api, client, query):
    photo(album(alice), tags=["beach", "sunset"])
    client.force_login(alice)
    assert client.get(reverse("search:results"), {"q": query}).status_code == 200
    assert api.get("/api/search/", {"q": query}).status_code == 200
    assert api.get("/api/search/", {"q": query, "sort": "newest", "color": "blue"}).status_code == 200


def test_bad_parameters_get_a_clear_400(alice, client):
    client.force_login(alice)
    response = client.get(reverse("search:results"), {"q": "x", "date_from": "2024-13-45"})
    assert response.status_code == 400
    assert "Enter a valid date" in response.content.decode()
    url = reverse("search:results")
    assert client.get(url, {"date_from": "2024-02-01", "date_to": "2024-01-01"}).status_code == 400
    assert client.get(url, {"similar_to": "00000000-0000-0000-0000-000000000000"}).status_code == 404


def test_search_by_image_combines_with_words_and_filters(alice, client):
    import numpy as np

    rng = np.random.default_rng(3)
    base = rng.random(1280).astype(np.float32)
    shelf = album(alice)
    query = photo(shelf, analysis={"features": base})
    near = photo(shelf, tags=["beach"], dominant_color="blue", analysis={"features": base + 0.01})
    far = photo(shelf, tags=["beach"], dominant_color="blue", analysis={"features": base + 0.5})
    photo(shelf, tags=["forest"], analysis={"features": base})  # the nearest, but not a beach
    found = selectors.search(alice, q="beach", similar_to=query)
    assert [p.pk for p in found.results] == [near.pk, far.pk]
    assert found.reasons([near])[near.pk] == ["looks similar", "tag “beach”"]
    assert len(selectors.search(alice, q="beach", similar_to=query, filters={"color": "red"}).results) == 0
    client.force_login(alice)
    page = client.get(reverse("search:results"), {"similar_to": photo(shelf).pk}).content.decode()
    assert "has not been analysed yet" in page


def test_results_stop_at_the_best_thousand_and_access_is_checked_for_each(alice, bob, monkeypatch):
    monkeypatch.setattr(selectors, "RESULT_LIMIT", 10)
    public, private = album(alice, title="Open"), album(alice, access="private", title="Closed")
    shown = set()
    for n in range(30):
        picture = photo(private if n % 2 else public, tags=["beach"])
        shown |= set() if n % 2 else {picture.pk}
    found = selectors.search(bob, q="beach")
    assert len(found.results) == 10 and found.capped
    assert ids(found.results[0:10]) <= shown
    assert found.facets()["album"] == [{"label": "Open", "count": 10, "params": {"album": str(public.pk)}}]
    monkeypatch.setattr(selectors, "CANDIDATES_PER_RESULT", 1)  # the database intersects when few candidates pass
    narrow = selectors.search(bob, q="beach", filters={"album": public.pk})
    assert narrow.capped and ids(narrow.results) <= shown and len(narrow.results) == 10
    assert len(selectors.search(bob, q="beach", scope="mine").results) == 0


def test_the_category_filter_takes_a_category_as_the_pages_show_it(alice, client):
    """Categories are stored in lower case, the defaults by their key; the pages show "Travel" and "Anime /
    illustration". Typed back into the Category filter (page or API) they find the pictures, not nothing."""
    trips = album(alice, title="Trips", category="travel")
    trip = photo(trips)
    drawing = photo(album(alice, title="Sketches", category="sketch"), category="illustration")
    client.force_login(alice)
    for category, expected in [("Travel", trip), ("  TRAVEL ", trip), ("Anime / illustration", drawing)]:
        page = client.get(reverse("search:results"), {"category": category}).content.decode()
        assert "1 picture" in page and str(expected.pk) in page, category
        results = client.get("/api/search/", {"category": category}).json()["results"]
        assert [r["photo"]["id"] for r in results] == [str(expected.pk)], category
