"""Classes users teach: few-shot learning on the real CNN features."""

import numpy as np
import pytest
from PIL import ImageEnhance, ImageOps

from photocloud.library import services as library
from photocloud.library.models import Photo
from photocloud.vision import taught
from photocloud.vision.models import PhotoAnalysis, TaughtClassifier
from tests import images

pytestmark = [pytest.mark.vision, pytest.mark.usefixtures("vision_on")]


def _shot(name: str, seed: int) -> bytes:
    """Another shot of the same subject: a different crop, exposure and sometimes a mirror image."""
    image = images.photo(name)
    w, h = image.size
    dx, dy = (seed * 7) % (w // 6), (seed * 5) % (h // 6)
    image = image.crop((dx, dy, dx + w * 5 // 6, dy + h * 5 // 6))
    image = ImageEnhance.Brightness(image).enhance(0.8 + 0.1 * (seed % 4))
    if seed % 2:
        image = ImageOps.mirror(image)
    return images.encode(image, "JPEG", quality=85)


def test_fit_learns_separable_classes():
    rng = np.random.default_rng(0)
    centres = rng.random((3, 1280)).astype(np.float32) * 4
    vectors = np.vstack([centre + rng.normal(0, 0.5, (4, 1280)) for centre in centres]).astype(np.float32)
    labels = np.repeat(np.arange(3), 4)
    weights = taught.fit(vectors, labels, 3)
    queries = (centres + rng.normal(0, 0.5, centres.shape)).astype(np.float32)
    predicted, confidence = taught.predict(weights, queries)
    assert list(predicted) == [0, 1, 2] and (confidence > 0.5).all()


def test_a_user_teaches_two_categories_and_gets_suggestions(
    alice, api, upload, client, django_capture_on_commit_callbacks
):
    album = library.create_album(alice, title="Camera roll", category="misc", access="private")
    shots = [(f"cat{i}.jpg", _shot("cat", i)) for i in range(4)] + [
        (f"coffee{i}.jpg", _shot("coffee", i)) for i in range(4)
    ]
    response = upload(api, shots, album)
    assert response.json()["stored"] == 8
    by_name = {photo.original_name: photo for photo in Photo.objects.filter(owner=alice)}

    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/library/teach/", {"name": "drinks", "photos": [str(by_name["coffee0.jpg"].pk)]})
    assert "1 picture is now “drinks”. Photocloud learns it once 3 analysed pictures have it: pick 2 more." in (
        client.get(response.url).content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/library/teach/", {"name": "Pets", "photos": [str(by_name[f"cat{i}.jpg"].pk) for i in range(3)]}
        )
    assert not TaughtClassifier.objects.filter(owner=alice).exists()  # it takes two categories
    assert "3 pictures are now “pets”. Photocloud learns it once another category has 3 pictures too" in (
        client.get(response.url).content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/library/teach/", {"name": "drinks", "photos": [str(by_name[f"coffee{i}.jpg"].pk) for i in range(1, 3)]}
        )
    assert response.status_code == 302
    assert "2 pictures are now “drinks”. Photocloud is learning it" in client.get(response.url).content.decode()
    classifier = TaughtClassifier.objects.get(owner=alice)
    assert classifier.examples == {"pets": 3, "drinks": 3}

    # The held-back shots were never labelled: the system suggests the right category beside the user's own.
    assert PhotoAnalysis.objects.get(photo=by_name["cat3.jpg"]).taught_category == "pets"
    assert PhotoAnalysis.objects.get(photo=by_name["coffee3.jpg"]).taught_category == "drinks"
    assert Photo.objects.get(pk=by_name["cat3.jpg"].pk).category == ""  # never written into the user's field

    # New pictures are suggested as they arrive.
    (new,) = [
        Photo.objects.get(pk=r["photo"]["id"])
        for r in upload(api, [("new.jpg", _shot("cat", 11))], album).json()["results"]
    ]
    assert api.get(f"/api/photos/{new.pk}/").json()["analysis"]["taught_category"] == "pets"
    page = client.get(f"/photos/{new.pk}/").content.decode()
    assert "Your categories suggest" in page and "pets" in page
    # A picture like none of them gets no suggestion.
    (other,) = [
        Photo.objects.get(pk=r["photo"]["id"])
        for r in upload(api, [("a.jpg", images.jpeg("astronaut"))], album).json()["results"]
    ]
    assert PhotoAnalysis.objects.get(photo=other).taught_category == ""


def test_teach_page_only_offers_my_pictures(alice, bob, api, upload, client):
    album = library.create_album(bob, title="Bob's", category="misc", access="public")
    from rest_framework.test import APIClient

    from photocloud.accounts.models import ApiToken

    bob_api = APIClient()
    bob_api.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(bob, 't')[1]}")
    (photo,) = [r["photo"]["id"] for r in upload(bob_api, [("b.jpg", images.jpeg())], album).json()["results"]]
    client.force_login(alice)
    response = client.post("/library/teach/", {"name": "stolen", "photos": [photo]})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert Photo.objects.get(pk=photo).category == ""
