"""Classes users teach: a per-user classifier on the CNN features, trained from the categories they gave pictures.

It learns from the categories users set on pictures themselves (the teach page, or editing a picture), not from
album categories, which would only teach it album membership. Few-shot by design: a softmax regression over the
normalised features (L2 penalty, balanced classes) tells the taught categories apart from three pictures each, and a
per-category similarity gate (closeness to the category's centroid, calibrated on its own examples) keeps it quiet
about pictures that look like none of them. Suggestions sit beside the user's own category, never replace it.
"""

import numpy as np
from django.db import transaction
from django.db.models import Count

from photocloud.library import pipeline
from photocloud.library.models import Photo

from .models import PhotoAnalysis, TaughtClassifier

MIN_EXAMPLES = 3  # pictures a category needs before it is learned
MAX_EXAMPLES = 300  # per category, so training stays fast on huge libraries
SUGGEST_ABOVE = 0.5  # suggestions below this confidence are not shown
GATE_MARGIN = 0.85  # how much less like the category's centroid than its least typical example a picture may be


def _normalised(vectors: np.ndarray) -> np.ndarray:
    with_bias = np.hstack(
        [
            vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-6),
            np.ones((len(vectors), 1), dtype=np.float32),
        ]
    )
    return with_bias.astype(np.float32)


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def fit(vectors: np.ndarray, labels: np.ndarray, classes: int, steps=300, rate=2.0, penalty=1e-3) -> np.ndarray:
    """Softmax regression by full-batch gradient descent, classes weighted equally whatever their size."""
    x = _normalised(vectors)
    targets = np.eye(classes, dtype=np.float32)[labels]
    weights_per_row = (len(labels) / (classes * np.bincount(labels, minlength=classes)))[labels][:, None]
    w = np.zeros((classes, x.shape[1]), dtype=np.float32)
    for _ in range(steps):
        error = (_softmax(x @ w.T) - targets) * weights_per_row
        w -= rate * (error.T @ x / len(x) + penalty * w)
    return w


def predict(weights: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(class index, confidence) per vector."""
    probabilities = _softmax(_normalised(vectors) @ weights.T)
    return probabilities.argmax(axis=1), probabilities.max(axis=1)


def centroids_and_gates(vectors: np.ndarray, labels: np.ndarray, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Per class: the unit centroid, and the cosine a picture needs to it (a margin below the class's own examples)."""
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-6)
    centroids = np.vstack([unit[labels == c].mean(axis=0) for c in range(classes)])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    own = (unit * centroids[labels]).sum(axis=1)
    gates = np.array([GATE_MARGIN * own[labels == c].min() for c in range(classes)], dtype=np.float32)
    return centroids.astype(np.float32), gates


def _labelled(owner):
    """The owner's analysed pictures that carry a category the owner gave them."""
    return Photo.objects.owned_by(owner).filter(analysis__isnull=False).exclude(category="")


def labelled_examples(owner) -> dict[str, list[PhotoAnalysis]]:
    by_label: dict[str, list[PhotoAnalysis]] = {}
    for photo in _labelled(owner).select_related("analysis").order_by("-created_at"):
        if len(by_label.setdefault(photo.category, [])) < MAX_EXAMPLES:
            by_label[photo.category].append(photo.analysis)
    return by_label


def example_counts(owner) -> dict[str, int]:
    """How many analysed pictures of the owner carry each of their categories (what teaching can learn from)."""
    return {row["category"]: row["count"] for row in _labelled(owner).values("category").annotate(count=Count("pk"))}


def teaching_status(owner, category: str) -> str:
    """What teaching `category` achieves now, said honestly: a category is learned only from MIN_EXAMPLES pictures,
    and only against at least one other such category."""
    counts = example_counts(owner)
    missing = MIN_EXAMPLES - counts.get(category, 0)
    if missing > 0:
        return f"Photocloud learns it once {MIN_EXAMPLES} analysed pictures have it: pick {missing} more."
    if sum(count >= MIN_EXAMPLES for count in counts.values()) < 2:
        return (
            f"Photocloud learns it once another category has {MIN_EXAMPLES} pictures too "
            "(it learns categories by telling them apart)."
        )
    return "Photocloud is learning it and will suggest it for your other pictures."


def _usable_counts(owner) -> dict[str, int]:
    return {label: min(count, MAX_EXAMPLES) for label, count in example_counts(owner).items() if count >= MIN_EXAMPLES}


def is_stale(owner) -> bool:
    """True when the labelled pictures changed enough since the last training (new category, ±20 % examples)."""
    counts = _usable_counts(owner)
    trained = TaughtClassifier.objects.filter(owner=owner).first()
    if trained is None:
        return len(counts) >= 2
    if set(counts) != set(trained.examples):
        return True
    return any(abs(counts[label] - trained.examples[label]) > 0.2 * trained.examples[label] for label in counts)


def train(owner) -> TaughtClassifier | None:
    """(Re)train the owner's classifier and refresh the suggestions on all their pictures.

    Needs two categories with MIN_EXAMPLES pictures each (a category is learned against the others); otherwise any
    old classifier and its suggestions are removed.
    """
    by_label = {label: rows for label, rows in labelled_examples(owner).items() if len(rows) >= MIN_EXAMPLES}
    if len(by_label) < 2:
        suggested = PhotoAnalysis.objects.filter(photo__owner=owner).exclude(taught_category="")
        with transaction.atomic():
            TaughtClassifier.objects.filter(owner=owner).delete()
            cleared = list(suggested.values_list("photo_id", flat=True))
            suggested.update(taught_category="", taught_confidence=0)
        _announce(cleared)
        return None
    categories = sorted(by_label)
    vectors = np.vstack([row.vector for label in categories for row in by_label[label]])
    labels = np.array([index for index, label in enumerate(categories) for _ in by_label[label]])
    weights = fit(vectors, labels, len(categories))
    centroids, gates = centroids_and_gates(vectors, labels, len(categories))
    packed = np.hstack([weights, centroids, gates[:, None]]).astype(np.float32)
    classifier, _ = TaughtClassifier.objects.update_or_create(
        owner=owner,
        defaults={
            "categories": categories,
            "weights": packed.tobytes(),
            "examples": {label: len(by_label[label]) for label in categories},
        },
    )
    suggest(classifier, PhotoAnalysis.objects.filter(photo__owner=owner))
    return classifier


def suggest(classifier: TaughtClassifier, analyses) -> None:
    """Write the classifier's suggestion (or none, when unsure) on these analyses."""
    rows = list(analyses.only("id", "photo_id", "features", "taught_category"))
    if not rows:
        return
    packed = classifier.matrix()
    dim = (packed.shape[1] - 2) // 2
    weights, centroids, gates = packed[:, : dim + 1], packed[:, dim + 1 : -1], packed[:, -1]
    vectors = np.vstack([row.vector for row in rows])
    indexes, confidences = predict(weights, vectors)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-6)
    closeness = (unit * centroids[indexes]).sum(axis=1)
    changed = []
    with transaction.atomic():
        for row, index, confidence, near in zip(rows, indexes, confidences, closeness, strict=True):
            sure = confidence >= SUGGEST_ABOVE and near >= gates[index]
            category = classifier.categories[index] if sure else ""
            PhotoAnalysis.objects.filter(pk=row.pk).update(
                taught_category=category,
                taught_confidence=round(float(confidence), 4) if sure else 0,
            )
            if category != row.taught_category:
                changed.append(row.photo_id)
    _announce(changed)


def _announce(photo_ids: list) -> None:
    """Search indexes the suggested class (the queryset updates that wrote it announce nothing by themselves)."""
    if photo_ids:
        pipeline.pictures_changed(photo_ids, "suggestions")


def refresh(owner, analyses) -> None:
    """After new pictures are analysed: retrain when the labels moved enough, else just suggest for the new ones."""
    if is_stale(owner):
        train(owner)
    elif classifier := TaughtClassifier.objects.filter(owner=owner).first():
        suggest(classifier, analyses)
