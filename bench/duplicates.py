"""Near-duplicate review on a labelled set of picture pairs: precision on pairs that must NOT be grouped (target
1.0) and recall on edited copies that must be (target >= 0.95), for the detector in vision/duplicates.py and the
old one (feature cosine >= 0.85, or >= 0.35 with a rotation-aware 256-bit difference hash within 11 %).

Pictures come from Debian packages through the classifier's set (``python -m photocloud.vision.training_data DIR
PACKAGES``, with every package of its install line: openclipart, Tux Paint stamps, GCompris, wallpapers, PDF
manuals, rendered pages in Latin and CJK fonts, GIMP help screenshots, Wesnoth and Ren'Py portraits, scikit-image's
lfw_subset faces, the photographs of GNOME's account pictures, Palapeli's puzzles, LXQt wallpapers, Scribus and Tux
Paint templates, and, from the PACKAGES folder, the sample pictures of two face-recognition packages and mahotas),
plus dialogs of one made-up application drawn here; the manifest changes when that set does. Pairs (written to
bench/duplicates_manifest.json):
- edited copies: every 12th picture of each category with nine edits each (half size, JPEG quality 40, 5 % and
  10 % crops, quarter and half turns, brighter, warmer, a caption written over it);
- must not group: in each category, the 40 pairs of different pictures (different groups, see training_data) whose
  features are most alike: portraits of different people framed alike, similar landscapes, pages of one document
  layout with different text, drawings in one style, and all pairs of 12 dialogs of one application.
Pairs of originals with an even index tune the thresholds; the figures printed are on the odd ones (the report
split) unless --split says otherwise. --split fresh is a third set that nobody tuned on or looked at while changing the
detector: copies of the pictures half-way between those of the other splits (every 12th from the 6th), the next 40
most alike pairs of each category (ranks 41-80), and 12 other dialogs. Each picture is seen as the review sees it:
through its 320 px JPEG rendition. Printed: precision and recall, recall for each edit, precision for each kind of
must-not-group pair, the cost of the check per pair. Run from the repository root:
python bench/duplicates.py DIR [--split tune]
"""

import argparse
import io
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photocloud.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw, ImageEnhance, ImageFont  # noqa: E402

from bench.similar_quality import CATEGORIES, load  # noqa: E402
from photocloud.vision import duplicates, faces, features  # noqa: E402

MANIFEST = Path(__file__).with_name("duplicates_manifest.json")
EDITS = ("half-size", "jpeg-40", "crop-5", "crop-10", "turn-90", "turn-180", "brighter", "warmer", "caption")
HARD_PAIRS = 40
# GCompris reuses some photographs in two activities: these "different" pairs are the same photograph (checked by
# eye), so they are left out of the must-not-group pairs.
SAME_PHOTOGRAPH = {
    ("architecture/gcompris-categorization__103.jpg", "architecture/gcompris-explore_monuments__040.jpg"),
    ("architecture/gcompris-categorization__104.jpg", "architecture/gcompris-categorization__124.jpg"),
    ("architecture/gcompris-categorization__105.jpg", "architecture/gcompris-explore_monuments__012.jpg"),
    ("architecture/gcompris-categorization__106.jpg", "architecture/gcompris-explore_monuments__047.jpg"),
}
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def edit(image: Image.Image, kind: str) -> Image.Image:
    width, height = image.size
    if kind == "half-size":
        return image.resize((width // 2, height // 2), Image.Resampling.LANCZOS)
    if kind == "jpeg-40":
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=40)
        return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    if kind.startswith("crop-"):
        share = int(kind[5:]) / 200
        return image.crop(
            (round(width * share), round(height * share), round(width * (1 - share)), round(height * (1 - share)))
        )
    if kind.startswith("turn-"):
        return image.rotate(int(kind[5:]), expand=True)
    if kind == "brighter":
        return ImageEnhance.Brightness(image).enhance(1.15)
    if kind == "warmer":
        red, green, blue = image.split()
        return Image.merge("RGB", (red.point(lambda v: min(255, v + 18)), green, blue.point(lambda v: max(0, v - 18))))
    captioned = image.copy()
    font = ImageFont.truetype(FONT, max(12, height // 14))
    ImageDraw.Draw(captioned).text(
        (width // 20, height * 4 // 5), "Summer 2024", fill="white", font=font, stroke_width=1, stroke_fill="black"
    )
    return captioned


def dialog(index: int) -> Image.Image:
    """One of a made-up application's dialogs: the same window, title bar and buttons, different text and fields."""
    rng = random.Random(index)
    words = ["file", "save", "export", "print", "settings", "network", "account", "password", "colour", "theme"]
    words += ["language", "backup", "sync"]
    image = Image.new("RGB", (640, 420), (236, 236, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 640, 34), fill=(52, 101, 164))
    font, big = ImageFont.truetype(FONT, 15), ImageFont.truetype(FONT, 18)
    draw.text((14, 7), f"Photo Editor — {rng.choice(words).title()} {rng.choice(words)}", fill="white", font=big)
    for row in range(rng.randint(3, 6)):
        y = 60 + row * 50
        draw.text((24, y + 6), f"{rng.choice(words).title()} {rng.choice(words)}:", fill="black", font=font)
        if rng.random() < 0.5:
            draw.rectangle((260, y, 600, y + 30), fill="white", outline=(150, 150, 150))
            draw.text((268, y + 6), " ".join(rng.choices(words, k=3)), fill=(60, 60, 60), font=font)
        else:
            draw.rectangle((260, y + 6, 278, y + 24), fill="white", outline=(90, 90, 90))
            draw.text((288, y + 6), rng.choice(words), fill="black", font=font)
    for x, label in ((400, "Cancel"), (520, rng.choice(("OK", "Apply", "Save")))):
        draw.rectangle((x, 370, x + 100, 400), fill=(220, 220, 220), outline=(120, 120, 120))
        draw.text((x + 22, 376), label, fill="black", font=font)
    return image


def build(folder: Path) -> list[dict]:
    """The pairs, as {kind, first, second, split}; `second` is "file|edit" for an edited copy."""
    categories, groups, vectors = load(folder)
    files = [f"{category}/{name}" for category, name in _names(folder)]
    pairs = []
    for category in CATEGORIES:
        members = [i for i, c in enumerate(categories) if c == category]
        for n, i in enumerate(members[::12]):
            split = "tune" if n % 2 == 0 else "report"
            pairs += [
                {"kind": "copy", "first": files[i], "second": f"{files[i]}|{kind}", "split": split} for kind in EDITS
            ]
        pairs += [
            {"kind": "copy", "first": files[i], "second": f"{files[i]}|{kind}", "split": "fresh"}
            for i in members[6::12]
            for kind in EDITS
        ]
        unit = vectors[members] / np.linalg.norm(vectors[members], axis=1, keepdims=True)
        similarity = unit @ unit.T
        ranked = np.dstack(np.unravel_index(np.argsort(-similarity, axis=None), similarity.shape))[0]
        chosen = []
        for a, b in ranked:
            if a < b and groups[members[a]] != groups[members[b]]:
                chosen.append((members[a], members[b]))
                if len(chosen) == 2 * HARD_PAIRS:
                    break
        pairs += [
            {
                "kind": "different",
                "first": files[a],
                "second": files[b],
                "split": "fresh" if n >= HARD_PAIRS else "tune" if n % 2 == 0 else "report",
            }
            for n, (a, b) in enumerate(chosen)
            if (files[a], files[b]) not in SAME_PHOTOGRAPH
        ]
    pairs += [
        {
            "kind": "different",
            "first": f"dialog:{a}",
            "second": f"dialog:{b}",
            "split": "tune" if a % 2 == 0 else "report",
        }
        for a in range(12)
        for b in range(a + 1, 12)
    ]
    pairs += [
        {"kind": "different", "first": f"dialog:{a}", "second": f"dialog:{b}", "split": "fresh"}
        for a in range(12, 24)
        for b in range(a + 1, 24)
    ]
    return pairs


def _names(folder: Path):
    return sorted((category, path.name) for category in CATEGORIES for path in (folder / category).glob("*.jpg"))


def picture(folder: Path, name: str) -> Image.Image:
    if name.startswith("dialog:"):
        return dialog(int(name[7:]))
    name, _, kind = name.partition("|")
    image = Image.open(folder / name).convert("RGB")
    return edit(image, kind) if kind else image


def rendition(image: Image.Image) -> Image.Image:
    """What the review reads: the small rendition made at upload (320 px, JPEG quality 82)."""
    small = image.copy()
    small.thumbnail((320, 320), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=82)
    return Image.open(io.BytesIO(buffer.getvalue()))


class Seen:
    """What each detector knows about one picture."""

    def __init__(self, image: Image.Image):
        self.image = image
        self.thumbnail = duplicates.thumbnail(rendition(image))
        self.hashes = old_hashes(image)
        self.features = None


def old_hashes(image: Image.Image) -> np.ndarray:
    small = image.copy()
    small.thumbnail((320, 320))
    grey = small.convert("L")
    turns = [None, Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_180, Image.Transpose.ROTATE_270]
    return np.stack([_dhash(grey if turn is None else grey.transpose(turn)) for turn in turns])


def _dhash(image: Image.Image) -> np.ndarray:
    pixels = np.asarray(image.resize((17, 16), Image.Resampling.BILINEAR), dtype=np.int16)
    return (pixels[:, 1:] > pixels[:, :-1]).ravel()


def cosine(a: Seen, b: Seen) -> float:
    return float(a.features @ b.features / np.linalg.norm(a.features) / np.linalg.norm(b.features))


def old_detector(a: Seen, b: Seen) -> bool:
    similarity = cosine(a, b)
    if similarity >= 0.85:
        return True
    return similarity >= 0.35 and min((a.hashes[0] != turned).mean() for turned in b.hashes) <= 0.11


def new_detector(a: Seen, b: Seen) -> tuple[bool, str]:
    verdict = duplicates.verdict(
        cosine(a, b), a.thumbnail, b.thumbnail, lambda turn: _people(a, b, turn), (a.image.size, b.image.size)
    )
    return verdict is not None, verdict.reasons if verdict else ""


def _people(a: Seen, b: Seen, turn: int) -> bool | None:
    """As the review decides (duplicates._pair_verdict): a copy turned by a right angle is judged by its pixels."""
    if turn:
        return True
    return faces.compare_people(faces.identities(a.image), faces.identities(b.image))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--split", choices=("tune", "report", "fresh", "all"), default="report")
    args = parser.parse_args()
    pairs = build(args.folder)
    MANIFEST.write_text("[\n" + ",\n".join(json.dumps(pair) for pair in pairs) + "\n]\n")  # a pair a line
    pairs = [pair for pair in pairs if args.split in ("all", pair["split"])]
    names = sorted({name for pair in pairs for name in (pair["first"], pair["second"])})
    seen = {name: Seen(picture(args.folder, name)) for name in names}
    vectors = features.analyze([seen[name].image.copy() for name in names]).features
    for name, vector in zip(names, vectors, strict=True):
        seen[name].features = vector
    print(
        f"split {args.split}: {sum(p['kind'] == 'copy' for p in pairs)} edited copies, "
        f"{sum(p['kind'] == 'different' for p in pairs)} pairs that must not be grouped"
    )
    for label, detector in (("old", old_detector), ("new", lambda a, b: new_detector(a, b)[0])):
        started = time.perf_counter()
        grouped = {id(pair): detector(seen[pair["first"]], seen[pair["second"]]) for pair in pairs}
        cost = (time.perf_counter() - started) / len(pairs) * 1000
        copies = [grouped[id(p)] for p in pairs if p["kind"] == "copy"]
        different = [grouped[id(p)] for p in pairs if p["kind"] == "different"]
        print(
            f"{label}: precision on must-not-group pairs {1 - np.mean(different):.3f} "
            f"({sum(different)} grouped), recall on edited copies {np.mean(copies):.3f}; {cost:.1f} ms a pair"
        )
        by_edit, by_kind = {}, {}
        for pair in pairs:
            if pair["kind"] == "copy":
                by_edit.setdefault(pair["second"].split("|")[1], []).append(grouped[id(pair)])
            else:
                by_kind.setdefault(_kind(pair["first"]), []).append(not grouped[id(pair)])
        print("    recall by edit:      " + ", ".join(f"{k} {np.mean(v):.2f}" for k, v in by_edit.items()))
        print("    precision by kind:   " + ", ".join(f"{k} {np.mean(v):.2f} ({len(v)})" for k, v in by_kind.items()))
        wrong = [f"{p['first']} + {p['second']}" for p in pairs if p["kind"] == "different" and grouped[id(p)]]
        print(f"    wrongly grouped: {wrong[:6]}")


def _kind(name: str) -> str:
    return "dialog" if name.startswith("dialog:") else name.split("/")[0]


if __name__ == "__main__":
    main()
