"""A stack acts as one picture (issue 14, item 5, the gaps after the first cut): an album card counts it once; a ZIP
carries its RAW beside its JPEG (each file's access checked); what the owner does to the tile (album moves and
placements, marks, category, tags, date, location, rotation), in bulk or one at a time, applies to every file of it;
an unstack is remembered when the files are processed again; names with non-ASCII capitals, or sent decomposed, stack
on every database. Real files: a DNG written per Adobe's specification and a camera JPEG of the same moment."""

import importlib
import io
import unicodedata
import zipfile
from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.test import Client

from photocloud.library import selectors, services, stacks
from photocloud.library.models import Album, AlbumPlacement, Photo
from photocloud.library.tests.test_stacks import _send
from tests import images

TAKEN = datetime(2024, 5, 17, 14, 30, 5)
RAW = ("IMG_0042.DNG", images.dng("cat", taken=TAKEN))
JPEG = ("img_0042.jpg", images.jpeg("cat", taken=datetime(2024, 5, 17, 14, 30, 6)))


@pytest.fixture
def album(alice):
    return services.create_album(alice, title="Shoot", category="portrait", access="private")


@pytest.fixture
def other(alice):
    return services.create_album(alice, title="Picks", category="portrait", access="public")


@pytest.fixture
def stack(api, upload, album):
    """(cover, raw), stacked."""
    raw, cover = _send(api, upload, album, RAW, JPEG)
    raw.refresh_from_db()
    assert raw.stack_cover_id == cover.pk
    return cover, raw


def _count(album) -> int:
    return selectors.with_photo_count(Album.objects.filter(pk=album.pk)).get().photo_count


def _zip_names(response) -> dict[str, bytes]:
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    return {name: archive.read(name) for name in archive.namelist()}


def _bulk(api, action, ids, **params):
    response = api.post("/api/photos/bulk/", {"ids": [str(pk) for pk in ids], "action": action, **params}, "json")
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def _fresh(*photos):
    return [Photo.objects.get(pk=photo.pk) for photo in photos]


# --- 1. album cards ------------------------------------------------------------------------------------------------


def test_an_album_card_counts_a_stack_once_as_its_page_shows_it(stack, api, alice, album, other):
    cover, raw = stack
    assert _count(album) == 1
    assert {row["id"]: row["photo_count"] for row in api.get("/api/albums/").json()["results"]}[str(album.pk)] == 1
    services.add_to_album(alice, other, [cover.pk])  # placed (with its RAW) in a second album: counted once there
    assert AlbumPlacement.objects.filter(album=other).count() == 2
    assert _count(other) == 1
    stacks.unstack(alice, cover.pk)
    assert (_count(album), _count(other)) == (2, 2)


# --- 2. ZIPs -------------------------------------------------------------------------------------------------------


def test_a_zip_of_a_selection_carries_the_raw_beside_its_jpeg(stack, api, album):
    cover, raw = stack
    files = _zip_names(api.post("/api/photos/download/", {"ids": [str(cover.pk)]}, format="json"))
    assert files == {"img_0042.jpg": JPEG[1], "IMG_0042.dng": RAW[1]}
    # The member chosen alone brings its cover; both chosen, each file is written once.
    assert set(_zip_names(api.post("/api/photos/download/", {"ids": [str(raw.pk)]}, format="json"))) == set(files)
    both = api.post("/api/photos/download/", {"ids": [str(cover.pk), str(raw.pk)]}, format="json")
    assert sorted(_zip_names(both)) == sorted(files)


def test_a_zip_of_an_album_carries_the_raw_after_the_jpeg_moved(stack, api, alice, other):
    cover, raw = stack
    services.move_to_album(alice, other, [cover.pk])
    assert set(_zip_names(api.get(f"/api/albums/{other.pk}/download/"))) == {"img_0042.jpg", "IMG_0042.dng"}
    browser = Client()
    browser.force_login(alice)
    assert len(_zip_names(browser.get(f"/albums/{other.pk}/download.zip"))) == 2


def test_a_zip_leaves_out_a_stack_file_the_viewer_may_not_see(stack, alice, make_user, album, other):
    """The cover in a public album, its RAW's home (set by hand here) a private one: a stranger gets the JPEG alone."""
    cover, raw = stack
    Photo.objects.filter(pk=cover.pk).update(album=other)
    stranger = Client()
    stranger.force_login(make_user("mallory"))
    assert list(_zip_names(stranger.get(f"/albums/{other.pk}/download.zip"))) == ["img_0042.jpg"]
    picked = stranger.post("/photos/download.zip", {"photos": [str(cover.pk), str(raw.pk)]})
    assert list(_zip_names(picked)) == ["img_0042.jpg"]


# --- 3. the stack acts as one picture ------------------------------------------------------------------------------


def test_bulk_album_actions_carry_the_raw(stack, api, album, other):
    cover, raw = stack
    assert [row["ok"] for row in _bulk(api, "move_to_album", [cover.pk], album=str(other.pk))] == [True]
    assert {photo.album_id for photo in _fresh(cover, raw)} == {other.pk}
    assert _count(album) == 0 and _count(other) == 1

    _bulk(api, "add_to_album", [cover.pk], album=str(album.pk))
    assert set(AlbumPlacement.objects.filter(album=album).values_list("photo_id", flat=True)) == {cover.pk, raw.pk}
    _bulk(api, "remove_from_album", [cover.pk], album=str(album.pk))
    assert not AlbumPlacement.objects.filter(album=album).exists()

    _bulk(api, "move_to_album", [cover.pk])  # into the library alone
    assert {photo.album_id for photo in _fresh(cover, raw)} == {None}
    response = api.post(
        "/api/photos/bulk/",
        {"ids": [str(cover.pk)], "action": "new_album", "title": "New", "category": "portrait"},
        format="json",
    )
    new = response.json()["album"]
    assert {str(photo.album_id) for photo in _fresh(cover, raw)} == {new}


def test_bulk_marks_category_tags_date_location_and_rotation_carry_the_raw(stack, api):
    cover, raw = stack
    for action, params in [
        ("favourite", {}),
        ("archive", {}),
        ("set_category", {"category": "landscape"}),
        ("add_tags", {"tags": ["alps", "dawn"]}),
        ("set_date", {"taken_local": "2023-01-02T03:04:05", "taken_offset": 60}),
        ("set_location", {"latitude": 46.5, "longitude": 7.25}),
        ("rotate", {"degrees": 90}),
    ]:
        assert [row["ok"] for row in _bulk(api, action, [cover.pk], **params)] == [True], action
    for photo in _fresh(cover, raw):
        assert photo.favourite_at is not None and photo.archived_at is not None, photo.format
        assert photo.category == "landscape"
        assert sorted(photo.tags.values_list("name", flat=True)) == ["alps", "dawn"]
        assert photo.taken_local == datetime(2023, 1, 2, 3, 4, 5) and photo.taken_offset == 60
        assert (photo.latitude, photo.longitude) == (46.5, 7.25)
        assert photo.rotation == 90
    _bulk(api, "remove_tags", [cover.pk], tags=["dawn"])
    _bulk(api, "unarchive", [cover.pk])
    for photo in _fresh(cover, raw):
        assert list(photo.tags.values_list("name", flat=True)) == ["alps"] and photo.archived_at is None


def test_single_edits_on_the_cover_carry_the_raw(stack, api, alice, other):
    cover, raw = stack
    response = api.patch(
        f"/api/photos/{cover.pk}/",
        {"album": str(other.pk), "category": "street", "tags": ["kept"], "favourite": True, "title": "Cover only"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    cover, raw = _fresh(cover, raw)
    assert raw.album_id == other.pk and raw.category == "street" and raw.favourite_at is not None
    assert list(raw.tags.values_list("name", flat=True)) == ["kept"]
    assert cover.title == "Cover only" and raw.title != "Cover only"  # the title is the cover's own

    browser = Client()
    browser.force_login(alice)
    form = {"title": "Cover only", "description": "", "category": "portrait", "tags": "paged"}
    assert browser.post(f"/photos/{cover.pk}/edit/", form).status_code == 302
    assert browser.post(f"/photos/{cover.pk}/marks/", {"archived": "1"}).status_code == 302
    (raw,) = _fresh(raw)
    assert raw.category == "portrait" and list(raw.tags.values_list("name", flat=True)) == ["paged"]
    assert raw.archived_at is not None


def test_a_lone_picture_edit_still_costs_one_update(api, upload, album, django_assert_num_queries):
    """The carry costs nothing when no album, category or tags change (a title edit stays one UPDATE)."""
    (photo,) = _send(api, upload, album, JPEG)
    with django_assert_num_queries(3):  # SAVEPOINT, UPDATE, RELEASE
        services.update_photo(photo, title="Sunset")


# --- 4. an unstack is remembered -----------------------------------------------------------------------------------


def test_processing_again_after_an_unstack_does_not_stack_again(stack, api, alice, django_capture_on_commit_callbacks):
    cover, raw = stack
    assert api.post(f"/api/photos/{cover.pk}/unstack/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/photos/{raw.pk}/retry/").status_code == 200
        services.retry_processing(cover)
    Photo.objects.filter(pk=raw.pk).update(status=Photo.Status.PROCESSING, updated_at=datetime(2000, 1, 1, tzinfo=UTC))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.requeue_stalled() == 1
    cover, raw = _fresh(cover, raw)
    assert raw.status == Photo.Status.READY and cover.status == Photo.Status.READY
    assert raw.stack_cover_id is None and cover.unstacked and raw.unstacked
    assert {item["id"] for item in api.get("/api/photos/?mine=true").json()["results"]} == {str(cover.pk), str(raw.pk)}


def test_processing_a_stack_again_keeps_it_one(stack):
    cover, raw = stack
    services.process_photo(cover.pk)
    services.process_photo(raw.pk)
    cover, raw = _fresh(cover, raw)
    assert raw.stack_cover_id == cover.pk and cover.stack_cover_id is None and not raw.unstacked


# --- 5. names beyond ASCII -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw_name, jpeg_name", [("ÉTÉ_0042.DNG", "été_0042.jpg"), ("STRASSE.NEF", "straße.JPG")])
def test_names_with_non_ascii_capitals_stack_on_every_database(api, upload, album, raw_name, jpeg_name):
    decomposed = unicodedata.normalize("NFD", jpeg_name)  # as a Mac sends it
    raw, cover = _send(api, upload, album, (raw_name, RAW[1]), (decomposed, JPEG[1]))
    raw.refresh_from_db()
    assert raw.stack_cover_id == cover.pk
    assert raw.shot_name == cover.shot_name == stacks.shot_name(jpeg_name)


def test_the_migration_fills_the_shot_names_of_stored_pictures(stack):
    cover, raw = stack
    Photo.objects.update(shot_name="")
    migration = importlib.import_module("photocloud.library.migrations.0010_photo_unstacked")
    migration.fill_shot_names(apps, None)
    assert set(Photo.objects.values_list("shot_name", flat=True)) == {"img_0042"}
