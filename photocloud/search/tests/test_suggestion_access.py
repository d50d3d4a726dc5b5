"""Spelling suggestions and similar meanings come from a vocabulary of every user's labels, so each one they propose
must be a label the viewer may see: a private or followers-only tag name must not be probed by a typo or a synonym,
and a removed tag must stop being proposed (issue 12.2)."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from photocloud.accounts.models import Follow
from photocloud.library import services as library
from tests.factories import album, photo

# (query, what it proposes when the viewer may see the label): a typo for the suggestion, a synonym for the meaning.
MARKERS = {
    "public": [("beahc", "suggestion", "beach"), ("seaside", "meaning", "beach")],
    "private": [("retreiver", "suggestion", "retriever"), ("puppy", "meaning", "golden retriever")],
    "followers": [("seashroe", "suggestion", "seashore"), ("seaside", "meaning", "seashore")],
    "removed": [("lighthuose", "suggestion", "lighthouse"), ("beacon", "meaning", "lighthouse")],
}
SEES = {
    "owner": {"public", "private", "followers"},
    "follower": {"public", "followers"},
    "stranger": {"public"},
    "anonymous": {"public"},
}


@pytest.fixture
def viewers(alice, bob, make_user):
    """alice's tags at each access level, and one she removed; carol follows her, bob does not."""
    carol = make_user("carol")
    Follow.objects.create(follower=carol, followee=alice)
    photo(album(alice, "public"), tags=["beach"])
    photo(album(alice, "private"), tags=["golden retriever"])
    photo(album(alice, "followers"), tags=["seashore"])
    removed = photo(album(alice, "public", title="Coast"), tags=["lighthouse"])
    library.update_photo(removed, tags=[])
    return {"owner": alice, "follower": carol, "stranger": bob, "anonymous": None}


def _client(cls, user):
    client = cls()
    if user is not None:
        client.force_login(user)
    return client


def _proposed(body: dict) -> set[str]:
    return {body["suggestion"], *body["similar_meaning"]} - {""}


@pytest.mark.parametrize("who", list(SEES))
def test_suggestions_and_meanings_only_name_labels_the_viewer_may_see(viewers, who):
    api, page = _client(APIClient, viewers[who]), _client(Client, viewers[who])
    for level, markers in MARKERS.items():
        for query, kind, label in markers:
            body = api.get("/api/search/", {"q": query}).json()
            html = page.get("/search/", {"q": query}).content.decode()
            proposed = body["suggestion"] if kind == "suggestion" else body["similar_meaning"]
            if level in SEES[who]:
                assert label in proposed, (who, query)
                assert label in html, (who, query)
            else:
                assert label not in _proposed(body), (who, query)
                assert label not in html, (who, query)
