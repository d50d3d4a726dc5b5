"""A picture in several albums of different access levels is found by the title, description and tags of every
album holding it that the viewer may see, and never by those of an album the viewer may not see (services.py,
backends.py): strangers, followers and the owner, on every path that ranks or lists (relevance, newest, filtered)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.test import APIClient

from photocloud.accounts.models import Follow
from photocloud.library import services as library
from photocloud.library.models import Album, Photo
from photocloud.search import selectors
from photocloud.search.models import SearchPosting
from tests.factories import album, ids, photo

pytestmark = pytest.mark.usefixtures("no_meaning")

# What each viewer may see of alice's albums: the owner all, a follower public and followers-only, others public.
SEES = {
    "owner": {"public", "followers", "private"},
    "follower": {"public", "followers"},
    "stranger": {"public"},
    "anonymous": {"public"},
}


@pytest.fixture
def world(alice, bob, make_user):
    """One picture homed in a public album and placed in a followers-only and a private one; another homed in a
    private album and placed in a public one. carol follows alice, bob does not."""
    carol = make_user("carol")
    Follow.objects.create(follower=carol, followee=alice)
    shelves = {
        "public": album(alice, "public", title="Zqharbour walks", tags=["zqpubtag"]),
        "followers": album(alice, "followers", title="Zqfamily weekend", description="zqfamdesc"),
        "private": album(alice, "private", title="Zqsecret clinic", tags=["zqsecrettag"], description="zqprivdesc"),
    }
    wide = photo(shelves["public"], title="Boats")
    library.add_to_album(alice, shelves["followers"], [wide.pk])
    library.add_to_album(alice, shelves["private"], [wide.pk])
    home_private = album(alice, "private", title="Zqdiary hidden")
    placed_public = album(alice, "public", title="Zqgallery open")
    narrow = photo(home_private, title="Sunset")
    library.add_to_album(alice, placed_public, [narrow.pk])
    viewers = {"owner": alice, "follower": carol, "stranger": bob, "anonymous": AnonymousUser()}
    return shelves, wide, narrow, home_private, placed_public, viewers


WORDS = {  # word -> the access level of the album of `wide` that says it
    "zqharbour": "public",
    "zqpubtag": "public",
    "zqfamily": "followers",
    "zqfamdesc": "followers",
    "zqsecret": "private",
    "zqsecrettag": "private",
    "zqprivdesc": "private",
}


def _found(viewer, q, **options) -> set:
    return ids(selectors.search(viewer, q=q, **options).results[0:100])


def _loosened(viewer, q) -> bool:
    """Whether the search had to fall back to pictures holding some of the words (none held them all)."""
    parsed = selectors.search(viewer, q=q).parsed
    return not selectors.ranked(Photo.objects.visible_to(viewer), parsed, 10, albums=Album.objects.visible_to(viewer))


@pytest.mark.parametrize("who", list(SEES))
def test_found_by_the_albums_the_viewer_may_see_and_no_other(world, who):
    shelves, wide, narrow, _, _, viewers = world
    viewer = viewers[who]
    for word, level in WORDS.items():
        expected = {wide.pk} if level in SEES[who] else set()
        assert _found(viewer, word) == expected, (who, word)  # ranked by relevance
        assert _found(viewer, word, sort="newest") == expected, (who, word)  # listed by date
        assert _found(viewer, word, filters={"owner": "alice"}) == expected, (who, word)  # narrowed first
    # Homed in a private album, placed in a public one: found by the public title only, except by its owner.
    assert _found(viewer, "zqgallery") == {narrow.pk}
    assert _found(viewer, "zqdiary") == ({narrow.pk} if who == "owner" else set())
    # Two words from two albums: both must be visible to match both; otherwise the search falls back to the words
    # some picture holds (selectors.search), and answers exactly what the word the viewer may see finds alone.
    for words, level in (("zqharbour zqsecret", "private"), ("zqharbour zqfamily", "followers")):
        both = level in SEES[who]
        assert _found(viewer, words) == ({wide.pk} if both else _found(viewer, "zqharbour")), (who, words)
        assert bool(_loosened(viewer, words)) != both, (who, words)


def test_the_reasons_never_name_a_hidden_album(world):
    _, wide, _, _, _, viewers = world
    owner = selectors.search(viewers["owner"], q="zqsecrettag")
    assert owner.reasons([wide])[wide.pk] == ["album tag “zqsecrettag”"]
    assert selectors.search(viewers["owner"], q="clinic").reasons([wide])[wide.pk] == ["album"]
    client = APIClient()
    client.force_authenticate(viewers["stranger"])
    body = client.get("/api/search/", {"q": "zqharbour"}).json()
    assert [row["photo"]["id"] for row in body["results"]] == [str(wide.pk)]
    text = str(body)
    for hidden in ("zqsecret", "zqfamily", "zqprivdesc", "zqfamdesc"):
        assert hidden not in text.lower()


def test_changes_of_access_and_placement_apply(world):
    shelves, wide, _, _, _, viewers = world
    stranger = viewers["stranger"]
    assert _found(stranger, "zqsecret") == set()
    library.update_album(shelves["private"], access="public")  # no re-indexing needed: checked at query time
    assert _found(stranger, "zqsecret") == {wide.pk}
    library.remove_from_album(viewers["owner"], shelves["private"], [wide.pk])
    assert _found(viewers["owner"], "zqsecret") == set()
    assert not SearchPosting.objects.filter(object_id=wide.pk, album=shelves["private"].pk).exists()
    library.update_album(shelves["followers"], title="Zqrenamed")  # its pictures, placed ones too, follow
    assert _found(viewers["follower"], "zqrenamed") == {wide.pk}
    assert _found(viewers["follower"], "zqfamily") == set()
