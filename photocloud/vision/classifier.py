"""The seven default categories, from the CNN's outputs plus the face, text and colour signals, or none of them.

Pictures from packages are too few and too unlike phone photos to train a good classifier alone, so the head
starts from a zero-shot signal learned on ImageNet's 1.2 million real photos: the ImageNet probability mass of
the classes that belong to each category (a reviewed mapping, ``data/imagenet_to_class.json``). The head is a
multinomial logistic regression with an eighth output, *other* (none of the seven), over

* the log of those seven masses (kept unscaled, and regularised towards "each category follows its own mass"),
* the largest face (its share of the picture, the detector's score): portraits,
* the text-like lines the cheap text check finds (how many, how long, their share of all strokes): documents in any
  script, since it looks at rows of strokes rather than at letters,
* colour statistics (few flat colours, white paper, smooth areas) that tell drawings from photographs, also
  multiplied by the face signal, so that a drawn face does not make a portrait,
* how confident ImageNet is (top probability, entropy) and a PCA projection of the pooled features (style),

trained on package pictures by ``photocloud train-classifier``; its logits are divided by a temperature fitted on
pictures from sources the head was not trained on, so that the confidence is a calibrated probability. A picture
gets a category as a fact from ``CONFIDENT`` on, as a hint ("maybe food") from ``HINT`` on, and none below.
The shipped head is ``data/default_head.npz``; ``data/DATA.md`` says what it was trained on and how well it does.
"""

import json
import threading
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import numpy as np

CLASSES = ("portrait", "landscape", "food", "document", "architecture", "animal", "illustration")
OTHER = "other"  # none of the seven: a training label and the head's eighth output, never stored as a category
OUTPUTS = (*CLASSES, OTHER)
DATA = Path(__file__).parent / "data"
DEFAULT_HEAD = DATA / "default_head.npz"
MASS_FLOOR = 1e-3  # below this, a category's ImageNet mass says nothing
PCA_DIMENSIONS = 24
PCA_SAMPLE = 600  # pictures the PCA is learnt from: leave-one-source-out fits a head per source, so keep it quick
# Product decisions on the calibrated probability, set before measuring (DATA.md): from CONFIDENT on a category is
# shown as a fact and used by the Themes page and automatic albums; from HINT on it is shown as "maybe"; below, none.
CONFIDENT = 0.6  # the library's CONFIDENT_SYSTEM_CATEGORY (the core layer cannot import this one; a test pins both)
HINT = 0.3


@dataclass(frozen=True)
class Signals:
    """What the face detector, the text check and the colours say about one picture (see ``picture_signals``)."""

    face_ratio: float  # area of the largest face / area of the picture, 0 when there is none
    has_text: bool
    face_score: float = 0.0  # the detector's score of the largest face
    text_lines: int = 0  # text-like lines (ocr.TextLines)
    text_length: float = 0.0  # their total length, in picture widths
    text_share: float = 0.0  # their share of all strokes
    flat: float = 0.0  # share of the pixels in the 8 most common colours: high in drawings
    white: float = 0.0  # share of near-white pixels: paper, clip art
    saturation: float = 0.0
    smooth: float = 0.0  # share of pixels with no local change: flat fills

    def row(self) -> tuple[float, ...]:
        return tuple(float(value) for value in astuple(self))


SIGNAL_NAMES = tuple(field.name for field in fields(Signals))


@dataclass(frozen=True)
class Head:
    pca_mean: np.ndarray  # (1280,)
    pca_components: np.ndarray  # (k, 1280)
    scale_mean: np.ndarray  # (d,) standardisation of the columns after the seven masses
    scale_std: np.ndarray
    weights: np.ndarray  # (7 + d, 8)
    bias: np.ndarray  # (8,)
    temperature: np.ndarray  # () the logits are divided by it: calibrated on sources left out of training

    def save(self, path: Path) -> None:
        np.savez_compressed(path, **{name: getattr(self, name).astype(np.float32) for name in self.__annotations__})

    @classmethod
    def load(cls, path: Path) -> "Head":
        with np.load(path) as data:
            return cls(**{name: data[name] for name in cls.__annotations__})

    def with_temperature(self, temperature: float) -> "Head":
        return Head(**{**self.__dict__, "temperature": np.asarray(temperature, np.float64)})


def picture_signals(image, found=None, lines=None) -> Signals:
    """The signals of an upright RGB picture; pass the faces (``faces.detect``) and text lines (``ocr.text_lines``)
    when they were already found, otherwise they are looked for here."""
    from photocloud.vision import faces, ocr

    found = faces.detect(image) if found is None else found
    lines = ocr.text_lines(image) if lines is None else lines
    return Signals(
        faces.largest_face_ratio(found, image.size),
        lines.likely,
        max((face.score for face in found), default=0.0),
        lines.count,
        lines.length,
        lines.share,
        *colour_cues(image),
    )


def colour_cues(image) -> tuple[float, float, float, float]:
    """(flat, white, saturation, smooth) on a 128 px copy: drawings have few flat colours, photographs many."""
    small = image.convert("RGB")
    small = small.resize((128, max(1, round(128 * small.height / max(1, small.width)))), reducing_gap=2.0)
    pixels = np.asarray(small, np.int32)
    codes = ((pixels >> 4) * np.array([256, 16, 1])).sum(axis=2).ravel()
    flat = np.sort(np.bincount(codes, minlength=4096))[-8:].sum() / codes.size
    white = float((pixels.min(axis=2) > 230).mean())
    brightest, darkest = pixels.max(axis=2), pixels.min(axis=2)
    saturation = float(((brightest - darkest) / np.maximum(brightest, 1)).mean())
    grey = pixels.mean(axis=2)
    change = np.abs(np.diff(grey, axis=0))[:, :-1] + np.abs(np.diff(grey, axis=1))[:-1, :]
    return float(flat), white, saturation, float((change < 2).mean())


@dataclass(frozen=True)
class Decision:
    category: str  # one of CLASSES, or "" when the picture fits none well enough to say
    confidence: float  # calibrated probability of the best of the seven

    @property
    def confident(self) -> bool:
        return bool(self.category) and self.confidence >= CONFIDENT


def decide(probs_row: np.ndarray) -> Decision:
    """The best of the seven and its probability; no category below HINT (the picture is likely none of them)."""
    best = int(np.argmax(probs_row[: len(CLASSES)]))
    confidence = float(probs_row[best])
    return Decision(CLASSES[best] if confidence >= HINT else "", confidence)


def classify(
    analysis_features: np.ndarray, imagenet_probs: np.ndarray, signals: Sequence[Signals], head: Head | None = None
) -> list[Decision]:
    """The category decision for each picture."""
    head = head or default_head()
    probs = predict_proba(analysis_features, imagenet_summary(imagenet_probs), signal_rows(signals), head)
    return [decide(row) for row in probs]


def imagenet_summary(imagenet_probs: np.ndarray) -> np.ndarray:
    """(n, 9): the seven categories' ImageNet masses, the top probability and the normalised entropy: all the head
    needs of the 1000 probabilities (what the evaluation set stores)."""
    p = np.clip(np.asarray(imagenet_probs, np.float64), 1e-12, 1)
    entropy = -(p * np.log(p)).sum(axis=1) / np.log(p.shape[1])
    return np.column_stack([p @ class_mapping(), p.max(axis=1), entropy])


def signal_rows(signals: Sequence[Signals]) -> np.ndarray:
    return np.array([s.row() for s in signals], np.float64).reshape(-1, len(SIGNAL_NAMES))


def predict_proba(features, summary, signals, head: Head) -> np.ndarray:
    """(n, 8) calibrated probabilities of the seven categories and of *other*."""
    return _softmax(logits(features, summary, signals, head) / float(head.temperature))


def logits(features, summary, signals, head: Head) -> np.ndarray:
    return design_matrix(features, summary, signals, head) @ head.weights + head.bias


def design_matrix(features, summary, signals, head: Head | None, pca=None) -> np.ndarray:
    """[7 log masses | standardised: face, text, colour and ImageNet cues, PCA of the features]."""
    masses = np.log(np.maximum(summary[:, : len(CLASSES)], MASS_FLOOR))
    pca = pca or (head.pca_mean, head.pca_components)
    rest = np.column_stack([_cues(summary, signals), _project(features, *pca)])
    if head is not None:
        rest = (rest - head.scale_mean) / head.scale_std
    return np.hstack([masses, rest])


def _cues(summary, signals) -> np.ndarray:
    s = dict(zip(SIGNAL_NAMES, np.asarray(signals, np.float64).T, strict=True))
    face = s["face_ratio"] > 0.005
    drawn = (s["flat"] + s["smooth"] + s["white"]) / 3
    return np.column_stack(
        [
            np.log(s["face_ratio"] + 1e-3),
            face,
            s["face_score"],
            face * drawn,  # a face in a drawing: illustration, not portrait
            face * s["saturation"],
            s["has_text"],
            np.log1p(s["text_lines"]),
            np.minimum(s["text_length"], 20),
            s["text_share"],
            s["flat"],
            s["white"],
            s["saturation"],
            s["smooth"],
            summary[:, len(CLASSES)],  # top ImageNet probability
            summary[:, len(CLASSES) + 1],  # entropy
        ]
    )


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


def fit(features, summary, signals, labels: np.ndarray, strength: float = 0.05) -> Head:
    """Train a head (temperature 1) on labelled pictures; ``labels`` index ``OUTPUTS``, classes weighted equally.

    The weights are pulled towards the zero-shot solution (each category's logit = its own log mass; *other*
    starts from nothing), so categories with few or unrepresentative training pictures keep what ImageNet knows.
    """
    from scipy.optimize import minimize

    unit = np.asarray(features, np.float64)
    unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    mean = unit.mean(axis=0)
    k = min(PCA_DIMENSIONS, len(unit) - 1)
    sample = (unit - mean)[:: max(1, len(unit) // PCA_SAMPLE)]  # every n-th picture: enough for 24 directions
    components = _principal_directions(sample, k)
    x = design_matrix(features, summary, signals, None, pca=(mean, components))
    scale_mean, scale_std = x[:, 7:].mean(axis=0), x[:, 7:].std(axis=0) + 1e-6
    x[:, 7:] = (x[:, 7:] - scale_mean) / scale_std

    n_out = len(OUTPUTS)
    target = np.eye(n_out)[labels]
    present, counts = np.unique(labels, return_counts=True)
    sample_weight = (len(labels) / (len(present) * counts))[np.searchsorted(present, labels)]
    sample_weight /= sample_weight.sum()
    prior = np.zeros((x.shape[1], n_out))
    prior[: len(CLASSES), : len(CLASSES)] = np.eye(len(CLASSES))

    def loss(flat):
        weights, bias = flat[:-n_out].reshape(prior.shape), flat[-n_out:]
        z = x @ weights + bias
        z -= z.max(axis=1, keepdims=True)
        log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        residual = (np.exp(log_probs) - target) * sample_weight[:, None]
        value = (
            -(sample_weight * (target * log_probs).sum(axis=1)).sum() + strength / 2 * ((weights - prior) ** 2).sum()
        )
        grad = np.concatenate([(x.T @ residual + strength * (weights - prior)).ravel(), residual.sum(axis=0)])
        return value, grad

    start = np.concatenate([prior.ravel(), np.zeros(n_out)])
    solution = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 500}).x
    weights, bias = solution[:-n_out].reshape(prior.shape), solution[-n_out:]
    return Head(mean, components, scale_mean, scale_std, weights, bias, np.asarray(1.0))


def _principal_directions(sample: np.ndarray, k: int) -> np.ndarray:
    """The k leading right singular vectors of ``sample`` (rows: pictures), from the eigenvectors of its small Gram
    matrix: the same directions as a full SVD (up to sign, which the head's weights absorb) in a fraction of its
    time, which leave-one-source-out pays once per source."""
    values, vectors = np.linalg.eigh(sample @ sample.T)
    keep = np.argsort(values)[::-1][:k]
    directions = vectors[:, keep].T @ sample
    return directions / np.maximum(np.linalg.norm(directions, axis=1, keepdims=True), 1e-12)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that makes these (held-out) logits' softmax most likely (a grid search: one parameter)."""
    best, best_nll = 1.0, np.inf
    for temperature in np.exp(np.linspace(np.log(0.25), np.log(8), 200)):
        probs = _softmax(logits / temperature)
        nll = -np.log(np.maximum(probs[np.arange(len(labels)), labels], 1e-12)).mean()
        if nll < best_nll:
            best, best_nll = float(temperature), nll
    return best
