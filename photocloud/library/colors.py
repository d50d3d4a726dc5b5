"""A picture's dominant colour as one of a small palette, for the colour filter and facet.

Computed from the 320 px rendition reduced to 48 px: every pixel votes for a palette name by hue, saturation and
brightness, and the most common name wins.
"""

import io
import logging

import numpy as np
from django.core.files.storage import default_storage
from PIL import Image

from .models import Photo
from .storage import rendition_name

logger = logging.getLogger(__name__)

PALETTE = ("red", "orange", "yellow", "green", "teal", "blue", "purple", "pink", "brown", "black", "white", "gray")
# Upper hue bound (degrees) of each chromatic name, in order around the wheel; red wraps around 360.
_HUES = (
    (15, "red"),
    (40, "orange"),
    (70, "yellow"),
    (165, "green"),
    (200, "teal"),
    (255, "blue"),
    (290, "purple"),
    (345, "pink"),
    (360, "red"),
)


def dominant_color(image: Image.Image) -> str:
    small = image.convert("RGB")
    small.thumbnail((48, 48))
    hsv = np.asarray(small.convert("HSV"), dtype=np.float32).reshape(-1, 3)
    hue, saturation, value = hsv[:, 0] * 360 / 255, hsv[:, 1] / 255, hsv[:, 2] / 255
    names = np.empty(len(hsv), dtype=object)
    bounds = np.array([bound for bound, _ in _HUES])
    names[:] = np.array([name for _, name in _HUES], dtype=object)[
        np.searchsorted(bounds, hue, side="right").clip(0, len(bounds) - 1)
    ]
    names[(names == "orange") & (value < 0.6)] = "brown"
    names[(names == "red") & (value < 0.45) & (saturation < 0.7)] = "brown"
    grey = saturation < 0.18
    names[grey] = np.where(value[grey] > 0.85, "white", "gray")
    names[value < 0.18] = "black"
    found, counts = np.unique(names.astype(str), return_counts=True)
    return str(found[np.argmax(counts)])


def of_rendition(data: bytes, photo_id) -> str:
    """The dominant colour of a picture from its small rendition's bytes; "" when they do not decode."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return dominant_color(image)
    except (OSError, Image.DecompressionBombError):
        logger.warning("No dominant colour for picture %s: unreadable rendition", photo_id)
        return ""


def compute_for(photo: Photo) -> str:
    """Compute and store the dominant colour of a processed picture (photocloud rebuild_search_index, for pictures
    processed before colours were); "" when its small rendition is missing. New pictures get theirs in processing."""
    name = rendition_name(photo.sha256, "s")
    if not default_storage.exists(name):
        return ""
    with default_storage.open(name, "rb") as handle:
        color = of_rendition(handle.read(), photo.pk)
    if color:
        Photo.objects.filter(pk=photo.pk).update(dominant_color=color)
    return color
