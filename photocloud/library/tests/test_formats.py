"""The formats designers and photographers use (camera RAW, PSD/PSB, JPEG 2000, JPEG XL, every TIFF layout,
animations) and the valid files strict decoders refuse: each one uploaded through the API is stored byte-exact,
downloadable with its own extension and MIME type, and shown through upright renditions of the right picture; the
limits still hold for hostile files of the new formats."""

import hashlib
import io
import struct
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.conf import settings as django_settings
from PIL import Image, ImageOps
from rest_framework.test import APIClient

from photocloud.library import imaging, services
from photocloud.library.models import Photo
from photocloud.library.tests.test_bad_input import _assert_rejected, _body, _stored_path
from photocloud.sync.files import is_candidate
from tests import images


@pytest.fixture
def album(alice):
    return services.create_album(alice, title="Work", category="design", access="private")


def _resembles(rendition: Image.Image, expected: Image.Image) -> float:
    """Correlation of the two pictures' brightness at 32×32: near 1 for the same photograph, whatever its tones."""
    a, b = (
        np.asarray(ImageOps.fit(image.convert("L"), (32, 32)), dtype=float).ravel() for image in (rendition, expected)
    )
    return float(np.corrcoef(a, b)[0, 1])


# name: (bytes factory, format, MIME type, extension, the photograph as displayed)
NEW_FORMATS = {
    "DNG with full-size preview, turned": (
        lambda: images.dng("cat", orientation=6),
        "DNG", "image/x-adobe-dng", "dng", lambda: images.photo("cat").transpose(Image.Transpose.ROTATE_270),
    ),
    "DNG without preview (demosaic)": (
        lambda: images.dng("cat", preview=False), "DNG", "image/x-adobe-dng", "dng", lambda: images.photo("cat"),
    ),
    "PSD": (images.psd, "PSD", "image/vnd.adobe.photoshop", "psd", lambda: images.photo("coffee")),
    "PSB": (lambda: images.psd(version=2), "PSB", "image/vnd.adobe.photoshop", "psb", lambda: images.photo("coffee")),
    "JPEG 2000": (
        lambda: images.in_format("JPEG2000"), "JPEG2000", "image/jp2", "jp2", lambda: images.photo("astronaut"),
    ),
    "JPEG XL": (images.jpeg_xl, "JXL", "image/jxl", "jxl", lambda: images.photo("rocket")),
    **{
        f"TIFF {kind}": (
            lambda kind=kind: images.tiff_variant(kind), "TIFF", "image/tiff", "tif",
            lambda: images.photo("astronaut", size=(300, 200)),
        )
        for kind in ("16-bit", "16-bit grey", "float", "planar", "tiled", "LAB", "CMYK", "multi-page", "old-style JPEG")
    },
    "TIFF turned a quarter (Orientation 6)": (
        lambda: images.encode(images.photo("astronaut", size=(300, 200)), "TIFF", images.exif_for(orientation=6)),
        "TIFF", "image/tiff", "tif",
        lambda: images.photo("astronaut", size=(300, 200)).transpose(Image.Transpose.ROTATE_270),
    ),
    **{
        f"animated {fmt}": (
            lambda fmt=fmt: images.animated(fmt), fmt, f"image/{fmt.lower()}", fmt.lower(),
            lambda: images.photo("rocket", size=(240, 160)),
        )
        for fmt in ("GIF", "WEBP", "AVIF")
    },
}  # fmt: skip


@pytest.mark.parametrize("kind", list(NEW_FORMATS))
def test_new_format_is_stored_byte_exact_and_shown_upright(kind, api, album, upload):
    make, fmt, mime_type, extension, expected = NEW_FORMATS[kind]
    data, expected = make(), expected()
    response = upload(api, [(f"work.{extension}", data)], album=album)
    assert response.status_code == 201, response.json()
    photo = Photo.objects.get()
    assert (photo.format, photo.mime_type) == (fmt, mime_type)
    assert photo.status == Photo.Status.READY, photo.status_detail
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    assert (photo.width, photo.height) == (expected.width // 2 * 2, expected.height // 2 * 2) or (
        photo.width,
        photo.height,
    ) == expected.size
    path = _stored_path(photo)
    assert path.name == f"{photo.sha256}.{extension}"
    assert path.read_bytes() == data

    original = api.get(f"/photos/{photo.pk}/original", {"download": "1"})
    assert original.status_code == 200
    assert original["Content-Type"] == mime_type
    assert f"work.{extension}" in original["Content-Disposition"]
    assert _body(original) == data

    browser = APIClient()
    browser.force_login(photo.owner)
    page = browser.get(f"/photos/{photo.pk}/")
    assert page.status_code == 200
    assert f"/photos/{photo.pk}/original?download=1" in page.content.decode()

    for size, box in django_settings.PHOTOCLOUD["THUMBNAIL_SIZES"].items():
        with Image.open(io.BytesIO(_body(api.get(f"/photos/{photo.pk}/{size}")))) as thumb:
            assert thumb.format == "JPEG"
            assert max(thumb.size) == min(box, max(photo.width, photo.height))
            assert (thumb.width > thumb.height) == (expected.width > expected.height)  # upright
            assert _resembles(thumb, expected) > 0.9, size


def test_every_new_extension_is_picked_up_by_the_sync_client(tmp_path):
    for extension in ("dng", "CR2", "cr3", "nef", "arw", "orf", "raf", "rw2", "psd", "psb", "jp2", "jxl"):
        assert is_candidate(tmp_path / f"picture.{extension}"), extension
    assert not is_candidate(tmp_path / "drawing.svg")


def test_raw_metadata_and_orientation(api, album, upload):
    upload(api, [("shot.dng", images.dng("cat", orientation=6))], album=album)
    photo = Photo.objects.get()
    assert (photo.camera_make, photo.camera_model) == ("Canon", "EOS R6")
    assert photo.taken_at.isoformat().startswith("2024-05-17T14:30:05")
    assert photo.orientation == 6
    assert photo.height > photo.width  # portrait as displayed


# --- tolerant decoding --------------------------------------------------------------------------------------------


def test_stray_bytes_before_the_jpeg_are_tolerated(api, album, upload):
    data = images.jpeg_with_stray_bytes()
    response = upload(api, [("scan.jpg", data)], album=album)
    assert response.status_code == 201, response.json()
    photo = Photo.objects.get()
    assert (photo.format, photo.status) == ("JPEG", Photo.Status.READY)
    assert _stored_path(photo).read_bytes() == data  # the stray bytes are kept: the original is never altered
    assert photo.taken_at is not None and photo.camera_model == "EOS R6"
    assert photo.orientation == 6
    with Image.open(io.BytesIO(_body(api.get(f"/photos/{photo.pk}/m")))) as thumb:
        assert thumb.height > thumb.width
        assert _resembles(thumb, images.photo("coffee").transpose(Image.Transpose.ROTATE_270)) > 0.9


@pytest.mark.parametrize(
    "make, name", [(images.jpeg_with_broken_exif, "astronaut"), (images.jpeg_with_broken_icc, "rocket")]
)
def test_broken_exif_or_icc_profile_does_not_refuse_the_picture(make, name, api, album, upload):
    data = make()
    response = upload(api, [("phone.jpg", data)], album=album)
    assert response.status_code == 201, response.json()
    photo = Photo.objects.get()
    assert photo.status == Photo.Status.READY, photo.status_detail
    with Image.open(io.BytesIO(_body(api.get(f"/photos/{photo.pk}/m")))) as thumb:
        assert _resembles(thumb, images.photo(name)) > 0.9


# --- hostile files of the new formats -----------------------------------------------------------------------------


def _jxl_header(width_and_height: int) -> bytes:
    """A bare JPEG XL codestream whose SizeHeader announces a square of this side, and nothing after it."""
    bits = 0 | (3 << 1) | ((width_and_height - 1) << 3) | (1 << 33)  # not div8, 30-bit height, ratio 1:1
    return b"\xff\x0a" + bits.to_bytes(8, "little") + b"\x00" * 32


def _psd_header(width: int, height: int) -> bytes:
    return b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, height, width, 8, 3) + b"\x00" * 64


def _huge_dng() -> bytes:
    """A DNG whose mosaic claims 100000 × 100000 pixels, with a few bytes of sensor data."""
    tiff = images.TiffBuilder()
    strip = tiff.blob(b"\x00" * 64)
    tiff.ifd(
        {
            254: (4, 0), 256: (4, 100_000), 257: (4, 100_000), 258: (3, 16), 259: (3, 1), 262: (3, 32803),
            273: (4, strip), 277: (3, 1), 278: (4, 100_000), 279: (4, 64), 33421: (3, (2, 2)),
            33422: (1, (0, 1, 1, 2)), 50706: (1, (1, 4, 0, 0)), 271: (2, "Canon"), 272: (2, "EOS R6"),
        },
        first=True,
    )  # fmt: skip
    return bytes(tiff.data)


HOSTILE = {
    # name: (file name, bytes factory, code, status)
    "JPEG XL announcing 10 gigapixels": ("bomb.jxl", lambda: _jxl_header(100_000), "too_many_pixels", 413),
    "JPEG XL header only": ("cut.jxl", lambda: _jxl_header(64), "corrupt", 400),
    "PSD announcing 10 gigapixels": ("bomb.psd", lambda: _psd_header(100_000, 100_000), "too_many_pixels", 413),
    "PSD header only": ("cut.psd", lambda: _psd_header(64, 64), "corrupt", 400),
    "truncated PSD": ("cut.psd", lambda: images.psd()[:5000], "corrupt", 400),
    "DNG announcing 10 gigapixels": ("bomb.dng", _huge_dng, "too_many_pixels", 413),
    "truncated JPEG 2000": ("cut.jp2", lambda: images.in_format("JPEG2000")[:3000], "corrupt", 400),
    "stray bytes before a truncated JPEG": ("cut.jpg", lambda: b"junk" + images.truncated_jpeg(), "corrupt", 400),
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_file_of_a_new_format_is_refused_and_leaves_nothing(kind, api, album, upload):
    from photocloud.library.tests.test_bad_input import StorageSnapshot

    storage = StorageSnapshot()
    name, make, code, status = HOSTILE[kind]
    data = make()
    _assert_rejected(upload(api, [(name, data)], album=album), code, status)
    storage.assert_nothing_left(data)


def test_psd_without_merged_image_is_composed_within_the_pixel_limit(api, album, upload, settings):
    data = images.psd_layers_only()
    response = upload(api, [("layers.psd", data)], album=album)
    assert response.status_code == 201, response.json()
    photo = Photo.objects.get()
    assert (photo.width, photo.height) == (300, 200)
    with Image.open(io.BytesIO(_body(api.get(f"/photos/{photo.pk}/s")))) as thumb:
        # The top layer's corner that the canvas shows, not the backdrop.
        assert _resembles(thumb, images.photo("cat", size=(600, 400)).crop((0, 0, 300, 200))) > 0.9
    Photo.objects.all().delete()

    # Three 600×400 layers are 0.72 MP to compose: over four times a 0.15 MP limit, under the canvas's 0.06 MP.
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "MAX_PIXELS": 150_000}
    from photocloud.library.tests.test_bad_input import StorageSnapshot

    storage = StorageSnapshot()
    other = images.psd_layers_only(layers=4)
    result = _assert_rejected(upload(api, [("layers.psd", other)], album=album), "too_many_pixels", 413)
    assert "Maximize compatibility" in result["reason"]
    storage.assert_nothing_left(other)


def test_supported_formats_are_named_in_the_refusal(api, album, upload):
    result = _assert_rejected(upload(api, [("notes.txt", b"just some text " * 40)], album=album), "unsupported_format")
    for name in ("JPEG 2000", "JPEG XL", "PSD", "RAW"):
        assert name in result["reason"]


def test_probe_reads_only_headers_of_a_raw_file(tmp_path):
    path = tmp_path / "shot.dng"
    path.write_bytes(images.dng("cat", preview=False))
    info = imaging.probe(str(path))
    assert (info.format, info.extension, info.width, info.height) == ("DNG", "dng", 450, 300)


def test_raw_size_is_the_frame_the_camera_meant(tmp_path):
    """A DNG's DefaultCropSize, to the pixel, in IFD0 or a SubIFD, turned by the orientation (LibRaw rounds its own
    crop to the colour pattern: an odd size would lose a pixel)."""
    path = tmp_path / "shot.dng"
    for preview, orientation, size in ((True, 1, (447, 297)), (False, 6, (297, 447)), (True, 8, (300, 450))):
        crop = (447, 297) if size != (300, 450) else None  # without the tag: the whole mosaic
        path.write_bytes(images.dng("cat", preview=preview, orientation=orientation, crop=crop))
        meta = imaging.read_metadata(str(path), imaging.probe(str(path)))
        assert (meta.width, meta.height, meta.orientation) == (*size, orientation)


@pytest.mark.parametrize("crop", [(100_000, 100_000), (4_000_000_000, 297), (0, 297)])
def test_a_raw_frame_larger_than_the_sensor_or_empty_is_not_believed(tmp_path, crop):
    """A hostile DefaultCropSize (no bigger than the sensor LibRaw reads, never empty) leaves LibRaw's own frame."""
    path = tmp_path / "shot.dng"
    path.write_bytes(images.dng("cat", preview=True, crop=crop))
    meta = imaging.read_metadata(str(path), imaging.probe(str(path)))
    assert (meta.width, meta.height) == (450, 300)


@pytest.mark.vision
@pytest.mark.usefixtures("vision_on")
def test_raw_and_psd_are_analysed_and_grouped_with_their_jpeg(api, alice, album, upload):
    """Vision and the duplicate finder see the new formats through the same renditions as any JPEG."""
    from photocloud.vision.duplicates import find_groups
    from photocloud.vision.models import PhotoAnalysis

    # Named apart, so that the RAW is no stack member of the JPEG (test_stacks.py) but a picture of its own.
    files = [("cat.jpg", images.jpeg("cat")), ("cat-raw.dng", images.dng("cat")), ("coffee.psd", images.psd("coffee"))]
    response = upload(api, files, album=album)
    assert response.status_code == 201, response.json()
    photos = {r["name"]: Photo.objects.get(pk=r["photo"]["id"]) for r in response.json()["results"]}
    raw = PhotoAnalysis.objects.get(photo=photos["cat-raw.dng"])
    assert raw.category == "animal" and any("cat" in label for label in raw.label_names)
    assert PhotoAnalysis.objects.get(photo=photos["coffee.psd"]).category == "food"
    groups = [{photo.pk for photo in group.photos} for group in find_groups(alice)]
    assert groups == [{photos["cat.jpg"].pk, photos["cat-raw.dng"].pk}]


# --- dates from XMP -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dates, instant, offset",
    [
        ({"exif_DateTimeOriginal": "2023-07-01T09:15:00+02:00"}, datetime(2023, 7, 1, 7, 15, tzinfo=UTC), 120),
        ({"xmp_CreateDate": "2022-01-02T03:04:05"}, datetime(2022, 1, 2, 3, 4, 5, tzinfo=UTC), None),
        (
            {"photoshop_DateCreated": "2021-12-24T18:00:00Z", "xmp_CreateDate": "2021-12-25T10:00:00-05:30"},
            datetime(2021, 12, 25, 15, 30, tzinfo=UTC),  # xmp:CreateDate ranks before photoshop:DateCreated
            -330,
        ),
        ({"xmp_CreateDate": "not a date"}, None, None),
    ],
)
def test_date_taken_from_xmp(dates, instant, offset, api, album, upload):
    upload(api, [("export.jpg", images.jpeg_with_xmp_date(**dates))], album=album)
    photo = Photo.objects.get()
    assert photo.status == Photo.Status.READY
    assert (photo.taken_at, photo.taken_offset) == (instant, offset)
    if instant is None:
        assert photo.sort_date == photo.created_at
    else:  # sorted by the wall-clock time on the camera
        assert photo.sort_date == instant + timedelta(minutes=offset or 0)


def test_offset_time_original_is_kept_and_the_local_time_shown(api, alice, album, upload):
    """Taken at 23:30 in Tokyo: stored as 14:30 UTC, shown and sorted as 23:30 on 17 May, the day it was."""
    upload(api, [("tokyo.jpg", images.jpeg("cat", taken=datetime(2024, 5, 17, 23, 30), offset="+09:00"))], album)
    photo = Photo.objects.get()
    assert photo.taken_at == datetime(2024, 5, 17, 14, 30, tzinfo=UTC)
    assert photo.taken_offset == 540
    assert photo.sort_date == datetime(2024, 5, 17, 23, 30, tzinfo=UTC)
    body = api.get(f"/api/photos/{photo.pk}/").json()
    assert body["taken_local"] == "2024-05-17T23:30:00"
    assert body["taken_offset"] == 540
    assert body["taken_at"].startswith("2024-05-17T14:30:00")
    client = APIClient()
    client.force_login(alice)
    page = client.get(f"/photos/{photo.pk}/").content.decode()
    assert "17 May 2024, 23:30" in page and "UTC+09:00" in page


def test_position_from_xmp(api, album, upload):
    data = images.jpeg_with_xmp_date(exif_GPSLatitude="48,51.0000N", exif_GPSLongitude="2,21,0W")
    upload(api, [("walk.jpg", data)], album=album)
    photo = Photo.objects.get()
    assert photo.latitude == pytest.approx(48.85, abs=1e-6)
    assert photo.longitude == pytest.approx(-2.35, abs=1e-6)


def test_exif_date_wins_over_xmp(api, album, upload):
    data = images.encode(
        images.photo("rocket"), "JPEG", images.exif_for(), xmp=images.xmp_packet(xmp_CreateDate="2001-01-01T00:00:00")
    )
    upload(api, [("camera.jpg", data)], album=album)
    assert Photo.objects.get().taken_at == datetime(2024, 5, 17, 14, 30, 5, tzinfo=UTC)
