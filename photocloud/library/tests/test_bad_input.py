"""Ingest under bad and hostile input, and the formats, metadata and job states of good input.

Every rejection is a clear 4xx with a `reason` and a `code`, never a 500, and leaves nothing behind: no Photo row, no
new file under the storage's `originals/` folder, no half-written `.incoming-*` file and no spooled upload.
"""

import functools
import hashlib
import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image
from rest_framework.test import APIClient

from photocloud.accounts.models import ApiToken
from photocloud.library import imaging, services
from photocloud.library.models import Photo
from photocloud.library.storage import original_name, rendition_name
from tests import images

UPLOAD_URL = "/api/photos/upload/"


# --- helpers --------------------------------------------------------------------------------------------------------


def _files_under(folder) -> set[Path]:
    root = Path(folder)
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


class StorageSnapshot:
    """What the storage and the upload spool hold, to compare before and after a request."""

    def __init__(self):
        self.media = Path(django_settings.MEDIA_ROOT)
        self.spool = Path(django_settings.FILE_UPLOAD_TEMP_DIR)
        self.originals = _files_under(self.media / "originals")
        self.renditions = _files_under(self.media / "renditions")
        self.spooled = _files_under(self.spool)

    def new_originals(self) -> set[Path]:
        return _files_under(self.media / "originals") - self.originals

    def new_renditions(self) -> set[Path]:
        return _files_under(self.media / "renditions") - self.renditions

    def ever_stored(self, data: bytes) -> list[Path]:
        """The stored originals of these bytes, whatever their extension."""
        sha256 = hashlib.sha256(data).hexdigest()
        return list((self.media / "originals" / sha256[:2] / sha256[2:4]).glob(f"{sha256}.*"))

    def assert_nothing_left(self, *rejected: bytes):
        """No new original or rendition, no temporary file of the atomic storage, nothing left in the spool.

        The originals of `rejected` contents must not exist at all, even stored by an earlier test (the storage folder
        outlives each test's database, so "no new file" alone would miss bytes stored before).
        """
        for data in rejected:
            assert not self.ever_stored(data)
        assert self.new_originals() == set()
        assert self.new_renditions() == set()
        assert list(self.media.rglob(".incoming-*")) == []
        assert _files_under(self.spool) - self.spooled == set()


@pytest.fixture
def storage():
    return StorageSnapshot()


@pytest.fixture
def album(alice):
    return services.create_album(alice, title="Holiday", category="landscape", access="private")


def _client_for(user) -> APIClient:
    _, key = ApiToken.issue(user, "tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _stored_path(photo: Photo) -> Path:
    from photocloud.library.imaging import FORMATS

    return Path(django_settings.MEDIA_ROOT) / original_name(photo.sha256, FORMATS[photo.format][1])


def _body(response) -> bytes:
    """The content; reading a streamed file to the end makes the test client close it (and the file)."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def _assert_rejected(response, code, status=None):
    """One file, rejected: the answer is a 4xx naming the reason, and nothing was created."""
    assert 400 <= response.status_code < 500, response.content
    if status is not None:
        assert response.status_code == status, response.json()
    body = response.json()
    assert (body["stored"], body["duplicates"], body["rejected"]) == (0, 0, 1)
    [result] = body["results"]
    assert result["status"] == "rejected"
    assert result["code"] == code
    assert len(result["reason"]) > 10
    assert result["photo"] is None
    assert not Photo.objects.exists()
    return result


@functools.cache
def _bomb() -> bytes:
    return images.decompression_bomb_png()


def _restore(path: Path, data: bytes):
    """Put the original's real bytes back (the storage folder outlives the test database)."""
    path.write_bytes(data)


# --- one bad file at a time -----------------------------------------------------------------------------------------


BAD_FILES = {
    # name: (file name, bytes factory, expected code, expected status)
    "zero-byte": ("empty.jpg", lambda: b"", "empty", 400),
    "truncated JPEG": ("cut.jpg", images.truncated_jpeg, "corrupt", 400),
    "text/HTML named .jpg": ("page.jpg", images.html_as_jpeg, "unsupported_format", 415),
    "SVG": ("drawing.svg", images.svg, "unsupported_format", 415),
    "SVG named .png": ("drawing.png", images.svg, "unsupported_format", 415),
    "random bytes": ("noise.jpg", lambda: os.urandom(4096), "unsupported_format", 415),
    "decompression bomb PNG": ("bomb.png", _bomb, "too_many_pixels", 413),
    "huge-dimensions PNG header": ("huge.png", images.huge_dimensions_png, "too_many_pixels", 413),
    "JPEG header only": ("header.jpg", lambda: images.jpeg()[:600], "corrupt", 400),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_file_is_rejected_and_leaves_nothing(kind, api, album, upload, storage):
    name, make, code, status = BAD_FILES[kind]
    data = make()
    response = upload(api, [(name, data)], album=album)
    result = _assert_rejected(response, code, status)
    assert result["name"] == name
    storage.assert_nothing_left(data)


def test_corrupt_jpeg_is_rejected(api, album, upload, storage):
    data = images.corrupt_jpeg()
    response = upload(api, [("corrupt.jpg", data)], album=album)
    _assert_rejected(response, "corrupt", 400)
    storage.assert_nothing_left(data)


def test_png_named_jpg_is_accepted_and_stored_as_png(api, album, upload, storage):
    data = images.encode(images.photo("rocket"), "PNG")
    response = upload(api, [("holiday.jpg", data)], album=album)
    assert response.status_code == 201, response.json()
    photo = Photo.objects.get()
    assert (photo.format, photo.mime_type, photo.original_name) == ("PNG", "image/png", "holiday.jpg")
    assert photo.status == Photo.Status.READY
    path = _stored_path(photo)
    assert path.suffix == ".png"
    assert path.read_bytes() == data
    assert storage.new_originals() <= {path}  # the same bytes may already be stored by an earlier test
    original = api.get(f"/photos/{photo.pk}/original")
    assert original.status_code == 200
    assert original["Content-Type"] == "image/png"
    assert _body(original) == data


def test_oversized_file_is_refused_while_streaming(api, album, upload, storage, settings):
    # The upload handler reads the limit at request time, so a smaller limit applies at once.
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "MAX_UPLOAD_BYTES": 200 * 1024}
    data = images.large_png(300 * 1024)
    response = upload(api, [("big.png", data)], album=album)
    result = _assert_rejected(response, "too_large", 413)
    assert result["name"] == "big.png"
    assert "larger than" in result["reason"]
    storage.assert_nothing_left()


def test_file_just_under_the_limit_is_accepted(api, album, upload, settings):
    data = images.large_png(300 * 1024)
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "MAX_UPLOAD_BYTES": len(data)}
    response = upload(api, [("exact.png", data)], album=album)
    assert response.status_code == 201, response.json()
    assert Photo.objects.get().file_size == len(data)


def test_batch_of_bad_files_with_two_good_ones(api, album, upload, storage, settings):
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "MAX_UPLOAD_BYTES": 200 * 1024}
    good_jpeg = images.variant("coffee", seed=3)
    good_png = images.encode(images.photo("rocket", size=(160, 120)), "PNG")
    batch = [
        ("empty.jpg", b""),
        ("good.jpg", good_jpeg),
        ("cut.jpg", images.truncated_jpeg()),
        ("corrupt.jpg", images.corrupt_jpeg()),
        ("page.jpg", images.html_as_jpeg()),
        ("big.png", images.large_png(300 * 1024)),
        ("bomb.png", _bomb()),
        ("huge.png", images.huge_dimensions_png()),
        ("drawing.svg", images.svg()),
        ("good.png", good_png),
    ]
    response = upload(api, batch, album=album)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["stored"], body["duplicates"], body["rejected"]) == (2, 0, 8)
    results = {r["name"]: r for r in body["results"]}
    assert set(results) == {name for name, _ in batch}
    expected_codes = {
        "empty.jpg": "empty",
        "cut.jpg": "corrupt",
        "corrupt.jpg": "corrupt",
        "page.jpg": "unsupported_format",
        "big.png": "too_large",
        "bomb.png": "too_many_pixels",
        "huge.png": "too_many_pixels",
        "drawing.svg": "unsupported_format",
    }
    for name, code in expected_codes.items():
        assert results[name]["status"] == "rejected", results[name]
        assert results[name]["code"] == code, results[name]
        assert results[name]["reason"]
        assert results[name]["photo"] is None
    for name, data in (("good.jpg", good_jpeg), ("good.png", good_png)):
        assert results[name]["status"] == "stored"
        assert results[name]["code"] == ""
        photo = Photo.objects.get(pk=results[name]["photo"]["id"])
        assert photo.sha256 == hashlib.sha256(data).hexdigest()
        assert photo.status == Photo.Status.READY
        assert _stored_path(photo).read_bytes() == data
    assert Photo.objects.count() == 2
    # Only the two good originals (at most) are new; nothing half-written anywhere.
    assert storage.new_originals() <= {_stored_path(p) for p in Photo.objects.all()}
    assert list(Path(django_settings.MEDIA_ROOT).rglob(".incoming-*")) == []
    for name, data in batch:
        if name not in ("good.jpg", "good.png", "big.png"):  # big.png is a good picture, refused only for its size
            assert not storage.ever_stored(data), name


def test_batch_of_only_bad_files_answers_4xx(api, album, upload, storage):
    response = upload(api, [("page.jpg", images.html_as_jpeg()), ("cut.jpg", images.truncated_jpeg())], album=album)
    assert response.status_code == 415  # the most severe of the per-file statuses
    body = response.json()
    assert (body["stored"], body["rejected"]) == (0, 2)
    assert [r["code"] for r in body["results"]] == ["unsupported_format", "corrupt"]
    assert not Photo.objects.exists()
    storage.assert_nothing_left()


# --- malformed requests ---------------------------------------------------------------------------------------------


def test_upload_without_a_file(api, album, storage):
    response = api.post(UPLOAD_URL, {"album": str(album.pk)}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["detail"]
    assert not Photo.objects.exists()


def test_upload_with_a_form_field_instead_of_a_file(api, album):
    response = api.post(UPLOAD_URL, {"album": str(album.pk), "file": "not a file"}, format="multipart")
    assert response.status_code == 400
    assert not Photo.objects.exists()


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b'{"file": "aGVsbG8="}', "application/json"),
        (images.jpeg(), "image/jpeg"),
        (b"file=x", "application/x-www-form-urlencoded"),
    ],
    ids=["json", "raw-jpeg", "form-urlencoded"],
)
def test_upload_with_a_non_multipart_body(api, body, content_type, storage):
    response = api.post(UPLOAD_URL, body, content_type=content_type)
    assert response.status_code in (400, 415)
    assert response.json()["detail"]
    assert not Photo.objects.exists()
    storage.assert_nothing_left()


def test_upload_with_a_broken_multipart_body(api):
    response = api.post(UPLOAD_URL, b"--nope\r\nthis is not multipart", content_type="multipart/form-data")
    assert 400 <= response.status_code < 500
    assert not Photo.objects.exists()


def test_upload_into_an_unknown_album(api, upload, storage):
    unknown = "3f1e0e5c-61a4-4c1f-9d43-8a1f3f0b8e11"
    response = api.post(
        UPLOAD_URL, {"album": unknown, "file": [SimpleUploadedFile("a.jpg", images.jpeg())]}, format="multipart"
    )
    assert response.status_code == 404
    assert response.json()["detail"]
    assert not Photo.objects.exists()
    storage.assert_nothing_left()


def test_upload_into_a_malformed_album_id(api, storage):
    response = api.post(
        UPLOAD_URL, {"album": "not-a-uuid", "file": [SimpleUploadedFile("a.jpg", images.jpeg())]}, format="multipart"
    )
    assert response.status_code in (400, 404)
    assert not Photo.objects.exists()
    storage.assert_nothing_left()


@pytest.mark.parametrize("query", ["album=not-a-uuid", "status=bogus", "mine=maybe"])
def test_list_filters_with_malformed_values_answer_400(api, query):
    response = api.get(f"/api/photos/?{query}")
    assert response.status_code == 400


# --- every supported format -----------------------------------------------------------------------------------------


FORMATS = {
    # name: (bytes factory, stored format, MIME type, stored extension)
    "JPEG": (lambda: images.in_format("JPEG"), "JPEG", "image/jpeg", "jpg"),
    "PNG with alpha": (images.png_with_alpha, "PNG", "image/png", "png"),
    "GIF": (lambda: images.in_format("GIF"), "GIF", "image/gif", "gif"),
    "WebP": (lambda: images.in_format("WEBP"), "WEBP", "image/webp", "webp"),
    "TIFF": (lambda: images.in_format("TIFF"), "TIFF", "image/tiff", "tif"),
    "BMP": (lambda: images.in_format("BMP"), "BMP", "image/bmp", "bmp"),
    "HEIC": (lambda: images.in_format("HEIF"), "HEIF", "image/heif", "heic"),
    "AVIF": (lambda: images.in_format("AVIF"), "AVIF", "image/avif", "avif"),
}


@pytest.mark.parametrize("kind", list(FORMATS))
def test_supported_format_is_stored_and_processed(kind, api, album, upload):
    make, fmt, mime_type, extension = FORMATS[kind]
    data = make()
    response = upload(api, [(f"picture.{extension}", data)], album=album)
    assert response.status_code == 201, response.json()
    photo = Photo.objects.get()
    assert (photo.format, photo.mime_type) == (fmt, mime_type)
    assert photo.status == Photo.Status.READY, photo.status_detail
    assert photo.file_size == len(data)
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    expected_size = Image.open(io.BytesIO(data)).size
    assert (photo.width, photo.height) == expected_size
    path = _stored_path(photo)
    assert path.name == f"{photo.sha256}.{extension}"
    assert path.read_bytes() == data  # byte-exact
    for size, box in django_settings.PHOTOCLOUD["THUMBNAIL_SIZES"].items():
        # Served through the view: the sizes not made at ingest are made on this first request.
        with Image.open(io.BytesIO(_body(api.get(f"/photos/{photo.pk}/{size}")))) as thumb:
            assert thumb.format == "JPEG"
            assert max(thumb.size) == min(box, max(expected_size))
            if kind == "PNG with alpha":
                # Transparent pixels are flattened onto white, not black.
                assert thumb.convert("RGB").getpixel((0, thumb.height // 2))[0] > 200
    served = api.get(f"/photos/{photo.pk}/s")
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(_body(served))) as thumb:
        assert max(thumb.size) <= 320


# --- duplicates and shared originals ------------------------------------------------------------------------------


def test_exact_duplicate_is_reported_not_stored_twice(api, album, upload):
    data = images.variant("astronaut", seed=5)
    first = upload(api, [("one.jpg", data)], album=album)
    assert first.status_code == 201
    photo_id = first.json()["results"][0]["photo"]["id"]
    again = upload(api, [("copy of one.jpg", data)], album=album)
    assert again.status_code == 200
    body = again.json()
    assert (body["stored"], body["duplicates"], body["rejected"]) == (0, 1, 0)
    [result] = body["results"]
    assert result["status"] == "duplicate"
    assert result["photo"]["id"] == photo_id
    assert Photo.objects.count() == 1


def test_duplicate_within_one_batch(api, album, upload):
    data = images.variant("astronaut", seed=6)
    response = upload(api, [("a.jpg", data), ("b.jpg", data)], album=album)
    assert response.status_code == 201
    body = response.json()
    assert (body["stored"], body["duplicates"]) == (1, 1)
    assert body["results"][1]["photo"]["id"] == body["results"][0]["photo"]["id"]
    assert Photo.objects.count() == 1


def test_duplicate_into_another_album_of_mine_is_still_a_duplicate(api, alice, album, upload):
    other = services.create_album(alice, title="Other", category="food", access="private")
    data = images.variant("astronaut", seed=7)
    upload(api, [("a.jpg", data)], album=album)
    response = upload(api, [("a.jpg", data)], album=other)
    assert response.json()["results"][0]["status"] == "duplicate"
    assert Photo.objects.get().album == album


def test_same_bytes_from_two_users_share_one_original(
    api, alice, bob, album, upload, storage, django_capture_on_commit_callbacks
):
    data = images.unique_jpeg("rocket")
    bobs_album = services.create_album(bob, title="Bob's", category="landscape", access="private")
    bob_api = _client_for(bob)
    assert upload(api, [("mine.jpg", data)], album=album).status_code == 201
    assert upload(bob_api, [("mine too.jpg", data)], album=bobs_album).status_code == 201
    alices, bobs = Photo.objects.get(owner=alice), Photo.objects.get(owner=bob)
    assert alices.pk != bobs.pk and alices.sha256 == bobs.sha256
    path = _stored_path(alices)
    assert storage.new_originals() == {path}  # one stored file for both
    renditions = storage.new_renditions()
    assert len(renditions) == len(django_settings.PHOTOCLOUD["EAGER_SIZES"])  # the others are made on first view

    with django_capture_on_commit_callbacks(execute=True):  # to the Trash, then deleted for good
        assert api.delete(f"/api/photos/{alices.pk}/").status_code == 204
        assert api.post("/api/trash/empty/").json() == {"count": 1}
    assert not Photo.objects.filter(pk=alices.pk).exists()
    assert path.read_bytes() == data
    response = bob_api.get(f"/photos/{bobs.pk}/original")
    assert response.status_code == 200
    assert _body(response) == data
    thumb = bob_api.get(f"/photos/{bobs.pk}/s")
    assert thumb.status_code == 200
    _body(thumb)

    # When the last picture referring to the bytes goes, the file and its renditions go too.
    with django_capture_on_commit_callbacks(execute=True):
        assert bob_api.delete(f"/api/photos/{bobs.pk}/").status_code == 204
        assert bob_api.post("/api/trash/empty/").json() == {"count": 1}
    assert not path.exists()
    assert all(not rendition.exists() for rendition in renditions)


# --- EXIF ---------------------------------------------------------------------------------------------------------


def test_exif_metadata_is_extracted(api, alice, album, upload):
    data = images.jpeg("coffee", gps=(48.85, 2.35))
    response = upload(api, [("paris.jpg", data)], album=album)
    assert response.status_code == 201
    photo = Photo.objects.get()
    assert photo.status == Photo.Status.READY, photo.status_detail
    taken = datetime(2024, 5, 17, 14, 30, 5, tzinfo=UTC)
    assert photo.taken_at == taken
    assert photo.sort_date == taken
    assert (photo.camera_make, photo.camera_model) == ("Canon", "EOS R6")
    assert photo.lens == "RF 50mm F1.8 STM"
    assert photo.exposure_time == "1/250 s"
    assert photo.f_number == pytest.approx(2.8)
    assert photo.iso == 400
    assert photo.focal_length == pytest.approx(50.0)
    assert photo.latitude == pytest.approx(48.85, abs=1e-4)
    assert photo.longitude == pytest.approx(2.35, abs=1e-4)
    assert photo.orientation == 1
    coffee = images.photo("coffee").size
    assert (photo.width, photo.height) == coffee

    detail = api.get(f"/api/photos/{photo.pk}/").json()
    assert detail["taken_at"].startswith("2024-05-17T14:30:05")
    assert (detail["camera_make"], detail["camera_model"], detail["lens"]) == ("Canon", "EOS R6", "RF 50mm F1.8 STM")
    assert (detail["exposure_time"], detail["iso"]) == ("1/250 s", 400)
    assert detail["latitude"] == pytest.approx(48.85, abs=1e-4)  # the owner sees the position
    assert set(detail["thumbnails"]) == set(django_settings.PHOTOCLOUD["THUMBNAIL_SIZES"])

    client = APIClient()
    client.force_login(alice)
    page = client.get(f"/photos/{photo.pk}/").content.decode()
    for text in ("Canon EOS R6", "RF 50mm F1.8 STM", "1/250 s", "ISO 400", "17 May 2024", "48.85000"):
        assert text in page


def test_southern_and_western_coordinates_are_negative(api, album, upload):
    upload(api, [("rio.jpg", images.jpeg("rocket", gps=(-22.9, -43.2)))], album=album)
    photo = Photo.objects.get()
    assert photo.latitude == pytest.approx(-22.9, abs=1e-4)
    assert photo.longitude == pytest.approx(-43.2, abs=1e-4)


def test_picture_without_exif_sorts_by_upload_time(api, album, upload, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    upload(api, [("plain.png", images.encode(images.photo("rocket", size=(120, 90)), "PNG"))], album=album)
    photo = Photo.objects.get()
    assert photo.status == Photo.Status.READY
    assert photo.taken_at is None
    # The upload's time on the server's clock, held as a camera's is (as if UTC): its day is the one shown there.
    assert photo.sort_date == photo.created_at + timedelta(hours=8)
    assert (photo.camera_make, photo.latitude, photo.orientation) == ("", None, 1)


def test_orientation_6_is_applied_to_dimensions_and_thumbnails(api, album, upload):
    data = images.jpeg("cat", orientation=6)
    stored_width, stored_height = Image.open(io.BytesIO(data)).size
    assert stored_width > stored_height  # landscape pixels, displayed rotated a quarter turn
    upload(api, [("rotated.jpg", data)], album=album)
    photo = Photo.objects.get()
    assert photo.status == Photo.Status.READY, photo.status_detail
    assert photo.orientation == 6
    assert (photo.width, photo.height) == (stored_height, stored_width)
    response = api.get(f"/photos/{photo.pk}/s")
    assert response.status_code == 200
    with Image.open(io.BytesIO(_body(response))) as thumb:
        assert thumb.height > thumb.width  # portrait
        assert thumb.height == 320
        assert thumb.getexif().get(0x0112) in (None, 1)  # upright pixels, no rotation left for the viewer
    assert _stored_path(photo).read_bytes() == data  # the original keeps its bytes and its orientation tag


def test_renditions_carry_no_metadata(api, album, upload):
    upload(api, [("paris.jpg", images.jpeg("astronaut", gps=(48.85, 2.35)))], album=album)
    photo = Photo.objects.get()
    for size in django_settings.PHOTOCLOUD["THUMBNAIL_SIZES"]:
        with Image.open(io.BytesIO(_body(api.get(f"/photos/{photo.pk}/{size}")))) as thumb:
            assert dict(thumb.getexif()) == {}
    assert (Path(django_settings.MEDIA_ROOT) / rendition_name(photo.sha256, "l")).exists()  # kept once made


# --- failed processing jobs ---------------------------------------------------------------------------------------


@pytest.fixture
def pending_photo(api, album, django_capture_on_commit_callbacks):
    """A stored picture whose processing has not run yet (its on-commit job is captured, not executed)."""
    data = images.unique_jpeg("astronaut")
    with django_capture_on_commit_callbacks(execute=False):
        response = api.post(
            UPLOAD_URL, {"album": str(album.pk), "file": [SimpleUploadedFile("job.jpg", data)]}, format="multipart"
        )
    assert response.status_code == 201
    photo = Photo.objects.get()
    assert (photo.status, photo.attempts) == (Photo.Status.PENDING, 0)
    path = _stored_path(photo)
    assert path.read_bytes() == data
    yield photo, path, data
    _restore(path, data)


def test_an_upload_is_decoded_once_for_every_stage(pending_photo, monkeypatch):
    """The upload's check decodes the whole file and makes the renditions then; processing reads them back and only
    reads metadata from the original (no second decode)."""
    photo, _, _ = pending_photo
    for size in django_settings.PHOTOCLOUD["EAGER_SIZES"]:
        with default_storage.open(rendition_name(photo.sha256, size), "rb") as handle, Image.open(handle) as image:
            assert max(image.size) == min(django_settings.PHOTOCLOUD["THUMBNAIL_SIZES"][size], photo.width)

    def no_decode(*args, **kwargs):
        raise AssertionError("the original was decoded again")

    monkeypatch.setattr(imaging, "_render", no_decode)
    services.process_photo(photo.pk)
    photo.refresh_from_db()
    assert photo.status == Photo.Status.READY and photo.dominant_color and photo.width == 512


def test_failed_processing_is_retried_then_marked_failed(pending_photo, api, monkeypatch, settings):
    photo, path, data = pending_photo
    path.write_bytes(b"this is no longer a picture " * 20)  # the stored original became unreadable
    queued = []
    monkeypatch.setattr(
        services, "enqueue_processing", lambda photo, delay_seconds=0: queued.append((str(photo.pk), delay_seconds))
    )
    max_attempts = settings.PHOTOCLOUD["INGEST_MAX_ATTEMPTS"]
    assert max_attempts >= 2

    for attempt in range(1, max_attempts):
        services.process_photo(photo.pk)
        photo.refresh_from_db()
        assert photo.status == Photo.Status.PENDING
        assert photo.attempts == attempt
        assert photo.status_detail.startswith("Retrying after an error")
        assert len(queued) == attempt
        assert queued[-1][0] == str(photo.pk)
        assert queued[-1][1] > 0  # retried later, with back-off
    assert queued[-1][1] > queued[0][1] or max_attempts == 2

    services.process_photo(photo.pk)
    photo.refresh_from_db()
    assert photo.status == Photo.Status.FAILED
    assert photo.attempts == max_attempts
    assert photo.status_detail  # the reason
    assert len(queued) == max_attempts - 1  # no further retry

    detail = api.get(f"/api/photos/{photo.pk}/").json()
    assert (detail["status"], detail["status_detail"]) == ("failed", photo.status_detail)
    assert detail["thumbnails"] == {}
    assert api.get(f"/photos/{photo.pk}/s").status_code == 404
    assert api.get("/api/photos/?status=failed").json()["count"] == 1

    # The owner asks again: the job is reset and queued once more.
    response = api.post(f"/api/photos/{photo.pk}/retry/")
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    photo.refresh_from_db()
    assert (photo.status, photo.attempts, photo.status_detail) == (Photo.Status.PENDING, 0, "")
    assert len(queued) == max_attempts

    # With the original readable again, the retried job succeeds.
    _restore(path, data)
    monkeypatch.undo()
    response = api.post(f"/api/photos/{photo.pk}/retry/")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    photo.refresh_from_db()
    assert photo.status == Photo.Status.READY
    assert photo.status_detail == ""
    thumb = api.get(f"/photos/{photo.pk}/s")
    assert thumb.status_code == 200
    assert _body(thumb).startswith(b"\xff\xd8")


def test_worker_retries_up_to_the_limit(pending_photo, settings):
    """With the in-process task backend, each retry runs at once: one call goes through every attempt."""
    photo, path, _ = pending_photo
    path.write_bytes(b"\xff\xd8\xff garbage")
    services.process_photo(photo.pk)
    photo.refresh_from_db()
    assert photo.status == Photo.Status.FAILED
    assert photo.attempts == settings.PHOTOCLOUD["INGEST_MAX_ATTEMPTS"]
    assert photo.status_detail


def test_missing_original_fails_with_a_reason(pending_photo):
    photo, path, _ = pending_photo
    path.unlink()
    services.process_photo(photo.pk)
    photo.refresh_from_db()
    assert photo.status == Photo.Status.FAILED
    assert photo.status_detail


def test_processing_a_deleted_picture_is_a_no_op(pending_photo, django_capture_on_commit_callbacks):
    """The picture was deleted while its job waited: the job looks it up, writes nothing and queues nothing."""
    photo, _, _ = pending_photo
    Photo.objects.filter(pk=photo.pk).delete()
    renditions = Path(default_storage.path(rendition_name(photo.sha256, "s"))).parent
    before = {entry.name: entry.stat().st_mtime_ns for entry in renditions.iterdir()}  # made by the upload's decode
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as queued:
        services.process_photo(photo.pk)
    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["SELECT"]
    assert queued == []
    assert {entry.name: entry.stat().st_mtime_ns for entry in renditions.iterdir()} == before


# --- interrupted uploads --------------------------------------------------------------------------------------------


def test_storage_failure_while_writing_leaves_nothing(api, album, storage, monkeypatch):
    """The disk fills up (or the process dies) half-way through writing the original: no partial file remains."""
    data = images.unique_jpeg("coffee")

    def failing_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("photocloud.library.storage.os.fsync", failing_fsync)
    api.raise_request_exception = False
    response = api.post(
        UPLOAD_URL, {"album": str(album.pk), "file": [SimpleUploadedFile("full.jpg", data)]}, format="multipart"
    )
    assert response.status_code >= 500  # the server's failure, not the file's
    assert not Photo.objects.exists()
    storage.assert_nothing_left(data)


def test_database_failure_after_storing_leaves_no_orphan_original(api, album, storage, monkeypatch):
    from django.db import DatabaseError

    data = images.unique_jpeg("rocket")

    def failing_create(*args, **kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr(Photo.objects, "create", failing_create)
    api.raise_request_exception = False
    response = api.post(
        UPLOAD_URL, {"album": str(album.pk), "file": [SimpleUploadedFile("lost.jpg", data)]}, format="multipart"
    )
    assert response.status_code == 500
    assert not Photo.objects.exists()
    storage.assert_nothing_left(data)
