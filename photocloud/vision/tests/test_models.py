"""The real offline models on real pictures: scikit-image's sample photos and documents rendered here."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from skimage import data

from photocloud.vision import faces, features, labels, ocr

pytestmark = pytest.mark.vision

SENTENCE = "The quick brown fox jumps over the lazy dog"
CAT_NAMES = {"tabby cat", "striped cat", "egyptian mau", "persian cat", "siamese cat"}


def _photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(data, name)())


def _jpeg(image: Image.Image, quality: int = 60, **save_options) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, **save_options)
    return Image.open(io.BytesIO(buffer.getvalue()))


def _render(lines, size=(1000, 700), font_size=28, ink="black", paper="white") -> Image.Image:
    try:
        font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", font_size)
    except OSError:
        font = ImageFont.load_default(size=font_size)
    page = Image.new("RGB", size, paper)
    draw = ImageDraw.Draw(page)
    for number, line in enumerate(lines):
        draw.text((60, 60 + number * 2 * font_size), line, fill=ink, font=font)
    return page


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture(scope="module")
def photos():
    return {name: _photo(name) for name in ("chelsea", "astronaut", "coffee", "rocket")}


@pytest.fixture(scope="module")
def document():
    return _render(["Invoice 4711", SENTENCE, "Photocloud reads the text in pictures.", "Total amount due: 129.50 EUR"])


@pytest.fixture(scope="module")
def screenshot():
    """A dark-themed chat window: small light text."""
    messages = [f"{who}: {SENTENCE.lower()} and message {n} is a little longer" for n, who in enumerate("ab" * 10)]
    return _render(messages, size=(1280, 800), font_size=14, ink=(220, 220, 220), paper=(30, 30, 30))


@pytest.fixture(scope="module")
def seen(photos):
    """One batch through the CNN for the feature tests: the four photos, then altered copies of the cat."""
    cat = photos["chelsea"]
    altered = [
        _jpeg(cat.resize((225, 150)), quality=40),
        _jpeg(cat.rotate(90, expand=True), exif=_orientation_exif(6)),
        cat.convert("RGBA"),
        cat.convert("L"),
    ]
    return features.analyze(list(photos.values()) + altered, batch_size=3)


def _orientation_exif(orientation: int) -> Image.Exif:
    """EXIF that tells viewers how to turn the stored pixels; 6 undoes a quarter turn counter-clockwise."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif


def test_a_cat_gets_a_cat_label_and_finite_features(photos):
    analysis = features.analyze([photos["chelsea"]])
    assert analysis.features.shape == (1, features.DIMENSION)
    assert analysis.features.dtype == np.float32 and np.isfinite(analysis.features).all()
    assert analysis.imagenet_probs.shape == (1, 1000)
    assert analysis.imagenet_probs.sum() == pytest.approx(1.0, abs=1e-4)
    name, probability = labels.top_labels(analysis.imagenet_probs[0])[0]
    assert name in CAT_NAMES and probability > 0.3


def test_other_photos_get_fitting_labels(seen):
    top = [labels.top_labels(row, threshold=0.05)[0][0] for row in seen.imagenet_probs[1:4]]
    assert top[1:] == ["espresso", "missile"]


def test_altered_copies_are_much_closer_than_other_photos(seen):
    cat, others, copies = seen.features[0], seen.features[1:4], seen.features[4:]
    assert max(_cosine(cat, other) for other in others) < 0.3  # measured: at most 0.15
    for copy in copies:
        assert _cosine(cat, copy) > 0.85  # measured: 0.89 small and re-compressed, 0.90 grey, 0.99 rotated


def test_a_batch_gives_the_same_answer_as_one_by_one(photos, seen):
    alone = features.analyze([photos["rocket"]])
    np.testing.assert_allclose(alone.features[0], seen.features[3], atol=1e-3)


def test_onnx_runtime_matches_torch_on_real_photos(photos, seen):
    """The ONNX export runs the packaged weights as torch does: features and ImageNet probabilities agree to 1e-4 on
    the sample photos and the altered copies (measured: 7e-6 and 8e-7), the same classes come first."""
    import torch

    from photocloud.vision.export_model import torch_model

    images = list(photos.values())
    pixels = np.stack([features._to_array(image.copy()) for image in images])
    with torch.no_grad():
        reference, probabilities = (output.numpy() for output in torch_model()(torch.from_numpy(pixels)))
    np.testing.assert_allclose(seen.features[: len(images)], reference, atol=1e-4)
    np.testing.assert_allclose(seen.imagenet_probs[: len(images)], probabilities, atol=1e-4)
    assert (seen.imagenet_probs[: len(images)].argmax(axis=1) == probabilities.argmax(axis=1)).all()


def test_the_onnx_file_is_exported_once_and_named_by_the_weights(tmp_path, monkeypatch, settings):
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "MODEL_DIR": tmp_path}
    path = features.model_file()
    assert path.parent == tmp_path and path.stat().st_size > 10_000_000
    written = path.stat().st_mtime_ns
    assert features.model_file() == path and path.stat().st_mtime_ns == written
    assert [item.name for item in tmp_path.iterdir() if item.suffix in (".onnx", ".part")] == [path.name]


def test_no_pictures_no_rows():
    analysis = features.analyze([])
    assert analysis.features.shape == (0, features.DIMENSION) and analysis.imagenet_probs.shape == (0, 1000)


def test_names_are_readable():
    names = labels.names()
    assert len(names) == 1000
    assert names[281] == "tabby cat" and names[967] == "espresso"
    assert all(name and name == name.lower() and "," not in name for name in names)


def test_top_labels_pool_shared_names_and_respect_threshold_and_limit():
    probs = np.zeros(1000, np.float32)
    probs[[657, 744]] = 0.3  # both are "missile"
    probs[281] = 0.2
    probs[0] = 0.05
    assert labels.top_labels(probs) == [("missile", pytest.approx(0.6)), ("tabby cat", pytest.approx(0.2))]
    assert labels.top_labels(probs, limit=1) == [("missile", pytest.approx(0.6))]
    assert labels.top_labels(probs, threshold=0.5) == [("missile", pytest.approx(0.6))]


def test_the_astronaut_has_one_face_where_her_face_is(photos):
    found = faces.detect(photos["astronaut"])
    assert len(found) == 1
    face = found[0]
    assert face.score > 0.8
    assert 150 < face.x < 220 and 30 < face.y < 100 and 60 < face.width < 130 and 80 < face.height < 150
    assert 0.02 < faces.largest_face_ratio(found, photos["astronaut"].size) < 0.08


def test_face_boxes_are_in_the_coordinates_of_a_big_picture(photos):
    small = faces.detect(photos["astronaut"])[0]
    big = faces.detect(photos["astronaut"].resize((2048, 2048)))
    assert len(big) == 1
    assert big[0].x == pytest.approx(4 * small.x, rel=0.1) and big[0].width == pytest.approx(4 * small.width, rel=0.1)


@pytest.mark.parametrize("name", ["chelsea", "coffee", "rocket"])
def test_no_human_face_in_a_cat_a_cup_or_a_rocket(photos, name):
    assert faces.detect(photos[name]) == []
    assert faces.largest_face_ratio([], photos[name].size) == 0.0


def test_the_rendered_document_is_read(document):
    text = ocr.read_text(document)
    assert SENTENCE in text
    assert "129.50" in text
    assert text.splitlines()[0] == "Invoice 4711"


def test_the_scanned_page_is_read():
    text = ocr.read_text(_photo("page"))
    assert "Region-based segmentation" in text
    assert "markers" in text


def test_a_sideways_phone_photo_of_a_document_is_read_upright(document):
    sideways = _jpeg(document.rotate(90, expand=True), quality=85, exif=_orientation_exif(6))
    assert SENTENCE in ocr.read_text(sideways)


def test_the_gate_lets_documents_through(document, screenshot):
    assert ocr.likely_has_text(document)
    ink_on_nothing = Image.new("RGBA", document.size, "black")
    ink_on_nothing.putalpha(document.convert("L").point(lambda value: 255 - value))
    assert ocr.likely_has_text(ink_on_nothing)
    assert ocr.likely_has_text(_photo("page"))
    assert ocr.likely_has_text(document.rotate(90, expand=True))
    assert ocr.likely_has_text(screenshot)
    on_a_table = _photo("coffee").resize((1600, 1067))
    on_a_table.paste(document.resize((1300, 910)), (150, 80))
    assert ocr.likely_has_text(on_a_table)


@pytest.mark.parametrize("name", ["chelsea", "astronaut", "coffee", "rocket", "camera", "grass", "brick"])
def test_the_gate_skips_ordinary_photos(name):
    assert not ocr.likely_has_text(_photo(name))
