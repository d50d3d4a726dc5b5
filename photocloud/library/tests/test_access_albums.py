"""The access matrix for pictures in several albums: a picture is visible to a viewer when its home album or any
album it is placed in is visible to them, on every route that serves pictures (pages, API, thumbnails, originals,
search, similar pictures, ZIP downloads); a picture in no album is its owner's alone. Never the title of an album
the viewer may not see."""

import io
import itertools
import json
import zipfile

import numpy as np
import pytest
from django.urls import reverse

from photocloud.library import services
from photocloud.library.models import Photo
from photocloud.library.tests.test_access import ACCESS_LEVELS, SEES, VIEWERS, World, _body, _ids
from photocloud.vision.models import PhotoAnalysis, encode_features
from tests import images


@pytest.fixture
def world(make_user, upload, django_capture_on_commit_callbacks):
    made = World(make_user, upload)
    made.indexed = lambda: django_capture_on_commit_callbacks(execute=True)  # the search index follows edits
    return made


def _analysed(photo: Photo) -> None:
    """Features as vision would store them (vision is off in tests), so that "similar" answers for the picture."""
    vector = np.random.default_rng(3).random(1280).astype(np.float32)
    PhotoAnalysis.objects.create(
        photo=photo,
        category="animal",
        confidence=0.9,
        labels=[],
        text="",
        faces=[],
        features=encode_features(vector),
        model_version="test",
    )


def _placed_world(world, home: str, placed: str) -> tuple[Photo, object, bytes]:
    """alice's picture homed in an album of level `home`, placed in another of level `placed`."""
    data = images.variant("cat", seed=ACCESS_LEVELS.index(home) * 3 + ACCESS_LEVELS.index(placed))
    photo = world.add(home, data=data)
    with world.indexed():
        services.update_photo(photo, title="zqxplaced")
    _analysed(photo)
    other = services.create_album(world.alice, title=f"Placed {placed} zqalbum", category="food", access=placed)
    services.add_to_album(world.alice, other, [photo.pk])
    return photo, other, data


def _zip_members(response) -> dict[str, bytes]:
    assert response.status_code == 200, response
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(_body(response))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _check_every_route(world, client, photo, visible: bool, original: bytes, hidden_titles: list[str]):
    page = client.get(f"/photos/{photo.pk}/")
    assert page.status_code == (200 if visible else 404)
    for title in hidden_titles:  # the page never names an album the viewer may not see
        assert title not in page.content.decode()
    assert client.get(f"/photos/{photo.pk}/tile/").status_code == (200 if visible else 404)
    assert client.get(f"/api/photos/{photo.pk}/").status_code == (200 if visible else 404)
    assert (str(photo.pk) in _ids(client.get("/api/photos/"))) == visible
    thumbnail = client.get(f"/photos/{photo.pk}/s")
    assert thumbnail.status_code == (200 if visible else 404)
    _body(thumbnail)
    served = client.get(f"/photos/{photo.pk}/original")
    assert served.status_code == (200 if visible else 404)
    assert (_body(served) == original) == visible
    found = client.get("/api/search/", {"q": "zqxplaced"}).json()
    assert (str(photo.pk) in [row["photo"]["id"] for row in found["results"]]) == visible
    for title in hidden_titles:  # nor do the search facets
        assert title not in json.dumps(found)
        assert title not in client.get("/search/", {"q": "zqxplaced"}).content.decode()
    assert (client.get(f"/api/photos/{photo.pk}/similar/").status_code != 404) == visible
    selection = client.post(reverse("library:photos_download"), {"photos": [str(photo.pk)]})
    if visible:
        assert list(_zip_members(selection).values()) == [original]
    else:
        assert selection.status_code == 404
    api_zip = client.post("/api/photos/download/", {"ids": [str(photo.pk)]}, format="json")
    assert api_zip.status_code == (200 if visible else 404)
    _body(api_zip)


def _check_albums_in_api(client, photo, home, placed, sees_home: bool, sees_placed: bool):
    """The API names only the albums the viewer may see: `albums` lists them (home first), `album` is the home album
    or null when it is hidden; the same in the picture, the list, search results and the album's own listing."""
    expected = [str(album.pk) for album, seen in ((home, sees_home), (placed, sees_placed)) if seen]
    answers = [client.get(f"/api/photos/{photo.pk}/").json()]
    answers += [row for row in client.get("/api/photos/").json()["results"] if row["id"] == str(photo.pk)]
    found = client.get("/api/search/", {"q": "zqxplaced"}).json()["results"]
    answers += [row["photo"] for row in found if row["photo"]["id"] == str(photo.pk)]
    if sees_placed:
        listed = client.get("/api/photos/", {"album": str(placed.pk)}).json()["results"]
        answers += [row for row in listed if row["id"] == str(photo.pk)]
    assert len(answers) == (4 if sees_placed else 3)
    for answer in answers:
        assert answer["albums"] == expected
        assert answer["album"] == (str(home.pk) if sees_home else None)
        if not sees_home:
            assert str(home.pk) not in json.dumps(answer)


@pytest.mark.parametrize(("home", "placed"), list(itertools.product(ACCESS_LEVELS, ACCESS_LEVELS)))
def test_a_picture_in_two_albums_is_visible_through_either(world, home, placed):
    photo, other, original = _placed_world(world, home, placed)
    for viewer in VIEWERS:
        client = world.client(viewer)
        visible = home in SEES[viewer] or placed in SEES[viewer]
        hidden = [
            album.title for album, level in ((world.albums[home], home), (other, placed)) if level not in SEES[viewer]
        ]
        _check_every_route(world, client, photo, visible, original, hidden)
        if visible:
            _check_albums_in_api(client, photo, world.albums[home], other, home in SEES[viewer], placed in SEES[viewer])
        # The album it is placed in shows it to whoever may see that album, and downloads with it.
        album_page = client.get(f"/albums/{other.pk}/")
        assert album_page.status_code == (200 if placed in SEES[viewer] else 404), viewer
        download = client.get(reverse("library:album_download", args=[other.pk]))
        if placed in SEES[viewer]:
            assert f"/photos/{photo.pk}/" in album_page.content.decode()
            assert list(_zip_members(download).values()) == [original]
            assert client.get(f"/api/albums/{other.pk}/").json()["photo_count"] == 1
        else:
            assert download.status_code == 404


def test_a_picture_in_no_album_is_its_owners_alone(world):
    photo = world.add("public")
    with world.indexed():
        services.update_photo(photo, title="zqxplaced")
    services.remove_from_album(world.alice, world.albums["public"], [photo.pk])
    _analysed(photo)
    photo.refresh_from_db()
    assert photo.album_id is None and photo.trashed_at is None
    for viewer in VIEWERS:
        _check_every_route(world, world.client(viewer), photo, viewer == "owner", world.originals["public"], [])
    timeline = world.client("owner").get("/library/").content.decode()
    assert f"/photos/{photo.pk}/" in timeline


def test_removing_the_wider_placement_takes_access_away(world):
    photo, other, _ = _placed_world(world, "private", "public")
    assert world.client("other").get(f"/photos/{photo.pk}/").status_code == 200
    services.remove_from_album(world.alice, other, [photo.pk])
    assert world.client("other").get(f"/photos/{photo.pk}/").status_code == 404
    assert world.client("owner").get(f"/photos/{photo.pk}/").status_code == 200


def test_trashing_the_placed_album_keeps_the_picture_but_not_the_access(world):
    photo, other, _ = _placed_world(world, "private", "public")
    from photocloud.library import trash

    trash.trash_album(other)
    photo.refresh_from_db()
    assert photo.trashed_at is None and photo.album_id == world.albums["private"].pk
    assert world.client("other").get(f"/photos/{photo.pk}/").status_code == 404
    assert world.client("owner").get(f"/photos/{photo.pk}/").status_code == 200


def test_zip_removes_gps_for_those_who_may_not_see_it(world):
    photo = world.add("public", data=images.jpeg("coffee", gps=(48.85, 2.35)))
    owner = _zip_members(world.client("owner").get(reverse("library:album_download", args=[world.albums["public"].pk])))
    other = _zip_members(world.client("other").get(reverse("library:album_download", args=[world.albums["public"].pk])))
    assert list(owner.values()) == [world.originals["public"]]  # byte-exact, with its position
    (stripped,) = other.values()
    assert stripped != world.originals["public"] and stripped.startswith(b"\xff\xd8")
    from PIL import ExifTags, Image

    with Image.open(io.BytesIO(stripped)) as image:
        assert ExifTags.IFD.GPSInfo not in image.getexif()
    assert Photo.objects.get(pk=photo.pk).has_location
