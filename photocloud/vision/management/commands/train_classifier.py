"""``photocloud train-classifier DIR``: train the default-category head on ``DIR/<class>/*.jpg``."""

import random
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from PIL import Image, ImageOps
from tqdm import tqdm

from photocloud.vision import classifier, features

EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
OTHER_FOLDER = "photo"  # photographs of none of the categories: they only teach "not an illustration"
NEAR_COPY_SIMILARITY = 0.9  # cosine of the CNN features above which two pictures count as the same scene


class Command(BaseCommand):
    help = (
        "Train the classifier head for the seven default categories on DIR/<category>/*.jpg (and DIR/photo/ for "
        "photographs of anything else), report accuracy and "
        "per-category precision/recall on a held-out split (near-copies kept on one side), then write a head "
        "trained on all the pictures."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument("--output", type=Path, default=classifier.DEFAULT_HEAD)
        parser.add_argument("--test-fraction", type=float, default=0.2)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--evaluate", type=Path, help="Also report the written head on this labelled folder.")
        parser.add_argument("--batch-size", type=int, default=16)

    def handle(self, *args, directory, output, test_fraction, seed, evaluate, batch_size, **options):
        data = self._load(directory, batch_size)
        labels = data["labels"]
        train, test = split(data["groups"], labels, data["features"], test_fraction, seed)
        counts = [(name, (labels == i).sum()) for i, name in enumerate(classifier.CLASSES)]
        counts.append((OTHER_FOLDER, (labels == classifier.OTHER_PHOTO).sum()))
        self.stdout.write(f"{len(labels)} pictures: " + ", ".join(f"{name} {int(n)}" for name, n in counts if n))
        if test.any():
            head = classifier.fit(*_rows(data, train), labels[train])
            self._report(
                f"Held out ({int(test.sum())} pictures not trained on, {len(set(data['groups'][test]))} scenes)",
                head,
                data,
                test,
            )
        head = classifier.fit(*_rows(data, np.ones_like(labels, bool)), labels)
        output.parent.mkdir(parents=True, exist_ok=True)
        head.save(output)
        self.stdout.write(self.style.SUCCESS(f"Wrote the head trained on all {len(labels)} pictures to {output}"))
        if evaluate:
            other = self._load(evaluate, batch_size)
            self._report(
                f"{evaluate} ({len(other['labels'])} pictures)", head, other, np.ones_like(other["labels"], bool)
            )

    def _load(self, directory: Path, batch_size: int) -> dict:
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a folder")
        files, labels = [], []
        for folder in sorted(p for p in directory.iterdir() if p.is_dir()):
            if folder.name not in (*classifier.CLASSES, OTHER_FOLDER):
                raise CommandError(f"{folder.name!r} is not one of {', '.join(classifier.CLASSES)} or {OTHER_FOLDER}")
            found = sorted(p for p in folder.iterdir() if p.suffix.lower() in EXTENSIONS)
            files += found
            label = (
                classifier.CLASSES.index(folder.name) if folder.name in classifier.CLASSES else classifier.OTHER_PHOTO
            )
            labels += [label] * len(found)
        if not files:
            raise CommandError(f"no pictures in {directory}/<category>/")
        feats, probs, signals = [], [], []
        with tqdm(total=len(files), unit="picture", file=self.stderr._out) as progress:
            for start in range(0, len(files), batch_size):
                images = [_open(path) for path in files[start : start + batch_size]]
                signals += [classifier.picture_signals(image) for image in images]
                analysis = features.analyze(images)
                feats.append(analysis.features)
                probs.append(analysis.imagenet_probs)
                progress.update(len(images))
        groups = np.array([f"{p.parent.name}/{p.stem.split('~')[0]}" for p in files])
        return {
            "features": np.concatenate(feats),
            "probs": np.concatenate(probs),
            "signals": signals,
            "labels": np.array(labels),
            "groups": groups,
        }

    def _report(self, title: str, head: classifier.Head, data: dict, rows: np.ndarray) -> None:
        truth = data["labels"][rows]
        predicted = classifier.predict_proba(*_rows(data, rows), head).argmax(axis=1)
        other = truth == classifier.OTHER_PHOTO
        drawn = int((predicted[other] == classifier.CLASSES.index("illustration")).sum())
        truth, predicted = truth[~other], predicted[~other]
        self.stdout.write(f"\n{title}: accuracy {np.mean(predicted == truth):.3f}")
        self.stdout.write(f"  {'category':<14}{'precision':>10}{'recall':>8}{'pictures':>10}")
        for i, name in enumerate(classifier.CLASSES):
            said, real = predicted == i, truth == i
            hits = int((said & real).sum())
            precision = f"{hits / said.sum():.2f}" if said.any() else "-"
            recall = f"{hits / real.sum():.2f}" if real.any() else "-"
            self.stdout.write(f"  {name:<14}{precision:>10}{recall:>8}{int(real.sum()):>10}")
        if other.any():
            self.stdout.write(f"  other photographs called illustration: {drawn} of {int(other.sum())}")


def split(groups, labels, feats, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Held-out rows, stratified by category, whole scenes at a time.

    A scene is a file-name group (``name~k``) joined with every near-copy of it in the same category, so the
    test does not reward remembering a picture seen in training.
    """
    scene = _near_copy_scenes(groups, labels, feats)
    rng = random.Random(seed)
    test = np.zeros(len(labels), bool)
    for label in np.unique(labels):
        names, sizes = np.unique(scene[labels == label], return_counts=True)
        order = list(range(len(names)))
        rng.shuffle(order)
        wanted, taken = test_fraction * sizes.sum(), 0
        for i in order[:-1]:  # always leave one scene to train on; skip scenes that would overshoot
            if taken + sizes[i] <= wanted:
                test |= scene == names[i]
                taken += sizes[i]
        if not taken and len(names) > 1 and test_fraction > 0:  # only big scenes: hold out the smallest
            test |= scene == names[np.argmin(sizes)]
    return ~test, test


def _near_copy_scenes(groups, labels, feats) -> np.ndarray:
    unit = feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
    parent = {g: g for g in groups}

    def root(g):
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        close = np.argwhere(np.triu(unit[rows] @ unit[rows].T, 1) > NEAR_COPY_SIMILARITY)
        for a, b in close:
            parent[root(groups[rows[a]])] = root(groups[rows[b]])
    return np.array([root(g) for g in groups])


def _rows(data: dict, rows: np.ndarray):
    signals = [s for s, keep in zip(data["signals"], rows, strict=True) if keep]
    return data["features"][rows], data["probs"][rows], signals


def _open(path: Path) -> Image.Image:
    with Image.open(path) as image:
        image.draft("RGB", (448, 448))
        return ImageOps.exif_transpose(image).convert("RGB")
