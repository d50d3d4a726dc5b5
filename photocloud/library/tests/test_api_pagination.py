"""The photo list's pages count the library only up to a cap (core/pagination.CappedCountPagination): past it,
`count` is a lower bound and `count_exact` false, and every page still says truthfully whether another follows."""

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.test import APIClient

from photocloud.core import pagination
from photocloud.library.models import Photo
from tests.factories import album as make_album
from tests.factories import photo as make_photo


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 2 and a cap of 4, so that a few pictures go past it."""
    monkeypatch.setattr(pagination.CappedCountPagination, "page_size", 2)
    monkeypatch.setattr(pagination, "COUNTED_AT_MOST", 4)


def _pages(api, url):
    """Every page from `url` on, following `next`."""
    pages = []
    while url:
        body = api.get(url).json()
        pages.append(body)
        url = body["next"]
    return pages


def test_past_the_cap_the_count_is_a_lower_bound_until_the_last_page(alice, api, small_pages):
    album = make_album(alice, access="private")
    made = [make_photo(album) for _ in range(7)]
    pages = _pages(api, "/api/photos/")
    assert [(page["count"], page["count_exact"]) for page in pages] == [(4, False), (4, False), (6, False), (7, True)]
    shown = [row["id"] for page in pages for row in page["results"]]
    assert shown == [str(photo.pk) for photo in reversed(made)]  # newest first, none twice, none missed
    assert pages[0]["previous"] is None and pages[-1]["previous"].endswith("?page=3")


def test_up_to_the_cap_the_count_is_exact_on_every_page(alice, api, small_pages):
    album = make_album(alice, access="private")
    for _ in range(3):
        make_photo(album)
    assert [(page["count"], page["count_exact"]) for page in _pages(api, "/api/photos/")] == [(3, True), (3, True)]
    assert api.get("/api/photos/?page=last").json()["count"] == 3


def test_a_page_past_the_end_or_not_a_page_is_a_404(alice, api, small_pages):
    album = make_album(alice, access="private")
    make_photo(album)
    assert api.get("/api/photos/").json() | {"results": []} == {
        "count": 1,
        "count_exact": True,
        "next": None,
        "previous": None,
        "results": [],
    }
    for page in ("2", "0", "-1", "x", "1.5", "99999999999999999999999"):
        assert api.get(f"/api/photos/?page={page}").status_code == 404, page
    Photo.objects.all().delete()
    assert api.get("/api/photos/").json()["count"] == 0  # an empty first page is a page


def test_the_cap_counts_only_what_the_viewer_may_see(alice, bob, small_pages):
    shared, private = make_album(alice, access="public"), make_album(alice, access="private")
    for _ in range(3):
        make_photo(shared)
        make_photo(private)
    client = APIClient()
    client.force_authenticate(bob)
    first = client.get(f"/api/photos/?owner={alice.username}").json()
    assert (first["count"], first["count_exact"]) == (3, True)
    assert client.get(f"/api/photos/?page=last&owner={alice.username}").json()["count"] == 3


def test_the_schema_describes_the_capped_count(api):
    schema = api.get("/api/schema/?format=json").json()
    page = schema["components"]["schemas"]["PaginatedPhotoList"]
    assert page["properties"]["count_exact"]["type"] == "boolean" and "count_exact" in page["required"]


def test_everything_i_may_see_comes_in_date_order_mine_and_others_merged(alice, bob, api, small_pages):
    """The list of everything read in two parts (PostgreSQL: mine and the others', merged in the database) gives the
    same pages as one query would: dates interleaved, others' private pictures left out, each picture once."""
    from datetime import UTC, datetime, timedelta

    from photocloud.accounts.models import Follow

    Follow.objects.create(follower=alice, followee=bob)
    mine = make_album(alice, access="private")
    theirs = {access: make_album(bob, access=access) for access in ("public", "followers", "private")}
    start = datetime(2020, 1, 1, tzinfo=UTC)
    made = []
    for day, album in enumerate([mine, theirs["public"], mine, theirs["private"], theirs["followers"], mine, mine]):
        made.append((make_photo(album, taken=start + timedelta(days=day)), album))
    expected = [str(photo.pk) for photo, album in reversed(made) if album != theirs["private"]]
    pages = _pages(api, "/api/photos/")
    assert [row["id"] for page in pages for row in page["results"]] == expected
    assert [(page["count"], page["count_exact"]) for page in pages] == [(4, False), (4, False), (6, True)]
    assert api.get("/api/photos/?page=2").json()["results"] == pages[1]["results"]


def test_shared_with_is_what_the_viewer_may_see_of_others(alice, bob, make_user):
    """access.shared_with(user), the others' part of a listing: visible_to(user) without the user's own pictures,
    pictures placed in a second album included, on every level and for every viewer."""
    from django.contrib.auth.models import AnonymousUser

    from photocloud.accounts.models import Follow

    carol = make_user("carol")
    Follow.objects.create(follower=bob, followee=alice)
    for owner in (alice, bob):
        _placed_at_every_level(owner)
    for viewer in (alice, bob, carol, AnonymousUser()):
        visible = set(Photo.objects.visible_to(viewer).values_list("pk", flat=True))
        shared = set(Photo.objects.shared_with(viewer).values_list("pk", flat=True))
        own = set(Photo.objects.owned_by(viewer).values_list("pk", flat=True))
        assert shared == visible - own and not shared & own, viewer
    assert Photo.objects.shared_with(bob).count() == 8  # alice's, all but the one in her private albums alone
    assert Photo.objects.shared_with(carol).count() == 10  # in a public album, of either owner


def _placed_at_every_level(owner) -> dict:
    """An album of the owner at every access level, each home to a picture of every level placed in every other."""
    from photocloud.library.models import AlbumPlacement

    levels = ("public", "followers", "private")
    albums = {access: make_album(owner, access=access, title=f"{owner} {access}") for access in levels}
    for home in levels:
        for placed in levels:
            photo = make_photo(albums[home])
            if placed != home:
                AlbumPlacement.objects.create(photo=photo, album=albums[placed])
    return albums


def _visibility_world(alice, bob, carol):
    """bob follows alice; alice and bob each have an album of every level with a picture of every home level placed
    in every other level, a picture in no album placed in a public album and one in none: what each viewer sees
    differs by level, by follow and by placement."""
    from photocloud.accounts.models import Follow
    from photocloud.library.models import AlbumPlacement

    Follow.objects.create(follower=bob, followee=alice)
    for owner in (alice, bob):
        albums = _placed_at_every_level(owner)
        homeless = make_photo(albums["public"])
        Photo.objects.filter(pk=homeless.pk).update(album=None)  # lives in the library alone, shown in an album
        AlbumPlacement.objects.create(photo=homeless, album=albums["followers"])
        Photo.objects.filter(pk=make_photo(albums["public"]).pk).update(album=None)  # in the library alone
    Photo.objects.filter(pk=make_photo(albums["public"]).pk).update(trashed_at="2024-01-01T00:00:00Z")


def test_the_parts_of_what_a_viewer_may_see_are_visible_to_split_none_twice(alice, bob, make_user):
    """access.visible_parts(user), the parts a list reads one by one: together exactly visible_to(user), no picture
    in two, for every viewer (the owner, a follower, a stranger, a visitor), also narrowed to one owner."""
    carol = make_user("carol")
    _visibility_world(alice, bob, carol)
    for viewer in (alice, bob, carol, AnonymousUser()):
        visible = set(Photo.objects.visible_to(viewer).values_list("pk", flat=True))
        parts = [set(part.values_list("pk", flat=True)) for part in Photo.objects.visible_parts(viewer)]
        assert set().union(*parts) == visible and sum(map(len, parts)) == len(visible), viewer
        for owner in (alice, bob):  # narrowed to one owner's pictures
            theirs = set(Photo.objects.visible_to(viewer).filter(owner=owner).values_list("pk", flat=True))
            parts = [set(part.values_list("pk", flat=True)) for part in Photo.objects.visible_parts(viewer, owner.pk)]
            assert set().union(*parts) == theirs and sum(map(len, parts)) == len(theirs), (viewer, owner)
    sizes = {viewer.username: len(Photo.objects.visible_to(viewer)) for viewer in (alice, bob, carol)}
    # alice: her 11 and bob's in a public album; bob: his 11 and alice's in public or followers' albums; carol: public
    assert sizes == {"alice": 11 + 5, "bob": 11 + 9, "carol": 5 + 5}


@pytest.mark.parametrize("viewer", ["alice", "bob", "carol", "visitor"])
@pytest.mark.parametrize("narrowed", ["", "?owner=alice", "?owner=bob"])
def test_every_page_of_a_list_shows_each_visible_picture_once(alice, bob, make_user, small_pages, viewer, narrowed):
    """The list read page by page (pages of 2, counted up to 4), whole or narrowed to an owner, as each viewer:
    every picture they may see once, in date order, none they may not; the count exact once the list is shorter than
    the cap or on the last page."""
    carol = make_user("carol")
    _visibility_world(alice, bob, carol)
    client = APIClient()
    user = {"alice": alice, "bob": bob, "carol": carol}.get(viewer)
    if user is not None:
        client.force_authenticate(user)
    expected = Photo.objects.visible_to(user or AnonymousUser())
    if narrowed:
        expected = expected.filter(owner__username=narrowed.split("=")[1])
    expected = [str(pk) for pk in expected.listed().order_by("-sort_date", "-created_at").values_list("pk", flat=True)]
    pages = _pages(client, f"/api/photos/{narrowed}")
    assert [row["id"] for page in pages for row in page["results"]] == expected
    assert pages[-1]["count"] == len(expected) and pages[-1]["count_exact"]
    assert all(page["count_exact"] == (len(expected) <= 4) for page in pages[:-1])
