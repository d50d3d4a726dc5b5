"""A picture the system puts in one of its owner's own classes is found by that class's name, and stops being found
when the suggestion goes; nobody who may not see the picture finds it that way."""

import numpy as np
import pytest

from photocloud.library import services as library
from photocloud.library.models import Photo
from photocloud.search import selectors
from photocloud.vision import taught
from photocloud.vision.models import PhotoAnalysis
from photocloud.vision.tests.test_taught import _shot
from tests.factories import album, ids, photo

pytestmark = pytest.mark.usefixtures("no_meaning")

RNG = np.random.default_rng(3)
MUG, BIKE = RNG.normal(0, 1, (2, 1280)).astype(np.float32)  # two subjects: near-orthogonal CNN features


def _near(centre: np.ndarray) -> np.ndarray:
    """Another shot of the same subject."""
    return centre + RNG.normal(0, 0.3, centre.shape).astype(np.float32)


def _found(viewer, q: str) -> set:
    return ids(selectors.search(viewer, q=q).results[0:50])


def _reasons(viewer, q: str, picture) -> list[str]:
    return selectors.search(viewer, q=q).reasons([picture])[picture.pk]


@pytest.fixture
def vision_enabled(settings):
    """Labelling pictures queues the training only when vision is on (tasks run in-process in the tests)."""
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "VISION": True}


@pytest.mark.usefixtures("vision_enabled")
def test_a_picture_in_a_taught_class_is_found_by_its_name(alice, bob, client):
    roll = album(alice, access="private", title="Camera roll", category="misc")
    mugs = [photo(roll, analysis={"features": _near(MUG)}) for _ in range(3)]
    bikes = [photo(roll, analysis={"features": _near(BIKE)}) for _ in range(3)]
    unlabelled = photo(roll, title="IMG_0007", analysis={"features": _near(MUG)})
    stranger = photo(roll, title="IMG_0008", analysis={"features": RNG.normal(0, 1, 1280)})
    assert _found(alice, "mugs") == set()

    client.force_login(alice)
    for name, pictures in (("Mugs", mugs), ("bicycles", bikes)):
        response = client.post("/library/teach/", {"name": name, "photos": [str(p.pk) for p in pictures]})
        assert response.status_code == 302
    assert PhotoAnalysis.objects.get(photo=unlabelled).taught_category == "mugs"
    assert PhotoAnalysis.objects.get(photo=stranger).taught_category == ""

    assert _found(alice, "mugs") == ids([*mugs, unlabelled])
    assert "your class “mugs”" in _reasons(alice, "mugs", unlabelled)
    assert _reasons(alice, "mugs", mugs[0]) == ["category “mugs”"]  # the owner's own label, not said twice
    assert _found(bob, "mugs") == set()  # a private picture, whatever it is classed as

    # A new picture is suggested (and indexed) as it is analysed, like services.analyze_photos does.
    arrived = photo(roll, title="IMG_0009", analysis={"features": _near(BIKE)})
    taught.refresh(alice, PhotoAnalysis.objects.filter(photo=arrived))
    assert _found(alice, "bicycles") == ids([*bikes, arrived])

    # The owner renames a class: the suggestions follow it into the index.
    response = client.post("/library/teach/", {"name": "cycling", "photos": [str(p.pk) for p in bikes]})
    assert response.status_code == 302
    assert _found(alice, "bicycles") == set() and _found(alice, "cycling") == ids([*bikes, arrived])

    # With one class left there is nothing to tell it from: the suggestions go, and so do the matches.
    library.set_category(alice, bikes, "")
    assert _found(alice, "mugs") == ids(mugs) and _found(alice, "cycling") == set()


@pytest.mark.vision
@pytest.mark.usefixtures("vision_on")
def test_a_new_upload_classed_by_the_real_models_is_found(alice, api, upload, client):
    roll = album(alice, access="private", title="Camera roll", category="misc")
    shots = [(f"{subject}{i}.jpg", _shot(subject, i)) for subject in ("cat", "coffee") for i in range(3)]
    assert upload(api, shots, roll).json()["stored"] == 6
    client.force_login(alice)
    for name, subject in (("pets", "cat"), ("drinks", "coffee")):
        chosen = [str(p.pk) for p in Photo.objects.filter(owner=alice, original_name__startswith=subject)]
        assert client.post("/library/teach/", {"name": name, "photos": chosen}).status_code == 302

    (new,) = [
        Photo.objects.get(pk=r["photo"]["id"])
        for r in upload(api, [("IMG_0042.jpg", _shot("cat", 11))], roll).json()["results"]
    ]
    assert new.pk in _found(alice, "pets")
    assert "your class “pets”" in _reasons(alice, "pets", new)
