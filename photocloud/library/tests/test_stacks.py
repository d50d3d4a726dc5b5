"""RAW + JPEG stacks (issue 14, item 5): a camera RAW file and the JPEG of the same shot, uploaded in either order,
become one stack: one tile with its size in every listing, the JPEG the cover, both originals downloadable from
the cover's page and the API, "unstack" to separate them; trashing the cover trashes both, restoring restores both;
nobody else sees anything of a private stack. Real files: a DNG written per Adobe's specification and a camera JPEG
with the same DateTimeOriginal."""

from datetime import datetime

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from photocloud.library import services, stacks, trash
from photocloud.library.models import Photo
from tests import images

TAKEN = datetime(2024, 5, 17, 14, 30, 5)
RAW = ("IMG_0042.DNG", images.dng("cat", taken=TAKEN))
JPEG = ("img_0042.jpg", images.jpeg("cat", taken=datetime(2024, 5, 17, 14, 30, 6)))  # the camera's second tick


@pytest.fixture
def album(alice):
    return services.create_album(alice, title="Shoot", category="portrait", access="private")


@pytest.fixture
def browser(alice):
    client = Client()
    client.force_login(alice)
    return client


def _send(api, upload, album, *files):
    """Each file in its own request, as a camera card copied one file at a time would arrive."""
    ids = []
    for name, data in files:
        response = upload(api, [(name, data)], album=album)
        assert response.status_code == 201, response.json()
        ids.append(response.json()["results"][0]["photo"]["id"])
    return [Photo.objects.get(pk=pk) for pk in ids]


@pytest.fixture(params=["raw first", "jpeg first"])
def stack(request, api, upload, album):
    """(cover, raw): the pair uploaded through the API in the order of the parameter."""
    order = [RAW, JPEG] if request.param == "raw first" else [JPEG, RAW]
    photos = {photo.format: photo for photo in _send(api, upload, album, *order)}
    assert {photo.status for photo in photos.values()} == {Photo.Status.READY}
    return photos["JPEG"], photos["DNG"]


def _listed_ids(response) -> list[str]:
    return [item["id"] for item in response.json()["results"]]


def test_a_raw_and_its_jpeg_become_one_stack_in_either_order(stack, api, album):
    cover, raw = stack
    assert raw.stack_cover_id == cover.pk and cover.stack_cover_id is None
    assert raw.taken_at is not None and cover.taken_at is not None

    listing = api.get("/api/photos/?mine=true")
    assert _listed_ids(listing) == [str(cover.pk)]
    assert listing.json()["results"][0]["stack_size"] == 2
    assert _listed_ids(api.get(f"/api/photos/?album={album.pk}")) == [str(cover.pk)]

    shown = api.get(f"/api/photos/{cover.pk}/").json()
    assert shown["stack_size"] == 2 and shown["stack_cover"] is None
    assert [(m["id"], m["format"]) for m in shown["stack"]] == [(str(raw.pk), "DNG")]
    member = api.get(f"/api/photos/{raw.pk}/").json()  # reachable by id, pointing at its cover
    assert member["stack_cover"] == str(cover.pk) and [m["id"] for m in member["stack"]] == [str(cover.pk)]

    # Both originals, byte for byte, from the links the API gives.
    assert b"".join(api.get(shown["original"]).streaming_content) == JPEG[1]
    assert b"".join(api.get(shown["stack"][0]["original"]).streaming_content) == RAW[1]


def test_each_picture_of_a_page_links_its_own_files(stack, api, upload, album):
    """The file addresses are built once per response and size (serializers._file_url), then given each picture's
    key: every picture of a page, and of a stack, must still link its own files, as Django's reverse() spells them."""
    cover, raw = stack
    (lone,) = _send(api, upload, album, ("lone.jpg", images.jpeg("coffee")))

    def address(photo, size):
        return f"http://testserver{reverse('library:photo_file', args=[photo.pk, size])}"

    sizes = settings.PHOTOCLOUD["THUMBNAIL_SIZES"]
    listed = {item["id"]: item for item in api.get("/api/photos/?mine=true").json()["results"]}
    shown = api.get(f"/api/photos/{cover.pk}/").json()
    assert set(listed) == {str(cover.pk), str(lone.pk)}
    for item, photo in ((listed[str(cover.pk)], cover), (listed[str(lone.pk)], lone), (shown, cover)):
        assert item["original"] == address(photo, "original")
        assert item["thumbnails"] == {size: address(photo, size) for size in sizes}
        assert item["url"] == photo.get_absolute_url()
    assert listed[str(lone.pk)]["stack"] == [] and listed[str(lone.pk)]["stack_size"] == 1
    for item in (listed[str(cover.pk)], shown):
        assert [(member["id"], member["original"]) for member in item["stack"]] == [
            (str(raw.pk), address(raw, "original"))
        ]


def test_the_date_albums_and_search_count_a_stack_once(stack, api, album):
    cover, _ = stack
    years = api.get("/api/library/years/").json()
    assert [(row["year"], row["count"]) for row in years] == [(2024, 1)]
    assert [row["count"] for row in api.get("/api/library/years/2024/").json()] == [1]
    assert api.get("/api/library/years/2024/5/").json()[0]["photos"] == [str(cover.pk)]
    found = api.get(f"/api/search/?q=&album={album.pk}").json()
    assert [item["photo"]["id"] for item in found["results"]] == [str(cover.pk)] and found["count"] == 1
    assert found["results"][0]["photo"]["stack_size"] == 2


def test_the_pages_show_one_tile_with_a_badge_and_both_originals(stack, browser, album):
    cover, raw = stack
    for url in ("/library/", f"/albums/{album.pk}/", "/library/dates/2024/5/", f"/search/?q=&album={album.pk}"):
        page = browser.get(url).content.decode()
        assert f'data-photo-id="{cover.pk}"' in page, url
        assert f'data-photo-id="{raw.pk}"' not in page, url
        assert 'class="stack-badge"' in page and ">2<" in page, url
    detail = browser.get(f"/photos/{cover.pk}/").content.decode()
    assert f"/photos/{raw.pk}/original?download=1" in detail and f"/photos/{cover.pk}/original?download=1" in detail
    assert "Unstack" in detail
    assert browser.get(f"/photos/{raw.pk}/").status_code == 200


def test_unstack_through_the_api_and_the_page(stack, api, browser):
    cover, raw = stack
    answer = api.post(f"/api/photos/{raw.pk}/unstack/")
    assert answer.status_code == 200 and answer.json()["stack_cover"] is None and answer.json()["stack"] == []
    listing = api.get("/api/photos/?mine=true").json()["results"]
    assert {item["id"]: item["stack_size"] for item in listing} == {str(cover.pk): 1, str(raw.pk): 1}

    Photo.objects.filter(pk=raw.pk).update(stack_cover=cover)  # stacked again, to unstack from the page
    response = browser.post(f"/photos/{cover.pk}/unstack/")
    assert response.status_code == 302
    raw.refresh_from_db()
    assert raw.stack_cover_id is None
    assert f'data-photo-id="{raw.pk}"' in browser.get("/library/").content.decode()


def test_deleting_the_stack_trashes_both_and_restoring_either_restores_both(stack, api, alice):
    cover, raw = stack
    assert api.delete(f"/api/photos/{cover.pk}/").status_code == 204
    assert set(Photo.objects.in_trash_of(alice).values_list("pk", flat=True)) == {cover.pk, raw.pk}
    assert api.get(f"/api/photos/{raw.pk}/").status_code == 404
    assert api.get("/api/photos/?mine=true").json()["results"] == []

    assert api.post("/api/trash/restore/", {"photos": [str(raw.pk)]}, format="json").json() == {"count": 2}
    assert not Photo.objects.in_trash_of(alice).exists()
    raw.refresh_from_db()
    assert raw.stack_cover_id == cover.pk
    assert _listed_ids(api.get("/api/photos/?mine=true")) == [str(cover.pk)]

    # The album deleted with its pictures takes the stack along, and brings it back.
    assert trash.trash_album(cover.album) == 2
    assert trash.restore(alice, album_ids=[cover.album_id]) == 2


def test_a_stranger_sees_nothing_of_a_private_stack(stack, make_user):
    cover, raw = stack
    stranger = Client()
    stranger.force_login(make_user("mallory"))
    for photo in (cover, raw):
        assert stranger.get(f"/photos/{photo.pk}/").status_code == 404
        assert stranger.get(f"/photos/{photo.pk}/original").status_code == 404
        assert stranger.get(f"/api/photos/{photo.pk}/").status_code == 404
        assert stranger.post(f"/api/photos/{photo.pk}/unstack/").status_code in (403, 404)
    assert stranger.get("/api/photos/").json()["results"] == []
    raw.refresh_from_db()
    assert raw.stack_cover_id == cover.pk


def test_files_of_different_shots_or_owners_stay_apart(api, upload, album, make_user):
    later = ("IMG_0042.jpg", images.jpeg("cat", taken=datetime(2024, 5, 17, 14, 31, 0)))  # a minute later
    other_name = ("IMG_0043.jpg", images.jpeg("rocket", taken=TAKEN))
    raw, jpeg, other = _send(api, upload, album, RAW, later, other_name)
    bob = make_user("bob")
    bobs = services.create_album(bob, title="Bob's", category="portrait")
    from rest_framework.test import APIClient

    bob_api = APIClient()
    bob_api.force_authenticate(bob)
    (bobs_jpeg,) = _send(bob_api, upload, bobs, JPEG)
    for photo in (raw, jpeg, other, bobs_jpeg):
        photo.refresh_from_db()
        assert photo.stack_cover_id is None and not photo.stack_members.exists()
    assert stacks.stack_shot(raw) is None


def test_a_trashed_jpeg_does_not_take_a_new_raw(api, upload, album, alice):
    (jpeg,) = _send(api, upload, album, JPEG)
    trash.trash_photos(alice, [jpeg.pk])
    (raw,) = _send(api, upload, album, RAW)
    assert raw.stack_cover_id is None


@pytest.mark.vision
@pytest.mark.usefixtures("vision_on")
def test_a_stack_is_analysed_but_no_duplicate_to_merge(api, upload, album, alice):
    """The RAW of a stack is analysed like any picture, and never offered as a near-duplicate of its own JPEG."""
    from photocloud.vision.duplicates import find_groups
    from photocloud.vision.models import PhotoAnalysis

    jpeg, raw = _send(api, upload, album, JPEG, RAW)
    raw.refresh_from_db()
    assert raw.stack_cover_id == jpeg.pk
    assert PhotoAnalysis.objects.get(photo=raw).category == "animal"
    assert find_groups(alice) == []
