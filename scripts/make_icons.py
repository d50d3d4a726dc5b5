"""Draw the site's icons (favicon, home-screen and web-app manifest icons) into photocloud/static/photocloud/icons/.

A mountain and a sun, white on the accent blue; the committed PNGs come from this script:  python scripts/make_icons.py
"""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "photocloud" / "static" / "photocloud" / "icons"
ACCENT, WHITE = (29, 91, 209), (255, 255, 255)
SIZES = {"icon-32.png": 32, "apple-touch-icon.png": 180, "icon-192.png": 192, "icon-512.png": 512}
DRAWN = 1024  # drawn large, then scaled down smoothly


def draw(full_bleed: bool) -> Image.Image:
    """The icon at DRAWN pixels; `full_bleed` fills the square (a "maskable" icon the phone crops to its shape)."""
    image = Image.new("RGBA", (DRAWN, DRAWN), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if full_bleed:
        pen.rectangle((0, 0, DRAWN, DRAWN), fill=ACCENT)
    else:
        pen.rounded_rectangle((0, 0, DRAWN - 1, DRAWN - 1), radius=DRAWN // 5, fill=ACCENT)
    inset = DRAWN // 10 if full_bleed else 0  # keep the drawing inside a maskable icon's safe zone
    scale = (DRAWN - 2 * inset) / DRAWN

    def at(x: float, y: float) -> tuple[float, float]:
        return inset + x * scale * DRAWN, inset + y * scale * DRAWN

    pen.ellipse((*at(0.62, 0.2), *at(0.8, 0.38)), fill=WHITE)
    pen.polygon([at(0.12, 0.8), at(0.4, 0.38), at(0.58, 0.62), at(0.68, 0.5), at(0.88, 0.8)], fill=WHITE)
    return image


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rounded = draw(full_bleed=False)
    for name, size in SIZES.items():
        rounded.resize((size, size), Image.LANCZOS).save(OUT / name, optimize=True)
    draw(full_bleed=True).resize((512, 512), Image.LANCZOS).save(OUT / "icon-maskable-512.png", optimize=True)
    print(f"Icons written to {OUT}")


if __name__ == "__main__":
    main()
