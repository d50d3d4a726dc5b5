"""Reading pictures: what a file really is, whether it decodes, its metadata, and its renditions.

Formats are recognised by content (signatures and Pillow's header parsers), never by the file name. Decoding goes
through libvips where it can: it streams, shrinks JPEGs while decoding them, and so keeps time and memory bounded
whatever the image size. What libvips cannot read goes through Pillow (HEIC, BMP, JPEG 2000, JPEG XL, and TIFF
layouts or animated AVIF that libvips refuses), camera RAW through LibRaw (rawpy) and Photoshop documents through
psd-tools, each bounded by the pixel limit that `probe` enforces from the header first. A file is "damaged" only
when no decoder can produce the image.
"""

import contextlib
import io
import logging
import re
import struct
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction

import numpy as np
import pillow_jxl  # noqa: F401  (registers Pillow's JPEG XL opener)
import pyvips
import rawpy
from django.conf import settings
from PIL import ExifTags, Image, ImageCms, ImageOps, TiffImagePlugin
from psd_tools import PSDImage
from psd_tools.constants import Resource

logger = logging.getLogger(__name__)

# Format name -> (MIME type, stored extension). Pillow's names, plus the RAW and Photoshop kinds recognised here.
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
    "JPEG2000": ("image/jp2", "jp2"),
    "JXL": ("image/jxl", "jxl"),
    "PSD": ("image/vnd.adobe.photoshop", "psd"),
    "PSB": ("image/vnd.adobe.photoshop", "psb"),
    "DNG": ("image/x-adobe-dng", "dng"),
    "CR2": ("image/x-canon-cr2", "cr2"),
    "CR3": ("image/x-canon-cr3", "cr3"),
    "NEF": ("image/x-nikon-nef", "nef"),
    "ARW": ("image/x-sony-arw", "arw"),
    "ORF": ("image/x-olympus-orf", "orf"),
    "RAF": ("image/x-fuji-raf", "raf"),
    "RW2": ("image/x-panasonic-rw2", "rw2"),
}
RAW_FORMATS = {"DNG", "CR2", "CR3", "NEF", "ARW", "ORF", "RAF", "RW2"}
# Pillow openers to try (MPO is not an opener: the JPEG opener answers MPO for multi-picture files). Pillow's own
# PSD reader is left out: psd-tools reads every depth and PSB too.
OPENERS = [name for name in FORMATS if name not in RAW_FORMATS | {"MPO", "PSD", "PSB"}]


def extension_of(fmt: str) -> str:
    """The file extension an original of this format is stored under ("bin" for a format no longer supported)."""
    return FORMATS.get(fmt, ("", "bin"))[1]


VIPS_FORMATS = {"JPEG", "MPO", "PNG", "GIF", "WEBP", "TIFF", "AVIF"}
RENDITION_QUALITY = 82
SUPPORTED = "JPEG, PNG, GIF, WebP, HEIC/HEIF, AVIF, TIFF, BMP, JPEG 2000, JPEG XL, PSD/PSB and camera RAW"
# How far into a file the start of a JPEG is looked for, past bytes some phones and scanners leave before it.
STRAY_BYTES_LIMIT = 4096
TIFF_MAGIC = (b"II*\x00", b"MM\x00*")


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
    offset: int = 0  # where the image starts in the file (stray bytes before a JPEG)


def _max_pixels() -> int:
    return settings.PHOTOCLOUD["MAX_PIXELS"]


def _unsupported() -> ImageRejected:
    return ImageRejected(
        f"This is not a picture Photocloud can read. Supported: {SUPPORTED}.", "unsupported_format", 415
    )


def probe(path: str) -> ImageInfo:
    """Identify the file from its header and check the limits, without decoding the pixels."""
    max_pixels = _max_pixels()
    Image.MAX_IMAGE_PIXELS = max_pixels  # larger images raise DecompressionBombWarning/Error instead of loading
    with open(path, "rb") as handle:
        head = handle.read(STRAY_BYTES_LIMIT + 16)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            fmt, width, height, offset = _identify(path, head)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(
            f"The image has too many pixels (the limit is {max_pixels // 1_000_000} megapixels).",
            "too_many_pixels",
            413,
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError, struct.error, rawpy.LibRawError) as exc:
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
    return ImageInfo(fmt, mime_type, extension, width, height, offset)


def _identify(path: str, head: bytes) -> tuple[str, int, int, int]:
    """(format, width, height, offset) from the headers only; ImageRejected(415) when nothing recognises it."""
    raw_kind = _raw_kind(path, head)
    if raw_kind:
        try:
            with rawpy.imread(path) as raw:  # parses the metadata; the sensor data is read only when decoding
                return raw_kind, raw.sizes.width, raw.sizes.height, 0
        except rawpy.LibRawFileUnsupportedError:
            if not head.startswith(TIFF_MAGIC):
                raise _unsupported() from None
            # A TIFF from a camera maker that LibRaw does not take for RAW (an in-camera TIFF): an ordinary TIFF.
    if head[:4] == b"8BPS" and head[4:6] in (b"\x00\x01", b"\x00\x02"):
        height, width = struct.unpack(">II", head[14:22])
        return ("PSD" if head[5] == 1 else "PSB"), width, height, 0
    if head.startswith(b"\xff\x0a") or head[4:12] == b"JXL \r\n\x87\n":
        width, height = _jxl_size(path)  # Pillow's JPEG XL opener decodes the whole image: size it first
        return "JXL", width, height, 0
    try:
        with Image.open(path, formats=OPENERS) as image:
            width, height = image.size
            if image.format == "TIFF" and image.tag_v2.get(ExifTags.Base.Orientation) in (5, 6, 7, 8):
                width, height = height, width  # Pillow gives a TIFF's size as displayed; this is the stored one
            return image.format, width, height, 0
    except Image.UnidentifiedImageError:
        pass
    except (OSError, ValueError, SyntaxError) as exc:
        if not head.startswith(TIFF_MAGIC):
            raise
        logger.info("Pillow cannot read the TIFF %s (%s); trying libvips", path, exc)
    if head.startswith(TIFF_MAGIC):
        try:
            image = pyvips.Image.new_from_file(path, access="sequential")
        except pyvips.Error:
            raise _unsupported() from None
        if image.get("vips-loader") != "tiffload":
            raise _unsupported()
        return "TIFF", image.width, image.height, 0
    offset = head.find(b"\xff\xd8\xff", 1, STRAY_BYTES_LIMIT)
    if offset > 0:
        try:
            with Image.open(io.BytesIO(head[offset:]), formats=["JPEG"]) as image:
                return image.format, image.width, image.height, offset
        except (Image.UnidentifiedImageError, OSError, SyntaxError):
            pass
    raise _unsupported()


def _raw_kind(path: str, head: bytes) -> str | None:
    """The camera RAW format from the file's signature (and, for TIFF-based ones, IFD0's tags)."""
    if head[4:12] == b"ftypcrx ":
        return "CR3"
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return "RAF"
    if head[:4] in (b"IIRO", b"IIRS", b"MMOR"):
        return "ORF"
    if head[:4] == b"IIU\x00":
        return "RW2"
    if not head.startswith(TIFF_MAGIC):
        return None
    if head[8:10] == b"CR":
        return "CR2"
    ifd0 = _tiff_ifd0(path, head)
    if ifd0 is None:
        return None
    if 50706 in ifd0:  # DNGVersion
        return "DNG"
    make = _text(ifd0.get(271), 40).upper()
    if make.startswith("NIKON"):
        return "NEF"
    if make.startswith("SONY"):
        return "ARW"
    return None


def _tiff_ifd0(path: str, head: bytes) -> dict | None:
    """IFD0's tags (the directory only: values too large to hold inline are read when asked for, not here)."""
    try:
        with open(path, "rb") as handle, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ifd = TiffImagePlugin.ImageFileDirectory_v2(head[:8])
            handle.seek(ifd.next)
            ifd.load(handle)
            return {tag: ifd[tag] for tag in (271, 50706) if tag in ifd}
    except Exception:  # not a readable directory: not a RAW file we recognise
        return None


def _jxl_size(path: str) -> tuple[int, int]:
    """Width and height from a JPEG XL SizeHeader (ISO/IEC 18181-1 §D.2), in a bare codestream or a container."""
    with open(path, "rb") as handle:
        data = handle.read(1 << 16)
    if data[:2] != b"\xff\x0a":
        pos, codestream = 0, b""
        while pos + 8 <= len(data) and not codestream:
            size, kind = struct.unpack(">I4s", data[pos : pos + 8])
            header = 8
            if size == 1:
                size, header = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
            body = data[pos + header : pos + size if size else len(data)]
            if kind == b"jxlc":
                codestream = body
            elif kind == b"jxlp":
                codestream = body[4:]
            if size < header and size != 0:
                raise ValueError("bad JPEG XL box")
            pos = pos + size if size else len(data)
        data = codestream
    if data[:2] != b"\xff\x0a":
        raise ValueError("no JPEG XL codestream")
    bits = int.from_bytes(data[2:16], "little")
    position = 0

    def read(count: int) -> int:
        nonlocal position
        value = (bits >> position) & ((1 << count) - 1)
        position += count
        return value

    def u32() -> int:
        return read((9, 13, 18, 30)[read(2)]) + 1

    small = read(1)
    height = (read(5) + 1) * 8 if small else u32()
    ratio = read(3)
    if ratio:
        numerator, denominator = ((1, 1), (12, 10), (4, 3), (3, 2), (16, 9), (5, 4), (2, 1))[ratio - 1]
        return height * numerator // denominator, height
    return ((read(5) + 1) * 8 if small else u32()), height


def verify(path: str, info: ImageInfo, sizes: dict[str, int] | None = None) -> dict[str, bytes]:
    """Decode the whole file, so truncated or corrupt data is refused before it is stored. With `sizes`, that decode
    also makes those renditions (returned), so that an upload is decoded once for every stage; without, it decodes
    at a small size and returns nothing."""
    try:
        # Strict here (libjpeg's "corrupt data" warnings fail), lenient when rendering what was already accepted.
        renditions = _render(path, info, sizes or {"check": 64}, fail_on="warning")
        return renditions if sizes else {}
    except ImageRejected:
        raise
    except Exception as exc:  # decoders raise many types; any failure means "damaged"
        logger.info("Rejected %s: %s", path, str(exc).strip() or type(exc).__name__)
        raise ImageRejected("The picture is damaged or incomplete.", "corrupt") from None


def render_renditions(path: str, info: ImageInfo, sizes: dict[str, int], rotation: int = 0) -> dict[str, bytes]:
    """JPEG renditions, upright (EXIF orientation applied), then turned clockwise by the owner's `rotation` before
    they are encoded, each fitting in a `size`×`size` box."""
    return _render(path, info, sizes, rotation=rotation)


def _render(path: str, info: ImageInfo, sizes: dict[str, int], fail_on="truncated", rotation: int = 0) -> dict:
    ordered = sorted(sizes.items(), key=lambda item: -item[1])
    if info.format in VIPS_FORMATS:
        try:
            return _render_vips(_vips_source(path, info), ordered, fail_on, rotation)
        except pyvips.Error as exc:
            if info.format in ("JPEG", "MPO"):
                raise  # libjpeg through Pillow would paint corrupt data instead of refusing it
            # libvips refuses some valid layouts libtiff reads (old-style JPEG, 8-bit CIELAB), and animated AVIF.
            logger.info("libvips cannot read %s (%s); decoding it with Pillow", path, str(exc).strip())
    image = decode(path, info, ordered[0][1])
    return _render_pillow(image.transpose(_CLOCKWISE[rotation % 360]) if rotation % 360 else image, ordered)


def _vips_source(path: str, info: ImageInfo) -> str | bytes:
    if not info.offset:
        return path
    with open(path, "rb") as handle:
        handle.seek(info.offset)
        return handle.read()


def _render_vips(source: str | bytes, ordered: list[tuple[str, int]], fail_on: str, rotation: int = 0) -> dict:
    largest = ordered[0][1]
    # thumbnail() shrinks while loading and streams the rest; `fail_on` turns damage into an error.
    base = _vips_thumbnail(source, largest, size="down", fail_on=fail_on)
    base = _flatten_vips(base).copy_memory()  # at most largest² pixels, whatever the original size
    if rotation % 360:
        base = base.rot(f"d{rotation % 360}").copy_memory()
    out = {}
    for name, size in ordered:
        image = base if size >= largest else base.thumbnail_image(size, height=size, size="down")
        out[name] = image.jpegsave_buffer(Q=RENDITION_QUALITY, keep="none")
    return out


def _vips_thumbnail(source: str | bytes, box: int, **options) -> "pyvips.Image":
    if isinstance(source, bytes):
        # The buffer loader takes `fail_on` only as a load option.
        fail_on = options.pop("fail_on")
        return pyvips.Image.thumbnail_buffer(source, box, height=box, option_string=f"fail_on={fail_on}", **options)
    return pyvips.Image.thumbnail(source, box, height=box, **options)


def _flatten_vips(image: "pyvips.Image") -> "pyvips.Image":
    if image.interpretation not in ("srgb", "b-w"):
        with contextlib.suppress(pyvips.Error):
            image = image.colourspace("srgb")
    if image.hasalpha():
        image = image.flatten(background=[255, 255, 255] if image.bands > 2 else [255])
    if image.format != "uchar":
        image = image.cast("uchar")
    return image


def decode(path: str, info: ImageInfo, largest: int) -> Image.Image:
    """The picture as an upright 8-bit RGB Pillow image, at least `largest` pixels on its long side where the
    decoder can shrink while decoding (JPEG, RAW previews, half-size demosaic)."""
    if info.format in RAW_FORMATS:
        image = _decode_raw(path, largest)
    elif info.format in ("PSD", "PSB"):
        image = _decode_psd(path)
    else:
        with _open_pillow(path, info) as opened:
            opened.draft("RGB", (largest, largest))
            opened.load()
            image = ImageOps.exif_transpose(opened)
    return _to_rgb(image)


def _decode_psd(path: str) -> Image.Image:
    """The merged image Photoshop saved ("maximise compatibility"), else the layers composed, within the pixel
    limit: a small file can hold many large layers, and composing costs time for each."""
    _check_psd_complete(path)
    document = PSDImage.open(path)
    if not document.has_preview():
        area = sum(layer.width * layer.height for layer in document.descendants())
        if area > 4 * _max_pixels():
            raise ImageRejected(
                "The Photoshop document has no merged image and too many layer pixels to compose; save it with "
                '"Maximize compatibility".',
                "too_many_pixels",
                413,
            )
    return document.composite()


def _check_psd_complete(path: str) -> None:
    """psd-tools reads a cut file as if the missing bytes were black: check that every section, and the merged
    image's data, lies within the file (Adobe's file format specification, "File header section" onward)."""
    with open(path, "rb") as handle:
        size = handle.seek(0, io.SEEK_END)
        handle.seek(0)
        header = handle.read(26)
        version, channels, height, width, depth = struct.unpack(">4xH6xHIIH2x", header)
        wide = version == 2  # PSB: 8-byte layer section length, 4-byte RLE row counts
        position = 26
        for length_size in (4, 4, 8 if wide else 4):  # colour mode data, image resources, layers and masks
            handle.seek(position)
            length = int.from_bytes(handle.read(length_size), "big")
            position += length_size + length
        handle.seek(position)
        compression = int.from_bytes(handle.read(2), "big")
        position += 2
        rows = channels * height
        if compression == 0:
            needed = rows * ((width * depth + 7) // 8)
        elif compression == 1:
            count_size = 4 if wide else 2
            counts = handle.read(rows * count_size)
            if len(counts) < rows * count_size:
                raise ValueError("truncated Photoshop document")
            needed = len(counts) + int(np.frombuffer(counts, ">u4" if wide else ">u2").sum(dtype=np.int64))
        else:
            needed = 1  # ZIP-compressed data: its decompressor reports truncation
        if position + needed > size:
            raise ValueError("truncated Photoshop document")


@contextlib.contextmanager
def _open_pillow(path: str, info: ImageInfo):
    """The file through Pillow (its first frame or page), past any stray bytes before the image."""
    if info.offset:
        with open(path, "rb") as handle:
            handle.seek(info.offset)
            source = io.BytesIO(handle.read())
    else:
        source = path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about broken EXIF and the like; they never stop a picture
        with Image.open(source, formats=[info.format if info.format != "MPO" else "JPEG"]) as image:
            yield image


# LibRaw's `flip` -> the EXIF orientation it stands for; EXIF orientation -> the transposition that undoes it.
_RAW_FLIP_ORIENTATION = {3: 3, 5: 8, 6: 6}
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _decode_raw(path: str, largest: int) -> Image.Image:
    """The embedded JPEG preview when it is large enough for `largest` (fast, and the camera's own rendering),
    else a half-size demosaic; the camera's orientation applied either way."""
    with rawpy.imread(path) as raw:
        orientation = _RAW_FLIP_ORIENTATION.get(raw.sizes.flip, 1)
        needed = min(largest, max(raw.sizes.width, raw.sizes.height))
        try:
            thumb = raw.extract_thumb()
        except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError, rawpy.LibRawDataError):
            thumb = None
        if thumb is not None and thumb.format == rawpy.ThumbFormat.JPEG:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                preview = Image.open(io.BytesIO(thumb.data), formats=["JPEG"])
                if max(preview.size) >= needed and preview.width * preview.height <= _max_pixels():
                    preview.draft("RGB", (needed, needed))
                    preview.load()
                    # The preview's own tags are ignored: the RAW's orientation is the one cameras set.
                    return preview.transpose(_UPRIGHT[orientation]) if orientation != 1 else preview
        if thumb is not None and thumb.format == rawpy.ThumbFormat.BITMAP and max(thumb.data.shape[:2]) >= needed:
            preview = Image.fromarray(thumb.data)
            return preview.transpose(_UPRIGHT[orientation]) if orientation != 1 else preview
        # Half size (each 2×2 block of the mosaic one pixel, no interpolation) when that is large enough: 4× less
        # memory and time. LibRaw applies the orientation itself when demosaicing.
        half = max(raw.sizes.width, raw.sizes.height) // 2 >= needed
        return Image.fromarray(raw.postprocess(half_size=half, use_camera_wb=True, output_bps=8))


def _to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB: alpha flattened onto white, high bit depths scaled (not clipped), CIELAB converted to sRGB."""
    if image.mode in ("RGBA", "LA", "P", "PA", "RGBa", "La"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        return background
    if image.mode == "LAB":
        transform = ImageCms.buildTransform(ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB"), "LAB", "RGB")
        return ImageCms.applyTransform(image, transform)
    if image.mode.startswith("I") or image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        top = values.max(initial=0)
        peak = 1.0 if image.mode == "F" and top <= 1.0 else 65535.0 if top > 255 else 255.0
        image = Image.fromarray(np.clip(values * (255 / peak), 0, 255).astype(np.uint8), "L")
    return image if image.mode == "RGB" else image.convert("RGB")


def _render_pillow(image: Image.Image, ordered: list[tuple[str, int]]) -> dict[str, bytes]:
    largest = ordered[0][1]
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
    taken_offset: int | None = None  # minutes east of UTC, when the file records the camera's zone
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
    exif, packet = _read_tags(path, info)
    xmp = _xmp_properties(packet)
    orientation = _int(exif.get(ExifTags.Base.Orientation)) or 1
    if orientation not in range(1, 9) or info.format in ("PSD", "PSB"):  # psd-tools composes the pixels as stored
        orientation = 1
    width, height = info.width, info.height
    if info.format in RAW_FORMATS:
        with rawpy.imread(path) as raw:  # LibRaw's orientation is the one the renditions follow
            orientation = _RAW_FLIP_ORIENTATION.get(raw.sizes.flip, 1)
            if raw.sizes.crop_width > 0 and raw.sizes.crop_height > 0:
                # The camera's own frame within the sensor's visible area (the size of its JPEG and preview).
                width, height = raw.sizes.crop_width, raw.sizes.crop_height
            sensor = (raw.sizes.raw_width, raw.sizes.raw_height)
        width, height = _default_crop_size(path, exif, sensor) or (width, height)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    meta = Metadata(width=width, height=height, orientation=orientation)
    try:
        sub = exif.get_ifd(ExifTags.IFD.Exif)
    except Exception:
        sub = {}
    # IFD0 is where they belong, but some phones write them in the Exif directory: as ExifTool, IFD0's when it has
    # the tag (even empty), else the Exif directory's.
    meta.camera_make = _text((exif if ExifTags.Base.Make in exif else sub).get(ExifTags.Base.Make), 100)
    meta.camera_model = _text((exif if ExifTags.Base.Model in exif else sub).get(ExifTags.Base.Model), 100)
    # As ExifTool ranks them: when the shutter fired, when the file was made, then XMP's, then the last edit.
    taken = (
        _exif_datetime(sub.get(ExifTags.Base.DateTimeOriginal), sub.get(ExifTags.Base.OffsetTimeOriginal))
        or _exif_datetime(sub.get(ExifTags.Base.DateTimeDigitized), sub.get(ExifTags.Base.OffsetTimeDigitized))
        or _xmp_datetime(xmp)
        or _exif_datetime(exif.get(ExifTags.Base.DateTime), sub.get(ExifTags.Base.OffsetTime))
    )
    if taken:
        meta.taken_at, meta.taken_offset = taken
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
        meta.latitude = _xmp_coordinate(xmp.get("exif:GPSLatitude"), 90)
        meta.longitude = _xmp_coordinate(xmp.get("exif:GPSLongitude"), 180)
    if meta.latitude is None or meta.longitude is None:
        meta.latitude = meta.longitude = None
    return meta


# How much of a RAW file is read for its EXIF: cameras write their directories at the start.
RAW_EXIF_BYTES = 4 << 20


def _read_tags(path: str, info: ImageInfo) -> tuple[Image.Exif, bytes]:
    """The EXIF directories and the XMP packet wherever the format keeps them; empty when they are unreadable
    (never a reason to refuse a picture: broken EXIF blocks are common)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if info.format in RAW_FORMATS:
                exif = _raw_exif(path)
                return exif, _bytes(exif.get(ExifTags.Base.XMLPacket))
            if info.format in ("PSD", "PSB"):
                resources = PSDImage.open(path).image_resources
                exif = Image.Exif()
                exif.load(resources.get_data(Resource.EXIF_DATA_1) or b"")
                return exif, _bytes(resources.get_data(Resource.XMP_METADATA))
            with _open_pillow(path, info) as image:
                exif = image.getexif()
                for ifd in (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo):  # read now: a TIFF's are read from the file
                    with contextlib.suppress(Exception):
                        exif.get_ifd(ifd)
                xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp") or exif.get(ExifTags.Base.XMLPacket)
                return exif, _bytes(xmp)
    except Exception:
        logger.info("Unreadable EXIF in %s", path, exc_info=True)
        return Image.Exif(), b""


def _bytes(value) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8", "replace")
    return bytes(value) if isinstance(value, bytes | bytearray | tuple) else b""


# The XMP properties read, each as an attribute (exif:DateTimeOriginal="…") or an element (<xmp:CreateDate>…<).
_XMP_PROPERTY = re.compile(
    rb"(exif:DateTimeOriginal|xmp:CreateDate|photoshop:DateCreated|exif:GPSLatitude|exif:GPSLongitude)"
    rb"\s*(?:=\s*[\"']([^\"'<>]{1,40})[\"']|>\s*([^<]{1,40})<)"
)


def _xmp_properties(xmp: bytes) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _XMP_PROPERTY.finditer(xmp[: 1 << 20]):
        found.setdefault(match[1].decode(), (match[2] or match[3]).strip().decode("ascii", "replace"))
    return found


def _xmp_datetime(xmp: dict[str, str]) -> tuple[datetime, int | None] | None:
    """The first of exif:DateTimeOriginal, xmp:CreateDate, photoshop:DateCreated (ISO 8601, offset kept)."""
    for name in ("exif:DateTimeOriginal", "xmp:CreateDate", "photoshop:DateCreated"):
        try:
            value = datetime.fromisoformat(xmp[name])
        except (KeyError, ValueError):
            continue
        if not 1900 <= value.year <= 2200:
            continue
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC), None
        return value.astimezone(UTC), round(value.utcoffset().total_seconds() / 60)
    return None


def _xmp_coordinate(value: str | None, limit: float) -> float | None:
    """XMP's GPSCoordinate: "DDD,MM,SSk" or "DDD,MM.mmk", k being N, S, E or W."""
    if not value or value[-1].upper() not in "NSEW":
        return None
    try:
        parts = [float(part) for part in value[:-1].split(",")]
    except ValueError:
        return None
    if len(parts) not in (2, 3):
        return None
    degrees = parts[0] + parts[1] / 60 + (parts[2] / 3600 if len(parts) == 3 else 0)
    if value[-1].upper() in "SW":
        degrees = -degrees
    return round(degrees, 7) if abs(degrees) <= limit else None


def _raw_exif(path: str) -> Image.Exif:
    """TIFF-based RAW files (all but RAF and CR3; ORF and RW2 with their own magic number) hold EXIF directories
    like a TIFF; CR3 holds them in its CMT boxes, RAF in the camera's JPEG it embeds."""
    with open(path, "rb") as handle:
        data = handle.read(RAW_EXIF_BYTES)
    if data[:4] in (b"IIRO", b"IIRS", b"IIU\x00"):
        data = b"II*\x00" + data[4:]
    elif data[:4] == b"MMOR":
        data = b"MM\x00*" + data[4:]
    exif = Image.Exif()
    if data.startswith(TIFF_MAGIC):
        exif.load(data)
        return exif
    if data[4:12] == b"ftypcrx " and (cr3 := _cr3_exif(data)) is not None:
        return cr3
    preview = b""
    if data.startswith(b"FUJIFILMCCD-RAW") and len(data) >= 92:
        # The camera's JPEG, where the header points (LibRaw's copy of it carries LibRaw's own tags instead).
        start, length = struct.unpack(">II", data[84:92])
        with open(path, "rb") as handle:
            handle.seek(start)
            preview = handle.read(min(length, RAW_EXIF_BYTES))
    if preview.startswith(b"\xff\xd8"):
        with contextlib.suppress(Exception), Image.open(io.BytesIO(preview), formats=["JPEG"]) as image:
            return image.getexif()
    with rawpy.imread(path) as raw:
        thumb = raw.extract_thumb()
    if thumb.format == rawpy.ThumbFormat.JPEG:
        with Image.open(io.BytesIO(thumb.data), formats=["JPEG"]) as preview:
            return preview.getexif()
    return exif


MAX_SUB_IFDS = 8


def _default_crop_size(path: str, exif: Image.Exif, sensor: tuple[int, int]) -> tuple[int, int] | None:
    """The DefaultCropSize of the full-size raw image (IFD0 or a SubIFD) in a DNG, or an ARW that writes it too:
    the frame the camera meant, to the pixel (LibRaw rounds its own crop to the colour filter's pattern).

    Read from the file's first RAW_EXIF_BYTES, as its EXIF is, so that a hostile file's directories cost bounded
    memory; a size that does not fit on the sensor LibRaw reads is not believed."""
    with open(path, "rb") as handle:
        head = handle.read(RAW_EXIF_BYTES)
    if not head.startswith(TIFF_MAGIC):
        return None
    directories = [exif]
    offsets = exif.get(330)  # SubIFDs: cameras write a few (raw, previews); a hostile file could list thousands
    for offset in ((offsets,) if isinstance(offsets, int) else offsets or ())[:MAX_SUB_IFDS]:
        with contextlib.suppress(Exception):
            directory = TiffImagePlugin.ImageFileDirectory_v2(head[:8])
            buffer = io.BytesIO(head)
            buffer.seek(offset)
            directory.load(buffer)
            directories.append(directory)
    for directory in directories:
        size = directory.get(50720)  # DefaultCropSize
        if directory.get(254, 0) != 0 or not isinstance(size, tuple) or len(size) != 2:  # NewSubfileType: full size
            continue
        try:
            width, height = (round(float(value)) for value in size)
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):  # 0/0, infinite, not a number
            continue
        if 0 < width <= sensor[0] and 0 < height <= sensor[1]:
            return width, height
    return None


class _SplitExif(Image.Exif):
    """EXIF whose Exif and GPS directories were read from separate TIFF structures (CR3's CMT boxes)."""

    def __init__(self, ifds: dict[int, dict]):
        super().__init__()
        self._split = ifds

    def get_ifd(self, tag: int) -> dict:
        return self._split.get(tag) or super().get_ifd(tag)


def _cr3_exif(data: bytes) -> Image.Exif | None:
    """Canon's CR3 keeps IFD0, the Exif directory and the GPS directory as three small TIFF files, the CMT1, CMT2
    and CMT4 boxes of its `uuid` box in `moov` (as ExifTool and LibRaw read them)."""
    tiffs = {}
    for name in (b"CMT1", b"CMT2", b"CMT4"):
        at = data.find(name, 0, 1 << 20)
        if at >= 4:
            size = int.from_bytes(data[at - 4 : at], "big")
            body = data[at + 4 : at - 4 + size]
            if body.startswith(TIFF_MAGIC):
                tiffs[name] = body
    if b"CMT1" not in tiffs:
        return None  # not as Canon writes it: the preview's EXIF, as for the other formats
    exif = _SplitExif({})
    exif.load(tiffs[b"CMT1"])
    for name, tag in ((b"CMT2", ExifTags.IFD.Exif), (b"CMT4", ExifTags.IFD.GPSInfo)):
        if name in tiffs:
            part = Image.Exif()
            part.load(tiffs[name])
            exif._split[tag] = dict(part)
    return exif


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


def _exif_datetime(value, offset) -> tuple[datetime, int | None] | None:
    """(when, offset in minutes or None) from an EXIF date and its OffsetTime* companion."""
    text = _text(value, 40)
    try:
        naive = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if not 1900 <= naive.year <= 2200:
        return None
    offset = _text(offset, 10)
    if len(offset) == 6 and offset[0] in "+-" and offset[3] == ":" and offset[1:3].isdigit() and offset[4:].isdigit():
        minutes = (int(offset[1:3]) * 60 + int(offset[4:6])) * (1 if offset[0] == "+" else -1)
        if abs(minutes) <= 18 * 60:
            return naive.replace(tzinfo=timezone(timedelta(minutes=minutes))).astimezone(UTC), minutes
    # Without an offset, the camera's wall-clock time is all there is: stored as if UTC, shown as is.
    return naive.replace(tzinfo=UTC), None


def _gps_coordinate(value, ref, limit: float) -> float | None:
    if isinstance(value, str | bytes):
        # Some phones write the coordinate as text: as ExifTool does, its first numbers are degrees, minutes and
        # seconds.
        value = tuple(re.findall(r"[+-]?(?:\d+\.?\d*|\.\d+)", _text(value, 100)))[:3]
        value = value + ("0",) * (3 - len(value)) if value else None
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
        with contextlib.suppress(pyvips.Error):
            image = _vips_thumbnail(_vips_source(path, info), size, crop="centre", fail_on="truncated")
            return _flatten_vips(image).jpegsave_buffer(Q=RENDITION_QUALITY, keep="none")
    image = ImageOps.fit(decode(path, info, size), (size, size))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=RENDITION_QUALITY)
    return buffer.getvalue()


_CLOCKWISE = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}


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
