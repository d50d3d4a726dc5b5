"""Full-ingest benchmark: pictures per second from upload to "understood" on 2 cores.

Each picture goes through what the worker really does: probe, verify, metadata and renditions
(photocloud.library.imaging), then vision on the 1024 px rendition in batches (features + ImageNet labels, faces,
the cheap text gate, OCR only where the gate says there is text, the seven-class category). Pictures are 12 MP
JPEGs made from scikit-image's real photographs (as in bench/ingest.py), with every tenth one a rendered document
page, since real libraries hold some. The baseline is the same work without batching and without the text gate
(OCR on every picture), the naive way. Target (DESIGN.md §4): ≥ 10 pictures/s. Run from the repository root:
python bench/vision.py [--count N]
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

from bench.ingest import SIZES, make_photos  # noqa: E402
from photocloud.library import imaging  # noqa: E402

pillow_heif.register_heif_opener()
TARGET = 10.0
BATCH = 16


def _ingest(path: str) -> Image.Image:
    info = imaging.probe(path)
    imaging.verify(path, info)
    imaging.read_metadata(path, info)
    renditions = imaging.render_renditions(path, info, SIZES)
    return Image.open(io.BytesIO(renditions["m"])).convert("RGB")


def _understand(images: list[Image.Image], gate: bool) -> None:
    from photocloud.vision import classifier, faces, features, labels, ocr

    seen = features.analyze(images)
    for index, image in enumerate(images):
        found = faces.detect(image)
        has_text = ocr.likely_has_text(image) if gate else True
        if has_text:
            ocr.read_text(image)
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


def _add_documents(folder: Path, paths: list[str]) -> None:
    from tests.images import document_page

    for index in range(0, len(paths), 10):
        document_page(size=(4000, 3000)).save(paths[index], quality=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=48, help="12 MP pictures (default 48)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes, one per core (default 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = make_photos(folder, args.count, (4000, 3000), args.workers, 0)
        _add_documents(folder, paths)
        print(f"{args.count} × 12 MP JPEGs ({args.count // 10 + 1} of them document pages), {args.workers} workers")
        chosen = measure("chosen", paths, args.workers)
        naive = measure("naive", paths, args.workers)
    print(f"{'path':<40}{'pictures/s':>12}")
    print(f"{'batched, OCR only where text (chosen)':<40}{chosen:>12.1f}")
    print(f"{'one at a time, OCR on every picture':<40}{naive:>12.1f}")
    verdict = "met" if chosen >= TARGET else "NOT met"
    print(f"full ingest (metadata, thumbnails, features, tags, faces, text, category): {chosen:.1f} pictures/s "
          f"with {args.workers} workers — target >= {TARGET:.0f}/s ({verdict}) — naive baseline: {naive:.1f}/s")


if __name__ == "__main__":
    main()
