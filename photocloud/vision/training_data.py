"""Build a labelled folder ``DIR/<class>/*.jpg`` for the default classifier from pictures that come from packages.

Nothing is downloaded here: every picture comes from an installed Debian package, from a Python package's
sample data, or is rendered on the spot. Install the sources first (Debian 12)::

    apt-get install --no-install-recommends openclipart-png tuxpaint-stamps-default gnome-backgrounds \
        mate-backgrounds plasma-workspace-wallpapers ukui-wallpapers lomiri-wallpapers \
        lomiri-wallpapers-20.04 sway-backgrounds gcompris-qt-data poppler-utils fonts-dejavu-core fonts-liberation

then ``python -m photocloud.vision.training_data DIR``. Missing sources are skipped with a note. Besides the
seven category folders, ``DIR/photo/`` holds photographs of none of them (see ``classifier.OTHER_PHOTO``).

Several pictures made from one source (crops of one wallpaper, one stamp on several backgrounds) share a
*group*: the part of the file name before ``~``. ``train-classifier`` keeps a group on one side of the
held-out split, so the test never sees a near-copy of a training picture.

scikit-image's astronaut, chelsea (cat), coffee and page are deliberately NOT used: they are the test pictures.
"""

import glob
import io
import os
import random
import re
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

MAX_SIDE = 640

# Wallpapers that are photographs (or clearly drawn art), labelled by looking at each one; paths below /usr/share.
# Plain colours, logos and ambiguous pictures (a kite in the sky, a clock, paint brushes) are left out.
WALLPAPERS = {
    "landscape": [
        "wallpapers/BytheWater",
        "wallpapers/ColdRipple",
        "wallpapers/DarkestHour",
        "wallpapers/EveningGlow",
        "wallpapers/Path",
        "wallpapers/summer_1am",
        "backgrounds/aitzgorri_by_Aitzol_Berasategi.jpg",
        "backgrounds/life_by_Aitzol_Berasategi.jpg",
        "backgrounds/mate/nature/Dune.jpg",
        "backgrounds/mate/nature/Storm.jpg",
        "backgrounds/picosdeeuropa_by_Aitzol_Berasategi.jpg",
        "backgrounds/sunset_by_Aitzol_Berasategi.jpg",
    ],
    "animal": [
        "backgrounds/Dragonfly_by_Bolly.jpg",
        "backgrounds/Kleiber_by_Lukas_Baubkus.jpg",
        "backgrounds/friends_by_Aitzol_Berasategi.jpg",
        "backgrounds/mate/nature/LadyBird.jpg",
    ],
    "food": ["backgrounds/Picture_0B_by_freespace.jpg"],
    "architecture": ["wallpapers/Grey"],
    "illustration": [
        "wallpapers/Altai",
        "wallpapers/Autumn",
        "wallpapers/Canopee",
        "wallpapers/Cascade",
        "wallpapers/Cluster",
        "wallpapers/Elarun",
        "wallpapers/Flow",
        "wallpapers/FlyingKonqui",
        "wallpapers/Honeywave",
        "wallpapers/IceCold",
        "wallpapers/Kay",
        "wallpapers/Kokkini",
        "wallpapers/MilkyWay",
        "wallpapers/Opal",
        "wallpapers/PastelHills",
        "wallpapers/Patak",
        "wallpapers/SafeLanding",
        "wallpapers/Shell",
        "backgrounds/2004default.jpg",
        "backgrounds/Fossa_by_Jasper_Roks.jpg",
        "backgrounds/Infinite-Sea_by_Aury88.jpg",
        "backgrounds/Painting-Colors_by__herobrine7gamer.jpg",
        "backgrounds/calla.png",
        "backgrounds/city.png",
        "backgrounds/desert.png",
        "backgrounds/firstgeneration.jpg",
        "backgrounds/fluent-color.png",
        "backgrounds/focal-ubuntukylin.png",
        "backgrounds/goldfish.png",
        "backgrounds/mate/abstract/Elephants.jpg",
        "backgrounds/rhythm.jpg",
        "backgrounds/rollpaper.png",
        "backgrounds/string.jpg",
        "backgrounds/the-mouse.jpg",
        "backgrounds/umang_by_Abhishek_Mudgal.jpg",
        "backgrounds/gnome/pixels-l.webp",
        "backgrounds/gnome/truchet-d.webp",
        "backgrounds/gnome/adwaita-l.webp",
        "backgrounds/gnome/licorice-l.webp",
    ],
}
WALLPAPER_CROPS = 3

# Photographs inside GCompris's Qt resource files (gcompris-qt-data 3.1 in Debian 12), numbered in the order
# ``_gcompris_pictures`` finds them, labelled by looking at each one. Paintings and cut-out puzzles are left out.
GCOMPRIS = {
    "architecture": {
        "categorization": [
            2,
            4,
            6,
            9,
            10,
            11,
            13,
            15,
            16,
            17,
            18,
            19,
            20,
            22,
            23,
            25,
            26,
            *range(84, 102),
            103,
            104,
            105,
            106,
            107,
            124,
        ],
        "details": [1, 2, 4, 6, 7, 10, 12, 14, 15, 17, 18, 19, 21],
        "explore_monuments": [n for n in range(1, 50) if n not in (19, 27, 28, 29, 31, 33, 39, 41)],
        "louis-braille": [3],
    },
    "landscape": {"categorization": [5, 21], "explore_monuments": [28]},
    "portrait": {"explore_world_music": [2, 5, 6]},
    "animal": {
        "categorization": list(range(58, 84)),
        "erase": list(range(1, 34)),
        "explore_farm_animals": list(range(1, 10)),
        "explore_world_animals": list(range(1, 17)),
    },
    "illustration": {"details": [3, 5, 8, 9, 11, 13, 16, 20], "lang": list(range(1, 117))},
    # Photographs of none of the seven (tools, tableware, solar panels, hands, instruments, under water): they
    # teach the head that a photograph of something else is still not an illustration.
    "photo": {
        "categorization": [3, 7, 8, 12, 14, 24, 27, 28, *range(29, 57), *range(108, 124)],
        "clickgame": list(range(1, 8)),
        "leftright": list(range(1, 9)),
        "explore_world_music": [1, 3, 4, 7, 8, 9],
        "louis-braille": [2, 5, 6, 9, 10],
    },
}


def build(out: Path, seed: int = 0, per_class: int = 160) -> dict[str, int]:
    """Write the labelled folder and return the number of pictures per class."""
    rng = random.Random(seed)
    Image.MAX_IMAGE_PIXELS = None  # the wallpapers are trusted and large (5120x2880)
    _wallpapers(out, rng)
    _gcompris(out)
    _stamps(out, rng, "animal", "animals", per_class)
    _stamps(out, rng, "food", "food", per_class)
    _clipart(out, rng, per_class)
    _lfw_faces(out, rng)
    _documents(out, rng, per_class)
    return {c.name: len(list(c.iterdir())) for c in sorted(out.iterdir()) if c.is_dir()}


def _save(image: Image.Image, out: Path, label: str, name: str) -> None:
    image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    (out / label).mkdir(parents=True, exist_ok=True)
    image.save(out / label / f"{name}.jpg", quality=88)


def _wallpaper_file(entry: str) -> str | None:
    path = "/usr/share/" + entry
    if os.path.isdir(path):  # a Plasma wallpaper folder: take its largest raster picture
        files = [f for f in glob.glob(path + "/contents/images/*") if not f.endswith(".svg")]
        return max(files, key=os.path.getsize) if files else None
    return path if os.path.exists(path) else None


def _wallpapers(out: Path, rng: random.Random) -> None:
    for label, entries in WALLPAPERS.items():
        for entry in entries:
            path = _wallpaper_file(entry)
            if path is None:
                print(f"skipped (not installed): {entry}", file=sys.stderr)
                continue
            with Image.open(path) as image:
                image.draft("RGB", (1600, 1600))
                image = image.convert("RGB")
            image.thumbnail((1600, 1600))
            group = "wp-" + entry.replace("/", "-").rsplit(".", 1)[0]
            _save(image, out, label, f"{group}~full")
            for k in range(WALLPAPER_CROPS):  # random crops: other framings of the same scene, same group
                w, h = image.size
                side = int(min(w, h) * rng.uniform(0.5, 0.9))
                x, y = rng.randrange(w - side + 1), rng.randrange(h - side + 1)
                _save(image.crop((x, y, x + side, y + side)), out, label, f"{group}~{k}")


def _gcompris_pictures(resource: str) -> list[Image.Image]:
    """The WebP, then JPEG, pictures of at least 200 pixels a side in one of GCompris's ``.rcc`` files."""
    path = Path(f"/usr/share/gcompris-qt/rcc/{resource}.rcc")
    if not path.exists():
        print(f"skipped (gcompris-qt-data not installed): {resource}", file=sys.stderr)
        return []
    data = path.read_bytes()
    found = []
    starts = [(m.start(), 8 + struct.unpack("<I", m.group(1))[0]) for m in re.finditer(rb"RIFF(....)WEBP", data, re.S)]
    starts += [(m.start(), None) for m in re.finditer(rb"\xff\xd8\xff", data)]
    for start, length in starts:
        try:
            image = Image.open(io.BytesIO(data[start : start + length if length else None]))
            image.load()
        except Exception:  # a byte pattern that only looks like a picture header
            continue
        if min(image.size) >= 200:
            found.append(_on_white(image))
    return found


def _on_white(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    canvas = Image.new("RGB", rgba.size, "white")
    canvas.paste(rgba, (0, 0), rgba)
    return canvas


def _gcompris(out: Path) -> None:
    for label, resources in GCOMPRIS.items():
        for resource, numbers in resources.items():
            pictures = _gcompris_pictures(resource)
            for n in numbers:
                if n <= len(pictures):
                    _save(pictures[n - 1], out, label, f"gc-{resource}-{n:03d}")


def _background(rng: random.Random, size: int) -> Image.Image:
    """A plain, gradient or textured surface to put a cut-out photo on (table, wall, sky, grass)."""
    colours = [
        (245, 245, 240),
        (222, 205, 170),
        (140, 100, 70),
        (90, 130, 70),
        (150, 190, 230),
        (60, 60, 60),
        (250, 250, 250),
        (200, 200, 205),
    ]
    top, bottom = rng.choice(colours), rng.choice(colours)
    ramp = np.linspace(0, 1, size)[:, None, None]
    pixels = (np.array(top) * (1 - ramp) + np.array(bottom) * ramp) * np.ones((1, size, 1))
    pixels += np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(2, 12), pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1))


def _composite(stamp: Image.Image, rng: random.Random) -> Image.Image:
    size = 448
    canvas = _background(rng, size)
    stamp = stamp.convert("RGBA")
    stamp.thumbnail((int(size * rng.uniform(0.6, 0.95)),) * 2)
    x, y = rng.randrange(size - stamp.width + 1), rng.randrange(size - stamp.height + 1)
    canvas.paste(stamp, (x, y), stamp)
    return canvas


def _stamps(out: Path, rng: random.Random, label: str, folder: str, limit: int) -> None:
    """Tux Paint's photographic stamps (cut-outs with transparency), composited onto surfaces; cartoons excluded."""
    files = sorted(
        f
        for f in glob.glob(f"/usr/share/tuxpaint/stamps/{folder}/**/*.png", recursive=True)
        if "cartoon" not in f.lower() and "_mirror" not in f and "_back" not in f
    )
    if not files:
        print(f"skipped (tuxpaint-stamps-default not installed): {label}", file=sys.stderr)
    rng.shuffle(files)
    copies = max(1, min(3, limit // max(1, len(files))))
    for path in files[:limit]:
        with Image.open(path) as stamp:
            stamp.load()
            group = "tux-" + Path(path).stem
            for k in range(copies):
                _save(_composite(stamp, rng), out, label, f"{group}~{k}")


def _clipart(out: Path, rng: random.Random, limit: int) -> None:
    """Openclipart drawings of every subject (animals, food, buildings, people…): all of them are illustrations."""
    files = sorted(glob.glob("/usr/share/openclipart/png/**/*.png", recursive=True))
    if not files:
        print("skipped (openclipart-png not installed): illustration", file=sys.stderr)
    for path in rng.sample(files, min(limit, len(files))):
        with Image.open(path) as drawing:
            drawing.load()
            if drawing.width < 64 or drawing.height < 64:
                continue
            canvas = Image.new("RGB", (max(drawing.size),) * 2, "white")
            rgba = drawing.convert("RGBA")
            canvas.paste(rgba, ((canvas.width - rgba.width) // 2, (canvas.height - rgba.height) // 2), rgba)
            _save(canvas, out, "illustration", "oc-" + Path(path).stem)


def _lfw_faces(out: Path, rng: random.Random) -> None:
    """scikit-image's 100 tightly cropped Labeled-Faces-in-the-Wild faces (25x25 grey): tiny, but real faces.

    Each is upscaled, tinted and framed with a margin of random width, so that faces cover from about 5% to 60%
    of the picture, as in close-ups and in half-length portraits.
    """
    faces = np.load(Path(__import__("skimage").data.__file__).parent / "lfw_subset.npy")[:100]
    for i, face in enumerate(faces):
        grey = Image.fromarray((face * 255).astype(np.uint8)).resize((200, 200), Image.Resampling.BICUBIC)
        tint = rng.choice([(255, 235, 215), (235, 210, 190), (200, 170, 150), (255, 255, 255)])
        rgb = Image.merge("RGB", [grey.point(lambda v, t=t: v * t // 255) for t in tint])
        side = 200 + 2 * rng.randint(10, 300)
        canvas = _background(rng, side)
        canvas.paste(rgb, ((side - 200) // 2, rng.randint(0, (side - 200) // 2)))
        _save(canvas, out, "portrait", f"lfw-{i:03d}")


# ---- documents -------------------------------------------------------------------------------------------

WORDS = [
    "invoice",
    "total",
    "amount",
    "date",
    "payment",
    "account",
    "customer",
    "order",
    "number",
    "item",
    "quantity",
    "price",
    "tax",
    "report",
    "summary",
    "section",
    "figure",
    "table",
    "results",
    "method",
    "analysis",
    "data",
    "value",
    "system",
    "design",
    "page",
    "meeting",
    "agenda",
    "minutes",
    "project",
    "budget",
    "contract",
    "agreement",
    "party",
    "terms",
    "shall",
    "notice",
    "address",
    "the",
    "of",
    "and",
    "to",
    "in",
    "for",
    "with",
    "on",
    "by",
    "is",
    "are",
    "was",
    "be",
    "this",
    "that",
    "from",
    "as",
    "at",
    "or",
    "an",
    "it",
    "not",
    "which",
]
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation")


def _fonts() -> list[str]:
    return sorted(f for d in FONT_DIRS for f in glob.glob(d + "/*.ttf") if "Math" not in f)


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize()


def _render_page(rng: random.Random, fonts: list[str]) -> Image.Image:
    kind = rng.choice(["letter", "columns", "table", "receipt", "form"])
    width, height = (420, 900) if kind == "receipt" else (850, 1100)
    page = Image.new("L", (width, height), rng.randint(225, 255))
    draw = ImageDraw.Draw(page)
    font_path = rng.choice(fonts)
    size = rng.randint(14, 26)
    font = ImageFont.truetype(font_path, size)
    bold = ImageFont.truetype(font_path, int(size * 1.6))
    ink = rng.randint(0, 60)
    margin = rng.randint(40, 90)
    y = margin
    draw.text((margin, y), _sentence(rng, rng.randint(2, 5)), font=bold, fill=ink)
    y += int(size * 2.5)
    columns = 2 if kind == "columns" else 1
    col_width = (width - 2 * margin) // columns
    while y < height - margin - size:
        if kind == "table" or (kind == "form" and rng.random() < 0.5):
            cells = rng.randint(3, 5)
            for c in range(cells):
                x0 = margin + c * (width - 2 * margin) // cells
                draw.rectangle((x0, y - 4, x0 + (width - 2 * margin) // cells, y + size + 6), outline=ink)
                draw.text(
                    (x0 + 6, y), rng.choice([_sentence(rng, 1), f"{rng.uniform(0, 999):.2f}"]), font=font, fill=ink
                )
            y += size + 10
            continue
        for c in range(columns):
            x = margin + c * col_width
            line = ""
            while True:
                word = rng.choice(WORDS)
                if draw.textlength(line + " " + word, font=font) > col_width - 20:
                    break
                line = (line + " " + word).strip()
            if kind == "receipt":
                line = f"{_sentence(rng, rng.randint(1, 2))[:18]:<18} {rng.uniform(0.5, 99):>7.2f}"
            draw.text((x, y), line, font=font, fill=ink)
        y += int(size * rng.uniform(1.2, 1.6))
        if rng.random() < 0.08:
            y += size  # paragraph break
    return page.convert("RGB")


def _photographed(page: Image.Image, rng: random.Random) -> Image.Image:
    """Make a clean page look scanned or photographed: rotation, a desk around it, shading, blur, noise."""
    angle = rng.uniform(-4, 4)
    if rng.random() < 0.5:  # photographed on a desk
        desk = _background(rng, int(max(page.size) * 1.25)).resize((int(page.width * 1.3), int(page.height * 1.2)))
        desk.paste(page, ((desk.width - page.width) // 2, (desk.height - page.height) // 2))
        page = desk
    page = page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(80, 80, 80))
    pixels = np.asarray(page, dtype=np.float32)
    shade = np.linspace(rng.uniform(0.75, 1.0), rng.uniform(0.9, 1.05), pixels.shape[1])[None, :, None]
    pixels = pixels * shade + np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(1, 8), pixels.shape)
    page = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    return page.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.2)))


def render_document(rng: random.Random, fonts: list[str] | None = None) -> Image.Image:
    """A made-up page (letter, columns, table, receipt or form) that looks scanned or photographed."""
    return _photographed(_render_page(rng, fonts or _fonts()), rng)


def _documents(out: Path, rng: random.Random, limit: int) -> None:
    fonts = _fonts()
    if fonts:
        for i in range(limit):
            _save(render_document(rng, fonts), out, "document", f"render-{i:03d}")
    else:
        print("skipped (no fonts in fonts-dejavu-core / fonts-liberation): rendered documents", file=sys.stderr)
    pdfs = sorted(glob.glob("/usr/share/doc/**/*.pdf", recursive=True))
    for pdf in pdfs:
        with tempfile.TemporaryDirectory() as tmp:
            try:  # a handful of pages from each manual
                subprocess.run(
                    ["pdftoppm", "-r", "60", "-jpeg", "-l", "40", pdf, f"{tmp}/p"],
                    check=True,
                    capture_output=True,
                    timeout=120,
                )
            except (OSError, subprocess.SubprocessError):
                print("skipped (poppler-utils not installed or failed): " + pdf, file=sys.stderr)
                continue
            pages = sorted(glob.glob(f"{tmp}/p*.jpg"))
            for path in rng.sample(pages, min(12, len(pages))):
                with Image.open(path) as page:
                    image = _photographed(page.convert("RGB"), rng) if rng.random() < 0.5 else page.copy()
                _save(image, out, "document", f"pdf-{Path(pdf).stem}~{Path(path).stem}")


if __name__ == "__main__":
    counts = build(Path(sys.argv[1]))
    print(", ".join(f"{label}: {n}" for label, n in counts.items()))
