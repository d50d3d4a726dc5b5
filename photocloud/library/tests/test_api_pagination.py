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
