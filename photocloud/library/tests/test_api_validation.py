"""Requests that once got a server error (found by fuzzing the API): each is now a clear 4xx with a message, and the
schema says what the API answers (tests/test_api_fuzz.py fuzzes the whole of it)."""

import logging

import pytest
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from photocloud.library import services
from photocloud.library.models import Photo
from photocloud.library.storage import original_name, rendition_name
from tests import images


@pytest.fixture
def album(alice):
    return services.create_album(alice, title="Holidays", category="landscape", access="public")


@pytest.fixture
def photo(api, upload, album):
    response = upload(api, [("cat.jpg", images.jpeg())], album)
    assert response.status_code == 201, response.json()
    return Photo.objects.get(pk=response.json()["results"][0]["photo"]["id"])


@pytest.mark.parametrize("anonymous", [True, False])
def test_filters_of_another_list_are_refused_with_a_message(api, album, anonymous):
    client = APIClient() if anonymous else api
    for query in (f"album={album.pk}", "status=ready", "colour=red"):
        response = client.get(f"/api/albums/?{query}")
        assert response.status_code == 400, query
        name = query.split("=")[0]
        assert "Unknown filter" in response.json()[name][0]
    assert client.get("/api/albums/?owner=alice&page=1").json()["count"] == 1
    # List filters belong to the list: an album's own routes take none, and say so.
    response = client.get(f"/api/albums/{album.pk}/?album={album.pk}&status=ready")
    assert response.status_code == 400 and "Unknown filter" in response.json()["status"][0]


@pytest.mark.parametrize(
    "path, unknown",
    [
        ("/api/notifications/", "verb=like"),  # was ignored: every notification came back, likes or not
        ("/api/recommendations/", "page=2"),  # one answer, not pages: page 2 was page 1 again
        ("/api/photos/{photo}/similar/", "page=2"),
        ("/api/photos/{photo}/similar/", "metric=cosine&scop=mine"),
        # Lists that take only `page` (their pagination refuses the rest): these ignored every other parameter.
        ("/api/feed/", "owner=alice"),
        ("/api/people/", "hidden=all&name=Ann"),
        ("/api/people/", "pagee=2"),
        ("/api/photos/favourites/", "status=ready"),
        ("/api/trash/", "mine=true"),
        ("/api/collected/", "owner=alice"),
        ("/api/tokens/", "q=x"),
        ("/api/crawls/", "status=done"),
        ("/api/users/alice/followers/", "q=bob"),
        ("/api/photos/{photo}/comments/", "since=2020"),
    ],
)
def test_parameters_other_lists_take_are_refused_everywhere(api, photo, path, unknown):
    response = api.get(path.format(photo=photo.pk) + "?" + unknown)
    name = unknown.split("&")[-1].split("=")[0]
    assert response.status_code == 400 and "Unknown filter" in response.json()[name][0], response.json()
    assert api.get(path.format(photo=photo.pk) + "?format=json").status_code != 400  # (similar: 404, not analysed)


def test_gets_that_take_no_parameter_refuse_any(api, photo, alice):
    """Were ignored: ?year=2023 on the years answered every year, ?limit=5 on the themes every theme."""
    for path in (
        "/api/library/years/",
        "/api/library/years/2024/",
        "/api/library/years/2024/1/",
        "/api/library/themes/",
        f"/api/photos/{photo.pk}/",
        f"/api/photos/{photo.pk}/faces/",
        f"/api/photos/{photo.pk}/likes/",
        "/api/recommendations/web/",
        "/api/me/",
        "/api/users/alice/",
        f"/api/albums/{photo.album_id}/download/",
    ):
        response = api.get(f"{path}?year=2023")
        assert response.status_code == 400, path
        assert response.json() == {"year": ["Unknown filter; this request takes none."]}, path
        assert api.get(f"{path}?format=json").status_code == 200, path
    assert api.get("/api/recommendations/?limit=5").status_code == 200  # a GET that reads its own still takes them
    assert api.get(f"/api/photos/{photo.pk}/?year=2023", headers={"Accept": "text/html"}).status_code == 400


def test_lists_still_take_their_own_parameters(api, photo):
    for path in ("/api/feed/?page=1", "/api/people/?hidden=all&page=1", "/api/notifications/?unread=true&page=1"):
        assert api.get(path).status_code == 200, path
    assert "hidden" in api.get("/api/people/?hidden=maybe").json()


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/me/", {"username": "mallory", "display_name": "Alice"}),  # was 200: the name changed, not the username
        ("/api/photos/{photo}/", {"taken_at": "2001-02-03T04:05:06Z"}),  # was 200, nothing changed (taken_local is)
        ("/api/photos/{photo}/", {"id": 1, "title": "Cat"}),
    ],
)
def test_read_only_fields_in_a_body_are_refused_with_a_message(api, photo, path, body):
    response = api.patch(path.format(photo=photo.pk), body, format="json")
    assert response.status_code == 400, response.json()
    (name,) = set(response.json())
    assert name in ("username", "taken_at", "id") and "cannot be changed" in response.json()[name][0]
    assert "taken_local" in response.json()[name][0] or "display_name" in response.json()[name][0]
    photo.refresh_from_db()
    assert photo.title != "Cat" and photo.owner.username == "alice"


def test_picture_filters_are_validated(api, photo):
    assert api.get(f"/api/photos/?album={photo.album_id}&status=ready").json()["count"] == 1
    assert "status" in api.get("/api/photos/?status=lost").json()
    assert "mine" in api.get("/api/photos/?mine=perhaps").json()
    assert api.get(f"/api/photos/{photo.pk}/?status=failed").status_code == 400  # a list's filter: not the picture's


def test_an_album_created_without_access_is_private(api):
    response = api.post("/api/albums/", {"title": "Notes", "category": "document"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["access"] == "private"


def test_album_deletion_checks_where_the_pictures_go(api, album):
    response = api.delete(f"/api/albums/{album.pk}/?move_to=elsewhere")
    assert response.status_code == 400
    assert "move_to" in response.json()
    missing = "00000000-0000-4000-8000-000000000000"
    assert api.delete(f"/api/albums/{album.pk}/?move_to={missing}").status_code == 404


@pytest.mark.parametrize("year", ["0", "1", "9999", "10000", str(2**63), str(2**64 + 5)])
def test_years_out_of_range_are_not_found(api, client, alice, year):
    client.force_login(alice)
    for path in (f"/api/library/years/{year}/", f"/api/library/years/{year}/5/"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert "No such year" in response.json()["detail"]
    for path in (f"/library/dates/{year}/", f"/library/dates/{year}/5/"):
        assert client.get(path).status_code == 404, path


def test_months_out_of_range_are_not_found(api, client, alice):
    client.force_login(alice)
    for month in ("0", "13", str(2**63)):
        assert api.get(f"/api/library/years/2024/{month}/").status_code == 404
        assert client.get(f"/library/dates/2024/{month}/").status_code == 404
    assert api.get("/api/library/years/2024/12/").json() == []
    assert client.get("/library/dates/9998/12/").status_code == 200


def test_a_missing_file_is_410_gone_with_a_message_and_logged(api, photo, caplog):
    default_storage.delete(original_name(photo.sha256, "jpg"))
    default_storage.delete(rendition_name(photo.sha256, "l"))
    for size in ("original", "l"):
        with caplog.at_level(logging.ERROR, logger="photocloud.library.views"):
            response = api.get(f"/photos/{photo.pk}/{size}")
        assert response.status_code == 410, size
        assert "missing" in response.content.decode()
        assert str(photo.pk) in caplog.text
        caplog.clear()


def test_unknown_api_urls_answer_json(api, client):
    response = api.get("/api/uploads/not-an-id/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert "text/html" in client.get("/no/such/page/").headers["Content-Type"]


def test_schema_puts_list_filters_on_lists_only_and_pages_on_paginated_lists(client):
    paths = client.get("/api/schema/?format=json").json()["paths"]

    def query(path, method):
        return {p["name"] for p in paths[path][method].get("parameters", []) if p["in"] == "query"}

    assert query("/api/albums/", "get") == {"owner", "mine", "page"}
    assert query("/api/photos/", "get") == {"owner", "mine", "album", "status", "page"}
    assert query("/api/albums/", "post") == set()
    assert query("/api/albums/{id}/", "put") == set()
    assert query("/api/albums/{id}/", "delete") == {"move_to"}
    assert query("/api/photos/upload/", "post") == set()
    for path in ("/api/collected/", "/api/{kind}/{id}/comments/", "/api/notifications/"):
        assert query(path, "get") >= {"page"}, path
        ok = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok["$ref"].startswith("#/components/schemas/Paginated"), path
    upload = paths["/api/photos/upload/"]["post"]["responses"]
    assert {"200", "201", "400", "401", "403", "404", "413", "415", "429"} <= upload.keys()
