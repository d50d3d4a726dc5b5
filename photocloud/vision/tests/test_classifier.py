"""The seven default categories with the real models on real pictures, and the command that trains the head."""

import random

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image, ImageOps
from skimage import data

from photocloud.vision import classifier, features, training_data

pytestmark = pytest.mark.vision


def _classify(images):
    analysis = features.analyze([image.copy() for image in images])
    signals = [classifier.picture_signals(image) for image in images]
    return classifier.classify(analysis.features, analysis.imagenet_probs, signals)


@pytest.fixture(scope="module")
def sample_categories():
    """scikit-image's photographs, none of which the shipped head was trained on."""
    pictures = {
        "cat": Image.fromarray(data.chelsea()),
        "page": Image.fromarray(data.page()).convert("RGB"),
        "astronaut": Image.fromarray(data.astronaut()),
        "rendered": training_data.render_document(random.Random(7)),
    }
    return dict(zip(pictures, _classify(list(pictures.values())), strict=True))


def test_a_cat_is_an_animal(sample_categories):
    category, confidence = sample_categories["cat"]
    assert category == "animal"
    assert 0.5 < confidence <= 1


def test_a_scanned_page_is_a_document(sample_categories):
    assert sample_categories["page"][0] == "document"


def test_a_rendered_photographed_page_is_a_document(sample_categories):
    assert sample_categories["rendered"][0] == "document"


def test_a_photo_of_a_person_is_a_portrait(sample_categories):
    assert sample_categories["astronaut"][0] == "portrait"


def test_confidences_are_probabilities():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(1000), size=3).astype(np.float32)
    signals = [classifier.Signals(0.0, False), classifier.Signals(0.3, False), classifier.Signals(0.0, True)]
    results = classifier.classify(rng.random((3, features.DIMENSION), np.float32), probs, signals)
    assert [category in classifier.CLASSES for category, _ in results] == [True] * 3
    assert all(0 < confidence <= 1 for _, confidence in results)


def _tiny_training_folder(root):
    """Three small pictures per category (and of another subject), cut from scikit-image's photos or drawn."""
    rng = random.Random(0)
    sources = {
        "portrait": Image.fromarray(data.astronaut()).crop((100, 0, 400, 300)),
        "landscape": Image.fromarray(
            np.repeat(np.linspace([90, 150, 230], [60, 120, 40], 300)[:, None], 300, 1).astype(np.uint8)
        ),
        "food": Image.fromarray(data.coffee()),
        "document": training_data.render_document(rng),
        "architecture": Image.fromarray(data.brick()).convert("RGB"),
        "animal": Image.fromarray(data.chelsea()),
        "illustration": Image.fromarray(data.logo()).convert("RGB"),
        "photo": Image.fromarray(data.rocket()),  # none of the seven: trained as "not an illustration"
    }
    for name, image in sources.items():
        (root / name).mkdir(parents=True)
        for k in range(3):
            w, h = image.size
            crop = image.crop((k * w // 10, k * h // 10, w - k * w // 12, h - k * h // 12))
            (ImageOps.mirror(crop) if k == 1 else crop).save(root / name / f"{name}{k}.jpg")


def test_train_classifier_writes_a_head_and_reports_each_category(tmp_path, capsys):
    _tiny_training_folder(tmp_path / "pictures")
    output = tmp_path / "head.npz"
    call_command("train_classifier", str(tmp_path / "pictures"), output=output, test_fraction=0.34, seed=1)

    printed = capsys.readouterr().out
    assert "Held out" in printed and "accuracy" in printed
    for name in classifier.CLASSES:
        assert name in printed
    head = classifier.Head.load(output)
    assert head.weights.shape[1] == len(classifier.CLASSES)
    assert output.stat().st_size < 2_000_000
