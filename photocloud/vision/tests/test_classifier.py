"""The seven default categories (or none) with the real models on real pictures the shipped head was never trained on,
its leave-one-source-out figures on the committed evaluation set, and the command that trains it."""

import random
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image
from skimage import data
from sklearn.datasets import load_sample_image

from photocloud.library.models import CONFIDENT_SYSTEM_CATEGORY
from photocloud.vision import classifier, evaluation, features, training_data

pytestmark = pytest.mark.vision
PICTURES = Path(__file__).parent / "pictures"  # how they were made: pictures/make.py


def _classify(images):
    analysis = features.analyze([image.copy() for image in images])
    signals = [classifier.picture_signals(image) for image in images]
    return classifier.classify(analysis.features, analysis.imagenet_probs, signals)


@pytest.fixture(scope="module")
def seen():
    pictures = {
        "cat": Image.fromarray(data.chelsea()),
        "page": Image.fromarray(data.page()).convert("RGB"),  # a scanned page
        "astronaut": Image.fromarray(data.astronaut()),
        "rendered": training_data.render_document(random.Random(7)),
        "flower": Image.fromarray(load_sample_image("flower.jpg")),  # a flower close-up
        "rocket": Image.fromarray(data.rocket()),  # none of the seven
        **{path.stem: Image.open(path).convert("RGB") for path in sorted(PICTURES.glob("*.jpg"))},
    }
    return dict(zip(pictures, _classify(list(pictures.values())), strict=True))


def test_a_cat_is_an_animal(seen):
    assert seen["cat"].category == "animal" and seen["cat"].confident
    assert seen["cat"].confidence <= 1


def test_a_photo_of_a_person_is_a_portrait(seen):
    assert seen["astronaut"].category == "portrait"


@pytest.mark.parametrize("name", ["page", "rendered", "chinese_invoice", "chinese_receipt", "phone_screenshot"])
def test_pages_receipts_and_screenshots_in_any_script_are_documents(seen, name):
    assert seen[name].category == "document", seen[name]


@pytest.mark.parametrize("name", ["anime_frame", "clipart_person"])
def test_drawn_people_are_illustrations_not_portraits(seen, name):
    assert seen[name].category == "illustration", seen[name]


def test_a_flower_close_up_is_not_an_animal_or_food(seen):
    assert seen["flower"].category not in ("animal", "food") or not seen["flower"].confident, seen["flower"]


def test_an_object_of_none_of_the_seven_gets_no_confident_category(seen):
    assert not seen["rocket"].confident, seen["rocket"]


def test_decisions_follow_the_calibrated_probability():
    def row(best, p):
        probs = np.full(len(classifier.OUTPUTS), (1 - p) / (len(classifier.OUTPUTS) - 1))
        probs[classifier.OUTPUTS.index(best)] = p
        return probs

    assert classifier.decide(row("food", 0.9)) == classifier.Decision("food", pytest.approx(0.9))
    assert classifier.decide(row("food", 0.9)).confident
    hint = classifier.decide(row("food", 0.45))
    assert hint.category == "food" and not hint.confident  # shown as "maybe food"
    assert classifier.decide(row("other", 0.9)).category == ""  # none of the seven
    assert classifier.CONFIDENT == CONFIDENT_SYSTEM_CATEGORY  # the library's themes use the same line


@pytest.fixture(scope="module")
def committed():
    return evaluation.load()


@pytest.mark.timeout(1800)  # 36 heads trained one after another: 7 CPU-minutes, 35 minutes on a loaded machine
def test_leave_one_source_out_on_the_committed_set(committed):
    """The figures reported in data/DATA.md, recomputed from the committed features (no CNN), a little under them."""
    result = evaluation.figures(
        evaluation.cross_fitted_probabilities(evaluation.leave_one_source_out(committed), committed), committed
    )
    assert len(np.unique(committed.sources)) >= 36
    assert result.macro_accuracy >= MACRO_AT_LEAST
    assert min(result.recall.values()) >= RECALL_AT_LEAST
    assert result.other_left_out >= OTHER_LEFT_OUT_AT_LEAST
    assert result.ece <= ECE_AT_MOST


# A little under what `photocloud train-classifier --evaluate` printed for the shipped set (data/DATA.md).
# Reported: macro 0.690, lowest recall 0.26 (portrait), other left out 0.905, ECE 0.051. Far under the issue's
# targets: these pin what is reached so that it does not get worse unnoticed.
MACRO_AT_LEAST = 0.67
RECALL_AT_LEAST = 0.23
OTHER_LEFT_OUT_AT_LEAST = 0.87
ECE_AT_MOST = 0.08


def _tiny_training_folder(root):
    """Three small pictures per category (and of another subject), from two made-up sources each."""
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
        "other": Image.fromarray(data.rocket()),
    }
    for name, image in sources.items():
        (root / name).mkdir(parents=True)
        for k in range(3):
            w, h = image.size
            crop = image.crop((k * w // 10, k * h // 10, w - k * w // 12, h - k * h // 12))
            crop.save(root / name / f"source{k % 2}__{name}{k}.jpg")


def test_train_classifier_builds_the_set_writes_a_calibrated_head_and_evaluates(tmp_path, capsys):
    _tiny_training_folder(tmp_path / "pictures")
    output, kept = tmp_path / "head.npz", tmp_path / "set.npz"
    call_command("train_classifier", pictures=tmp_path / "pictures", set=kept, output=output)
    head = classifier.Head.load(output)
    assert head.weights.shape[1] == len(classifier.OUTPUTS)
    assert 0.25 <= float(head.temperature) <= 8
    assert evaluation.load(kept).labels.tolist().count(classifier.OUTPUTS.index("other")) == 3

    capsys.readouterr()
    call_command("train_classifier", set=kept, evaluate=True)
    printed = capsys.readouterr().out
    assert "Leave-one-source-out" in printed and "macro accuracy" in printed and "ECE" in printed
    for name in classifier.CLASSES:
        assert name in printed


def test_train_classifier_adds_sources_to_the_set_and_replaces_their_earlier_rows(tmp_path):
    _tiny_training_folder(tmp_path / "pictures")
    kept = tmp_path / "set.npz"
    call_command("train_classifier", pictures=tmp_path / "pictures", set=kept, output=tmp_path / "head.npz")
    before = evaluation.load(kept)
    added = tmp_path / "added"
    (added / "food").mkdir(parents=True)
    Image.fromarray(data.coffee()).save(added / "food" / "newsource__coffee.jpg")
    Image.fromarray(data.coffee()).crop((0, 0, 300, 300)).save(added / "food" / "source0__coffee-crop.jpg")

    call_command("train_classifier", add_pictures=added, set=kept, output=tmp_path / "head.npz")
    after = evaluation.load(kept)
    assert sorted(set(after.sources)) == ["newsource", "source0", "source1"]
    assert (after.sources == "source1").sum() == (before.sources == "source1").sum()  # untouched
    assert (after.sources == "source0").sum() == 1  # rebuilt from the added folder only
    assert after.labels[after.sources == "newsource"].tolist() == [classifier.OUTPUTS.index("food")]
    assert np.array_equal(after.features[after.sources == "source1"], before.features[before.sources == "source1"])


def test_train_classifier_refuses_a_folder_of_unknown_categories(tmp_path):
    from django.core.management import CommandError

    (tmp_path / "cars").mkdir()
    Image.fromarray(data.rocket()).save(tmp_path / "cars" / "x__rocket.jpg")
    with pytest.raises(CommandError, match="expected pictures"):
        call_command("train_classifier", pictures=tmp_path, set=tmp_path / "set.npz", output=tmp_path / "h.npz")
