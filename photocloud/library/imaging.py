"""Reading pictures: what a file really is, whether it decodes, its metadata, and its renditions.

Formats are recognised by content (Pillow's header parsers), never by the file name. Decoding goes through libvips
where it can: it streams, shrinks JPEGs while decoding them, and so keeps time and memory bounded whatever the
image size. HEIC and BMP, which the bundled libvips cannot read, go through Pillow (with pillow-heif), bounded by
the pixel limit that `probe` enforces first.
"""

import contextlib
import io
import logging
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction

import pyvips
from django.conf import settings
from PIL import ExifTags, Image, ImageOps

logger = logging.getLogger(__name__)

# Pillow format name -> (MIME type, stored extension)
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "MPO": ("image/jpeg", "jpg"),  # multi-picture JPEG from some cameras; the first frame is an ordinary JPEG
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
    "HEIF": ("image/heif", "heic"),
    "AVIF": ("image/avif", "avif"),
    "TIFF": ("image/tiff", "tif"),
    "BMP": ("image/bmp", "bmp"),
}
# Pillow openers to try (MPO is not an opener: the JPEG opener answers MPO for multi-picture files).
OPENERS = [name for name in FORMATS if name != "MPO"]
VIPS_FORMATS = {"JPEG", "MPO", "PNG", "GIF", "WEBP", "TIFF", "AVIF"}
RENDITION_QUALITY = 82


class ImageRejected(Exception):
    """A file that is not an acceptable picture. `status` is the HTTP status the API answers with."""

    def __init__(self, message: str, code: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


@dataclass(frozen=True)
class ImageInfo:
    format: str
    mime_type: str
    extension: str
    width: int
    height: int


def _max_pixels() -> int:
    return settings.PHOTOCLOUD["MAX_PIXELS"]


def probe(path: str) -> ImageInfo:
    """Identify the file from its header and check the limits, without decoding the pixels."""
    max_pixels = _max_pixels()
    Image.MAX_IMAGE_PIXELS = max_pixels  # larger images raise DecompressionBombWarning/Error instead of loading
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=OPENERS) as image:
                fmt, (width, height) = image.format, image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(
            f"The image has too many pixels (the limit is {max_pixels // 1_000_000} megapixels).",
            "too_many_pixels",
            413,
        ) from None
    except Image.UnidentifiedImageError:
        raise ImageRejected(
            "This is not a picture Photocloud can read. Supported: JPEG, PNG, GIF, WebP, HEIC/HEIF, AVIF, TIFF, BMP.",
            "unsupported_format",
            415,
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageRejected(f"The picture is damaged: {exc}", "corrupt") from None
    if width <= 0 or height <= 0:
        raise ImageRejected("The picture has no pixels.", "corrupt")
    if width * height > max_pixels:
        raise ImageRejected(
            f"The image is {width}×{height} pixels; the limit is {max_pixels // 1_000_000} megapixels.",
            "too_many_pixels",
            413,
        )
    mime_type, extension = FORMATS[fmt]
    return ImageInfo(fmt, mime_type, extension, width, height)


def verify(path: str, info: ImageInfo) -> None:
    """Decode the whole file at a small size, so truncated or corrupt data is refused before it is stored."""
    try:
        # Strict here (libjpeg's "corrupt data" warnings fail), lenient when rendering what was already accepted.
        _render(path, info, {"check": 64}, fail_on="warning")
    except ImageRejected:
        raise
    except Exception as exc:  # decoders raise many types; any failure means "damaged"
        logger.info("Rejected %s: %s", path, str(exc).strip() or type(exc).__name__)
        raise ImageRejected("The picture is damaged or incomplete.", "corrupt") from None


def render_renditions(path: str, info: ImageInfo, sizes: dict[str, int]) -> dict[str, bytes]:
    """JPEG renditions, upright (EXIF orientation applied), each fitting in a `size`×`size` box."""
    return _render(path, info, sizes)


def _render(path: str, info: ImageInfo, sizes: dict[str, int], fail_on="truncated") -> dict[str, bytes]:
    ordered = sorted(sizes.items(), key=lambda item: -item[1])
    if info.format in VIPS_FORMATS:
        return _render_vips(path, ordered, fail_on)
    return _render_pillow(path, ordered)


def _render_vips(path: str, ordered: list[tuple[str, int]], fail_on: str) -> dict[str, bytes]:
    largest = ordered[0][1]
    # thumbnail() shrinks while loading and streams the rest; `fail_on` turns damage into an error.
    base = pyvips.Image.thumbnail(path, largest, height=largest, size="down", fail_on=fail_on)
    base = _flatten_vips(base).copy_memory()  # at most largest² pixels, whatever the original size
    out = {}
    for name, size in ordered:
        image = base if size >= largest else base.thumbnail_image(size, height=size, size="down")
        out[name] = image.jpegsave_buffer(Q=RENDITION_QUALITY, keep="none")
    return out


def _flatten_vips(image: "pyvips.Image") -> "pyvips.Image":
    if image.interpretation not in ("srgb", "b-w"):
        with contextlib.suppress(pyvips.Error):
            image = image.colourspace("srgb")
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255] if image.bands > 2 else [255])
    if image.format != "uchar":
        image = image.cast("uchar")
    return image


def _render_pillow(path: str, ordered: list[tuple[str, int]]) -> dict[str, bytes]:
    largest = ordered[0][1]
    with Image.open(path, formats=OPENERS) as image:
        image.draft("RGB", (largest, largest))
        image.load()
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "P", "PA"):
            image = image.convert("RGBA")
            background = Image.new("RGB", image.size, "white")
            background.paste(image, mask=image.getchannel("A"))
            image = background
        elif image.mode != "RGB":
            image = image.convert("RGB")
        image.thumbnail((largest, largest), Image.Resampling.LANCZOS)
        out = {}
        for name, size in ordered:
            rendition = image
            if size < largest:
                rendition = image.copy()
                rendition.thumbnail((size, size), Image.Resampling.LANCZOS)
            buffer = io.BytesIO()
            rendition.save(buffer, "JPEG", quality=RENDITION_QUALITY)
            out[name] = buffer.getvalue()
        return out


# --- metadata -------------------------------------------------------------------------------------------------


@dataclass
class Metadata:
    width: int
    height: int
    orientation: int = 1
    taken_at: datetime | None = None
    camera_make: str = ""
    camera_model: str = ""
    lens: str = ""
    exposure_time: str = ""
    f_number: float | None = None
    iso: int | None = None
    focal_length: float | None = None
    latitude: float | None = None
    longitude: float | None = None


def read_metadata(path: str, info: ImageInfo) -> Metadata:
    """EXIF date, camera, lens, exposure, GPS and orientation; dimensions as displayed (orientation applied)."""
    with Image.open(path, formats=OPENERS) as image:
        try:
            exif = image.getexif()
        except Exception:  # broken EXIF blocks are common and never a reason to refuse a picture
            logger.info("Unreadable EXIF in %s", path, exc_info=True)
            exif = Image.Exif()
    orientation = _int(exif.get(ExifTags.Base.Orientation)) or 1
    if orientation not in range(1, 9):
        orientation = 1
    width, height = info.width, info.height
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    meta = Metadata(width=width, height=height, orientation=orientation)
    meta.camera_make = _text(exif.get(ExifTags.Base.Make), 100)
    meta.camera_model = _text(exif.get(ExifTags.Base.Model), 100)
    try:
        sub = exif.get_ifd(ExifTags.IFD.Exif)
    except Exception:
        sub = {}
    meta.taken_at = _exif_datetime(
        sub.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime),
        sub.get(ExifTags.Base.OffsetTimeOriginal),
    )
    meta.lens = _text(sub.get(ExifTags.Base.LensModel), 150)
    exposure = _float(sub.get(ExifTags.Base.ExposureTime))
    if exposure:
        meta.exposure_time = f"1/{round(1 / exposure)} s" if exposure < 1 else f"{exposure:g} s"
    meta.f_number = _float(sub.get(ExifTags.Base.FNumber))
    meta.iso = _int(sub.get(ExifTags.Base.ISOSpeedRatings))
    meta.focal_length = _float(sub.get(ExifTags.Base.FocalLength))
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:
        gps = {}
    meta.latitude = _gps_coordinate(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), 90)
    meta.longitude = _gps_coordinate(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), 180)
    if meta.latitude is None or meta.longitude is None:
        meta.latitude = meta.longitude = None
    return meta


def _text(value, limit: int) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return ""
    return value.replace("\x00", "").strip()[:limit]


def _float(value) -> float | None:
    try:
        number = float(Fraction(value)) if isinstance(value, tuple) else float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if number == number and abs(number) != float("inf") else None


def _int(value) -> int | None:
    if isinstance(value, tuple | list):
        value = value[0] if value else None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _exif_datetime(value, offset) -> datetime | None:
    text = _text(value, 40)
    try:
        naive = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if not 1900 <= naive.year <= 2200:
        return None
    tz = UTC
    offset = _text(offset, 10)
    if len(offset) == 6 and offset[0] in "+-" and offset[3] == ":":
        try:
            delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
            tz = timezone(delta if offset[0] == "+" else -delta)
        except ValueError:
            pass
    # Without an offset, the camera's wall-clock time is shown as taken (stored as UTC, displayed as UTC).
    return naive.replace(tzinfo=tz)


def _gps_coordinate(value, ref, limit: float) -> float | None:
    if not isinstance(value, tuple | list) or len(value) != 3:
        return None
    parts = [_float(part) for part in value]
    if any(part is None for part in parts):
        return None
    degrees = parts[0] + parts[1] / 60 + parts[2] / 3600
    if _text(ref, 2).upper() in ("S", "W"):
        degrees = -degrees
    return round(degrees, 7) if abs(degrees) <= limit else None


def render_square(path: str, info: ImageInfo, size: int) -> bytes:
    """A centre-cropped square JPEG (avatars)."""
    if info.format in VIPS_FORMATS:
        image = pyvips.Image.thumbnail(path, size, height=size, crop="centre", fail_on="truncated")
        return _flatten_vips(image).jpegsave_buffer(Q=RENDITION_QUALITY, keep="none")
    with Image.open(path, formats=OPENERS) as image:
        image.draft("RGB", (size, size))
        image = ImageOps.fit(ImageOps.exif_transpose(image).convert("RGB"), (size, size))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=RENDITION_QUALITY)
        return buffer.getvalue()


# --- privacy -----------------------------------------------------------------------------------------------------


def without_location(path: str, info: ImageInfo) -> tuple[bytes, str]:
    """The picture without its GPS position, for viewers the owner has not shared locations with.

    Returns (bytes, MIME type). A plain JPEG keeps its pixels byte for byte: only the EXIF block is rewritten without
    the GPS directory, and XMP (which may repeat the position) is dropped. Other formats are re-encoded as a
    full-size JPEG without metadata.
    """
    if info.format == "JPEG":
        with open(path, "rb") as handle:
            data = handle.read()
        stripped = _jpeg_without_gps(data)
        if stripped is not None:
            return stripped, "image/jpeg"
    side = max(info.width, info.height)
    return _render(path, info, {"full": side})["full"], "image/jpeg"


def _jpeg_without_gps(data: bytes) -> bytes | None:
    """Rewrite the APP1 segments before the image data; None when the file's structure is unexpected."""
    if data[:2] != b"\xff\xd8":
        return None
    out, pos = [data[:2]], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xDA:  # start of scan: the rest is image data, copied as it is
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > len(data):
            return None
        segment = data[pos + 4 : pos + 2 + length]
        if marker == 0xE1 and segment.startswith(b"Exif\x00\x00"):
            exif = Image.Exif()
            exif.load(segment[6:])
            exif.pop(ExifTags.IFD.GPSInfo, None)
            payload = b"Exif\x00\x00" + exif.tobytes()
            if len(payload) + 2 > 0xFFFF:
                return None
            out.append(b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload)
        elif marker == 0xE1:  # XMP and other APP1 blocks may carry the position too
            pass
        else:
            out.append(data[pos : pos + 2 + length])
        pos += 2 + length
    else:
        return None
    out.append(data[pos:])
    return b"".join(out)
