"""Vision in the product, with the real models: ingest → analysis → picture page, search by image, backfill."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image, ImageOps

from photocloud.library import services as library
from photocloud.library import trash
from photocloud.library.models import Photo
from photocloud.vision.models import PhotoAnalysis
from tests import images

pytestmark = [pytest.mark.vision, pytest.mark.usefixtures("vision_on")]


def _upload(api, upload, album, files):
    response = upload(api, files, album)
    assert response.status_code in (200, 201), response.json()
    return [Photo.objects.get(pk=r["photo"]["id"]) for r in response.json()["results"]]


def _edited_copy(name: str) -> bytes:
    """The same photograph rotated a quarter turn, resized and re-compressed: what a user's edit produces."""
    image = ImageOps.exif_transpose(images.photo(name)).rotate(90, expand=True)
    image = image.resize((image.width * 2 // 3, image.height * 2 // 3), Image.Resampling.LANCZOS)
    return images.encode(image, "JPEG", quality=70)


@pytest.fixture
def library_of_photos(alice, api, upload):
    album = library.create_album(alice, title="Mixed", category="misc", access="public")
    names = ["cat", "astronaut", "coffee", "rocket"]
    photos = _upload(api, upload, album, [(f"{name}.jpg", images.jpeg(name)) for name in names])
    return album, dict(zip(names, photos, strict=True))


def test_ingest_analyses_every_picture(library_of_photos, api):
    _, photos = library_of_photos
    cat = PhotoAnalysis.objects.get(photo=photos["cat"])
    assert cat.category == "animal" and 0 < cat.confidence <= 1
    assert any("cat" in label for label in cat.label_names)
    assert cat.vector.shape == (1280,)
    astronaut = PhotoAnalysis.objects.get(photo=photos["astronaut"])
    assert astronaut.category == "portrait" and len(astronaut.faces) == 1

    body = api.get(f"/api/photos/{photos['cat'].pk}/").json()
    assert body["analysis"]["category"] == "animal"
    assert body["category"] == "" and body["effective_category"] == "misc"  # the user's category is untouched


def test_picture_page_shows_what_photocloud_sees(library_of_photos, client):
    _, photos = library_of_photos
    page = client.get(f"/photos/{photos['cat'].pk}/").content.decode()
    assert "Photocloud sees" in page and "Animal" in page and "Find similar" in page


def test_document_text_is_read(alice, api, upload):
    album = library.create_album(alice, title="Papers", category="document", access="private")
    (page,) = _upload(api, upload, album, [("page.png", images.encode(images.document_page(), "PNG"))])
    seen = PhotoAnalysis.objects.get(photo=page)
    assert seen.category == "document"
    assert "invoice" in seen.text.lower()


@pytest.mark.parametrize("metric", ["l1", "cosine"])
def test_similar_finds_the_edited_copy_first(library_of_photos, api, upload, client, metric):
    album, photos = library_of_photos
    (copy,) = _upload(api, upload, album, [("cat-edit.jpg", _edited_copy("cat"))])
    results = api.get(f"/api/photos/{photos['cat'].pk}/similar/?metric={metric}").json()
    assert results[0]["photo"]["id"] == str(copy.pk)
    assert results[0]["similarity"] > results[-1]["similarity"] > 0  # a percentage people understand
    assert [r["distance"] for r in results] == sorted(r["distance"] for r in results)
    assert str(photos["cat"].pk) not in [r["photo"]["id"] for r in results]  # not the query itself

    page = client.get(f"/photos/{photos['cat'].pk}/similar/?metric={metric}&scope=all").content.decode()
    assert page.index(str(copy.pk)) < page.index(str(photos["coffee"].pk))


def test_search_by_uploaded_picture_is_not_stored(library_of_photos, api):
    _, photos = library_of_photos
    before = Photo.objects.count()
    query = SimpleUploadedFile("q.jpg", _edited_copy("coffee"))
    response = api.post(
        "/api/search/image/", {"picture": query, "metric": "cosine", "scope": "mine"}, format="multipart"
    )
    assert response.status_code == 200, response.json()
    assert response.json()[0]["photo"]["id"] == str(photos["coffee"].pk)
    assert Photo.objects.count() == before
    broken = api.post(
        "/api/search/image/", {"picture": SimpleUploadedFile("x.jpg", images.truncated_jpeg())}, format="multipart"
    )
    assert broken.status_code == 400 and "damaged" in str(broken.json())


def test_similar_results_respect_access_levels(library_of_photos, bob, api, upload, client):
    album, photos = library_of_photos
    hidden = library.create_album(album.owner, title="Private", category="misc", access="private")
    (secret,) = _upload(api, upload, hidden, [("cat-secret.jpg", _edited_copy("cat"))])
    client.force_login(bob)
    # bob may see the public cat; the private edited copy, its nearest neighbour, must not appear.
    results = client.get(f"/api/photos/{photos['cat'].pk}/similar/").json()
    assert results and str(secret.pk) not in [r["photo"]["id"] for r in results]
    assert client.get(f"/api/photos/{secret.pk}/similar/").status_code == 404
    # After deletion a picture never comes back from the index either.
    library.delete_photo(photos["coffee"])
    owner_results = api.get(f"/api/photos/{photos['cat'].pk}/similar/?scope=mine").json()
    assert str(photos["coffee"].pk) not in [r["photo"]["id"] for r in owner_results]


def test_a_trashed_picture_is_never_similar_nor_found_by_image(library_of_photos, api, upload, client, bob):
    album, photos = library_of_photos
    (copy,) = _upload(api, upload, album, [("cat-edit.jpg", _edited_copy("cat"))])
    assert api.get(f"/api/photos/{photos['cat'].pk}/similar/").json()[0]["photo"]["id"] == str(copy.pk)
    trash.trash_photos(album.owner, [copy.pk])
    client.force_login(bob)
    for viewer in (api, client):
        for scope in ("all", "mine"):
            results = viewer.get(f"/api/photos/{photos['cat'].pk}/similar/?scope={scope}").json()
            assert str(copy.pk) not in [r["photo"]["id"] for r in results]
        assert viewer.get(f"/api/photos/{copy.pk}/similar/").status_code == 404
        query = SimpleUploadedFile("q.jpg", _edited_copy("cat"))
        found = viewer.post("/api/search/image/", {"picture": query, "scope": "all"}, format="multipart").json()
        assert found and str(copy.pk) not in [r["photo"]["id"] for r in found]


@pytest.mark.parametrize("metric", ["l1", "cosine"])
def test_search_page_for_an_uploaded_picture(library_of_photos, client, alice, metric):
    """An edited copy finds its original first with either metric; people see how alike, not a raw distance."""
    client.force_login(alice)
    picture = SimpleUploadedFile("q.jpg", _edited_copy("rocket"))
    page = client.post("/search/image/", {"picture": picture, "metric": metric, "scope": "mine"}).content.decode()
    rocket = str(library_of_photos[1]["rocket"].pk)
    others = [str(photo.pk) for name, photo in library_of_photos[1].items() if name != "rocket"]
    assert rocket in page and all(page.index(rocket) < page.index(other) for other in others if other in page)
    caption = page[page.index(rocket) :].split("<figcaption>", 1)[1].split("</figcaption>", 1)[0]
    assert re.search(r">(Near-identical|Very similar|Similar) · \d{1,3}%</span>", caption), caption


def test_backfill_command_analyses_what_is_missing_and_resumes(library_of_photos, capsys):
    _, photos = library_of_photos
    PhotoAnalysis.objects.filter(photo__in=[photos["cat"], photos["rocket"]]).delete()
    call_command("analyze", batch_size=1)
    assert PhotoAnalysis.objects.count() == 4
    call_command("analyze")
    assert "Every picture is analysed" in capsys.readouterr().out


def test_analysis_never_overwrites_the_users_category(library_of_photos, api):
    _, photos = library_of_photos
    api.patch(f"/api/photos/{photos['cat'].pk}/", {"category": "pets"}, format="json")
    call_command("analyze", redo=True)
    photo = Photo.objects.get(pk=photos["cat"].pk)
    assert photo.category == "pets" and photo.analysis.category == "animal"


def test_a_burst_of_uploads_is_analysed_in_batches(alice, api, upload, settings, monkeypatch):
    """Whichever analysis task runs first takes the other waiting pictures along; later tasks find them done."""
    from photocloud.vision import services

    album = library.create_album(alice, title="Burst", category="misc", access="private")
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "VISION": False}  # ingest only: the analysis tasks wait
    photos = _upload(api, upload, album, [(f"{i}.jpg", images.variant("coffee", seed=i)) for i in range(3)])
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "VISION": True}
    batches = []
    analyze = services.analyze_photos
    monkeypatch.setattr(services, "analyze_photos", lambda ids: batches.append(len(ids)) or analyze(ids))
    assert services.analyze_waiting([photos[0].pk]) == 3  # one batch for all three
    assert services.analyze_waiting([photos[1].pk]) == 0  # nothing left to do
    assert batches == [3] and PhotoAnalysis.objects.filter(photo__in=photos).count() == 3


def test_similar_page_shows_the_scope_it_searched(library_of_photos, client, alice):
    _, photos = library_of_photos
    client.force_login(alice)
    page = client.get(f"/photos/{photos['cat'].pk}/similar/").content.decode()
    assert '<option value="all" selected>' in page and '<option value="l1" selected>' in page
