"""The default classifier's evaluation set and its leave-one-source-out figures.

The set (``data/evaluation_set.npz``) holds, for each picture built by ``training_data``, what the head needs and
nothing more: the CNN features (quantised to bytes), the ImageNet summary (``classifier.imagenet_summary``), the
signals, the label and the *source* (the package and collection it comes from). So the figures are recomputed from
it without running the CNN, in CI too.

Leave-one-source-out: each source is predicted by a head trained on all the other sources, never on a picture
from its own package collection, which is how the head meets a new user's pictures.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import classifier

SET = classifier.DATA / "evaluation_set.npz"
EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp"}
FEATURE_SCALE = 6.0 / 255  # EfficientNet-Lite's ReLU6 features lie in [0, 6]: one byte each loses < 0.012
CALIBRATION_BINS = 10


@dataclass
class Pictures:
    features: np.ndarray  # (n, 1280) float
    summary: np.ndarray  # (n, 9)
    signals: np.ndarray  # (n, len(SIGNAL_NAMES))
    labels: np.ndarray  # (n,) index into classifier.OUTPUTS
    sources: np.ndarray  # (n,) str

    def rows(self, keep: np.ndarray):
        return self.features[keep], self.summary[keep], self.signals[keep]


def analyse_folder(directory: Path, batch_size: int = 16, progress=None) -> Pictures:
    """Run the models over ``DIR/<output>/<source>__<name>.jpg`` (``training_data``'s layout)."""
    from PIL import Image, ImageOps

    from . import features

    files = sorted(p for p in directory.glob("*/*") if p.suffix.lower() in EXTENSIONS)
    unknown = {p.parent.name for p in files} - set(classifier.OUTPUTS)
    if unknown or not files:
        raise ValueError(
            f"expected pictures in {directory}/<{'|'.join(classifier.OUTPUTS)}>/, found {unknown or 'none'}"
        )
    feats, summaries, signals = [], [], []
    for start in range(0, len(files), batch_size):
        images = []
        for path in files[start : start + batch_size]:
            with Image.open(path) as image:
                images.append(ImageOps.exif_transpose(image).convert("RGB"))
        signals += [classifier.picture_signals(image).row() for image in images]
        analysis = features.analyze([image.copy() for image in images])
        feats.append(analysis.features)
        summaries.append(classifier.imagenet_summary(analysis.imagenet_probs))
        if progress:
            progress(len(images))
    return Pictures(
        np.concatenate(feats),
        np.concatenate(summaries),
        np.array(signals),
        np.array([classifier.OUTPUTS.index(p.parent.name) for p in files]),
        np.array([p.name.split("__")[0] for p in files]),
    )


def combine(kept: Pictures, added: Pictures) -> Pictures:
    """``kept`` without the sources that ``added`` brings, then ``added``: sources are added (or rebuilt) without
    running the models again over the pictures of every other source."""
    keep = ~np.isin(kept.sources, np.unique(added.sources))
    fields = ("features", "summary", "signals", "labels", "sources")
    return Pictures(*(np.concatenate([getattr(kept, f)[keep], getattr(added, f)]) for f in fields))


def save(pictures: Pictures, path: Path = SET) -> None:
    np.savez_compressed(
        path,
        features=np.clip(np.round(pictures.features / FEATURE_SCALE), 0, 255).astype(np.uint8),
        summary=pictures.summary.astype(np.float32),
        signals=pictures.signals.astype(np.float32),
        labels=pictures.labels.astype(np.int8),
        sources=pictures.sources.astype(str),
    )


def load(path: Path = SET) -> Pictures:
    with np.load(path) as data:
        return Pictures(
            data["features"].astype(np.float64) * FEATURE_SCALE,
            data["summary"].astype(np.float64),
            data["signals"].astype(np.float64),
            data["labels"].astype(int),
            data["sources"],
        )


def leave_one_source_out(pictures: Pictures) -> np.ndarray:
    """(n, 8) logits, each picture's from a head (temperature 1) trained without its source."""
    out = np.zeros((len(pictures.labels), len(classifier.OUTPUTS)))
    for source in np.unique(pictures.sources):
        held = pictures.sources == source
        head = classifier.fit(*pictures.rows(~held), pictures.labels[~held])
        out[held] = classifier.logits(*pictures.rows(held), head)
    return out


def cross_fitted_probabilities(logits: np.ndarray, pictures: Pictures) -> np.ndarray:
    """Calibrated probabilities for reporting: the temperature for one half of the sources is fitted on the other
    half's held-out logits, so the calibration is never measured on what it was fitted on."""
    sources = np.unique(pictures.sources)
    half = np.isin(pictures.sources, sources[::2])
    probs = np.zeros_like(logits)
    for part in (half, ~half):
        temperature = classifier.fit_temperature(logits[~part], pictures.labels[~part])
        probs[part] = classifier._softmax(logits[part] / temperature)
    return probs


@dataclass
class Figures:
    macro_accuracy: float  # mean per-category recall, best of the seven forced
    accuracy: float
    recall: dict
    precision: dict
    other_left_out: float  # share of other pictures without a confident category
    confident_cost: float  # share of in-class pictures right when forced, but not confidently so
    confident_accuracy: float  # accuracy of the confident decisions on in-class pictures
    ece: float
    reliability: list  # (low, high, pictures, mean confidence, accuracy)
    per_source: dict  # source -> (pictures, share right or left without confident category for other)


def figures(probs: np.ndarray, pictures: Pictures) -> Figures:
    labels = pictures.labels
    inside = labels < len(classifier.CLASSES)
    decisions = [classifier.decide(row) for row in probs]
    best = probs[:, : len(classifier.CLASSES)].argmax(axis=1)
    confident = np.array([d.confident for d in decisions])
    recall, precision = {}, {}
    for i, name in enumerate(classifier.CLASSES):
        real, said = labels == i, (best == i) & inside
        recall[name] = float((best[real] == i).mean()) if real.any() else float("nan")
        precision[name] = float((labels[said] == i).mean()) if said.any() else float("nan")
    right = best == labels
    confidence = probs[np.arange(len(labels)), best]
    edges = np.linspace(0, 1, CALIBRATION_BINS + 1)
    reliability, ece = [], 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        in_bin = (confidence >= low) & (confidence < high if high < 1 else confidence <= high)
        if in_bin.any():
            reliability.append(
                (low, high, int(in_bin.sum()), float(confidence[in_bin].mean()), float(right[in_bin].mean()))
            )
            ece += in_bin.mean() * abs(confidence[in_bin].mean() - right[in_bin].mean())
    per_source = {}
    for source in np.unique(pictures.sources):
        rows = pictures.sources == source
        good = np.where(inside, right, ~confident)[rows]
        per_source[str(source)] = (
            classifier.OUTPUTS[int(np.bincount(labels[rows]).argmax())],
            int(rows.sum()),
            float(good.mean()),
        )
    return Figures(
        macro_accuracy=float(np.nanmean(list(recall.values()))),
        accuracy=float(right[inside].mean()),
        recall=recall,
        precision=precision,
        other_left_out=float((~confident[~inside]).mean()) if (~inside).any() else float("nan"),
        confident_cost=float((right & ~confident)[inside].mean()),
        confident_accuracy=float(right[inside & confident].mean()) if (inside & confident).any() else float("nan"),
        ece=float(ece),
        reliability=reliability,
        per_source=per_source,
    )


def report(result: Figures, pictures: Pictures) -> list[str]:
    inside = pictures.labels < len(classifier.CLASSES)
    lines = [
        f"Leave-one-source-out on {int(inside.sum())} pictures of the seven categories and {int((~inside).sum())} "
        f"of none of them, {len(np.unique(pictures.sources))} sources:",
        f"  macro accuracy {result.macro_accuracy:.3f} (target 0.93), accuracy {result.accuracy:.3f}",
        f"  {'category':<14}{'precision':>10}{'recall':>8}{'pictures':>10}",
    ]
    for i, name in enumerate(classifier.CLASSES):
        n = int((pictures.labels == i).sum())
        lines.append(f"  {name:<14}{result.precision[name]:>10.2f}{result.recall[name]:>8.2f}{n:>10}")
    lines += [
        f"  other pictures left without a confident category (< {classifier.CONFIDENT:.0%}): "
        f"{result.other_left_out:.3f} (target 0.80)",
        f"  in-class pictures right but not confident (the cost): {result.confident_cost:.3f} (target <= 0.03); "
        f"confident decisions right: {result.confident_accuracy:.3f}",
        f"  calibration (temperature cross-fitted on the other half of the sources): ECE {result.ece:.3f}",
        f"  {'confidence':<14}{'pictures':>10}{'mean':>8}{'right':>8}",
    ]
    for low, high, n, mean, right in result.reliability:
        lines.append(f"  {f'{low:.1f}-{high:.1f}':<14}{n:>10}{mean:>8.2f}{right:>8.2f}")
    lines.append("  per source (category, pictures, share right; for other: left without a confident category):")
    for source, (label, n, good) in sorted(result.per_source.items()):
        lines.append(f"    {source:<34}{label:<14}{n:>5}{good:>7.2f}")
    return lines
