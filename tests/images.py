"""Real image files for tests: sample photographs shipped with scikit-image, saved in every supported format,
with EXIF where a camera would write it, plus the damaged and hostile files users (and attackers) send."""

import io
import struct
import zlib
from datetime import datetime

import numpy as np
import pillow_heif
from PIL import Image, ImageOps
from skimage import data as samples

pillow_heif.register_heif_opener()

PHOTOS = {
    "cat": samples.chelsea,
    "astronaut": samples.astronaut,
    "coffee": samples.coffee,
    "rocket": samples.rocket,
}


def photo(name="cat", size=None) -> Image.Image:
    image = Image.fromarray(PHOTOS[name]()).convert("RGB")
    if size:
        image = ImageOps.fit(image, size, Image.Resampling.LANCZOS)
    return image


def exif_for(
    taken: datetime | None = datetime(2024, 5, 17, 14, 30, 5),
    make="Canon",
    model="EOS R6",
    orientation=1,
    gps: tuple[float, float] | None = None,
) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = model
    exif[0x0112] = orientation
    sub = exif.get_ifd(0x8769)
    if taken:
        sub[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    sub[0x829A] = 1 / 250  # exposure time
    sub[0x829D] = 2.8  # f-number
    sub[0x8827] = 400  # ISO
    sub[0x920A] = 50.0  # focal length
    sub[0xA434] = "RF 50mm F1.8 STM"
    if gps:
        gps_ifd = exif.get_ifd(0x8825)
        lat, lon = gps
        gps_ifd[1] = "N" if lat >= 0 else "S"
        gps_ifd[2] = _dms(abs(lat))
        gps_ifd[3] = "E" if lon >= 0 else "W"
        gps_ifd[4] = _dms(abs(lon))
    return exif


def _dms(value: float):
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600, 4)
    return (float(degrees), float(minutes), seconds)


def encode(image: Image.Image, fmt="JPEG", exif: Image.Exif | None = None, **options) -> bytes:
    buffer = io.BytesIO()
    if exif is not None:
        options["exif"] = exif.tobytes()
    if fmt in ("GIF", "BMP") and image.mode not in ("RGB", "P", "L"):
        image = image.convert("RGB")
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def jpeg(name="cat", **exif_options) -> bytes:
    """A real photograph as a camera JPEG with EXIF."""
    return encode(photo(name), "JPEG", exif_for(**exif_options), quality=90)


def variant(name="cat", seed=0, fmt="JPEG") -> bytes:
    """A different file of the same photograph (a slight crop), for tests needing many distinct pictures."""
    image = photo(name)
    w, h = image.size
    dx, dy = seed % 17, (seed // 17) % 13
    return (
        encode(image.crop((dx, dy, w - 17 + dx, h - 13 + dy)), fmt, quality=88)
        if fmt == "JPEG"
        else encode(image.crop((dx, dy, w - 17 + dx, h - 13 + dy)), fmt)
    )


# --- bad input ----------------------------------------------------------------------------------------------------


def truncated_jpeg() -> bytes:
    data = jpeg()
    return data[: len(data) // 2]


def corrupt_jpeg() -> bytes:
    """A valid JPEG header followed by garbage where the compressed data should be."""
    data = bytearray(jpeg())
    rng = np.random.default_rng(1)
    start = len(data) // 3
    data[start:-2] = rng.integers(0, 256, len(data) - 2 - start, dtype=np.uint8).tobytes()
    return bytes(data)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def decompression_bomb_png(side=30_000) -> bytes:
    """A tiny file that claims (and really encodes) 900 megapixels of black: zlib shrinks it ~1000×."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b"")


def huge_dimensions_png() -> bytes:
    """A header announcing 100000 × 100000 pixels with almost no data behind it."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 100))


def html_as_jpeg() -> bytes:
    return b"<html><script>alert(document.cookie)</script></html>"


def svg() -> bytes:
    return b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>'


# --- more kinds of files (access-control and bad-input tests) ----------------------------------------------------


def unique_jpeg(name="cat", token: str | None = None, **exif_options) -> bytes:
    """A camera JPEG whose bytes are unique to `token` (a JPEG comment): a file no other test stores.

    Originals are content-addressed and the storage folder outlives each test's database, so a test that damages a
    stored original must use bytes nobody else uploads.
    """
    import uuid

    comment = (token or uuid.uuid4().hex).encode()
    return encode(photo(name), "JPEG", exif_for(**exif_options), quality=90, comment=comment)


def png_with_alpha(name="coffee") -> bytes:
    """A PNG with a real alpha channel: opaque in the middle, fading to transparent at the left edge."""
    image = photo(name).convert("RGBA")
    width, height = image.size
    ramp = np.tile(np.clip(np.arange(width) * 4, 0, 255).astype(np.uint8), (height, 1))
    image.putalpha(Image.fromarray(ramp, "L"))
    return encode(image, "PNG")


def in_format(fmt: str, name="astronaut") -> bytes:
    """The photograph saved in one of the supported formats (HEIF through pillow-heif, AVIF through Pillow)."""
    image = photo(name)
    if fmt == "GIF":
        image = image.quantize(256)
    return encode(image, fmt)


def large_png(min_bytes: int) -> bytes:
    """A real, valid PNG of at least `min_bytes` (photographs compress poorly as PNG)."""
    side = 256
    while True:
        data = encode(photo("astronaut", size=(side, side)), "PNG")
        if len(data) >= min_bytes:
            return data
        side *= 2


def document_page(lines=None, size=(1240, 1754)) -> Image.Image:
    """A rendered A4-ish page of text (an invoice), as a scanner would give it."""
    from PIL import ImageDraw, ImageFont

    lines = lines or [
        "INVOICE No. 2024-0117",
        "Photocloud Printing Ltd, 12 Harbour Street",
        "Date: 17 May 2024",
        "",
        "Description                 Qty     Price",
        "Photo book, A4 landscape      2     48.00",
        "Canvas print 60 x 40          1     35.50",
        "Shipping                      1      6.90",
        "",
        "Total due                          138.40",
        "Payment within thirty days of the invoice date.",
    ]
    page = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(page)
    try:
        font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 40)
    except OSError:
        font = ImageFont.load_default(size=40)
    for row, line in enumerate(lines):
        draw.text((110, 140 + row * 70), line, fill=(20, 20, 20), font=font)
    return page
