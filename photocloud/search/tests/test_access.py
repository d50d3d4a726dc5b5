"""A followers-only or private picture never reaches someone who may not see it, by any route: keywords, filters,
facet counts, album matches, similar meanings, search by image, the page and the API."""

import numpy as np
import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from rest_framework.test import APIClient

from photocloud.accounts.models import Follow
from photocloud.search import selectors
from tests.factories import album, ids, photo

VECTOR = np.random.default_rng(7).random(1280).astype(np.float32)


@pytest.fixture
def library(alice, make_user):
    """alice's pictures of a beach at each access level, all looking alike; carol follows alice, bob does not."""
    carol = make_user("carol")
    Follow.objects.create(follower=carol, followee=alice)
    made = {}
    for access in ("public", "followers", "private"):
        shelf = album(alice, access=access, title=f"Beach {access}", tags=["seashore"])
        made[access] = photo(
            shelf,
            title=f"{access} picture",
            tags=["beach"],
            dominant_color="blue",
            analysis={"labels": ["sandbar"], "text": "beach", "features": VECTOR},
        )
    return made, carol


def _visible(found) -> set:
    return ids(found.results[0:100])


EXPECTED = {
    "owner": {"public", "followers", "private"},
    "carol": {"public", "followers"},
    "bob": {"public"},
    "anonymous": {"public"},
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_every_route_respects_access(library, alice, bob, who):
    made, carol = library
    viewer = {"owner": alice, "carol": carol, "bob": bob, "anonymous": AnonymousUser()}[who]
    allowed = {made[level].pk for level in EXPECTED[who]}
    hidden_albums = {f"Beach {level}" for level in made if level not in EXPECTED[who]}

    assert _visible(selectors.search(viewer, q="beach")) == allowed  # keyword
    assert _visible(selectors.search(viewer, q="sandbar")) == allowed  # automatic tag
    assert _visible(selectors.search(viewer, q="", filters={"owner": "alice"})) == allowed  # filter only
    assert _visible(selectors.search(viewer, q="", filters={"color": "blue"})) == allowed
    for level, picture in made.items():  # naming a hidden album in a filter reveals nothing
        assert _visible(selectors.search(viewer, filters={"album": picture.album_id})) == (
            {picture.pk} if level in EXPECTED[who] else set()
        )
    facets = selectors.search(viewer, q="beach").facets()
    assert facets["owner"][0]["count"] == len(allowed)
    assert {value["label"] for value in facets["album"]}.isdisjoint(hidden_albums)
    assert sum(value["count"] for value in facets["album"]) == len(allowed)
    assert {a.title for a in selectors.search(viewer, q="beach").albums}.isdisjoint(hidden_albums)
    assert _visible(selectors.search(viewer, q="seaside")) == allowed  # similar meaning: "seashore", "beach"
    similar = selectors.search(viewer, similar_to=made["public"], filters={"color": "blue"})
    assert _visible(similar) == allowed - {made["public"].pk}  # search by image, combined with a filter
    if who != "anonymous":
        assert _visible(selectors.search(viewer, q="beach", scope="mine")) == (allowed if who == "owner" else set())


def test_page_and_api_hide_what_the_viewer_may_not_see(library, bob):
    made, _ = library
    client = APIClient()
    client.force_authenticate(bob)
    body = client.get("/api/search/", {"q": "beach"}).json()
    assert [row["photo"]["id"] for row in body["results"]] == [str(made["public"].pk)]
    assert body["facets"]["album"] == [
        {"label": "Beach public", "count": 1, "params": {"album": str(made["public"].album_id)}}
    ]
    assert client.get("/api/search/", {"similar_to": str(made["private"].pk)}).status_code == 404
    client.force_login(bob)
    page = client.get(reverse("search:results"), {"q": "beach"}).content.decode()
    assert "public picture" in page
    assert "private picture" not in page and "followers picture" not in page
    assert "Beach private" not in page and "Beach followers" not in page
