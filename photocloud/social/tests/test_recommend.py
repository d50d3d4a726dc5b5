"""The recommender on small, hand-made communities: each signal, the explanations, diversity, cold start, access.
Quality on a larger synthetic community is measured by bench/recommend.py."""

import numpy as np
import pytest
from rest_framework.test import APIClient

from photocloud.library.models import Photo
from photocloud.social import services
from photocloud.social.recommend import Recommender
from tests.factories import album as make_album
from tests.factories import photo as make_photo

RNG = np.random.default_rng(3)
CUPS, CARS = RNG.normal(size=1280), RNG.normal(size=1280)


def near(centre):
    return centre + 0.3 * RNG.normal(size=1280)


@pytest.fixture
def people(make_user):
    return [make_user(name) for name in ("alice", "bob", "carol", "dave", "erin")]


def ids(recommendations):
    return [rec.item.pk for rec in recommendations]


def test_content_similarity_ranks_alike_pictures_first_and_says_why(people):
    alice, bob = people[:2]
    cups_album, cars_album = make_album(alice, title="Cups"), make_album(alice, title="Cars")
    liked = make_photo(cups_album, "Blue cup", features=near(CUPS))
    cups = [make_photo(make_album(alice, title=f"cups {n}"), features=near(CUPS)) for n in range(3)]
    cars = [make_photo(cars_album, features=near(CARS)) for _ in range(3)]
    services.like(bob, liked)
    recommendations = Recommender(bob).photos(6)
    assert set(ids(recommendations)[:3]) == {photo.pk for photo in cups}
    assert liked.pk not in ids(recommendations) and set(ids(recommendations)[3:]) <= {photo.pk for photo in cars}
    assert recommendations[0].reason == "Looks like “Blue cup”, which you liked"
    assert recommendations[0].because == liked


def test_behaviour_of_similar_users_without_any_features(people):
    """No picture has features here: collaborative filtering alone carries the ranking."""
    alice, bob, carol, dave, erin = people
    shared = make_photo(make_album(alice, title="A"), "Sunset")
    loved = make_photo(make_album(erin, title="B"), "Harbour")
    others = [make_photo(make_album(erin, title=f"C{n}")) for n in range(4)]
    for fan in (carol, dave):
        services.like(fan, shared)
        services.like(fan, loved)
    services.like(bob, shared)
    recommendations = Recommender(bob).photos(5)
    assert recommendations[0].item == loved
    assert recommendations[0].reason == "People who liked “Sunset” also liked this"
    assert set(ids(recommendations[1:])) <= {photo.pk for photo in others}


def test_followed_authors_are_boosted(people):
    alice, bob, carol = people[:3]
    followed = make_photo(make_album(alice, title="Alice's"))
    make_photo(make_album(carol, title="Carol's"))
    services.follow(bob, alice)
    first = Recommender(bob).photos(2)[0]
    assert first.item == followed and first.reason == "New from alice, whom you follow"


def test_diversity_caps_pictures_per_album_and_per_author(people):
    alice, bob, carol = people[:3]
    liked = make_photo(make_album(carol), features=near(CUPS))
    big = make_album(alice, title="Many cups")
    for _ in range(8):
        make_photo(big, features=near(CUPS))
    for n in range(4):
        make_photo(make_album(carol, title=f"cups {n}"), features=near(CUPS))
    services.like(bob, liked)
    recommendations = Recommender(bob).photos(10)
    albums = [rec.item.album_id for rec in recommendations]
    owners = [rec.item.owner_id for rec in recommendations]
    assert max(albums.count(album) for album in albums) <= 2
    assert max(owners.count(owner) for owner in owners) <= 3


def test_copies_of_one_file_are_recommended_once(people):
    alice, bob, carol, dave = people[:4]
    original = make_photo(make_album(alice), features=near(CUPS))
    copy = make_photo(make_album(carol), features=near(CUPS))
    Photo.objects.filter(pk=copy.pk).update(sha256=original.sha256)
    services.follow(bob, alice)
    services.follow(bob, carol)
    assert len({original.pk, copy.pk} & set(ids(Recommender(bob).photos(10)))) == 1


def test_cold_start_gets_popular_public_pictures(people):
    alice, bob, carol, dave, erin = people
    popular = make_photo(make_album(alice, "public"), "Popular")
    quiet = make_photo(make_album(alice, "public"), "Quiet")
    hidden = make_photo(make_album(alice, "followers"), "Hidden")
    for fan in (bob, carol, dave):
        services.like(fan, popular)
        services.like(fan, hidden)
    recommender = Recommender(erin)
    assert recommender.cold
    recommendations = recommender.photos(10)
    assert ids(recommendations) == [popular.pk, quiet.pk]
    assert [rec.reason for rec in recommendations] == ["Popular recently", "Recently shared"]


def test_albums_are_recommended_with_a_reason_and_not_when_collected(people):
    alice, bob = people[:2]
    liked = make_photo(make_album(alice, title="Cups 1"), "Red cup", features=near(CUPS))
    second = make_album(alice, title="Cups 2")
    make_photo(second, features=near(CUPS))
    services.like(bob, liked)
    albums = Recommender(bob).albums(5)
    assert albums[0].item == second and albums[0].reason == "Has pictures like “Red cup”, which you liked"
    assert albums[0].item.photo_count == 1  # what the album card shows
    services.collect(bob, second)
    assert second.pk not in ids(Recommender(bob).albums(5))


def test_api_and_page(people):
    alice, bob = people[:2]
    liked = make_photo(make_album(alice, title="Cups"), "Cup", features=near(CUPS))
    other = make_photo(make_album(alice, title="More cups"), features=near(CUPS))
    make_album(bob, "private", title="My refs")
    services.like(bob, liked)
    client = APIClient()
    client.force_login(bob)
    body = client.get("/api/recommendations/?limit=5").json()
    assert body["photos"][0]["id"] == str(other.pk) and "which you liked" in body["photos"][0]["reason"]
    assert body["photos"][0]["because"] == str(liked.pk)
    page = client.get("/for-you/").content.decode()
    assert str(other.pk) in page and "Looks like “Cup”, which you liked" in page.replace("&ldquo;", "“")
    assert "My refs" in page  # the "add to my album" choice
    assert APIClient().get("/api/recommendations/").status_code in (401, 403)
