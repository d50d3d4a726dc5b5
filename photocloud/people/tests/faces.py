"""Pictures with faces for the people tests, made directly in the database (tests/factories.py) with the analysis
the vision stage would store: boxes and SFace-like unit embeddings, then the people stage run on them."""

import numpy as np

from photocloud.people import services
from photocloud.vision.faces import encode_identities
from photocloud.vision.models import PhotoAnalysis
from tests import factories

_rng = np.random.default_rng(7)


def identity() -> np.ndarray:
    """A made-up person: a random direction in the 128-dimensional embedding space."""
    vector = _rng.normal(size=128)
    return vector / np.linalg.norm(vector)


def looking_like(person: np.ndarray, noise: float = 0.06) -> np.ndarray:
    """One photo of that person: their direction blurred a little (cosine about 0.75 to it)."""
    vector = person + _rng.normal(size=128) * noise
    return vector / np.linalg.norm(vector)


def picture_of(album, *people: np.ndarray, run=True, **fields):
    """A ready picture of the album's owner showing these people (one face each, side by side), through the
    people stage as after analysis."""
    photo = factories.photo(album, features=np.zeros(1280), width=1200, height=800, **fields)
    boxes = [[100 + 300 * index, 200, 200, 240, 0.95] for index in range(len(people))]
    PhotoAnalysis.objects.filter(photo=photo).update(
        faces=boxes, face_identities=encode_identities(np.array([looking_like(p) for p in people]).reshape(-1, 128))
    )
    if run:
        services.faces_for_pictures([photo.pk])
    return photo
