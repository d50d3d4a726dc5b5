"""Archive and favourites: the owner's private marks. Archived pictures leave the timeline and the automatic albums
but stay in their albums and in search (with a filter); favourites have their own view. Single pictures through
their page, selections through the API; nobody else can see or use either mark."""

import pytest

from photocloud.library import services
from photocloud.library.models import Photo
from photocloud.library.tests.test_access import World, _ids, _token_client
from tests import images


@pytest.fixture
def world(make_user, upload, django_capture_on_commit_callbacks):
    world = World(make_user, upload)
    world.add("public", seed=1)
    album = world.albums["public"]
    response = upload(world.alice_api, [("old.jpg", images.variant("rocket", seed=3))], album=album)
    archived = Photo.objects.get(pk=response.json()["results"][0]["photo"]["id"])
    with django_capture_on_commit_callbacks(execute=True):  # committed, so the search index follows
        for photo in (world.photos["public"], archived):
            services.update_photo(photo, description="quokka")
    world.archived = archived
    return world


def _page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_archive_leaves_the_timeline_and_automatic_albums_but_not_albums_or_search(world):
    photo, kept = world.archived, world.photos["public"]
    owner = world.client("owner")
    response = owner.post(f"/photos/{photo.pk}/marks/", {"archived": "1"}, follow=True)
    assert "stays in its album and in search" in response.content.decode()
    assert "Unarchive" in response.content.decode()
    assert Photo.objects.get(pk=photo.pk).archived
    for url in ("/library/", "/library/themes/", "/library/themes/landscape/"):
        page = _page(owner, url)
        assert str(photo.pk) not in page and (url == "/library/themes/" or str(kept.pk) in page), url
    assert owner.get("/api/library/years/").json()[0]["count"] == 1
    year = owner.get("/api/library/years/").json()[0]["year"]
    months = owner.get(f"/api/library/years/{year}/").json()
    assert sum(month["count"] for month in months) == 1
    assert str(photo.pk) in _page(owner, f"/albums/{world.albums['public'].pk}/")
    assert str(photo.pk) in _page(owner, "/library/archive/")
    assert _ids(owner.get("/api/photos/archived/")) == {str(photo.pk)}

    def found(client, query=""):
        return {row["photo"]["id"] for row in client.get(f"/api/search/?q=quokka{query}").json()["results"]}

    assert found(owner) == {str(photo.pk), str(kept.pk)}
    assert found(owner, "&archived=hide") == {str(kept.pk)}
    assert found(owner, "&archived=only") == {str(photo.pk)}
    for viewer in ("follower", "other"):  # the mark is private: it neither shows nor filters others' pictures
        client = world.client(viewer)
        assert found(client) == found(client, "&archived=hide") == {str(photo.pk), str(kept.pk)}
        assert found(client, "&archived=only") == set()
        assert client.get(f"/api/photos/{photo.pk}/").json()["archived"] is None

    owner.post(f"/photos/{photo.pk}/marks/", {"archived": "0"})
    assert str(photo.pk) in _page(owner, "/library/")


def test_favourites_on_a_picture_and_on_a_selection(world, make_user):
    photo, other = world.archived, world.photos["public"]
    owner = world.client("owner")
    assert "Add to favourites" in _page(owner, f"/photos/{photo.pk}/")
    owner.post(f"/photos/{photo.pk}/marks/", {"favourite": "1"})
    assert str(photo.pk) in _page(owner, "/library/favourites/") and str(other.pk) not in _page(
        owner, "/library/favourites/"
    )
    assert world.alice_api.get(f"/api/photos/{photo.pk}/").json()["favourite"] is True
    assert world.client("follower").get(f"/api/photos/{photo.pk}/").json()["favourite"] is None

    api = world.alice_api
    response = api.post(
        "/api/photos/marks/", {"photos": [str(photo.pk), str(other.pk)], "favourite": False}, format="json"
    )
    assert response.json() == {"count": 2}
    response = api.post(
        "/api/photos/marks/", {"photos": [str(other.pk)], "favourite": True, "archived": True}, format="json"
    )
    assert response.json() == {"count": 1}
    assert _ids(api.get("/api/photos/favourites/")) == {str(other.pk)}
    assert _ids(api.get("/api/photos/archived/")) == {str(other.pk)}
    assert api.post("/api/photos/marks/", {"photos": [str(other.pk)]}, format="json").status_code == 400
    assert api.patch(f"/api/photos/{other.pk}/", {"favourite": False}, format="json").json()["favourite"] is False

    dave = _token_client(make_user("dave"))  # never someone else's pictures
    response = dave.post("/api/photos/marks/", {"photos": [str(photo.pk)], "favourite": True}, format="json")
    assert response.json() == {"count": 0}
    assert world.client("follower").post(f"/photos/{photo.pk}/marks/", {"favourite": "1"}).status_code == 404
    assert not Photo.objects.get(pk=photo.pk).favourite
    assert _ids(dave.get("/api/photos/favourites/")) == set()


def test_a_patch_changes_marks_and_fields_together(world):
    photo = world.archived
    response = world.alice_api.patch(
        f"/api/photos/{photo.pk}/", {"archived": True, "title": "Old rocket"}, format="json"
    ).json()
    assert (response["archived"], response["favourite"], response["title"]) == (True, False, "Old rocket")
    photo.refresh_from_db()
    assert photo.archived and photo.title == "Old rocket"
