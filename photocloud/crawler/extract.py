"""What a fetched HTML page offers: links to follow and candidate images with the words around them.

Pages are parsed with lexbor (selectolax), a real HTML5 parser that copes with broken markup as browsers do. Nothing
from a page is ever rendered: only URLs and plain text leave this module.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin

from selectolax.lexbor import LexborHTMLParser

from photocloud.sync.files import PICTURE_SUFFIXES

IMAGE_EXTENSIONS = tuple(PICTURE_SUFFIXES)
MAX_TEXT = 300
LAZY_SOURCES = ("data-src", "data-original", "data-lazy-src", "src")
MAX_LINKS = 500
MAX_IMAGES = 300


@dataclass
class ImageRef:
    url: str
    alt: str = ""
    caption: str = ""


@dataclass
class Page:
    title: str = ""
    links: list[str] = field(default_factory=list)
    images: list[ImageRef] = field(default_factory=list)
    nofollow: bool = False


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())[:MAX_TEXT]


def _absolute(base: str, href: str | None) -> str | None:
    href = (href or "").strip()
    if not href or href.startswith(("data:", "javascript:", "mailto:", "#")):
        return None
    try:
        url = urldefrag(urljoin(base, href))[0]
    except ValueError:  # "http://[zz]/": one bad link, not a bad page
        return None
    return url if url.startswith(("http://", "https://")) and len(url) <= 2000 else None


def _largest_in_srcset(srcset: str) -> str | None:
    """The candidate with the largest width (or density) descriptor: the best picture the page offers."""
    best, best_size = None, -1.0
    for entry in srcset.split(","):
        parts = entry.strip().split()
        if not parts:
            continue
        size = 1.0
        if len(parts) > 1 and re.fullmatch(r"\d+(\.\d+)?[wx]", parts[1]):
            size = float(parts[1][:-1])
        if size > best_size:
            best, best_size = parts[0], size
    return best


def _caption(node) -> str:
    """The figcaption of the figure around an image, if any (two levels up at most)."""
    parent = node.parent
    for _ in range(3):
        if parent is None:
            return ""
        if parent.tag == "figure":
            caption = parent.css_first("figcaption")
            return _clean(caption.text(separator=" ")) if caption else ""
        parent = parent.parent
    return ""


def is_image_link(url: str) -> bool:
    return url.lower().split("?", 1)[0].endswith(IMAGE_EXTENSIONS)


def parse_page(html: str, url: str) -> Page:
    tree = LexborHTMLParser(html)
    base = url
    if (base_node := tree.css_first("base[href]")) is not None:
        base = _absolute(url, base_node.attributes.get("href")) or url
    page = Page(title=_clean(tree.css_first("title").text()) if tree.css_first("title") else "")
    robots = tree.css_first('meta[name="robots"]')
    page.nofollow = robots is not None and "nofollow" in (robots.attributes.get("content") or "").lower()

    images: dict[str, ImageRef] = {}

    def add_image(src, alt="", caption=""):
        if (found := _absolute(base, src)) and len(images) < MAX_IMAGES:
            known = images.setdefault(found, ImageRef(found))
            known.alt = known.alt or _clean(alt)
            known.caption = known.caption or caption

    for meta in tree.css('meta[property="og:image"], meta[name="og:image"], meta[property="og:image:url"]'):
        add_image(meta.attributes.get("content"), caption=page.title)
    for img in tree.css("img"):
        attributes = img.attributes
        alt = attributes.get("alt") or attributes.get("title") or ""
        # Lazy-loading pages keep the real picture in data-* attributes and a placeholder in src.
        if srcset := attributes.get("srcset") or attributes.get("data-srcset"):
            add_image(_largest_in_srcset(srcset), alt, _caption(img))
        else:
            sources = [attributes.get(name) for name in LAZY_SOURCES]
            add_image(next((src for src in sources if src and not src.startswith("data:")), None), alt, _caption(img))
    for source in tree.css("picture source[srcset]"):
        img = source.parent.css_first("img") if source.parent else None
        alt = (img.attributes.get("alt") or "") if img else ""
        add_image(_largest_in_srcset(source.attributes.get("srcset") or ""), alt, _caption(source))

    links: dict[str, None] = {}
    for anchor in tree.css("a[href]"):
        target = _absolute(base, anchor.attributes.get("href"))
        if not target:
            continue
        if is_image_link(target):
            add_image(target, anchor.attributes.get("title") or anchor.text(separator=" "))
        elif "nofollow" not in (anchor.attributes.get("rel") or "").lower() and len(links) < MAX_LINKS:
            links.setdefault(target, None)
    page.links = list(links)
    page.images = list(images.values())
    return page
