"""Bulk actions on a selection (POST /api/photos/bulk/ and library/bulk.py), pictures in several albums, moving and
removing without deleting, rotation, uploads into the library, background jobs with progress."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from photocloud.library import bulk, selectors, services, trash
from photocloud.library.models import Album, AlbumPlacement, BulkJob, Photo
from tests import factories, images


@pytest.fixture
def api(alice):
    client = APIClient()
    client.force_authenticate(alice)
    return client


@pytest.fixture
def shelf(alice):
    home = factories.album(alice, access="private", title="Home")
    other = factories.album(alice, access="public", title="Other")
    photos = [factories.photo(home) for _ in range(3)]
    return home, other, photos


def _bulk(api, action, ids, **params):
    return api.post("/api/photos/bulk/", {"ids": [str(pk) for pk in ids], "action": action, **params}, format="json")


def test_add_to_album_places_without_copy_and_reports_each_id(api, shelf, bob):
    home, other, photos = shelf
    strangers = factories.photo(factories.album(bob))
    response = _bulk(api, "add_to_album", [photos[0].pk, photos[1].pk, strangers.pk], album=str(other.pk))
    assert response.status_code == 200, response.json()
    assert [row["ok"] for row in response.json()["results"]] == [True, True, False]
    assert response.json()["results"][2]["error"] == bulk.NOT_FOUND
    assert Photo.objects.count() == 4  # no copies
    assert set(selectors.album_photos(other)) == {photos[0], photos[1]}
    assert set(selectors.album_photos(home)) == set(photos)  # still in their home album
    assert selectors.with_photo_count(Album.objects.filter(pk=other.pk)).get().photo_count == 2
    assert Album.objects.get(pk=other.pk).shown_cover in photos[:2]


def test_move_changes_the_home_and_drops_the_placement_there(api, shelf, alice):
    home, other, photos = shelf
    services.add_to_album(alice, other, [photos[0].pk])
    response = _bulk(api, "move_to_album", [photos[0].pk, photos[1].pk], album=str(other.pk))
    assert all(row["ok"] for row in response.json()["results"])
    photos[0].refresh_from_db()
    assert photos[0].album_id == other.pk and not AlbumPlacement.objects.filter(photo=photos[0]).exists()
    assert set(selectors.album_photos(home)) == {photos[2]}


def test_removing_never_deletes(api, shelf, alice):
    home, other, photos = shelf
    services.add_to_album(alice, other, [photos[0].pk])
    _bulk(api, "remove_from_album", [photos[0].pk, photos[1].pk], album=str(home.pk))
    photos[0].refresh_from_db()
    photos[1].refresh_from_db()
    assert photos[0].album_id == other.pk  # a placement became its home
    assert photos[1].album_id is None and photos[1].trashed_at is None  # in the library alone
    assert photos[1] in selectors.library_photos(alice)
    assert Photo.objects.count() == 3


def test_trashing_an_album_removes_its_placements_only(alice, shelf):
    home, other, photos = shelf
    services.add_to_album(alice, other, [photos[0].pk])
    placed_here = factories.photo(other)
    services.add_to_album(alice, home, [placed_here.pk])
    trash.trash_album(home)
    assert Photo.objects.get(pk=placed_here.pk).trashed_at is None  # placed, not at home: stays
    assert all(Photo.objects.get(pk=p.pk).trashed_at for p in photos)
    assert not AlbumPlacement.objects.filter(album=home).exists()


def test_tags_category_marks_trash_and_restore(api, shelf, alice):
    _, _, photos = shelf
    ids = [p.pk for p in photos]
    assert _bulk(api, "add_tags", ids, tags=["sea", "Sun"]).status_code == 200
    assert {t.name for t in photos[0].tags.all()} == {"sea", "sun"}
    _bulk(api, "remove_tags", ids, tags=["sea"])
    assert {t.name for t in photos[2].tags.all()} == {"sun"}
    _bulk(api, "set_category", ids, category="Food")
    assert set(Photo.objects.filter(pk__in=ids).values_list("category", flat=True)) == {"food"}
    for action, field in (("favourite", "favourite_at"), ("archive", "archived_at")):
        _bulk(api, action, ids)
        assert all(getattr(p, field) for p in Photo.objects.filter(pk__in=ids))
    _bulk(api, "unarchive", ids)
    assert not any(p.archived_at for p in Photo.objects.filter(pk__in=ids))
    assert all(r["ok"] for r in _bulk(api, "trash", ids).json()["results"])
    assert Photo.objects.in_trash_of(alice).count() == 3
    assert all(r["ok"] for r in _bulk(api, "restore", ids).json()["results"])
    assert Photo.objects.in_trash_of(alice).count() == 0


def test_new_album_from_a_selection(api, shelf):
    _, _, photos = shelf
    response = _bulk(api, "new_album", [p.pk for p in photos[:2]], title="Best", category="travel")
    album = Album.objects.get(pk=response.json()["album"])
    assert album.title == "Best" and set(selectors.album_photos(album)) == set(photos[:2])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"action": "explode"}, "action"),
        ({"action": "add_to_album"}, "album"),
        ({"action": "add_to_album", "album": "8c1e3b2e-7f58-4a7e-9d6c-2b9c6f1b0a11"}, "No such album"),
        ({"action": "add_tags"}, "tags"),
        ({"action": "rotate", "degrees": 45}, "degrees"),
        ({"action": "favourite", "ids": []}, "ids"),
        ({"action": "favourite", "ids": ["not-a-uuid"]}, "ids"),
    ],
)
def test_bad_requests_are_refused_with_a_message(api, shelf, body, message):
    payload = {"ids": [str(shelf[2][0].pk)], **body}
    response = api.post("/api/photos/bulk/", payload, format="json")
    assert response.status_code == 400
    assert message.lower() in str(response.json()).lower()


def test_others_album_is_refused(api, shelf, bob):
    theirs = factories.album(bob)
    response = _bulk(api, "add_to_album", [shelf[2][0].pk], album=str(theirs.pk))
    assert response.status_code == 400 and not AlbumPlacement.objects.exists()


def test_large_selection_runs_in_the_background_with_progress(api, shelf, alice, django_capture_on_commit_callbacks):
    _, other, photos = shelf
    many = [factories.photo(shelf[0]) for _ in range(bulk.INLINE_LIMIT)] + photos
    with django_capture_on_commit_callbacks(execute=True):
        response = _bulk(api, "add_to_album", [p.pk for p in many], album=str(other.pk))
    assert response.status_code == 202
    job = api.get(response.json()["url"]).json()
    assert (job["state"], job["total"], job["done"], job["failed"]) == ("done", len(many), len(many), 0)
    assert selectors.album_photos(other).count() == len(many)
    assert APIClient().get(response.json()["url"]).status_code in (401, 403)


def test_others_cannot_see_a_job(api, shelf, bob):
    job = BulkJob.objects.create(owner=shelf[0].owner, action="favourite", ids=[], total=0)
    client = APIClient()
    client.force_authenticate(bob)
    assert client.get(f"/api/jobs/{job.pk}/").status_code == 404


def test_rotation_turns_renditions_not_the_original(alice, upload):
    client = APIClient()
    client.force_login(alice)
    original = images.jpeg("cat")
    response = upload(client, [("cat.jpg", original)])
    photo = Photo.objects.get(pk=response.json()["results"][0]["photo"]["id"])
    before = (photo.width, photo.height)
    assert all(r["ok"] for r in _bulk(client, "rotate", [photo.pk], degrees=90).json()["results"])
    photo.refresh_from_db()
    assert photo.rotation == 90 and (photo.width, photo.height) == before[::-1]
    response = client.get(f"/photos/{photo.pk}/m")
    assert response.status_code == 200, (photo.status, response.content)
    thumb = b"".join(response.streaming_content)  # stored turned: a plain file
    with Image.open(io.BytesIO(thumb)) as image:
        assert (image.width > image.height) == (photo.width > photo.height)
    served = client.get(f"/photos/{photo.pk}/original")
    assert b"".join(served.streaming_content) == original


def test_upload_into_the_library_alone(alice, upload, django_capture_on_commit_callbacks):
    client = APIClient()
    client.force_authenticate(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/photos/upload/",
            {"file": [SimpleUploadedFile("a.jpg", images.jpeg("rocket"))], "library": "true"},
            format="multipart",
        )
    assert response.status_code == 201, response.json()
    photo = Photo.objects.get(pk=response.json()["results"][0]["photo"]["id"])
    assert photo.album_id is None and response.json()["results"][0]["photo"]["album"] is None
    assert not Album.objects.filter(owner=alice).exists()  # no "Uploads" album made


def test_zip_names_are_unique_and_never_paths(alice, upload):
    client = APIClient()
    client.force_authenticate(alice)
    album = services.create_album(alice, title="Trip", category="travel")
    upload(
        client, [("../../etc/passwd.jpg", images.variant("cat", 1)), ("passwd.jpg", images.variant("cat", 2))], album
    )
    upload(client, [("PASSWD.jpg", images.variant("cat", 3))], album)
    response = client.get(f"/api/albums/{album.pk}/download/")
    assert response.status_code == 200 and response.streaming
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        names = archive.namelist()
        assert archive.testzip() is None
    assert len(names) == 3 and len({n.lower() for n in names}) == 3
    assert all("/" not in n and "\\" not in n and not n.startswith(".") for n in names)


def test_album_delete_page_says_placed_pictures_stay(client, alice, shelf):
    home, other, photos = shelf
    services.add_to_album(alice, other, [photos[0].pk])
    client.force_login(alice)
    page = client.get(f"/albums/{other.pk}/delete/").content.decode()
    assert "only added to this album from other albums stays where it is" in page


@pytest.mark.parametrize("choice", ["delete", "move"])
def test_album_delete_message_counts_only_the_pictures_that_went(client, alice, shelf, choice):
    """A picture only added to the deleted album stays where it is: the Undo offer (or the note after a move) counts
    the pictures that went to the Trash (or moved), not the album's placements too ("its 3 pictures" for 2)."""
    home, other, photos = shelf
    own = [factories.photo(other) for _ in range(2)]
    services.add_to_album(alice, other, [photos[0].pk])  # shown in "Other", at home in "Home"
    client.force_login(alice)
    data = {"pictures": choice, "move_to": str(home.pk) if choice == "move" else ""}
    page = client.post(f"/albums/{other.pk}/delete/", data, follow=True).content.decode()
    if choice == "delete":
        assert Photo.objects.in_trash_of(alice).count() == len(own)
        assert "Album “Other” and its 2 pictures" in page
    else:
        assert set(selectors.album_photos(home)) == {*photos, *own}
        assert "its 2 pictures are now in “Home”" in page
    assert "its 3 pictures" not in page
    photos[0].refresh_from_db()
    assert photos[0].trashed_at is None and photos[0].album_id == home.pk


def test_a_picture_in_several_albums_says_so_on_its_page_to_its_owner(client, alice, bob, shelf):
    """Added to a second album, a picture's page named only the one it is shown in: the owner could not see, from
    the picture, that it is in "Other" too. Someone else sees no list (nor the private album's name)."""
    home, other, photos = shelf
    services.add_to_album(alice, other, [photos[0].pk])
    client.force_login(alice)
    page = client.get(photos[0].get_absolute_url()).content.decode()
    assert "In albums" in page
    assert f'<a href="{home.get_absolute_url()}">Home</a>, <a href="{other.get_absolute_url()}">Other</a>' in page
    assert "In albums" not in client.get(photos[1].get_absolute_url()).content.decode()  # in one album only
    client.force_login(bob)
    page = client.get(photos[0].get_absolute_url()).content.decode()  # seen through the public "Other"
    assert "In albums" not in page and home.get_absolute_url() not in page


def test_album_moved_away_counts_the_pictures_its_page_showed_not_those_in_the_trash(client, alice, shelf):
    """The note after a move counts the pictures the album showed (the delete page's count): one of its pictures
    already in the Trash moves its home too, but 'its 3 pictures are now in “Home”' was said for the 2 shown."""
    home, other, _ = shelf
    own = [factories.photo(other) for _ in range(3)]
    trash.trash_photos(alice, [own[0].pk])
    client.force_login(alice)
    assert "holds <strong>2 pictures</strong>" in client.get(f"/albums/{other.pk}/delete/").content.decode()
    data = {"pictures": "move", "move_to": str(home.pk)}
    page = client.post(f"/albums/{other.pk}/delete/", data, follow=True).content.decode()
    assert "its 2 pictures are now in “Home”" in page
    own[0].refresh_from_db()
    assert own[0].album_id == home.pk and own[0].trashed_at is not None  # restored, it comes back into "Home"
