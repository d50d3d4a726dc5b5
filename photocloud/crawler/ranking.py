"""Ranking candidates: CNN-feature similarity to the target picture, plus the keywords found in the words the page
puts around the image. Without vision (or without a target) the keyword match ranks alone, and the page says so."""

import io
import re

import numpy as np
from django.conf import settings
from PIL import Image

from photocloud.library.models import Photo

SIMILARITY_WEIGHT = 0.8  # with keywords too; the rest is the keyword match
# Where a keyword is found, and how much that says about the image itself.
FIELD_WEIGHTS = (("alt", 1.0), ("caption", 1.0), ("file", 0.7), ("page_title", 0.5))
NEAR_DUPLICATE_BITS = 3  # of 64: resized copies differ by 0-2, a crop shifted by 3 % already by about 8


def vision_enabled() -> bool:
    return bool(settings.PHOTOCLOUD["VISION"])


def terms(text: str) -> list[str]:
    return list(dict.fromkeys(word for word in re.findall(r"\w+", text.lower()) if len(word) > 1))


def keyword_score(keywords: list[str], *, alt="", caption="", file="", page_title="") -> float:
    """The share of keywords found, each counted at the weight of the most telling field it appears in."""
    if not keywords:
        return 0.0
    fields = {"alt": alt, "caption": caption, "file": file, "page_title": page_title}
    words = {name: set(terms(value)) for name, value in fields.items()}
    total = 0.0
    for keyword in keywords:
        total += max((weight for name, weight in FIELD_WEIGHTS if keyword in words[name]), default=0.0)
    return total / len(keywords)


def combined_score(similarity: float | None, keyword: float, has_keywords: bool) -> float:
    if similarity is None:
        return keyword
    if not has_keywords:
        return similarity
    return SIMILARITY_WEIGHT * similarity + (1 - SIMILARITY_WEIGHT) * keyword


def dhash(jpeg: bytes) -> int:
    """64-bit difference hash of the picture's brightness: equal, or nearly, for the same picture at other sizes
    or compressions; different for other crops and other pictures."""
    with Image.open(io.BytesIO(jpeg)) as image:
        pixels = np.asarray(image.convert("L").resize((9, 8), Image.Resampling.LANCZOS), dtype=np.int16)
    bits = (pixels[:, :-1] > pixels[:, 1:]).flatten()
    return int("".join("1" if bit else "0" for bit in bits), 2)


def same_picture(hash_a: int, size_a: tuple[int, int], hash_b: int, size_b: tuple[int, int]) -> bool:
    """One picture served at two sizes (a page's thumbnail and the full image it links to, say)."""
    aspect_a, aspect_b = size_a[0] / size_a[1], size_b[0] / size_b[1]
    return (hash_a ^ hash_b).bit_count() <= NEAR_DUPLICATE_BITS and abs(aspect_a / aspect_b - 1) < 0.03


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def target_vector(photo: Photo) -> np.ndarray | None:
    """The target's features: the stored analysis, else computed now from its rendition (a picture just uploaded)."""
    from photocloud.library import services as library
    from photocloud.vision import features, services

    if not vision_enabled() or photo.status != Photo.Status.READY:
        return None
    vector = services.photo_vector(photo)
    if vector is None:
        from django.core.files.storage import default_storage

        with default_storage.open(library.ensure_rendition(photo, "m"), "rb") as handle, Image.open(handle) as image:
            vector = features.analyze([image.convert("RGB")]).features[0]
    return _unit(np.asarray(vector, dtype=np.float32))


def similarity(target: np.ndarray, jpeg: bytes) -> float:
    """Cosine similarity of the candidate's features (from its rendition) to the unit target vector."""
    from photocloud.vision import features

    with Image.open(io.BytesIO(jpeg)) as image:
        vector = features.analyze([image.convert("RGB")]).features[0]
    return float(np.dot(_unit(vector), target))
