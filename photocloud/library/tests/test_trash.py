"""The Trash: a trashed picture is visible to nobody but its owner's Trash, by every route; restoring brings back the
same pictures with everything they had; only delete forever, emptying and the purge after PHOTOCLOUD_TRASH_DAYS remove
anything. Also the album cover, which must always be a live picture of its album (issue 12, item 3)."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings as django_settings
from django.utils import timezone

from photocloud.library import services, trash
from photocloud.library.models import Album, Photo
from photocloud.library.storage import original_name
from photocloud.library.tests.test_access import (
    ACCESS_LEVELS,
    SURFACES,
    VIEWERS,
    World,
    _body,
    _ids,
    _token_client,
)
from photocloud.social import services as social
from photocloud.social.models import Comment, Like
from tests import images

# The routes that reach one picture directly: for a trashed one, every viewer, its owner included, gets a 404.
PICTURE_SURFACES = ["picture page", "grid tile", "API picture", "API picture list", "thumbnail", "original"]


@pytest.fixture
def world(make_user, upload):
    return World(make_user, upload)


def _stored(name: str) -> Path:
    return Path(django_settings.MEDIA_ROOT) / name


@pytest.mark.parametrize("surface", PICTURE_SURFACES)
@pytest.mark.parametrize("access", ACCESS_LEVELS)
@pytest.mark.parametrize("viewer", VIEWERS)
def test_access_matrix_trashed_column(world, viewer, access, surface):
    photo = world.add(access)
    assert trash.trash_photos(world.alice, [photo.pk]) == [photo.pk]
    SURFACES[surface](world, access, world.client(viewer), False)


@pytest.fixture
def trashed_world(world, django_capture_on_commit_callbacks):
    """alice's public album holds a picture she keeps and one she trashed, which bob liked and commented on."""
    kept = world.add("public", seed=1)
    album = world.albums["public"]
    gone = world.upload(world.alice_api, [("gone.jpg", images.variant("rocket", seed=7))], album=album)
    gone = Photo.objects.get(pk=gone.json()["results"][0]["photo"]["id"])
    with django_capture_on_commit_callbacks(execute=True):  # committed, so the search index follows
        services.update_photo(gone, description="zebracorn on the beach", tags=["zebracorn"])
        services.update_photo(kept, description="zebracorn at home")
    social.like(world.bob, gone)
    social.add_comment(world.bob, gone, "Lovely zebracorn")
    services.update_album(album, cover=gone)
    trash.trash_photos(world.alice, [gone.pk])
    world.kept, world.gone = kept, gone
    return world


def _api_routes(world):
    """(route, what the body must not hold) for every listing, count and search through the API."""
    gone = str(world.gone.pk)
    return [
        "/api/photos/",
        f"/api/photos/?album={world.albums['public'].pk}",
        "/api/search/?q=zebracorn",
        "/api/search/?q=zebracorn&scope=mine",
        f"/api/search/?q=&album={world.albums['public'].pk}",
        "/api/feed/",
        "/api/recommendations/",
        "/api/notifications/",
        "/api/library/years/",
        "/api/library/themes/",
        f"/api/photos/{world.kept.pk}/similar/",
        f"/api/albums/{world.albums['public'].pk}/",
        "/api/albums/?owner=alice",
    ], gone


@pytest.mark.parametrize("viewer", VIEWERS)
def test_a_trashed_picture_is_in_no_listing_search_feed_or_notification(trashed_world, viewer):
    world = trashed_world
    client = world.client(viewer)
    routes, gone = _api_routes(world)
    for route in routes:
        response = client.get(route)
        if response.status_code in (401, 403):  # the routes for signed-in users only
            assert viewer == "anonymous", route
            continue
        assert gone not in response.content.decode(), route
    for page in ("/", "/u/alice/", f"/albums/{world.albums['public'].pk}/", "/search/?q=zebracorn", "/feed/"):
        response = client.get(page)
        assert response.status_code in (200, 302), page
        assert gone not in response.content.decode(), page
    album = client.get(f"/api/albums/{world.albums['public'].pk}/").json()
    assert album["photo_count"] == 1 and album["cover"] == str(world.kept.pk)  # the cover moved to a live picture
    search = client.get("/api/search/?q=zebracorn").json()
    assert [row["photo"]["id"] for row in search["results"]] == [str(world.kept.pk)] and search["count"] == 1
    if viewer == "owner":
        assert client.get("/library/").content.decode().count("/photos/") >= 1
        for route in ("/library/", "/library/themes/", "/library/dates/", "/search/?q=zebracorn&scope=mine"):
            assert gone not in client.get(route).content.decode(), route
        assert client.get("/api/library/years/").json()[0]["count"] == 1
        assert client.get("/api/notifications/").json()["count"] == 1  # bob followed; his like and comment: trashed


def test_the_owner_finds_it_in_the_trash_and_nobody_else(trashed_world):
    world = trashed_world
    owner = world.client("owner")
    listed = owner.get("/api/trash/").json()
    assert [row["id"] for row in listed["results"]] == [str(world.gone.pk)]
    row = listed["results"][0]
    trashed_at = Photo.objects.get(pk=world.gone.pk).trashed_at
    assert row["purge_at"].startswith(str((trashed_at + timedelta(days=30)).date()))
    assert row["album_title"] == world.albums["public"].title and row["album_deleted"] is False
    for client in (owner, world.alice_api):  # the page's session, or the API's token
        response = client.get(row["thumbnail"])
        assert response.status_code == 200 and _body(response).startswith(b"\xff\xd8")
    assert world.client("anonymous").get(row["thumbnail"]).status_code == 404
    page = owner.get("/trash/").content.decode()
    assert str(world.gone.pk) in page and "Purged on" in page
    for viewer in ("follower", "other"):
        client = world.client(viewer)
        assert _ids(client.get("/api/trash/")) == set()
        assert client.get(f"/trash/{world.gone.pk}/s").status_code == 404
        assert str(world.gone.pk) not in client.get("/trash/").content.decode()
        for action in ("restore", "delete"):
            client.post(f"/api/trash/{action}/", {"photos": [str(world.gone.pk)]}, format="json")
        client.post("/api/trash/empty/")
    assert world.client("anonymous").get("/api/trash/").status_code in (401, 403)
    assert Photo.objects.get(pk=world.gone.pk).trashed_at == trashed_at  # others could neither restore nor delete


def test_sync_lookup_and_upload_restore_a_trashed_picture(trashed_world):
    world = trashed_world
    gone = world.gone
    api = world.alice_api
    answer = api.post("/api/photos/lookup/", {"sha256": [gone.sha256]}, format="json").json()
    assert answer["missing"] == [gone.sha256]  # sending it restores it
    assert answer["trashed"] == {gone.sha256: str(gone.pk)}  # a sync client that does not send it says where it is
    elsewhere = services.create_album(world.alice, title="Elsewhere", category="misc", access="private")
    response = world.upload(api, [("again.jpg", images.variant("rocket", seed=7))], album=elsewhere)
    assert response.status_code == 200
    (result,) = response.json()["results"]
    assert result["status"] == "duplicate" and result["reason"] == "Restored from the Trash."
    assert result["code"] == "restored"  # what the sync client reads to tell it apart from "already there"
    assert result["photo"]["id"] == str(gone.pk) and result["photo"]["album"] == str(gone.album_id)
    assert Photo.objects.get(pk=gone.pk).trashed_at is None
    answer = api.post("/api/photos/lookup/", {"sha256": [gone.sha256]}, format="json").json()
    assert answer["present"] == {gone.sha256: str(gone.pk)} and answer["trashed"] == {}  # not sent again
    assert Photo.objects.filter(owner=world.alice).count() == 2  # no second copy

    trash.trash_photos(world.alice, [gone.pk])  # resumable uploads too, and they say so (not "already there")
    start = api.post("/api/uploads/", {"sha256": gone.sha256, "size": gone.file_size, "name": "b.jpg"}, format="json")
    assert start.status_code == 200 and start.json()["status"] == "duplicate"
    assert start.json()["photo"] == str(gone.pk) and start.json()["code"] == "restored"
    assert Photo.objects.get(pk=gone.pk).trashed_at is None


def test_restore_brings_back_the_same_pictures_with_everything(world):
    photos = [world.add("public", seed=seed) for seed in (1, 2)]
    album = world.albums["public"]  # the second add made a new album; put both in one
    services.update_photo(photos[0], album=album, tags=["harbour"], category="boats")
    social.add_comment(world.bob, photos[0], "Nice boats")
    social.like(world.carol, photos[0])
    files = {photo.pk: photo.sha256 for photo in photos}
    count = trash.trash_album(album)
    assert count == 2 and Album.objects.in_trash_of(world.alice).get() == album
    assert not Album.objects.visible_to(world.alice).filter(pk=album.pk).exists()
    response = world.client("owner").post("/trash/restore/", {"albums": [str(album.pk)]})
    assert response.status_code == 302 and response["Location"] == f"/albums/{album.pk}/"
    restored = Photo.objects.visible_to(world.alice).filter(album=album)
    assert {photo.pk: photo.sha256 for photo in restored} == files  # same ids, same files
    first = Photo.objects.get(pk=photos[0].pk)
    assert list(first.tags.values_list("name", flat=True)) == ["harbour"] and first.category == "boats"
    assert Comment.objects.filter(photo=first).count() == Like.objects.filter(photo=first).count() == 1
    assert Album.objects.get(pk=album.pk).trashed_at is None


def test_restoring_one_picture_recreates_its_deleted_album(world):
    photo = world.add("followers")
    album = world.albums["followers"]
    trash.trash_album(album)
    assert Album.objects.in_trash_of(world.alice).get() == album
    assert world.client("owner").get("/trash/").content.decode().count("Restore album") == 1
    assert trash.restore(world.alice, photo_ids=[photo.pk]) == 1
    assert Album.objects.visible_to(world.bob).get() == album
    assert Photo.objects.visible_to(world.bob).get() == photo
    assert Album.objects.get(pk=album.pk).shown_cover == photo


def test_delete_forever_and_empty_ask_for_confirmation(world, django_capture_on_commit_callbacks):
    photos = [world.add(access) for access in ("public", "private")]
    trash.trash_photos(world.alice, [photo.pk for photo in photos])
    owner = world.client("owner")
    page = owner.post("/trash/delete/", {"photos": [str(photos[0].pk)]}).content.decode()
    assert "Delete 1 picture forever?" in page and "cannot be undone" in page
    assert Photo.objects.count() == 2  # nothing happened yet
    assert "Empty the Trash?" in owner.get("/trash/empty/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        owner.post("/trash/delete/", {"photos": [str(photos[0].pk)], "confirm": "yes"})
    assert list(Photo.objects.all()) == [photos[1]]
    assert not _stored(original_name(photos[0].sha256, "jpg")).exists()
    with django_capture_on_commit_callbacks(execute=True):
        owner.post("/trash/empty/")
    assert not Photo.objects.exists()


def test_purge_after_retention_deletes_for_good_and_keeps_shared_files(
    world, make_user, upload, settings, django_capture_on_commit_callbacks
):
    data = images.unique_jpeg("coffee")
    old, recent = world.add("public", data=data), world.add("private", seed=4)
    dave = make_user("dave")
    daves_album = services.create_album(dave, title="Dave's", category="food", access="private")
    assert upload(_token_client(dave), [("same.jpg", data)], album=daves_album).status_code == 201
    trash.trash_photos(world.alice, [old.pk, recent.pk])
    Photo.objects.filter(pk=old.pk).update(trashed_at=timezone.now() - timedelta(days=31))
    config = apps.get_app_config("library")
    with django_capture_on_commit_callbacks(execute=True):
        assert "purge of the Trash" in config.recover_interrupted_work()  # run by `photocloud serve`, every 5 min
    assert not Photo.objects.filter(pk=old.pk).exists()
    assert Photo.objects.in_trash_of(world.alice).get() == recent  # not yet due
    assert _stored(original_name(old.sha256, "jpg")).read_bytes() == data  # dave's picture still uses the file
    assert config.recover_interrupted_work() is None
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "TRASH_DAYS": 0}
    with django_capture_on_commit_callbacks(execute=True):
        assert trash.purge_expired() == 1
    assert not Photo.objects.filter(owner=world.alice).exists()
    assert not _stored(original_name(recent.sha256, "jpg")).exists()


def test_page_deletes_offer_undo_and_say_where_the_pictures_went(world):
    photo = world.add("public")
    owner = world.client("owner")
    assert "cannot be undone" not in owner.get(f"/photos/{photo.pk}/delete/").content.decode()
    page = owner.post(f"/photos/{photo.pk}/delete/", follow=True).content.decode()
    assert "moved to the Trash" in page and 'data-testid="undo-toast"' in page
    assert f'name="photos" value="{photo.pk}"' in page
    assert 'data-testid="undo-toast"' not in owner.get("/library/").content.decode()  # shown once
    owner.post("/trash/restore/", {"photos": [str(photo.pk)]})
    assert Photo.objects.visible_to(world.carol).get() == photo
    assert owner.post("/trash/restore/", {"photos": ["not-an-id"]}).status_code == 302  # a message, not a 500
    owner.get("/trash/")  # shows (and so clears) that message
    assert "Choose the pictures to restore." in owner.post("/trash/restore/", {}, follow=True).content.decode()
    again = owner.post("/trash/restore/", {"photos": [str(photo.pk)]}, follow=True).content.decode()
    assert "no longer in your Trash" in again and "0 pictures restored" not in again
    # A picture in the library alone (removed from its album, or uploaded with library=true) has no album to go back to
    owner.post(
        "/api/photos/bulk/",
        {"ids": [str(photo.pk)], "action": "remove_from_album", "album": str(photo.album_id)},
        format="json",
    )
    assert Photo.objects.get(pk=photo.pk).album is None
    response = owner.post(f"/photos/{photo.pk}/delete/")
    assert response.status_code == 302 and response.url == "/library/"
    assert Photo.objects.get(pk=photo.pk).trashed_at is not None


# --- covers (issue 12, item 3) ----------------------------------------------------------------------------------------


def _cover_routes(world, album):
    return ["/", "/u/alice/", f"/api/albums/{album.pk}/", "/api/albums/?owner=alice", "/api/feed/", "/albums/"]


@pytest.mark.parametrize("how", ["moved to a private album", "trashed"])
@pytest.mark.parametrize("viewer", VIEWERS)
def test_a_cover_is_always_a_picture_of_its_album_the_viewer_may_see(world, viewer, how):
    cover = world.add("public", seed=1)
    album = world.albums["public"]
    kept = world.upload(world.alice_api, [("kept.jpg", images.variant("rocket", seed=5))], album=album)
    kept = Photo.objects.get(pk=kept.json()["results"][0]["photo"]["id"])
    assert Album.objects.get(pk=album.pk).cover_id == cover.pk
    world.add("private", seed=2)
    if how == "trashed":
        trash.trash_photos(world.alice, [cover.pk])
    else:
        world.alice_api.patch(f"/api/photos/{cover.pk}/", {"album": str(world.albums["private"].pk)}, format="json")
    assert Album.objects.get(pk=album.pk).cover_id == kept.pk  # fixed when the picture moved
    client = world.client(viewer)
    for route in _cover_routes(world, album):
        body = client.get(route).content.decode()
        assert str(cover.pk) not in body, route
    # Even a cover left pointing elsewhere (data from before this rule) is never shown.
    Album.objects.filter(pk=album.pk).update(cover=cover)
    for route in _cover_routes(world, album):
        assert str(cover.pk) not in client.get(route).content.decode(), route
    if viewer != "anonymous":
        assert client.get(f"/api/albums/{album.pk}/").json()["cover"] is None


def test_a_picture_restored_while_the_purge_runs_is_kept(world):
    photo = world.add("public")
    trash.trash_photos(world.alice, [photo.pk])
    chosen = Photo.objects.filter(pk=photo.pk)  # what the purge read before the owner pressed Restore
    trash.restore(world.alice, photo_ids=[photo.pk])
    assert trash._delete(chosen) == 0
    assert Photo.objects.visible_to(None).get() == photo
