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

        with default_storage.open(library.ensure_rendition(photo, "m"), "rb") as handle:
            with Image.open(handle) as image:
                vector = features.analyze([image.convert("RGB")]).features[0]
    return _unit(np.asarray(vector, dtype=np.float32))


def similarity(target: np.ndarray, jpeg: bytes) -> float:
    """Cosine similarity of the candidate's features (from its rendition) to the unit target vector."""
    from photocloud.vision import features

    with Image.open(io.BytesIO(jpeg)) as image:
        vector = features.analyze([image.convert("RGB")]).features[0]
    return float(np.dot(_unit(vector), target))
