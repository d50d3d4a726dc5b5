"""Ingest benchmark: pictures per second Photocloud turns into metadata + thumbnails, and at what memory.

Ingest makes the 320 and 1024 px renditions; the 2048 px one is made when a picture is first opened large (most
never are), which lets libvips decode a 12 MP JPEG at half size.

Photocloud must keep up with bulk uploads (target: 20 pictures/s of 12 MP JPEG on 2 cores) without a worker's
memory growing with the size of the pictures. This times the path it really uses (`photocloud.library.imaging`:
probe, verify, read_metadata, render_renditions, decoding through libvips) against a plain-Pillow baseline (full
decode, exif_transpose, the same thumbnails, getexif) on 12 MP JPEGs made from the real photographs bundled with
scikit-image, single-process and with one worker per core as deployed. Each measurement runs in a fresh child
process so that its peak RSS belongs to that path alone; 48 MP JPEGs check how memory scales with image size.
CPU time per picture is reported too: unlike pictures/s it holds up when other work shares the machine.
Generating the pictures is not timed. Run from the repository root:  python bench/ingest.py [--count N]
"""

import argparse
import contextlib
import functools
import io
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.conf import settings  # noqa: E402

SIZES = {"s": 320, "m": 1024, "l": 2048}  # = settings.PHOTOCLOUD["THUMBNAIL_SIZES"]
# = settings.PHOTOCLOUD["EAGER_SIZES"]: what ingest renders; "l" is made when a picture is first opened large.
EAGER = {name: SIZES[name] for name in ("s", "m")}
if not settings.configured:
    settings.configure(PHOTOCLOUD={"MAX_PIXELS": 120_000_000, "THUMBNAIL_SIZES": SIZES})

import pillow_heif  # noqa: E402
from PIL import ExifTags, Image, ImageEnhance, ImageOps  # noqa: E402

from photocloud.library import imaging  # noqa: E402

pillow_heif.register_heif_opener()

TARGET = 20.0  # pictures/s with one worker per core
PHOTOS = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "hubble_deep_field",
    "retina",
    "immunohistochemistry",
    "stereo_motorcycle",
)
MP12, MP48 = (4000, 3000), (8000, 6000)


# --- the two ingest paths being compared ---------------------------------------------------------------------


def photocloud_ingest(path: str) -> None:
    info = imaging.probe(path)
    imaging.verify(path, info, EAGER)  # the upload's one decode checks the file and makes the renditions
    imaging.read_metadata(path, info)


def plain_pillow(path: str) -> None:
    with Image.open(path) as image:
        image.getexif()
        image.load()  # full-size decode: no draft()
        upright = ImageOps.exif_transpose(image)
    for size in EAGER.values():
        rendition = upright.copy()
        rendition.thumbnail((size, size), Image.Resampling.LANCZOS)
        rendition.save(io.BytesIO(), "JPEG", quality=imaging.RENDITION_QUALITY)


PATHS = {"photocloud": photocloud_ingest, "plain Pillow": plain_pillow}


# --- test pictures (not timed) -----------------------------------------------------------------------------


@functools.cache
def _source(name: str) -> Image.Image:
    import skimage.data  # only the generator needs scikit-image; the measured children never import it

    pixels = getattr(skimage.data, name)()
    return Image.fromarray(pixels[0] if isinstance(pixels, tuple) else pixels).convert("RGB")


def _orientation(index: int) -> int:
    return 6 if index % 10 == 3 else 1  # a few shot "portrait", stored landscape, as phones do


def make_photo(index: int, size: tuple[int, int], path: str, grain: float = 0) -> None:
    """A real photograph, cropped to 4:3 at an index-dependent offset, re-lit, upscaled, with camera EXIF.

    Upscaled photos are smoother than a camera's output, so their JPEGs are small (~1 MB for 12 MP); `grain`
    adds Gaussian noise of that standard deviation for camera-like file sizes (10 gives ~4 MB) and decoding cost.
    """
    photo = _source(PHOTOS[index % len(PHOTOS)])
    w, h = photo.size
    cw, ch = (w, w * 3 // 4) if w * 3 <= h * 4 else (h * 4 // 3, h)  # largest 4:3 window
    cw, ch = cw * 9 // 10, ch * 9 // 10
    x, y = (index * 37 % 100) * (w - cw) // 100, (index * 61 % 100) * (h - ch) // 100
    photo = ImageEnhance.Brightness(photo.crop((x, y, x + cw, y + ch))).enhance(0.85 + 0.05 * (index % 7))
    photo = photo.resize(size, Image.Resampling.LANCZOS)
    if grain:
        import numpy

        noise = numpy.random.default_rng(index).normal(0, grain, (size[1], size[0], 3))
        photo = Image.fromarray((numpy.asarray(photo) + noise).clip(0, 255).astype(numpy.uint8))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Photocloud"
    exif[ExifTags.Base.Model] = f"Bench {PHOTOS[index % len(PHOTOS)]}"
    exif[ExifTags.Base.Orientation] = _orientation(index)
    taken = f"2024:06:{index % 28 + 1:02d} 12:{index % 60:02d}:00"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken
    photo.save(path, "JPEG", quality=90, exif=exif)


def make_photos(folder: Path, count: int, size: tuple[int, int], workers: int, grain: float) -> list[str]:
    folder.mkdir()
    paths = [str(folder / f"{index:03d}.jpg") for index in range(count)]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        pool.starmap(make_photo, [(index, size, path, grain) for index, path in enumerate(paths)])
    return paths


def check(paths: list[str]) -> None:
    """The benchmark is only meaningful if the chosen path really reads what was written."""
    for index in {0, 3} & set(range(len(paths))):
        info = imaging.probe(paths[index])
        meta = imaging.read_metadata(paths[index], info)
        upright = (3000, 4000) if _orientation(index) == 6 else (4000, 3000)
        assert (meta.orientation, meta.width, meta.height) == (_orientation(index), *upright), meta
        assert meta.taken_at and meta.camera_make == "Photocloud", meta
        with Image.open(io.BytesIO(imaging.render_renditions(paths[index], info, EAGER)["m"])) as rendition:
            assert rendition.size == tuple(round(side * SIZES["m"] / 4000) for side in upright), rendition.size


# --- measurement (in a fresh child process) -----------------------------------------------------------------


def _rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def _cpu_seconds() -> float:
    usages = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(usage.ru_utime + usage.ru_stime for usage in usages)


def _busy_seconds() -> float:
    """CPU time the whole machine has spent busy (Linux /proc/stat), to see whether others shared the CPU."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def measure(path_name: str, workers: int, folder: str, repeat: int) -> dict:
    work = PATHS[path_name]
    files = sorted(str(p) for p in Path(folder).glob("*.jpg"))
    idle, cpu = _rss_mb(resource.RUSAGE_SELF), _cpu_seconds()
    # Pool workers are forked before any image is decoded, as in a prefork deployment.
    pool = multiprocessing.get_context("fork").Pool(workers) if workers > 1 else None
    with pool or contextlib.nullcontext():
        run = functools.partial(pool.map, chunksize=1) if pool else lambda f, xs: list(map(f, xs))
        run(work, files[:workers])  # warm-up: worker start-up, decoder initialisation
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            run(work, files)
            times.append(time.perf_counter() - start)
        if pool:
            pool.close()
            pool.join()  # reaped workers count in RUSAGE_CHILDREN
    cpu_ms = 1000 * (_cpu_seconds() - cpu) / (len(files[:workers]) + len(files) * repeat)
    peak = max(_rss_mb(resource.RUSAGE_SELF), _rss_mb(resource.RUSAGE_CHILDREN))
    return {"rate": len(files) / statistics.median(times), "cpu_ms": cpu_ms, "rss": peak, "idle": idle}


def in_child(path_name: str, workers: int, folder: Path, repeat: int) -> dict:
    args = [sys.executable, __file__, "--measure", path_name, "--folder", str(folder)]
    args += ["--workers", str(workers), "--repeat", str(repeat)]
    return json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    option = parser.add_argument
    option("--count", type=int, default=40, help="12 MP pictures to ingest (default 40)")
    option("--large", type=int, default=4, help="48 MP pictures for the memory check (default 4)")
    option("--workers", type=int, default=2, help="pool size, one per core (default 2)")
    option("--repeat", type=int, default=2, help="timed passes; the median is reported (default 2)")
    option("--grain", type=float, default=0, help="noise σ for camera-sized files, e.g. 10 (default 0)")
    option("--measure", help=argparse.SUPPRESS)
    option("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.workers, args.folder, args.repeat)))
        return

    with tempfile.TemporaryDirectory(prefix="photocloud-bench-") as tmp:
        start = time.perf_counter()
        small = make_photos(Path(tmp, "12mp"), args.count, MP12, args.workers, args.grain)
        make_photos(Path(tmp, "48mp"), args.large, MP48, args.workers, args.grain)
        check(small)
        mean_mb = sum(Path(p).stat().st_size for p in small) / len(small) / 1e6
        print(
            f"made {args.count} × 12 MP JPEGs (mean {mean_mb:.1f} MB) and {args.large} × 48 MP "
            f"in {time.perf_counter() - start:.0f} s, from scikit-image photos: {', '.join(PHOTOS)}\n"
        )

        runs = [(name, "12mp", workers) for name in PATHS for workers in sorted({1, args.workers})]
        runs += [(name, "48mp", 1) for name in PATHS]
        print(f"{'path':<14}{'image':>6}{'workers':>9}{'pictures/s':>12}{'CPU ms/picture':>16}{'peak RSS MB':>13}")
        results, start, busy, own = {}, time.perf_counter(), _busy_seconds(), _cpu_seconds()
        for name, size, workers in runs:
            results[name, size, workers] = r = in_child(name, workers, Path(tmp, size), args.repeat)
            print(f"{name:<14}{size.upper():>6}{workers:>9}{r['rate']:>12.1f}{r['cpu_ms']:>16.0f}{r['rss']:>13.0f}")

        foreign = _busy_seconds() - busy - (_cpu_seconds() - own)
        foreign /= (time.perf_counter() - start) * os.cpu_count()

    idle = results["photocloud", "12mp", 1]["idle"]
    rss12, rss48 = results["photocloud", "12mp", 1]["rss"], results["photocloud", "48mp", 1]["rss"]
    print(
        f"\npeak RSS is per process and includes ~{idle:.0f} MB of interpreter and imports; "
        f"photocloud: 12 MP {rss12:.0f} MB, 48 MP {rss48:.0f} MB"
    )
    print(f"other processes used {foreign:.0%} of the {os.cpu_count()} cores during the measurements", end="")
    print("; pictures/s is understated, CPU ms/picture much less so" if foreign > 0.1 else "")
    ceiling = os.cpu_count() * 1000 / results["photocloud", "12mp", args.workers]["cpu_ms"]
    print(f"at its CPU cost per picture, {os.cpu_count()} cores can ingest at most {ceiling:.1f} pictures/s")
    rate = results["photocloud", "12mp", args.workers]["rate"]
    baseline = results["plain Pillow", "12mp", args.workers]["rate"]
    verdict = "target met" if rate >= TARGET else "target NOT met"
    print(
        f"ingest (metadata+thumbnails, 12 MP JPEG): {rate:.1f} pictures/s with {args.workers} workers — "
        f"target >= {TARGET:.0f}/s — plain Pillow baseline: {baseline:.1f} pictures/s — {verdict}"
    )


if __name__ == "__main__":
    main()
