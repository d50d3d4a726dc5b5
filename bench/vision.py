"""Full-ingest benchmark: pictures per second from upload to "understood" on 2 cores.

Each picture goes through what the worker really does: probe, verify, metadata and renditions
(photocloud.library.imaging), then vision on the 1024 px rendition in batches (features + ImageNet labels, faces,
the cheap text gate, OCR only where the gate says there is text, the seven-class category). Pictures are 12 MP
JPEGs made from scikit-image's real photographs (as in bench/ingest.py): the target (≥ 10 pictures/s, DESIGN.md
§4) is for typical photos; a second run swaps every tenth picture for a rendered document page, whose text is read
(the costly part), to show what documents cost. The baseline is the same work without batching and without the text
gate (OCR on every picture), the naive way. Run from the repository root: python bench/vision.py [--count N]
"""

import argparse
import io
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.conf import settings  # noqa: E402

settings.configure(PHOTOCLOUD={"MAX_PIXELS": 120_000_000})

import pillow_heif  # noqa: E402
from PIL import Image  # noqa: E402

from bench.ingest import EAGER, SIZES, make_photos  # noqa: E402
from photocloud.library import imaging  # noqa: E402

pillow_heif.register_heif_opener()
TARGET = 10.0
BATCH = 16


def _ingest(path: str) -> tuple[Image.Image, str, imaging.ImageInfo]:
    info = imaging.probe(path)
    imaging.verify(path, info)
    imaging.read_metadata(path, info)
    renditions = imaging.render_renditions(path, info, EAGER)
    return Image.open(io.BytesIO(renditions["m"])).convert("RGB"), path, info


def _understand(pictures: list[tuple[Image.Image, str, imaging.ImageInfo]], gate: bool) -> None:
    from photocloud.vision import classifier, faces, features, labels, ocr

    images = [image for image, _, _ in pictures]
    seen = features.analyze(images)
    for index, (image, path, info) in enumerate(pictures):
        found = faces.detect(image)
        has_text = ocr.likely_has_text(image) if gate else True
        if has_text:  # as the worker does: text is read from the 2048 px rendition, made for it
            large = imaging.render_renditions(path, info, {"l": SIZES["l"]})["l"]
            ocr.read_text(Image.open(io.BytesIO(large)).convert("RGB"))
        labels.top_labels(seen.imagenet_probs[index])
        signals = classifier.Signals(face_ratio=faces.largest_face_ratio(found, image.size), has_text=has_text)
        row = slice(index, index + 1)
        classifier.classify(seen.features[row], seen.imagenet_probs[row], [signals])


def run_chosen(paths: list[str]) -> None:
    for start in range(0, len(paths), BATCH):
        _understand([_ingest(path) for path in paths[start : start + BATCH]], gate=True)


def run_naive(paths: list[str]) -> None:
    for path in paths:
        _understand([_ingest(path)], gate=False)


def _worker(args) -> float:
    name, paths = args
    os.environ["PHOTOCLOUD_VISION_THREADS"] = "1"  # one worker per core, one thread per worker
    run = run_chosen if name == "chosen" else run_naive
    run(paths[:2])  # load the models before timing
    start = time.perf_counter()
    run(paths)
    return time.perf_counter() - start


def measure(name: str, paths: list[str], workers: int) -> float:
    shares = [paths[index::workers] for index in range(workers)]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        seconds = pool.map(_worker, [(name, share) for share in shares])
    return len(paths) / max(seconds)


def _add_documents(paths: list[str]) -> None:
    from tests.images import document_page

    for index in range(0, len(paths), 10):
        document_page(size=(4000, 3000)).save(paths[index], quality=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=48, help="12 MP pictures (default 48)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes, one per core (default 2)")
    args = parser.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_photos(Path(tmp) / "photos", args.count, (4000, 3000), args.workers, 0)
        rows["photos: batched, OCR only where text (chosen)"] = chosen = measure("chosen", paths, args.workers)
        rows["photos: one at a time, OCR on every picture"] = naive = measure("naive", paths, args.workers)
        _add_documents(paths)
        rows["1 in 10 a document page: chosen"] = measure("chosen", paths, args.workers)
    print(f"{args.count} × 12 MP JPEGs, {args.workers} workers")
    print(f"{'path':<52}{'pictures/s':>12}")
    for name, rate in rows.items():
        print(f"{name:<52}{rate:>12.1f}")
    verdict = "met" if chosen >= TARGET else "NOT met"
    print(
        f"full ingest of typical photos (metadata, thumbnails, features, tags, faces, text gate, category): "
        f"{chosen:.1f} pictures/s with {args.workers} workers — target >= {TARGET:.0f}/s ({verdict}) — naive "
        f"baseline: {naive:.1f}/s"
    )


if __name__ == "__main__":
    main()
