"""The seven default categories, from the CNN's outputs plus the face and text signals.

Pictures from packages are too few and too unlike phone photos to train a good classifier alone, so the head
starts from a zero-shot signal learned on ImageNet's 1.2 million real photos: the ImageNet probability mass of
the classes that belong to each category (a reviewed mapping, ``data/imagenet_to_class.json``). The head is a
multinomial logistic regression over

* the log of those seven masses (kept unscaled, and regularised towards "each category follows its own mass"),
* the largest face's share of the picture (portraits) and whether the picture seems to hold text (documents),
* how confident ImageNet is (top probability, entropy: drawings and abstract art confuse it),
* a PCA projection of the pooled features (style: drawing versus photo, page versus scene),

trained on package pictures by ``photocloud train_classifier``. The shipped head is ``data/default_head.npz``;
``data/DATA.md`` says what it was trained on and how well it does.
"""

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CLASSES = ("portrait", "landscape", "food", "document", "architecture", "animal", "illustration")
DATA = Path(__file__).parent / "data"
DEFAULT_HEAD = DATA / "default_head.npz"
MASS_FLOOR = 1e-3  # below this, a category's ImageNet mass says nothing
PCA_DIMENSIONS = 24
OTHER_PHOTO = -1  # training label: a photograph of something else, so "anything but illustration"


@dataclass(frozen=True)
class Signals:
    face_ratio: float  # area of the largest face / area of the picture, 0 when there is none
    has_text: bool


@dataclass(frozen=True)
class Head:
    pca_mean: np.ndarray  # (1280,)
    pca_components: np.ndarray  # (k, 1280)
    scale_mean: np.ndarray  # (d,) standardisation of the columns after the seven masses
    scale_std: np.ndarray
    weights: np.ndarray  # (7 + d, 7)
    bias: np.ndarray  # (7,)

    def save(self, path: Path) -> None:
        np.savez_compressed(path, **{name: getattr(self, name).astype(np.float32) for name in self.__annotations__})

    @classmethod
    def load(cls, path: Path) -> "Head":
        with np.load(path) as data:
            return cls(**{name: data[name] for name in cls.__annotations__})


def picture_signals(image) -> Signals:
    """The face and text signals of an upright RGB picture (runs the face detector and the text check)."""
    from photocloud.vision import faces, ocr

    return Signals(faces.largest_face_ratio(faces.detect(image), image.size), ocr.likely_has_text(image))


def classify(
    analysis_features: np.ndarray, imagenet_probs: np.ndarray, signals: Sequence[Signals], head: Head | None = None
) -> list[tuple[str, float]]:
    """The most likely category and its probability (0..1) for each picture."""
    probs = predict_proba(analysis_features, imagenet_probs, signals, head or default_head())
    return [(CLASSES[i], float(p[i])) for i, p in zip(probs.argmax(axis=1), probs, strict=True)]


def predict_proba(features: np.ndarray, imagenet_probs: np.ndarray, signals: Sequence[Signals], head: Head):
    logits = design_matrix(features, imagenet_probs, signals, head) @ head.weights + head.bias
    return _softmax(logits)


def design_matrix(features, imagenet_probs, signals, head: Head | None, pca=None) -> np.ndarray:
    """[7 log masses | standardised: face ratio, text, top probability, entropy, PCA of the features]."""
    masses = np.log(np.maximum(np.asarray(imagenet_probs, np.float64) @ class_mapping(), MASS_FLOOR))
    pca = pca or (head.pca_mean, head.pca_components)
    rest = np.column_stack([_cues(imagenet_probs, signals), _project(features, *pca)])
    if head is not None:
        rest = (rest - head.scale_mean) / head.scale_std
    return np.hstack([masses, rest])


def _cues(imagenet_probs, signals) -> np.ndarray:
    p = np.clip(np.asarray(imagenet_probs, np.float64), 1e-12, 1)
    entropy = -(p * np.log(p)).sum(axis=1) / np.log(p.shape[1])
    face = np.array([s.face_ratio for s in signals], np.float64).reshape(-1)
    text = np.array([float(s.has_text) for s in signals], np.float64).reshape(-1)
    return np.column_stack([np.log(face + 1e-3), face > 0.005, text, p.max(axis=1), entropy])


def _project(features, mean, components) -> np.ndarray:
    unit = np.asarray(features, np.float64)
    unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    return (unit - mean) @ components.T


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


_cache: dict[str, object] = {}
_lock = threading.Lock()


def class_mapping() -> np.ndarray:
    """(1000, 7) 0/1 matrix: which ImageNet classes count towards which category."""
    with _lock:
        if "mapping" not in _cache:
            table = json.loads((DATA / "imagenet_to_class.json").read_text())
            mapping = np.zeros((1000, len(CLASSES)))
            for column, name in enumerate(CLASSES):
                mapping[[int(i) for i in table[name]], column] = 1
            _cache["mapping"] = mapping
        return _cache["mapping"]


def default_head() -> Head:
    with _lock:
        if "head" not in _cache:
            _cache["head"] = Head.load(DEFAULT_HEAD)
        return _cache["head"]


def fit(
    features: np.ndarray,
    imagenet_probs: np.ndarray,
    signals: Sequence[Signals],
    labels: np.ndarray,
    strength: float = 0.05,
    steps: int = 3000,
    other_weight: float = 0.5,
) -> Head:
    """Train a head on labelled pictures; classes are weighted to balance them.

    ``labels`` index ``CLASSES``, or are ``OTHER_PHOTO`` for a photograph of none of them: the head only learns
    that such a picture is not an illustration, and leaves the rest to the ImageNet masses. They weigh
    ``other_weight`` of a category: at full weight they cost the drawings some recall (measured in DATA.md).

    The weights are pulled towards the zero-shot solution (each category's logit = its own log mass), so
    categories with few or unrepresentative training pictures keep what ImageNet knows.
    """
    unit = np.asarray(features, np.float64)
    unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    mean = unit.mean(axis=0)
    k = min(PCA_DIMENSIONS, len(unit) - 1)
    components = np.linalg.svd(unit - mean, full_matrices=False)[2][:k]
    x = design_matrix(features, imagenet_probs, signals, None, pca=(mean, components))
    scale_mean, scale_std = x[:, 7:].mean(axis=0), x[:, 7:].std(axis=0) + 1e-6
    x[:, 7:] = (x[:, 7:] - scale_mean) / scale_std

    n_classes = len(CLASSES)
    allowed = np.eye(n_classes + 1)[labels][:, :n_classes]  # OTHER_PHOTO (-1) picks the extra last row
    allowed[labels == OTHER_PHOTO] = np.array(CLASSES) != "illustration"
    groups, counts = np.unique(labels, return_counts=True)
    sample_weight = (len(labels) / (len(groups) * counts))[np.searchsorted(groups, labels)]
    sample_weight[labels == OTHER_PHOTO] *= other_weight
    prior = np.zeros((x.shape[1], n_classes))
    prior[:n_classes] = np.eye(n_classes)
    weights, bias = prior.copy(), np.zeros(n_classes)
    rate, moment_w, moment_b = 0.05, np.zeros_like(weights), np.zeros_like(bias)
    for _ in range(steps):  # full-batch gradient descent with momentum: a few hundred pictures, ~40 columns
        probs = _softmax(x @ weights + bias)
        target = probs * allowed / (probs * allowed).sum(axis=1, keepdims=True)  # = one-hot for a single class
        residual = (probs - target) * sample_weight[:, None] / sample_weight.sum()
        grad_w = x.T @ residual + strength * (weights - prior)
        moment_w = 0.9 * moment_w + grad_w
        moment_b = 0.9 * moment_b + residual.sum(axis=0)
        weights -= rate * moment_w
        bias -= rate * moment_b
    return Head(mean, components, scale_mean, scale_std, weights, bias)
