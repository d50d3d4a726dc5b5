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
import functools
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

from bench.ingest import EAGER, SIZES, _busy_seconds, make_photos  # noqa: E402
from photocloud.library import imaging  # noqa: E402

pillow_heif.register_heif_opener()
TARGET = 15.0  # issue 19 (10 in DESIGN.md §4)
BEFORE = 10.8  # pictures/s measured with the CNN on torch before issue 19
BATCH = 16


def _ingest(path: str, before: bool = False) -> tuple[Image.Image, str, imaging.ImageInfo]:
    info = imaging.probe(path)
    if before:  # before issue 19: the upload was decoded to check it, and again for the renditions
        imaging.verify(path, info)
        renditions = imaging.render_renditions(path, info, EAGER)
    else:  # the upload's one decode checks it and makes the renditions
        renditions = imaging.verify(path, info, EAGER)
    imaging.read_metadata(path, info)
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


def run_chosen(paths: list[str], before: bool = False) -> None:
    for start in range(0, len(paths), BATCH):
        _understand([_ingest(path, before) for path in paths[start : start + BATCH]], gate=True)


def run_naive(paths: list[str]) -> None:
    for path in paths:
        _understand([_ingest(path)], gate=False)


class _TorchSession:
    """The CNN as it ran before issue 19 (torch, batch norms folded, channels-last), for the baseline row."""

    def __init__(self):
        import torch

        from photocloud.vision.export_model import torch_model

        torch.set_num_threads(1)
        self.model = torch_model().to(memory_format=torch.channels_last)

    def run(self, names, feeds, options=None):
        import torch

        with torch.inference_mode():
            batch = torch.from_numpy(feeds["pixels"]).contiguous(memory_format=torch.channels_last)
            return [output.numpy() for output in self.model(batch)]


def _worker(args) -> tuple[float, float]:
    name, paths = args
    os.environ["PHOTOCLOUD_VISION_THREADS"] = "1"  # one worker per core, one thread per worker
    run = {"chosen": run_chosen, "naive": run_naive, "before": functools.partial(run_chosen, before=True)}[name]
    if name == "before":
        from photocloud.vision import features

        features._session = _TorchSession()
    run(paths[:2])  # load the models before timing
    start, cpu = time.perf_counter(), time.process_time()
    run(paths)
    return time.perf_counter() - start, time.process_time() - cpu


def measure(name: str, paths: list[str], workers: int) -> tuple[float, float]:
    """Pictures/s and CPU ms per picture."""
    shares = [paths[index::workers] for index in range(workers)]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        results = pool.map(_worker, [(name, share) for share in shares])
    return len(paths) / max(seconds for seconds, _ in results), 1000 * sum(cpu for _, cpu in results) / len(paths)


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
        started, busy = time.perf_counter(), _busy_seconds()
        rows["photos: batched, OCR only where text (chosen)"] = chosen = measure("chosen", paths, args.workers)
        rows["photos: chosen before issue 19 (torch, two decodes)"] = before = measure("before", paths, args.workers)
        rows["photos: one at a time, OCR on every picture"] = naive = measure("naive", paths, args.workers)
        load = os.getloadavg()[0]
        busy_share = (_busy_seconds() - busy) / ((time.perf_counter() - started) * os.cpu_count())
        _add_documents(paths)
        rows["1 in 10 a document page: chosen"] = measure("chosen", paths, args.workers)
    print(
        f"{args.count} × 12 MP JPEGs, {args.workers} workers; load average {load:.1f}, the cores {busy_share:.0%} busy"
    )
    print(f"{'path':<52}{'pictures/s':>12}{'CPU ms/picture':>16}")
    for name, (rate, cpu_ms) in rows.items():
        print(f"{name:<52}{rate:>12.1f}{cpu_ms:>16.0f}")
    rate, cpu_ms = chosen
    ceiling = args.workers * 1000 / cpu_ms
    verdict = (
        "met" if rate >= TARGET else f"NOT met as measured; {'met' if ceiling >= TARGET else 'NOT met'} by CPU cost"
    )
    print(
        f"full ingest of typical photos (metadata, thumbnails, features, tags, faces, text gate, category): "
        f"{rate:.1f} pictures/s with {args.workers} workers, {cpu_ms:.0f} CPU ms/picture (at most {ceiling:.1f}/s on "
        f"{args.workers} free cores) — target >= {TARGET:.0f}/s ({verdict}) — before: {BEFORE}/s (last measure), now "
        f"{before[0]:.1f}/s, {before[1]:.0f} ms; naive: {naive[0]:.1f}/s, {naive[1]:.0f} ms"
    )


if __name__ == "__main__":
    main()
