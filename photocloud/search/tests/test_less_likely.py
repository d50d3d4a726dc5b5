"""Strong matches first, then "less likely" ones (issue 13.2): a picture found only through its album's words or a
faint guess of the classifier is a weak match, shown apart on the page and flagged in the API; the album itself is
an album result."""

import pytest
from django.urls import reverse

from photocloud.search import selectors
from tests.factories import album, photo

pytestmark = pytest.mark.usefixtures("no_meaning")


@pytest.fixture
def trip(alice):
    desert = album(alice, title="Desert trip 2024", category="travel", description="Camels in the desert")
    return {
        "dune": photo(desert, analysis={"category": "landscape", "labels": [["sand dune", 0.7]]}, title="desert dunes"),
        "meal": photo(desert, analysis={"category": "food", "labels": [["plate", 0.6]]}),
        "dog": photo(desert, analysis={"category": "animal", "labels": [["pug", 0.8], ["tabby cat", 0.12]]}),
        "cat": photo(album(alice, title="Home"), analysis={"category": "animal", "labels": [["tabby cat", 0.8]]}),
    }


def test_album_words_and_faint_guesses_are_weak_matches_after_the_strong_ones(alice, trip):
    found = selectors.search(alice, q="desert")
    assert found.results.ids[0] == trip["dune"].pk and found.strong_count == 1  # its own title says desert
    assert set(found.results.ids[1:]) == {trip["meal"].pk, trip["dog"].pk}  # only the album says so
    assert [a.title for a in found.albums] == ["Desert trip 2024"]  # the album is an album result
    cats = selectors.search(alice, q="cat")
    assert cats.results.ids == [trip["cat"].pk, trip["dog"].pk] and cats.strong_count == 1


def test_the_page_shows_weak_matches_under_less_likely(client, alice, trip):
    client.force_login(alice)
    page = client.get(reverse("search:results"), {"q": "desert"}).content.decode()
    strong, weak = page.split('data-testid="less-likely"')
    assert str(trip["dune"].pk) in strong and str(trip["meal"].pk) not in strong
    assert str(trip["meal"].pk) in weak and str(trip["dog"].pk) in weak
    only_strong = client.get(reverse("search:results"), {"q": "dunes"}).content.decode()
    assert 'data-testid="less-likely"' not in only_strong


def test_the_api_flags_weak_matches(client, alice, trip):
    client.force_login(alice)
    body = client.get("/api/search/", {"q": "desert"}).json()
    assert body["strong_count"] == 1
    assert [(r["photo"]["id"], r["strong"]) for r in body["results"]][0] == (str(trip["dune"].pk), True)
    assert [r["strong"] for r in body["results"]] == [True, False, False]
    assert client.get("/api/search/", {"q": "desert", "sort": "newest"}).json()["strong_count"] is None
