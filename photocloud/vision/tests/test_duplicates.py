"""Near-duplicates with the real model on real photographs: grouping edited copies, merging, the review page."""

import io
import re
from pathlib import Path

import numpy as np
import pytest
from django.core.cache import caches
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, PngImagePlugin
from skimage import data as samples

from photocloud.library import services as library
from photocloud.library import trash
from photocloud.library.models import Album, Photo
from photocloud.library.storage import rendition_name
from photocloud.vision import duplicates, faces, services
from photocloud.vision.duplicates import find_groups, merge
from photocloud.vision.models import PhotoAnalysis
from tests import images

pytestmark = [pytest.mark.vision, pytest.mark.usefixtures("vision_on")]


def _copies(name: str) -> dict[str, bytes]:
    """What people keep next to an original: a smaller copy, a re-compressed one, a slight crop, a quarter turn."""
    image = images.photo(name)
    width, height = image.size
    dx, dy = width * 5 // 200, height * 5 // 200  # 5% in all, half on each side
    return {
        "resized": images.encode(image.resize((width // 2, height // 2), Image.Resampling.LANCZOS), quality=90),
        "quality60": images.encode(image, quality=60),
        "cropped": images.encode(image.crop((dx, dy, width - dx, height - dy)), quality=90),
        "rotated": images.encode(image.rotate(90, expand=True), quality=90),
    }


def _upload(client, upload, album, files: dict[str, bytes]) -> dict[str, Photo]:
    response = upload(client, [(f"{name}.jpg", data) for name, data in files.items()], album)
    assert response.status_code in (200, 201), response.json()
    photos = [Photo.objects.get(pk=result["photo"]["id"]) for result in response.json()["results"]]
    assert PhotoAnalysis.objects.filter(photo__in=photos).count() == len(photos)
    return dict(zip(files, photos, strict=True))


@pytest.fixture
def alices(alice, api, upload):
    """Alice's library: four different photographs, four edited copies of the cat and a turned copy of the coffee."""
    album = library.create_album(alice, title="Mixed", category="misc", access="private")
    files = {name: images.jpeg(name) for name in ("cat", "coffee", "rocket", "astronaut")}
    files.update({f"cat-{kind}": data for kind, data in _copies("cat").items()})
    files["coffee-rotated"] = _copies("coffee")["rotated"]
    return album, _upload(api, upload, album, files)


@pytest.fixture
def bobs_cat(bob, upload):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(bob)
    album = library.create_album(bob, title="Bob's", category="misc", access="public")
    return _upload(client, upload, album, {"cat": images.jpeg("cat"), "cat-copy": _copies("cat")["quality60"]})


def test_edited_copies_are_grouped_with_their_original_and_nothing_else(alices, monkeypatch):
    _, photos = alices
    groups = {frozenset(photo.pk for photo in group.photos): group for group in find_groups(alices[0].owner)}
    cats = frozenset(photo.pk for name, photo in photos.items() if name.startswith("cat"))
    coffees = frozenset({photos["coffee"].pk, photos["coffee-rotated"].pk})
    assert set(groups) == {cats, coffees}  # rocket and astronaut are in no group
    group = groups[cats]
    pixels = [(photo.width * photo.height, photo.file_size) for photo in group.photos]
    assert pixels[0] == max(pixels)  # the suggestion: most pixels, then the largest file
    assert group.keep.pk not in group.likeness and not group.identical
    for photo in group.others:  # why each was grouped, and how alike, in words and a percentage
        percent, reasons, _ = group.likeness[photo.pk]
        assert 90 <= percent <= 100 and reasons
    assert "Turned a quarter" in group.likeness[photos["cat-rotated"].pk][1]
    assert "Cropped" in group.likeness[photos["cat-cropped"].pk][1]

    # The library changes (here its analysis): the groups are worked out again, but how two contents line up is
    # remembered (the costly part), so no pair is aligned again.
    def no_alignment(*args):
        raise AssertionError("a pair of contents was aligned twice")

    monkeypatch.setattr(duplicates, "match", no_alignment)
    PhotoAnalysis.objects.filter(photo=photos["rocket"]).update(updated_at=timezone.now())
    assert {frozenset(photo.pk for photo in group.photos) for group in find_groups(alices[0].owner)} == set(groups)
    monkeypatch.undo()

    # What large libraries do (compare within k-means buckets) finds the same groups here; its recall is measured
    # on 20k vectors instead.
    caches["duplicates"].clear()
    monkeypatch.setattr(duplicates, "EXACT_LIMIT", 4)
    assert {frozenset(photo.pk for photo in group.photos) for group in find_groups(alices[0].owner)} == set(groups)


def test_the_review_cache_has_room_for_the_pairs_of_hundreds_of_look_alikes(tmp_path):
    """Django's file cache keeps 300 entries unless told, culling at random: 300 phone pictures of a few scenes make
    about 2,300 candidate pairs, and the review page aligned nearly all of them again after each change (91 s of CPU).
    """
    from django.core.cache.backends.filebased import FileBasedCache

    from photocloud import settings as project

    config = project.CACHES["duplicates"]
    assert config["BACKEND"].endswith("FileBasedCache") and config["LOCATION"] != project.CACHES["default"]["LOCATION"]
    store = FileBasedCache(str(tmp_path), config)
    for n in range(400):
        store.set(f"pair{n}", n, timeout=None)
    assert len(store.get_many([f"pair{n}" for n in range(400)])) == 400


def test_another_users_pictures_are_never_grouped_with_mine(alices, bobs_cat, bob):
    mine = {photo.pk for group in find_groups(alices[0].owner) for photo in group.photos}
    assert not mine & {photo.pk for photo in bobs_cat.values()}
    (bobs,) = find_groups(bob)
    assert {photo.pk for photo in bobs.photos} == {photo.pk for photo in bobs_cat.values()}


def test_merge_carries_tags_description_category_and_cover_then_deletes(
    alices, api, upload, bobs_cat, django_capture_on_commit_callbacks
):
    album, photos = alices
    edits = library.create_album(album.owner, title="Edits", category="misc", access="private")
    turned = _upload(api, upload, edits, {"cat-turned": images.encode(images.photo("cat").rotate(-90, expand=True))})
    keep, small, turned = photos["cat"], photos["cat-resized"], turned["cat-turned"]
    library.update_photo(keep, description="Chelsea on the sofa.", tags=["cat"])
    library.update_photo(small, description="Sent to grandma.", category="pets", tags=["cat", "family"])
    library.update_photo(turned, description="Chelsea on the sofa.", tags=["sofa"])
    library.update_album(album, cover=small)
    assert Album.objects.get(pk=edits.pk).cover == turned

    with django_capture_on_commit_callbacks(execute=True):
        merge(keep, [small, turned])

    keep.refresh_from_db()
    assert sorted(keep.tags.values_list("name", flat=True)) == ["cat", "family", "sofa"]
    assert keep.description == "Chelsea on the sofa.\n\nSent to grandma."
    assert keep.category == "pets" and keep.album == album
    assert Album.objects.get(pk=album.pk).cover == keep
    assert Album.objects.get(pk=edits.pk).cover is None
    assert set(Photo.objects.in_trash_of(album.owner)) == {small, turned}  # restorable
    assert default_storage.exists(rendition_name(small.sha256, "s"))
    with django_capture_on_commit_callbacks(execute=True):
        trash.delete_forever(album.owner)
    assert not Photo.objects.filter(pk__in=[small.pk, turned.pk]).exists()
    assert not default_storage.exists(rendition_name(small.sha256, "s"))  # nobody else refers to these bytes
    with pytest.raises(ValueError):
        merge(keep, [bobs_cat["cat"]])
    assert Photo.objects.filter(pk=bobs_cat["cat"].pk).exists()


def test_review_page_for_the_owner_only(alices, bobs_cat, client, alice, bob):
    assert client.get("/library/duplicates/").status_code == 302  # to the login page
    client.force_login(alice)
    page = client.get("/library/duplicates/").content.decode()
    assert "Merge the ticked pictures into the kept one" in page and str(alices[1]["cat-rotated"].pk) in page
    assert "checked" not in page  # nothing is chosen for deletion: these are copies, not the same pixels
    assert "Turned a quarter" in page and "% of its pixels unchanged from the first" in page  # why, and how alike
    assert str(bobs_cat["cat"].pk) not in page and str(alices[1]["rocket"].pk) not in page
    client.force_login(bob)
    PhotoAnalysis.objects.filter(photo=bobs_cat["cat-copy"]).delete()
    assert "No near-duplicates found" in client.get("/library/duplicates/").content.decode()


def test_merge_through_the_page_and_never_someone_elses(alices, bobs_cat, client, alice):
    photos = alices[1]
    client.force_login(alice)
    theirs = {"keep": str(photos["cat"].pk), "merge": [str(photos["cat-resized"].pk), str(bobs_cat["cat"].pk)]}
    assert client.post("/library/duplicates/merge/", theirs).status_code == 404
    assert (
        client.post(
            "/library/duplicates/merge/", {"keep": str(bobs_cat["cat"].pk), "merge": [str(photos["cat"].pk)]}
        ).status_code
        == 404
    )
    assert Photo.objects.filter(pk__in=[photos["cat-resized"].pk, bobs_cat["cat"].pk]).count() == 2

    mine = {"keep": str(photos["coffee"].pk), "merge": [str(photos["coffee"].pk), str(photos["coffee-rotated"].pk)]}
    response = client.post("/library/duplicates/merge/", mine, follow=True)
    assert response.redirect_chain[-1][0].startswith("/library/duplicates/")
    assert "merged into it and moved to the Trash" in response.content.decode()
    assert "Undo" in response.content.decode()
    assert list(Photo.objects.in_trash_of(alice)) == [photos["coffee-rotated"]]


def test_a_group_said_to_be_different_is_not_shown_again(alices, bobs_cat, client, alice):
    photos = alices[1]
    coffees = [photos["coffee"], photos["coffee-rotated"]]
    client.force_login(alice)
    # Never someone else's pictures.
    assert (
        client.post(
            "/library/duplicates/distinct/", {"member": [str(coffees[0].pk), str(bobs_cat["cat"].pk)]}
        ).status_code
        == 404
    )
    response = client.post("/library/duplicates/distinct/", {"member": [str(photo.pk) for photo in coffees]})
    assert response.status_code == 302
    groups = [{photo.pk for photo in group.photos} for group in find_groups(alice)]
    assert {photo.pk for photo in coffees} not in groups
    assert any(photos["cat"].pk in group for group in groups)  # other groups stay
    assert Photo.objects.filter(pk__in=[photo.pk for photo in coffees]).count() == 2  # nothing deleted


def _page(lines: list[str]) -> Image.Image:
    return images.document_page(lines, size=(620, 877))


def test_pictures_of_the_same_kind_are_never_grouped(alice, api, upload):
    """Pages of one layout with other words, and different faces framed alike, are different pictures; a smaller
    copy of a page is the same one."""
    album = library.create_album(alice, title="Kinds", category="misc", access="private")
    invoice = ["INVOICE No. 2024-0117", "Date: 17 May 2024", "Photo book, A4     2     48.00", "Total due   138.40"]
    other = ["INVOICE No. 2024-0342", "Date: 2 June 2024", "Canvas print      1     35.50", "Total due    42.40"]
    faces = samples.lfw_subset()
    portraits = {
        f"face-{n}": Image.fromarray((faces[n] * 255).astype("uint8")).resize((300, 300)).convert("RGB")
        for n in (0, 50, 120)  # three different people, framed alike
    }
    files = {
        "invoice": images.encode(_page(invoice), "PNG"),
        "invoice-small": images.encode(_page(invoice).resize((310, 438), Image.Resampling.LANCZOS), quality=85),
        "other-invoice": images.encode(_page(other), "PNG"),
        **{name: images.encode(picture, quality=92) for name, picture in portraits.items()},
    }
    photos = _upload(api, upload, album, files)
    groups = [{photo.pk for photo in group.photos} for group in find_groups(alice)]
    assert groups == [{photos["invoice"].pk, photos["invoice-small"].pk}]


def test_only_the_same_pixels_are_preselected(alice, api, upload, client):
    """The same pixels in two files (a PNG saved again with a note) are ticked for merging; nothing else is."""
    album = library.create_album(alice, title="Same", category="misc", access="private")
    note = PngImagePlugin.PngInfo()
    note.add_text("Comment", "saved again")
    picture = images.photo("rocket")
    photos = _upload(
        api,
        upload,
        album,
        {"rocket": images.encode(picture, "PNG"), "rocket-again": images.encode(picture, "PNG", pnginfo=note)},
    )
    (group,) = find_groups(alice)
    assert group.identical and group.likeness[group.others[0].pk][:2] == (100, "The same pixels")
    client.force_login(alice)
    page = client.get("/library/duplicates/").content.decode()
    assert "2 identical pictures" in page
    ticked = re.findall(r'name="merge" value="([^"]+)" checked', page)
    assert ticked == [str(group.others[0].pk)] and str(group.keep.pk) != ticked[0]
    assert set(photos) == {"rocket", "rocket-again"}


def test_faces_must_be_the_same_people():
    astronaut = images.photo("astronaut")
    same = faces.identities(astronaut)
    assert len(same) == 1
    assert faces.same_people(
        same, faces.identities(astronaut.resize((256, 256)).rotate(90, expand=True).rotate(-90, expand=True))
    )
    assert not faces.same_people(same, faces.identities(images.photo("rocket")))  # a face against none


def test_the_review_compares_faces_stored_at_analysis_without_loading_a_model(alice, api, upload, client, monkeypatch):
    """Analysis stores who the faces are; the review page only reads them (DESIGN: read requests never load models),
    groups a turned copy of a portrait by its pixels, and leaves out a picture analysed before identities were stored
    rather than compute them."""
    album = library.create_album(alice, title="Portraits", category="misc", access="private")
    astronaut = images.photo("astronaut")
    photos = _upload(
        api,
        upload,
        album,
        {
            "astronaut": images.encode(astronaut, quality=92),
            "astronaut-copy": images.encode(astronaut, quality=75),
            "astronaut-turned": images.encode(astronaut.rotate(90, expand=True), quality=90),
            "rocket": images.jpeg("rocket"),
        },
    )
    stored = {
        name: faces.decode_identities(PhotoAnalysis.objects.get(photo=photo).face_identities)
        for name, photo in photos.items()
    }
    upright, turned = stored["astronaut"], stored["astronaut-turned"]
    # On its side the face is found, but its landmarks do not align it: the identity says "someone else", so the
    # review judges the turned copy by its pixels.
    assert len(upright) == 1 and len(turned) == 1 and len(stored["rocket"]) == 0
    assert faces.same_people(upright, stored["astronaut-copy"]) and not faces.same_people(upright, turned)

    def no_model():
        raise AssertionError("a read request loaded a face model")

    monkeypatch.setattr(faces, "_get_detector", no_model)
    monkeypatch.setattr(faces, "_recognizer", no_model)
    caches["duplicates"].clear()
    client.force_login(alice)
    page = client.get("/library/duplicates/")
    assert page.status_code == 200
    portraits = {photos[name].pk for name in ("astronaut", "astronaut-copy", "astronaut-turned")}
    assert [{photo.pk for photo in group.photos} for group in page.context["page"]] == [portraits]

    # Without stored identities the unturned copy is not proposed (the turned one, left unanalysed, is not looked at).
    PhotoAnalysis.objects.filter(photo=photos["astronaut-turned"]).delete()
    PhotoAnalysis.objects.filter(photo=photos["astronaut-copy"]).update(face_identities=None)
    caches["duplicates"].clear()
    assert find_groups(alice) == []
    # What `photocloud analyze` does next:
    assert set(services.pictures_to_analyse()) == {photos["astronaut-copy"], photos["astronaut-turned"]}


def _seen(image: Image.Image) -> duplicates.Pixels:
    """What the review reads of a picture: its small rendition (320 px, JPEG), as stored at upload."""
    small = image.convert("RGB")
    small.thumbnail((320, 320), Image.Resampling.LANCZOS)
    return duplicates.thumbnail(Image.open(io.BytesIO(images.encode(small, quality=82))))


def _verdict(first: Image.Image, second: Image.Image):
    # The features' cosine only chooses candidates (tested above with the real model); here every pair is one.
    return duplicates.verdict(1.0, _seen(first), _seen(second), lambda turn: True, (first.size, second.size))


def _captioned(image: Image.Image, text="Summer 2024") -> Image.Image:
    image = image.convert("RGB").copy()
    width, height = image.size
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", max(12, height // 14))
    ImageDraw.Draw(image).text(
        (width // 20, height * 4 // 5), text, fill="white", font=font, stroke_width=1, stroke_fill="black"
    )
    return image


def test_a_caption_written_over_a_copy_is_an_edit_in_one_place():
    cat = images.photo("cat")
    found = _verdict(cat, _captioned(cat))
    assert found is not None and found.reasons == "Edited in one place (text or a mark added)"
    assert found.match.local and 80 <= found.percent < 100  # most of the picture is untouched
    # The same caption over another photograph is not a copy of the cat, nor are two different photographs.
    assert _verdict(cat, _captioned(images.photo("coffee"))) is None
    assert _verdict(images.photo("astronaut"), images.photo("rocket")) is None


def test_a_caption_over_a_busy_picture_is_an_edit_in_one_place():
    """The caption's white letters skew a brightness fit of all the pixels; fitted again where nothing else changed,
    the rest of a picture full of detail (a deep field of galaxies) reads as unchanged."""
    galaxies = Image.fromarray(samples.hubble_deep_field())
    found = _verdict(galaxies, _captioned(galaxies))
    assert found is not None and found.reasons == "Edited in one place (text or a mark added)"
    assert _verdict(galaxies, _captioned(images.photo("rocket"))) is None


def test_two_small_fruits_on_one_surface_are_not_copies():
    """A red apple and a raspberry in one place of the same surface: few pixels differ, but they hold the
    picture's detail, so this is not a copy resampled differently. Copies of the apple are still found."""
    apple, raspberry = (Image.open(PICTURES / f"fruit_{name}.jpg").convert("RGB") for name in ("apple", "raspberry"))
    assert _verdict(apple, raspberry) is None
    width, height = apple.size
    assert _verdict(apple, apple.resize((width // 2, height // 2), Image.Resampling.LANCZOS)) is not None
    assert _verdict(apple, _crop(apple, 0.025)) is not None


def test_a_smaller_page_of_text_is_the_same_page_and_other_words_are_not():
    invoice = ["INVOICE No. 2024-0117", "Date: 17 May 2024", "Photo book, A4     2     48.00", "Total due   138.40"]
    other = ["INVOICE No. 2024-0342", "Date: 2 June 2024", "Canvas print      1     35.50", "Total due    42.40"]
    page = _page(invoice)
    width, height = page.size
    smaller = _verdict(page, page.resize((width // 2, height // 2), Image.Resampling.LANCZOS))
    assert smaller is not None and "Resized" in smaller.reasons
    assert _verdict(page, _page(other)) is None
    assert _verdict(page, _page(other).resize((width // 2, height // 2), Image.Resampling.LANCZOS)) is None


def test_crops_of_a_page_of_small_text_are_found_and_another_page_is_not():
    """Small text only agrees, once a crop is scaled back, at the small rendition's own size (DETAIL_SIDE)."""
    page = images.document_page()
    other = images.document_page(
        [
            *("INVOICE No. 2024-0342", "Photocloud Printing Ltd, 12 Harbour Street", "Date: 2 June 2024", ""),
            *("Description                 Qty     Price", "Calendar, A3 portrait        1     22.00"),
            *("Poster 50 x 70               3     27.00", "Shipping                      1      4.90", ""),
            *("Total due                           53.90", "Payment within thirty days of the invoice date."),
        ]
    )
    for share in (0.025, 0.05):
        found = _verdict(page, _crop(page, share))
        assert found is not None and "Cropped" in found.reasons
    assert _verdict(page, _crop(other, 0.05)) is None


def test_a_photograph_cropped_by_a_tenth_is_found():
    astronaut = images.photo("astronaut")
    width, height = astronaut.size
    found = _verdict(astronaut, astronaut.crop((width // 20, height // 20, width - width // 20, height - height // 20)))
    assert found is not None and "Cropped" in found.reasons and found.percent >= 90


def test_a_caption_never_says_all_unchanged_once_something_changed():
    coffee = images.photo("coffee")
    # Brighter by 15 %: a few pixels changed in one place even once brightness is fitted (0.2 % of the picture).
    found = _verdict(coffee, ImageEnhance.Brightness(coffee).enhance(1.15))
    assert found is not None and found.match.edited > 0 and "edited in one place" in found.reasons
    assert found.percent == 99 and not found.caption.startswith("100%")


def test_brightness_is_told_and_a_turned_copy_still_found():
    coffee = images.photo("coffee")
    brighter = _verdict(coffee, ImageEnhance.Brightness(coffee).enhance(1.15))
    assert brighter is not None and "Colours or brightness changed" in brighter.reasons
    # Every pixel changed with the brightness: the page must not call them "100% unchanged" (a user saw just that).
    assert "unchanged" not in brighter.caption and "apart from colours and brightness" in brighter.caption
    turned = _verdict(coffee, coffee.rotate(180, expand=True))
    assert turned is not None and "Turned upside down" in turned.reasons and turned.percent >= 95


PICTURES = Path(__file__).parent / "pictures"


def _crop(image: Image.Image, share: float) -> Image.Image:
    width, height = image.size
    return image.crop(
        (round(width * share), round(height * share), round(width * (1 - share)), round(height * (1 - share)))
    )


@pytest.mark.parametrize("name", ["clipart_stickmen.jpg", "clipart_yoga.jpg"])
def test_crops_of_a_thin_line_drawing_are_found(name):
    """Scaling a crop back softens thin strokes: that alone is not an edit (both are softened alike before the
    pixels are compared), so 5 % and 10 % crops of an openclipart drawing are found; another drawing is not."""
    drawing = Image.open(PICTURES / name).convert("RGB")
    for share in (0.025, 0.05):
        found = _verdict(drawing, _crop(drawing, share))
        assert found is not None and "Cropped" in found.reasons and found.percent >= 95
    other = Image.open(PICTURES / ("clipart_yoga.jpg" if name == "clipart_stickmen.jpg" else "clipart_stickmen.jpg"))
    assert _verdict(drawing, other.convert("RGB")) is None


def test_a_darker_drawing_of_the_same_outline_is_not_a_copy():
    """Same strokes, other ink: the grey levels scale by far more than a brightness edit does."""
    drawing = Image.open(PICTURES / "clipart_yoga.jpg").convert("RGB")
    lighter = Image.eval(drawing, lambda value: 255 - (255 - value) // 2)  # half the ink, the same lines
    assert _verdict(drawing, lighter) is None
    assert _verdict(drawing, ImageEnhance.Brightness(drawing).enhance(1.15)) is not None


def test_when_a_face_is_missed_in_one_picture_only_the_same_pixels_group_them():
    """The detector can miss a face in a smaller copy: the faces then cannot tell (None), and only pixels that are
    the same everywhere (hardly any changed) group the pair; someone else's face (False) never does."""
    astronaut = images.photo("astronaut")
    upright = faces.identities(astronaut)
    turned = faces.identities(astronaut.rotate(90, expand=True))  # found on its side, not aligned: "someone else"
    nobody = faces.identities(images.photo("rocket"))
    assert faces.compare_people(upright, upright) is True
    assert faces.compare_people(upright, nobody) is None and faces.compare_people(nobody, upright) is None
    assert faces.compare_people(upright, turned) is False
    assert faces.compare_people(np.vstack([upright, turned]), upright) is None  # one of two faces missed

    def judged(first, second, people):
        return duplicates.verdict(1.0, _seen(first), _seen(second), lambda turn: people, (first.size, second.size))

    smaller = astronaut.resize((astronaut.width // 2, astronaut.height // 2), Image.Resampling.LANCZOS)
    assert judged(astronaut, smaller, None) is not None
    assert judged(astronaut, smaller, False) is None
    # A caption (an edit in one place, more than a few pixels changed) is not enough when the faces cannot tell.
    cat = images.photo("cat")
    assert judged(cat, _captioned(cat), True) is not None and judged(cat, _captioned(cat), None) is None


def test_copies_in_no_album_say_they_are_in_the_library(alice, api, client, django_capture_on_commit_callbacks):
    """Pictures uploaded into the library alone (no album) were captioned with an empty link (href="", no name: what
    a screen reader announces as "link", and what axe-core reports) after a dangling "·"."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = [("cat.jpg", images.jpeg("cat")), ("cat.png", images.encode(images.photo("cat"), "PNG"))]
    payload = {"file": [SimpleUploadedFile(name, data) for name, data in files], "library": "true"}
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/photos/upload/", payload, format="multipart").status_code in (200, 201)
    assert not Photo.objects.filter(owner=alice, album__isnull=False).exists()
    client.force_login(alice)
    page = client.get("/library/duplicates/").content.decode()
    assert "2 identical pictures" in page or "2 near-identical pictures" in page
    assert 'href=""' not in page
    assert page.count('<a href="/library/">My library</a>') == 2
