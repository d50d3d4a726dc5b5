"""The photo list's pages count the library only up to a cap (core/pagination.CappedCountPagination): past it,
`count` is a lower bound and `count_exact` false, and every page still says truthfully whether another follows."""

import pytest
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
    from photocloud.library.models import AlbumPlacement

    carol = make_user("carol")
    Follow.objects.create(follower=bob, followee=alice)
    levels = ("public", "followers", "private")
    for owner in (alice, bob):
        albums = {access: make_album(owner, access=access, title=f"{owner} {access}") for access in levels}
        for home in levels:
            for placed in levels:
                photo = make_photo(albums[home])
                if placed != home:
                    AlbumPlacement.objects.create(photo=photo, album=albums[placed])
    for viewer in (alice, bob, carol, AnonymousUser()):
        visible = set(Photo.objects.visible_to(viewer).values_list("pk", flat=True))
        shared = set(Photo.objects.shared_with(viewer).values_list("pk", flat=True))
        own = set(Photo.objects.owned_by(viewer).values_list("pk", flat=True))
        assert shared == visible - own and not shared & own, viewer
    assert Photo.objects.shared_with(bob).count() == 8  # alice's, all but the one in her private albums alone
    assert Photo.objects.shared_with(carol).count() == 10  # in a public album, of either owner
