"""Who may see and change what: the access-control matrix on every path, GPS privacy, write access, CSRF.

Viewers: the owner (alice), a follower of hers (bob), another user (carol) and an anonymous visitor. Access levels:
everyone, my followers, only me. The owner sees all; a follower sees "everyone" and "my followers"; anyone else
sees only "everyone". Hidden objects answer 404, never 403 (which would confirm that they exist), and lists leave
them out.
"""

import io
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from photocloud.accounts.models import ApiToken
from photocloud.library import services, trash
from photocloud.library.models import Album, Photo
from photocloud.social import services as social
from tests import images

PASSWORD = "a-long-Passw0rd!"  # conftest's make_user default
VIEWERS = ["owner", "follower", "other", "anonymous"]
ACCESS_LEVELS = ["public", "followers", "private"]
SEES = {
    "owner": {"public", "followers", "private"},
    "follower": {"public", "followers"},
    "other": {"public"},
    "anonymous": {"public"},
}


# --- helpers --------------------------------------------------------------------------------------------------------


def _body(response) -> bytes:
    """The content; reading a streamed file to the end makes the test client close it (and the file)."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def _session_client(user=None, **options) -> APIClient:
    client = APIClient(**options)
    if user is not None:
        client.force_login(user)
    return client


def _token_client(user) -> APIClient:
    _, key = ApiToken.issue(user, "tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    return {row["id"] for row in rows}


def _originals() -> set[Path]:
    root = Path(django_settings.MEDIA_ROOT) / "originals"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


class World:
    """alice owns albums (one per access level, each with one processed picture); bob follows her; carol doesn't."""

    def __init__(self, make_user, upload):
        self.alice = make_user("alice")
        self.bob = make_user("bob")
        self.carol = make_user("carol")
        social.follow(self.bob, self.alice)
        self.alice_api = _token_client(self.alice)
        self.upload = upload
        self.albums: dict[str, Album] = {}
        self.photos: dict[str, Photo] = {}
        self.originals: dict[str, bytes] = {}

    def add(self, access: str, seed: int = 0, data: bytes | None = None) -> Photo:
        album = services.create_album(self.alice, title=f"Album {access} zq{seed}", category="landscape", access=access)
        data = data or images.variant("cat", seed=seed * 3 + ACCESS_LEVELS.index(access))
        response = self.upload(self.alice_api, [(f"{access}.jpg", data)], album=album)
        assert response.status_code == 201, response.json()
        photo = Photo.objects.get(pk=response.json()["results"][0]["photo"]["id"])
        assert photo.status == Photo.Status.READY, photo.status_detail
        self.albums[access], self.photos[access], self.originals[access] = album, photo, data
        return photo

    def user(self, viewer):
        return {"owner": self.alice, "follower": self.bob, "other": self.carol, "anonymous": None}[viewer]

    def client(self, viewer) -> APIClient:
        return _session_client(self.user(viewer))


@pytest.fixture
def world(make_user, upload):
    return World(make_user, upload)


# --- the matrix -----------------------------------------------------------------------------------------------------


def _album_page(world, access, client, visible):
    album = world.albums[access]
    response = client.get(f"/albums/{album.pk}/")
    assert response.status_code == (200 if visible else 404)
    if visible:
        page = response.content.decode()
        assert album.title in page
        assert f"/photos/{world.photos[access].pk}/" in page


def _picture_page(world, access, client, visible):
    photo = world.photos[access]
    response = client.get(f"/photos/{photo.pk}/")
    assert response.status_code == (200 if visible else 404)
    if visible:
        assert f"/photos/{photo.pk}/l" in response.content.decode()


def _picture_tile(world, access, client, visible):
    photo = world.photos[access]
    response = client.get(f"/photos/{photo.pk}/tile/")
    assert response.status_code == (200 if visible else 404)
    if visible:
        assert f"/photos/{photo.pk}/" in response.content.decode()


def _api_picture(world, access, client, visible):
    photo = world.photos[access]
    response = client.get(f"/api/photos/{photo.pk}/")
    assert response.status_code == (200 if visible else 404)
    if visible:
        assert response.json()["id"] == str(photo.pk)


def _api_album(world, access, client, visible):
    album = world.albums[access]
    response = client.get(f"/api/albums/{album.pk}/")
    assert response.status_code == (200 if visible else 404)
    if visible:
        assert response.json()["id"] == str(album.pk)


def _api_picture_list(world, access, client, visible):
    photo = world.photos[access]
    for query in ("", "?owner=alice", f"?album={world.albums[access].pk}", "?status=ready"):
        assert (str(photo.pk) in _ids(client.get(f"/api/photos/{query}"))) == visible, query


def _api_album_list(world, access, client, visible):
    album = world.albums[access]
    for query in ("", "?owner=alice"):
        assert (str(album.pk) in _ids(client.get(f"/api/albums/{query}"))) == visible, query


def _thumbnail(world, access, client, visible):
    photo = world.photos[access]
    for size, box in django_settings.PHOTOCLOUD["THUMBNAIL_SIZES"].items():
        response = client.get(f"/photos/{photo.pk}/{size}")
        assert response.status_code == (200 if visible else 404), size
        content = _body(response)
        if visible:
            assert response["Content-Type"] == "image/jpeg"
            with Image.open(io.BytesIO(content)) as thumb:
                assert max(thumb.size) <= box
        else:
            assert not content.startswith(b"\xff\xd8")


def _original(world, access, client, visible):
    photo = world.photos[access]
    for query in ("", "?download=1"):
        response = client.get(f"/photos/{photo.pk}/original{query}")
        assert response.status_code == (200 if visible else 404), query
        content = _body(response)
        if visible:
            assert content == world.originals[access]  # byte-exact
            assert response["Content-Type"] == "image/jpeg"
        else:
            assert world.originals[access][:64] not in content


def _profile(world, access, client, visible):
    album = world.albums[access]
    response = client.get("/u/alice/")
    assert response.status_code == 200
    page = response.content.decode()
    assert (str(album.pk) in page) == visible
    assert (album.title in page) == visible


SURFACES = {
    "album page": _album_page,
    "picture page": _picture_page,
    "grid tile": _picture_tile,
    "API picture": _api_picture,
    "API album": _api_album,
    "API picture list": _api_picture_list,
    "API album list": _api_album_list,
    "thumbnail": _thumbnail,
    "original": _original,
    "profile page": _profile,
}


@pytest.mark.parametrize("surface", list(SURFACES))
@pytest.mark.parametrize("access", ACCESS_LEVELS)
@pytest.mark.parametrize("viewer", VIEWERS)
def test_access_matrix(world, viewer, access, surface):
    world.add(access)
    visible = access in SEES[viewer]
    SURFACES[surface](world, access, world.client(viewer), visible)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_lists_hold_exactly_what_the_viewer_may_see(world, viewer):
    for access in ACCESS_LEVELS:
        world.add(access)
    client = world.client(viewer)
    expected = SEES[viewer]
    assert _ids(client.get("/api/photos/")) == {str(world.photos[a].pk) for a in expected}
    assert _ids(client.get("/api/albums/?owner=alice")) == {str(world.albums[a].pk) for a in expected}
    profile = client.get("/u/alice/").content.decode()
    for access in ACCESS_LEVELS:
        assert (str(world.albums[access].pk) in profile) == (access in expected)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_home_page_lists_only_public_albums(world, viewer):
    for access in ACCESS_LEVELS:
        world.add(access)
    page = world.client(viewer).get("/").content.decode()
    for access in ACCESS_LEVELS:
        assert (str(world.albums[access].pk) in page) == (access == "public"), access


@pytest.mark.parametrize("access", ACCESS_LEVELS)
def test_thumbnails_and_originals_through_an_api_token(world, access):
    """The URLs the API hands out also work with the API token, and apply the same check."""
    world.add(access)
    photo = world.photos[access]
    for viewer in ("owner", "follower", "other"):
        client = _token_client(world.user(viewer))
        visible = access in SEES[viewer]
        for size in ("s", "original"):
            response = client.get(f"/photos/{photo.pk}/{size}")
            assert response.status_code == (200 if visible else 404), (viewer, size)
            _body(response)
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token pc_not-a-real-token")
    response = bad.get(f"/photos/{photo.pk}/original")
    assert response.status_code == 401
    assert not _body(response).startswith(b"\xff\xd8")


def test_unfollowing_takes_away_followers_access(world):
    """Files included: the browser asks again each time (no-cache), 304 while it may see them, 404 once it may not."""
    photo = world.add("followers")
    bob = world.client("follower")
    assert bob.get(f"/photos/{photo.pk}/").status_code == 200
    files = (f"/photos/{photo.pk}/s", f"/photos/{photo.pk}/original")
    tags = {}
    for url in files:
        response = bob.get(url)
        _body(response)
        assert response["Cache-Control"] == "private, no-cache", url
        tags[url] = response["ETag"]
        again = bob.get(url, headers={"If-None-Match": tags[url]})
        assert (again.status_code, again.content, again["ETag"]) == (304, b"", tags[url]), url
        assert again["Cache-Control"] == "private, no-cache", url
    social.unfollow(world.bob, world.alice)
    assert bob.get(f"/photos/{photo.pk}/").status_code == 404
    for url in (*files, f"/api/photos/{photo.pk}/"):
        assert bob.get(url).status_code == 404, url
    for url in files:
        assert bob.get(url, headers={"If-None-Match": tags[url]}).status_code == 404, url


def test_following_someone_else_gives_no_access(world, make_user):
    photo = world.add("followers")
    dave = make_user("dave")
    social.follow(dave, world.bob)  # follows the follower, not the owner
    social.follow(world.alice, dave)  # and is followed by the owner: following is one-way
    assert _session_client(dave).get(f"/photos/{photo.pk}/").status_code == 404


def test_changing_the_album_access_applies_at_once(world):
    photo = world.add("public")
    carol = world.client("other")
    response = carol.get(f"/photos/{photo.pk}/original")
    assert response.status_code == 200
    assert _body(response) == world.originals["public"]
    response = world.alice_api.patch(f"/api/albums/{world.albums['public'].pk}/", {"access": "private"}, format="json")
    assert response.status_code == 200
    for url in (
        f"/photos/{photo.pk}/",
        f"/photos/{photo.pk}/tile/",
        f"/photos/{photo.pk}/s",
        f"/photos/{photo.pk}/original",
        f"/api/photos/{photo.pk}/",
        f"/albums/{world.albums['public'].pk}/",
    ):
        assert carol.get(url).status_code == 404, url
        assert APIClient().get(url).status_code == 404, url


def test_unknown_ids_look_like_hidden_ones(world):
    """A picture that does not exist and one you may not see answer the same way."""
    hidden = world.add("private")
    unknown = "0b0c5f27-9f3b-4a6e-a1a5-2d7f0f2b1c33"
    carol = world.client("other")
    for template in ("/photos/{}/", "/photos/{}/tile/", "/photos/{}/s", "/photos/{}/original", "/api/photos/{}/"):
        a, b = carol.get(template.format(hidden.pk)), carol.get(template.format(unknown))
        assert a.status_code == b.status_code == 404
        if not a.streaming and not b.streaming and a["Content-Type"].startswith("application/json"):
            assert a.json() == b.json()


# --- GPS ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def gps_world(world):
    world.add("public", data=images.jpeg("coffee", gps=(48.85, 2.35)))
    world.add("followers", data=images.jpeg("rocket", gps=(48.85, 2.35)))
    return world


def _gps_in_api(client, photo) -> tuple:
    detail = client.get(f"/api/photos/{photo.pk}/").json()
    listed = next(row for row in client.get("/api/photos/").json()["results"] if row["id"] == str(photo.pk))
    assert (listed["latitude"], listed["longitude"]) == (detail["latitude"], detail["longitude"])
    return detail["latitude"], detail["longitude"]


def _gps_on_page(client, photo) -> bool:
    page = client.get(f"/photos/{photo.pk}/").content.decode()
    return "48.85" in page or "2.35000" in page


@pytest.mark.parametrize("viewer", VIEWERS)
def test_gps_is_only_for_the_owner(gps_world, viewer):
    client = gps_world.client(viewer)
    for access in ("public", "followers"):
        photo = gps_world.photos[access]
        if access not in SEES[viewer]:
            continue
        assert photo.has_location
        latitude, longitude = _gps_in_api(client, photo)
        if viewer == "owner":
            assert latitude == pytest.approx(48.85, abs=1e-4)
            assert longitude == pytest.approx(2.35, abs=1e-4)
            assert _gps_on_page(client, photo)
        else:
            assert (latitude, longitude) == (None, None)
            assert not _gps_on_page(client, photo)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_gps_is_shown_when_the_owner_shares_it(gps_world, viewer):
    gps_world.alice.share_location = True
    gps_world.alice.save(update_fields=["share_location"])
    client = gps_world.client(viewer)
    for access in ("public", "followers"):
        photo = gps_world.photos[access]
        if access not in SEES[viewer]:
            assert client.get(f"/api/photos/{photo.pk}/").status_code == 404  # sharing GPS shares nothing else
            continue
        latitude, longitude = _gps_in_api(client, photo)
        assert latitude == pytest.approx(48.85, abs=1e-4)
        assert longitude == pytest.approx(2.35, abs=1e-4)
        assert _gps_on_page(client, photo)


def _served_original(client, photo, query="") -> tuple[bytes, str]:
    response = client.get(f"/photos/{photo.pk}/original{query}")
    assert response.status_code == 200
    return _body(response), response["Content-Type"]


def _gps_of(data: bytes) -> dict:
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(0x8825))


def test_owner_downloads_the_original_byte_exact_with_its_gps(gps_world):
    photo = gps_world.photos["public"]
    data, content_type = _served_original(gps_world.client("owner"), photo)
    assert data == gps_world.originals["public"]
    assert content_type == "image/jpeg"
    assert _gps_of(data)


@pytest.mark.parametrize("viewer", ["follower", "other", "anonymous"])
def test_original_download_does_not_leak_gps(gps_world, viewer):
    client = gps_world.client(viewer)
    for access in ("public", "followers"):
        if access not in SEES[viewer]:
            continue
        photo = gps_world.photos[access]
        for query in ("", "?download=1"):
            data, content_type = _served_original(client, photo, query)
            assert content_type == "image/jpeg"
            assert _gps_of(data) == {}
            assert b"48.85" not in data
            with Image.open(io.BytesIO(data)) as served, Image.open(io.BytesIO(gps_world.originals[access])) as real:
                assert served.size == real.size
                assert served.getexif().get(0x010F) == "Canon"  # only the position is removed
                # A JPEG keeps its compressed pixels: the decoded images are identical.
                assert served.tobytes() == real.tobytes()


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_original_of_other_formats_does_not_leak_gps(world, fmt):
    data = images.encode(images.photo("rocket", size=(240, 160)), fmt, images.exif_for(gps=(48.85, 2.35)))
    photo = world.add("public", data=data)
    assert photo.has_location
    assert _served_original(world.client("owner"), photo)[0] == data
    served, content_type = _served_original(world.client("other"), photo)
    assert served != data
    assert _gps_of(served) == {}
    with Image.open(io.BytesIO(served)) as image:
        assert image.size == (240, 160)
        assert content_type == Image.MIME[image.format]


def test_original_keeps_gps_when_the_owner_shares_it(gps_world):
    photo = gps_world.photos["public"]
    anonymous = gps_world.client("anonymous")
    withheld = anonymous.get(f"/photos/{photo.pk}/original")
    _body(withheld)
    gps_world.alice.share_location = True
    gps_world.alice.save(update_fields=["share_location"])
    data, _ = _served_original(anonymous, photo)
    assert data == gps_world.originals["public"]
    # The copy without the position a browser holds is not "still valid": the bytes differ, and so does their tag.
    assert anonymous.get(f"/photos/{photo.pk}/original", headers={"If-None-Match": withheld["ETag"]}).status_code == 200


def test_gps_is_not_in_the_thumbnails(gps_world):
    photo = gps_world.photos["public"]
    response = _session_client().get(f"/photos/{photo.pk}/l")
    with Image.open(io.BytesIO(_body(response))) as thumb:
        assert thumb.getexif().get_ifd(0x8825) == {}


# --- write access ---------------------------------------------------------------------------------------------------


def _album_state(album):
    album = Album.objects.get(pk=album.pk)
    return album.title, album.access, album.description, album.category, album.cover_id, album.owner_id


def _photo_state(photo):
    photo = Photo.objects.get(pk=photo.pk)
    return photo.title, photo.description, photo.album_id, photo.category, photo.owner_id, photo.status


@pytest.mark.parametrize("access", ACCESS_LEVELS)
@pytest.mark.parametrize("viewer", ["follower", "other"])
def test_others_cannot_change_albums_or_pictures_through_the_api(world, viewer, access):
    photo = world.add(access)
    album = world.albums[access]
    before_album, before_photo = _album_state(album), _photo_state(photo)
    visible = access in SEES[viewer]
    allowed = (403, 404) if visible else (404,)  # never confirm that a hidden object exists
    for client in (world.client(viewer), _token_client(world.user(viewer))):
        responses = [
            client.patch(f"/api/albums/{album.pk}/", {"title": "Mine now", "access": "public"}, format="json"),
            client.put(
                f"/api/albums/{album.pk}/", {"title": "Mine now", "category": "food", "access": "public"}, format="json"
            ),
            client.delete(f"/api/albums/{album.pk}/"),
            client.patch(f"/api/photos/{photo.pk}/", {"title": "Mine now"}, format="json"),
            client.delete(f"/api/photos/{photo.pk}/"),
            client.post(f"/api/photos/{photo.pk}/retry/"),
        ]
        for response in responses:
            assert response.status_code in allowed, (
                response.request["REQUEST_METHOD"],
                response.request["PATH_INFO"],
                response.status_code,
            )
    assert _album_state(album) == before_album
    assert _photo_state(photo) == before_photo
    assert Photo.objects.filter(pk=photo.pk).exists()


@pytest.mark.parametrize("access", ACCESS_LEVELS)
def test_anonymous_cannot_change_anything_through_the_api(world, access):
    photo = world.add(access)
    album = world.albums[access]
    before_album, before_photo = _album_state(album), _photo_state(photo)
    anonymous = APIClient()
    for response in (
        anonymous.patch(f"/api/albums/{album.pk}/", {"title": "x"}, format="json"),
        anonymous.delete(f"/api/albums/{album.pk}/"),
        anonymous.patch(f"/api/photos/{photo.pk}/", {"title": "x"}, format="json"),
        anonymous.delete(f"/api/photos/{photo.pk}/"),
        anonymous.post(f"/api/photos/{photo.pk}/retry/"),
        anonymous.post("/api/albums/", {"title": "x", "category": "food", "access": "public"}, format="json"),
    ):
        assert response.status_code in (401, 403, 404), response.request["PATH_INFO"]
    assert _album_state(album) == before_album
    assert _photo_state(photo) == before_photo
    assert Album.objects.count() == 1


@pytest.mark.parametrize("access", ACCESS_LEVELS)
def test_others_cannot_upload_into_an_album(world, access):
    world.add(access)
    album = world.albums[access]
    before = _originals()
    bob = _token_client(world.bob)
    data = images.unique_jpeg("astronaut")
    response = world.upload(bob, [("intruder.jpg", data)], album=album)
    assert response.status_code == 404
    assert Photo.objects.filter(album=album).count() == 1
    assert not Photo.objects.filter(owner=world.bob).exists()
    assert _originals() == before


def test_others_cannot_use_the_edit_pages(world):
    photo = world.add("public")
    album = world.albums["public"]
    before_album, before_photo = _album_state(album), _photo_state(photo)
    bob = world.client("follower")
    pages = [
        f"/albums/{album.pk}/edit/",
        f"/albums/{album.pk}/delete/",
        f"/photos/{photo.pk}/edit/",
        f"/photos/{photo.pk}/delete/",
    ]
    for url in pages:
        assert bob.get(url).status_code == 404, url
    posts = {
        f"/albums/{album.pk}/edit/": {"title": "Mine", "category": "food", "access": "public", "tags": ""},
        f"/albums/{album.pk}/delete/": {"pictures": "delete"},
        f"/photos/{photo.pk}/edit/": {"title": "Mine", "album": str(album.pk)},
        f"/photos/{photo.pk}/delete/": {},
        f"/photos/{photo.pk}/retry/": {},
        f"/albums/{album.pk}/cover/{photo.pk}/": {},
    }
    for url, data in posts.items():
        assert bob.post(url, data).status_code == 404, url
    anonymous = _session_client()
    for url in pages:
        response = anonymous.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    for url, data in posts.items():
        assert anonymous.post(url, data).status_code == 302, url
    assert _album_state(album) == before_album
    assert _photo_state(photo) == before_photo


def test_others_cannot_move_pictures_into_my_album(world, upload):
    world.add("public")
    album = world.albums["public"]
    bobs_album = services.create_album(world.bob, title="Bob's", category="food", access="public")
    bob = _token_client(world.bob)
    upload(bob, [("bob.jpg", images.variant("rocket", seed=1))], album=bobs_album)
    bobs_photo = Photo.objects.get(owner=world.bob)
    response = bob.patch(f"/api/photos/{bobs_photo.pk}/", {"album": str(album.pk)}, format="json")
    assert response.status_code == 400
    assert Photo.objects.get(pk=bobs_photo.pk).album_id == bobs_album.pk


def test_owner_cannot_take_others_pictures_as_cover(world, upload):
    photo = world.add("public")
    bobs_album = services.create_album(world.bob, title="Bob's", category="food", access="public")
    upload(_token_client(world.bob), [("bob.jpg", images.variant("rocket", seed=2))], album=bobs_album)
    bobs_photo = Photo.objects.get(owner=world.bob)
    album = world.albums["public"]
    response = world.alice_api.patch(f"/api/albums/{album.pk}/", {"cover": str(bobs_photo.pk)}, format="json")
    assert response.status_code == 400
    assert Album.objects.get(pk=album.pk).cover_id == photo.pk
    response = world.alice_api.patch(f"/api/photos/{photo.pk}/", {"album": str(bobs_album.pk)}, format="json")
    assert response.status_code == 400
    assert Photo.objects.get(pk=photo.pk).album_id == album.pk


def test_errors_do_not_reveal_that_a_private_album_exists(world, upload):
    world.add("private")
    bobs_album = services.create_album(world.bob, title="Bob's", category="food", access="public")
    bob = _token_client(world.bob)
    upload(bob, [("bob.jpg", images.variant("rocket", seed=3))], album=bobs_album)
    bobs_photo = Photo.objects.get(owner=world.bob)
    hidden = bob.patch(f"/api/photos/{bobs_photo.pk}/", {"album": str(world.albums["private"].pk)}, format="json")
    unknown = bob.patch(
        f"/api/photos/{bobs_photo.pk}/", {"album": "0b0c5f27-9f3b-4a6e-a1a5-2d7f0f2b1c33"}, format="json"
    )
    assert hidden.status_code == unknown.status_code == 400
    assert hidden.json()["album"][0].replace(str(world.albums["private"].pk), "ID") == unknown.json()["album"][
        0
    ].replace("0b0c5f27-9f3b-4a6e-a1a5-2d7f0f2b1c33", "ID")


def test_hash_lookup_only_answers_about_my_own_pictures(world):
    photo = world.add("public")
    response = _token_client(world.bob).post("/api/photos/lookup/", {"sha256": [photo.sha256]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"present": {}, "missing": [photo.sha256], "trashed": {}}
    trash.trash_photos(world.alice, [photo.pk])  # nor about someone else's Trash
    again = _token_client(world.bob).post("/api/photos/lookup/", {"sha256": [photo.sha256]}, format="json")
    assert again.json()["trashed"] == {}


def test_owner_is_always_the_authenticated_user(world, django_capture_on_commit_callbacks):
    api = world.alice_api
    response = api.post(
        "/api/albums/",
        {
            "title": "Trip",
            "category": "landscape",
            "access": "private",
            "owner": "bob",
            "id": "0b0c5f27-9f3b-4a6e-a1a5-2d7f0f2b1c33",
        },
        format="json",
    )
    assert response.status_code == 400 and set(response.json()) == {"owner", "id"}  # refused, not silently ignored
    response = api.post("/api/albums/", {"title": "Trip", "category": "landscape", "access": "private"}, format="json")
    assert response.status_code == 201, response.json()
    album = Album.objects.get(pk=response.json()["id"])
    assert album.owner == world.alice
    assert response.json()["owner"] == "alice"

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/photos/upload/",
            {
                "album": str(album.pk),
                "owner": "bob",
                "owner_id": str(world.bob.pk),
                "file": [SimpleUploadedFile("trip.jpg", images.variant("coffee", seed=9))],
            },
            format="multipart",
        )
    assert response.status_code == 201
    photo = Photo.objects.get(pk=response.json()["results"][0]["photo"]["id"])
    assert photo.owner == world.alice

    response = api.patch(f"/api/photos/{photo.pk}/", {"owner": "bob", "title": "Renamed"}, format="json")
    assert response.status_code == 400 and "owner" in response.json()
    assert api.patch(f"/api/photos/{photo.pk}/", {"title": "Renamed"}, format="json").status_code == 200
    photo.refresh_from_db()
    assert (photo.owner, photo.title) == (world.alice, "Renamed")
    response = api.patch(f"/api/albums/{album.pk}/", {"owner": "bob", "title": "Renamed"}, format="json")
    assert response.status_code == 400 and "owner" in response.json()
    assert api.patch(f"/api/albums/{album.pk}/", {"title": "Renamed"}, format="json").status_code == 200
    album.refresh_from_db()
    assert (album.owner, album.title) == (world.alice, "Renamed")
    assert not Photo.objects.filter(owner=world.bob).exists()
    assert not Album.objects.filter(owner=world.bob).exists()


def test_unauthenticated_upload_is_refused(world, upload):
    world.add("public")
    before = _originals()
    response = upload(APIClient(), [("anon.jpg", images.unique_jpeg())], album=world.albums["public"])
    assert response.status_code in (401, 403)
    response = upload(APIClient(), [("anon.jpg", images.unique_jpeg())])
    assert response.status_code in (401, 403)
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token pc_revoked-or-made-up")
    assert upload(bad, [("anon.jpg", images.unique_jpeg())]).status_code == 401
    assert Photo.objects.count() == 1
    assert _originals() == before


def test_revoked_token_no_longer_works(world):
    world.add("private")
    token, key = ApiToken.issue(world.alice, "laptop")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(f"/api/photos/{world.photos['private'].pk}/").status_code == 200
    token.delete()
    assert client.get(f"/api/photos/{world.photos['private'].pk}/").status_code == 401


# --- CSRF -----------------------------------------------------------------------------------------------------------


def _logged_in_with_csrf_checks(user) -> APIClient:
    """A browser-like session: logged in with a password (force_login would skip CSRF), CSRF checks on."""
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_session_api_post_without_csrf_token_is_refused(world):
    world.add("public")
    client = _logged_in_with_csrf_checks(world.alice)
    assert client.get("/api/albums/").status_code == 200  # safe methods need no token
    response = client.post("/api/albums/", {"title": "x", "category": "food", "access": "public"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    response = client.post(
        "/api/photos/upload/", {"file": [SimpleUploadedFile("a.jpg", images.unique_jpeg())]}, format="multipart"
    )
    assert response.status_code == 403
    response = client.patch(f"/api/albums/{world.albums['public'].pk}/", {"access": "private"}, format="json")
    assert response.status_code == 403
    response = client.delete(f"/api/photos/{world.photos['public'].pk}/")
    assert response.status_code == 403
    assert Album.objects.count() == 1
    assert Album.objects.get().access == "public"
    assert Photo.objects.count() == 1


def test_session_api_post_with_csrf_token_is_accepted(world):
    client = _logged_in_with_csrf_checks(world.alice)
    assert client.get("/albums/new/").status_code == 200  # the form page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/api/albums/", {"title": "x", "category": "food", "access": "public"}, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 201, response.json()


def test_token_clients_need_no_csrf_token(world):
    client = _token_client(world.alice)
    client.handler.enforce_csrf_checks = True
    response = client.post("/api/albums/", {"title": "x", "category": "food", "access": "public"}, format="json")
    assert response.status_code == 201


def test_web_forms_refuse_posts_without_csrf_token(world):
    photo = world.add("public")
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="alice", password=PASSWORD)
    assert client.post(f"/photos/{photo.pk}/delete/").status_code == 403
    assert client.post("/albums/new/", {"title": "x", "category": "food", "access": "public"}).status_code == 403
    assert Photo.objects.filter(pk=photo.pk).exists()
    assert Album.objects.count() == 1


def test_album_list_has_a_stable_order(world):
    import warnings

    from django.core.paginator import UnorderedObjectListWarning

    for access in ACCESS_LEVELS:
        world.add(access)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnorderedObjectListWarning)
        response = world.client("owner").get("/api/albums/")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [
        str(world.albums[a].pk) for a in reversed(ACCESS_LEVELS)
    ]
