"""Quality of "similar pictures": do the 10 nearest show the same kind of thing, and does an edited copy find its
original first? For both metrics, next to the old Manhattan distance on raw features (the baseline).

The labelled set is the classifier's (photocloud/vision/data/DATA.md): build it from Debian packages with
``python -m photocloud.vision.training_data DIR`` (about 1,000 pictures in seven categories; the ``photo`` folder,
none of the seven, is left out). Pictures made from one source (a wallpaper and its crops, a stamp on several
backgrounds) share a group, the part of the file name before ``~``; a picture's own group is not counted among its
neighbours, so the share measures pictures of the same kind, not copies. Features are computed once with the real
model and kept in DIR/features.npz.

Edited copies: for every 8th picture, five copies (half size, JPEG quality 40, 8 % crop, brighter and warmer, a
caption written over it) are searched among the whole set; the original must come first.

Both index paths are measured: the exact numpy scan and the FAISS snapshot (trained on this set).
Run from the repository root:  python bench/similar_quality.py DIR
"""

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw, ImageEnhance, ImageFont  # noqa: E402

from photocloud.vision import features  # noqa: E402
from photocloud.vision.index import ExactIndex, FaissIndex, _top_k  # noqa: E402

CATEGORIES = ("portrait", "landscape", "food", "document", "architecture", "animal", "illustration")
K = 10


def load(folder: Path) -> tuple[list[str], list[str], np.ndarray]:
    """(category, group, features) of every picture, computed once and cached beside the pictures."""
    files = sorted(path for category in CATEGORIES for path in (folder / category).glob("*.jpg"))
    cache = folder / "features.npz"
    names = [str(path.relative_to(folder)) for path in files]
    if cache.exists() and list(np.load(cache)["names"]) == names:
        vectors = np.load(cache)["vectors"]
    else:
        vectors = np.vstack(
            [features.analyze(_open_batch(files[i : i + 64])).features for i in range(0, len(files), 64)]
        )
        np.savez(cache, names=np.array(names), vectors=vectors)
    return [path.parent.name for path in files], [path.stem.split("~")[0] for path in files], vectors


def _open_batch(paths) -> list[Image.Image]:
    return [Image.open(path).convert("RGB") for path in paths]


def edits(image: Image.Image) -> list[Image.Image]:
    """What people keep next to an original."""
    width, height = image.size
    dx, dy = width * 4 // 100, height * 4 // 100
    recompressed = _jpeg(image, 40)
    warm = ImageEnhance.Brightness(image).enhance(1.2)
    warm = Image.merge(
        "RGB",
        [
            band.point(lambda v, f=f: min(255, int(v * f)))
            for band, f in zip(warm.split(), (1.08, 1, 0.92), strict=True)
        ],
    )
    captioned = image.copy()
    ImageDraw.Draw(captioned).text(
        (width // 20, height * 4 // 5), "Summer 2024", fill="white", font=_font(height // 12)
    )
    return [
        image.resize((width // 2, height // 2), Image.Resampling.LANCZOS),
        recompressed,
        image.crop((dx, dy, width - dx, height - dy)),
        warm,
        captioned,
    ]


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    import io

    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _font(size: int):
    try:
        return ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", max(size, 10))
    except OSError:
        return ImageFont.load_default()


def raw_l1(vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    """The old ranking: Manhattan distance on the raw features."""
    return [i for i, _ in _top_k(np.arange(len(vectors)), np.abs(vectors - query).sum(axis=1), k)]


def rankers(vectors: np.ndarray, workdir: Path) -> dict:
    ids = np.arange(len(vectors))
    exact = ExactIndex()
    exact.add(ids, vectors)
    approximate = FaissIndex(workdir, train_at=len(vectors))
    approximate.add(ids, vectors)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    found = {
        "Manhattan, raw features (old)": lambda query, k: raw_l1(vectors, query, k),
        "Cosine, unit vectors (old)": lambda query, k: list(np.argsort(-(unit @ query))[:k]),
    }
    for metric, name in (("l1", "Manhattan"), ("cosine", "Cosine")):
        found[f"{name}, exact scan"] = lambda query, k, m=metric: [i for i, _ in exact.search(query, k, metric=m)]
        found[f"{name}, FAISS snapshot"] = lambda query, k, m=metric: [
            i for i, _ in approximate.search(query, k, metric=m)
        ]
    return found


def same_category_share(rank, categories, groups, vectors) -> tuple[float, dict]:
    shares, per_category = [], {}
    for i, query in enumerate(vectors):
        neighbours = [j for j in rank(query, 4 * K) if j != i and groups[j] != groups[i]][:K]
        share = sum(categories[j] == categories[i] for j in neighbours) / K
        shares.append(share)
        per_category.setdefault(categories[i], []).append(share)
    return float(np.mean(shares)), {category: float(np.mean(values)) for category, values in per_category.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    categories, groups, vectors = load(args.folder)
    print(f"{len(vectors)} pictures in {len(set(groups))} groups, {len(CATEGORIES)} categories")
    originals = list(range(0, len(vectors), 8))
    files = sorted(path for category in CATEGORIES for path in (args.folder / category).glob("*.jpg"))
    copies = [(i, copy) for i in originals for copy in edits(Image.open(files[i]).convert("RGB"))]
    copy_vectors = features.analyze([copy for _, copy in copies]).features
    with tempfile.TemporaryDirectory() as workdir:
        print(f"{'ranking':34} {'same category in 10 nearest':>28} {'edited copy finds original first':>34}")
        for name, rank in rankers(vectors, Path(workdir)).items():
            share, per_category = same_category_share(rank, categories, groups, vectors)
            first = np.mean([rank(query, 1)[0] == i for (i, _), query in zip(copies, copy_vectors, strict=True)])
            print(f"{name:34} {share:>28.3f} {first:>27.3f} ({len(copies)})")
            print("    " + ", ".join(f"{category} {value:.2f}" for category, value in per_category.items()))


if __name__ == "__main__":
    main()
