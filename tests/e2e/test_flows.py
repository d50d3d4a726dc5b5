"""End-to-end flows in real Chromium, through the pages only, as a user would: sign up, create albums, upload real
photographs with EXIF (drag and drop and the file picker), browse them, and share or hide them with access levels.

Run: python -m pytest tests/e2e  (PHOTOCLOUD_SCREENSHOTS=1 also saves screenshots into tests/e2e/screenshots/).
"""

import io
import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests import images

from .ui import (
    create_album,
    drop_files,
    pick_files,
    queue_item,
    register,
    set_access,
    status_of,
    upload_queue,
    wait_images_loaded,
)

pytestmark = pytest.mark.e2e

TILES = ":is(.grid, .justified) a.tile img"
PHONE = {"width": 390, "height": 844}


def _photo(owner_name, original_name):
    from photocloud.library.models import Photo

    return Photo.objects.select_related("album").get(owner__username=owner_name, original_name=original_name)


def _files_of(photo):
    """The URLs of a picture's renditions and original."""
    return [f"/photos/{photo.pk}/{size}" for size in ("s", "m", "l", "original")]


def _no_horizontal_scroll(page, width):
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width + 2, f"{page.url} scrolls sideways on a {width}px screen: {scroll_width}px wide"


def test_register_create_drop_upload_browse_and_make_private(new_context, tmp_path, screenshot):
    from photocloud.library.models import Album, Photo

    # --- a new user signs up and creates a public album ------------------------------------------------------------
    owner_context = new_context()
    page = owner_context.new_page()
    register(page, "olivia")
    page.get_by_text("Welcome to Photocloud, olivia!").wait_for()
    album = create_album(
        page,
        "Paris in May",
        category="Landscape",
        tags="paris, Travel, summer",
        description="A long weekend by the Seine.",
        access="Everyone",
    )
    head = page.locator(".page-head")
    assert page.get_by_text("Album “Paris in May” created.").is_visible()
    assert head.locator("h1").inner_text() == "Paris in May"
    assert head.locator(".category").inner_text() == "Landscape"
    assert sorted(head.locator(".tag").all_inner_texts()) == ["paris", "summer", "travel"]
    assert head.locator(".access").inner_text() == "Everyone"
    assert "A long weekend by the Seine." in head.inner_text()
    assert page.get_by_text("No pictures in this album yet.").is_visible()

    # --- three camera JPEGs from the user's disk are dragged onto the drop zone -----------------------------------
    originals = {
        "cat.jpg": images.jpeg("cat", gps=(48.8584, 2.2945)),
        "coffee.jpg": images.jpeg("coffee", make="FUJIFILM", model="X-T4", taken=datetime(2024, 5, 18, 9, 15, 0)),
        "astronaut.jpg": images.jpeg("astronaut"),
    }
    for name, data in originals.items():
        (tmp_path / name).write_bytes(data)
    drop_files(page, [(name, (tmp_path / name).read_bytes()) for name in originals])

    queue = page.locator("#queue li")
    assert queue.count() == 3
    assert wait_images_loaded(page, "#queue li img") == 3  # previews of the files themselves, before any upload
    assert page.locator("#upload-start").inner_text() == "Upload 3 pictures"
    assert queue_item(page, "cat.jpg").locator(".result").inner_text() == "Ready to upload"

    queue_item(page, "astronaut.jpg").get_by_role("button", name="Remove astronaut.jpg").click()
    assert queue.count() == 2
    assert page.locator("#upload-start").inner_text() == "Upload 2 pictures"
    queue_item(page, "coffee.jpg").get_by_label("Use coffee.jpg as cover").check()
    screenshot(page, "01-upload-queue")

    upload_queue(page, expected_stored=2)
    for name in ("cat.jpg", "coffee.jpg"):
        result = queue_item(page, name).locator(".result").inner_text()
        assert result.startswith("Stored"), f"{name}: {result}"
    assert page.locator("#upload-summary").inner_text().startswith("2 stored, 0 already there, 0 rejected.")
    assert page.locator("#upload-start").is_disabled()  # nothing left to send
    screenshot(page, "02-upload-done")

    stored = Photo.objects.filter(owner__username="olivia")
    assert sorted(stored.values_list("original_name", flat=True)) == ["cat.jpg", "coffee.jpg"]
    assert set(stored.values_list("status", flat=True)) == {"ready"}
    cat, coffee = _photo("olivia", "cat.jpg"), _photo("olivia", "coffee.jpg")
    assert Album.objects.get(pk=album).cover_id == coffee.pk  # the one marked as cover, not the first stored

    # --- the album page shows real thumbnails ---------------------------------------------------------------------
    page.reload()
    assert wait_images_loaded(page, TILES) == 2
    assert page.locator(f'{TILES}[src="/photos/{cat.pk}/s"]').count() == 1
    screenshot(page, "03-album")
    page.goto("/albums/")
    card = page.locator("a.card", has_text="Paris in May")
    assert "2 pictures" in card.inner_text()
    assert card.locator("img").get_attribute("src") == f"/photos/{coffee.pk}/m"
    wait_images_loaded(page, "a.card img")

    # --- the picture page shows the EXIF, and the owner sees where it was taken -----------------------------------
    page.goto(f"/albums/{album}/")
    page.locator('a.tile[title="cat"]').click()
    page.wait_for_url(f"**/photos/{cat.pk}/")
    wait_images_loaded(page, ".viewer img")
    exif = page.locator("dl.exif").inner_text()
    for expected in ("17 May 2024, 14:30", "Canon EOS R6", "RF 50mm F1.8 STM", "1/250", "f/2.8", "ISO 400", "50 mm"):
        assert expected in exif, f"{expected!r} missing from the picture's metadata:\n{exif}"
    assert page.locator("dd.gps").inner_text() == "48.85840, 2.29450"
    assert page.locator(".info h1").inner_text() == "cat"
    assert page.get_by_role("button", name="Use as album cover").is_visible()  # cat is not the cover
    screenshot(page, "04-photo-owner")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download original").click()
    download = download_info.value
    assert download.suggested_filename == "cat.jpg"
    assert Path(download.path()).read_bytes() == originals["cat.jpg"]  # the original is kept byte-exact

    page.get_by_role("link", name="← Previous").click()  # newer picture in the album: coffee, taken a day later
    page.wait_for_url(f"**/photos/{coffee.pk}/")
    exif = page.locator("dl.exif").inner_text()
    assert "FUJIFILM X-T4" in exif and "18 May 2024, 09:15" in exif
    assert page.locator("dd.gps").count() == 0  # this one has no GPS at all
    assert page.get_by_role("button", name="Use as album cover").count() == 0  # already the cover
    assert page.get_by_role("link", name="Next →").get_attribute("href") == f"/photos/{cat.pk}/"

    # --- while the album is public: another user and an anonymous visitor see it, but not the GPS -----------------
    other_context = new_context()
    other = other_context.new_page()
    register(other, "bruno")
    anonymous_context = new_context()
    anonymous = anonymous_context.new_page()
    for visitor, context in ((other, other_context), (anonymous, anonymous_context)):
        assert visitor.goto(f"/albums/{album}/").status == 200
        assert visitor.locator("h1").inner_text() == "Paris in May"
        assert visitor.locator("#uploader").count() == 0
        assert visitor.get_by_role("link", name="Edit", exact=True).count() == 0
        assert wait_images_loaded(visitor, TILES) == 2
        assert visitor.goto(f"/photos/{cat.pk}/").status == 200
        assert "Canon EOS R6" in visitor.locator("dl.exif").inner_text()
        assert visitor.locator("dd.gps").count() == 0
        assert "Location" not in visitor.locator("dl.exif dt").all_inner_texts()
        assert "48.858" not in visitor.content() and "2.2945" not in visitor.content()
        for url in _files_of(cat):
            assert status_of(context, url) == 200, url
        for size in ("s", "m", "l"):  # renditions carry no EXIF, so no GPS either
            rendition = context.request.get(f"/photos/{cat.pk}/{size}")
            assert rendition.headers["content-type"] == "image/jpeg"
            assert not Image.open(io.BytesIO(rendition.body())).getexif().get_ifd(0x8825), size
    screenshot(other, "05-photo-other-user")
    assert other.goto("/").status == 200
    assert other.locator("a.card", has_text="Paris in May").count() == 1

    # --- the owner makes it "Only me": nobody else can see the album, the pictures, or their files ------------------
    set_access(page, album, "Only me")
    assert page.locator(".page-head .access").inner_text() == "Only me"
    for visitor, context in ((other, other_context), (anonymous, anonymous_context)):
        assert visitor.goto(f"/albums/{album}/").status == 404
        assert visitor.goto(f"/photos/{cat.pk}/").status == 404
        for photo in (cat, coffee):
            for url in _files_of(photo) + [f"/photos/{photo.pk}/original?download=1"]:
                assert status_of(context, url) == 404, url
        assert visitor.goto("/u/olivia/").status == 200
        assert visitor.get_by_text("No albums to show.").is_visible()
        visitor.goto("/")
        assert visitor.locator("a.card", has_text="Paris in May").count() == 0
    screenshot(other, "06-private-album-404")
    # ... while the owner still can.
    assert page.goto(f"/photos/{cat.pk}/").status == 200
    for url in _files_of(cat):
        assert status_of(owner_context, url) == 200, url


def test_followers_album_is_shown_once_you_follow(new_context, tmp_path, screenshot):
    owner = new_context().new_page()
    register(owner, "fiona")
    album = create_album(owner, "Garden", category="landscape", access="Only me")
    (tmp_path / "rocket.jpg").write_bytes(images.jpeg("rocket"))
    pick_files(owner, [tmp_path / "rocket.jpg"])
    upload_queue(owner, expected_stored=1)
    set_access(owner, album, "My followers")
    assert owner.locator(".page-head .access").inner_text() == "My followers"
    rocket = _photo("fiona", "rocket.jpg")
    album_url, thumbnail = f"/albums/{album}/", f"/photos/{rocket.pk}/s"

    fan_context = new_context()
    fan = fan_context.new_page()
    register(fan, "gus")
    anonymous_context = new_context()
    assert fan.goto(album_url).status == 404
    assert status_of(fan_context, thumbnail) == 404

    fan.goto("/u/fiona/")
    assert fan.get_by_text("No albums to show.").is_visible()
    assert "0 followers" in fan.locator(".profile-head .meta").inner_text()
    fan.get_by_role("button", name="Follow", exact=True).click()
    fan.get_by_text("You now follow fiona.").wait_for()
    assert "1 follower " in fan.locator(".profile-head .meta").inner_text()
    assert fan.get_by_role("button", name="Unfollow").is_visible()
    card = fan.locator("a.card", has_text="Garden")
    assert "My followers" in card.inner_text()
    wait_images_loaded(fan, "a.card img")
    screenshot(fan, "07-profile-followed")

    card.click()
    fan.wait_for_url(f"**{album_url}")
    assert wait_images_loaded(fan, TILES) == 1
    for url in _files_of(rocket):
        assert status_of(fan_context, url) == 200, url
    # Followers only: still nothing for the anonymous visitor.
    assert anonymous_context.new_page().goto(album_url).status == 404
    for url in _files_of(rocket):
        assert status_of(anonymous_context, url) == 404, url

    # Unfollowing takes the access away again.
    fan.goto("/u/fiona/")
    fan.get_by_role("button", name="Unfollow").click()
    fan.get_by_text("You no longer follow fiona.").wait_for()
    assert fan.goto(album_url).status == 404
    assert status_of(fan_context, thumbnail) == 404


def test_file_picker_upload_reports_rejected_files(page, tmp_path, screenshot):
    from photocloud.library import trash
    from photocloud.library.models import Photo

    register(page, "hana")
    create_album(page, "Mixed bag", category="food")
    files = {
        "good.jpg": images.jpeg("coffee"),
        "truncated.jpg": images.truncated_jpeg(),
        "notes.jpg": b"Shopping list: coffee, bread, cheese.\n" * 20,
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    pick_files(page, [tmp_path / name for name in files])
    assert page.locator("#queue li").count() == 3
    upload_queue(page, expected_stored=1)
    screenshot(page, "08-upload-rejections")

    def result(name):
        return queue_item(page, name).locator(".result")

    assert result("good.jpg").inner_text().startswith("Stored")
    assert re.fullmatch(r"Rejected: The picture is damaged.+", result("truncated.jpg").inner_text())
    assert result("notes.jpg").inner_text().startswith("Rejected: This is not a picture Photocloud can read.")
    for name in ("truncated.jpg", "notes.jpg"):
        assert "rejected" in result(name).get_attribute("class")
    assert page.locator("#upload-summary").inner_text().startswith("1 stored, 0 already there, 2 rejected.")
    assert list(Photo.objects.filter(owner__username="hana").values_list("original_name", flat=True)) == ["good.jpg"]

    # The same file again is recognised, not stored twice.
    page.locator("#upload-clear").click()
    assert page.locator("#queue-panel").is_hidden()
    with page.expect_file_chooser() as chooser:  # this time through the "choose files" button
        page.get_by_text("choose files").click()
    chooser.value.set_files(tmp_path / "good.jpg")
    page.locator("#upload-start").click()
    result("good.jpg").filter(has_text="Already in your library").wait_for()
    assert page.locator("#upload-summary").inner_text().startswith("0 stored, 1 already there, 0 rejected.")

    # Deleted, then the same file again: it comes back from the Trash, and the queue says so (it said "Already in
    # your library" of a picture the owner had deleted).
    good = Photo.objects.get(owner__username="hana")
    trash.trash_photos(good.owner, [good.pk])
    page.locator("#upload-clear").click()
    pick_files(page, [tmp_path / "good.jpg"])
    page.locator("#upload-start").click()
    result("good.jpg").filter(has_text="Restored from the Trash").wait_for()

    page.reload()
    assert wait_images_loaded(page, TILES) == 1
    assert Photo.objects.filter(owner__username="hana").count() == 1


def test_phone_sized_screen(new_context, tmp_path, screenshot):
    context = new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    register(page, "ines")
    _no_horizontal_scroll(page, PHONE["width"])
    album = create_album(
        page,
        "Summer holidays in the mountains above Lake Geneva, with the whole family",
        category="landscape",
        tags="mountains, lake, family, holidays, summer, hiking",
        description="Three weeks of walking, swimming and eating far too much cheese.",
    )
    for index, name in enumerate(("cat", "coffee", "rocket", "astronaut")):
        (tmp_path / f"{name}.jpg").write_bytes(images.jpeg(name, taken=datetime(2024, 7, 1 + index, 10, 0)))
    pick_files(page, sorted(tmp_path.glob("*.jpg")))
    _no_horizontal_scroll(page, PHONE["width"])
    screenshot(page, "09-phone-upload-queue")
    upload_queue(page, expected_stored=4)
    _no_horizontal_scroll(page, PHONE["width"])

    page.goto(f"/albums/{album}/")
    assert wait_images_loaded(page, TILES) == 4
    _no_horizontal_scroll(page, PHONE["width"])
    screenshot(page, "10-phone-album")

    page.goto("/library/")
    assert wait_images_loaded(page, TILES) == 4
    assert page.locator("#timeline section.day").count() == 4
    _no_horizontal_scroll(page, PHONE["width"])
    screenshot(page, "11-phone-timeline")

    page.locator(TILES).first.click()
    page.wait_for_url(re.compile(r"/photos/[0-9a-f-]{36}/$"))
    wait_images_loaded(page, ".viewer img")
    _no_horizontal_scroll(page, PHONE["width"])
    assert page.evaluate("document.querySelector('.viewer img').getBoundingClientRect().right") <= PHONE["width"]
    screenshot(page, "12-phone-photo")

    for url in ("/albums/", "/", "/u/ines/", f"/albums/{album}/edit/", "/library/dates/", "/library/themes/"):
        assert page.goto(url).status == 200
        _no_horizontal_scroll(page, PHONE["width"])

    # The main navigation is behind the menu button (the header keeps one row), on screen and works with taps.
    nav = page.get_by_role("navigation", name="Main")
    page.get_by_role("button", name="Menu").tap()
    for name in ("Library", "Albums", "Dates", "Themes", "Explore"):
        link = nav.get_by_role("link", name=name, exact=True)
        assert link.is_visible()
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"{name} is off screen: {box}"
    nav.get_by_role("link", name="Albums", exact=True).tap()
    page.wait_for_url("**/albums/")
    assert page.locator("a.card").count() == 1
    page.get_by_role("button", name="Menu").tap()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Library", exact=True).tap()
    page.wait_for_url("**/library/")
    # The Tools and account menus open and their entries fit on the screen.
    page.get_by_role("button", name="Menu").tap()
    nav.locator("details.menu summary").tap()
    assert nav.get_by_role("link", name="Duplicates").is_visible()
    box = nav.locator(".menu-items").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, f"tools menu off screen: {box}"
    nav.locator("details.menu summary").tap()  # closed again
    page.locator(".account details.menu summary").tap()
    log_out = page.get_by_role("button", name="Log out")
    assert log_out.is_visible()
    box = page.locator(".account .menu-items").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, f"account menu off screen: {box}"
    screenshot(page, "13-phone-menu")
    log_out.tap()
    page.wait_for_url(lambda url: "/library/" not in url)
    _no_horizontal_scroll(page, PHONE["width"])


def test_delete_album_moving_its_pictures(page, tmp_path, screenshot):
    from photocloud.library.models import Album, Photo

    register(page, "jon")
    keep = create_album(page, "Keepers", category="animal")
    old = create_album(page, "Old trip", category="animal")
    for name in ("cat", "astronaut"):
        (tmp_path / f"{name}.jpg").write_bytes(images.jpeg(name))
    pick_files(page, sorted(tmp_path.glob("*.jpg")))
    upload_queue(page, expected_stored=2)
    moved = set(Photo.objects.filter(album_id=old).values_list("pk", flat=True))
    assert len(moved) == 2

    page.goto(f"/albums/{old}/")
    page.get_by_role("link", name="Delete", exact=True).click()
    page.wait_for_url(f"**/albums/{old}/delete/")
    assert page.locator("h1").inner_text() == "Delete “Old trip”?"
    assert "This album holds 2 pictures" in page.locator("main").inner_text()
    page.get_by_label("Move the pictures to another album").check()
    page.get_by_role("button", name="Delete album").click()  # forgot to say where to
    page.get_by_text("Choose the album that receives the pictures.").wait_for()
    assert Album.objects.filter(pk=old).exists()
    screenshot(page, "14-delete-album-confirm")

    page.get_by_label("Move the pictures to another album").check()
    page.locator("select[name=move_to]").select_option(label="Keepers")
    page.get_by_role("button", name="Delete album").click()
    page.wait_for_url("**/albums/")
    page.get_by_text("Album deleted; its 2 pictures are now in “Keepers”.").wait_for()
    assert page.locator("a.card").count() == 1
    assert "2 pictures" in page.locator("a.card", has_text="Keepers").inner_text()
    assert page.goto(f"/albums/{old}/").status == 404

    page.goto(f"/albums/{keep}/")
    assert wait_images_loaded(page, TILES) == 2
    assert not Album.objects.filter(pk=old).exists()
    assert set(Photo.objects.filter(album_id=keep).values_list("pk", flat=True)) == moved

    # Deleting the other album with its pictures moves them to the Trash, with an Undo toast for a few seconds.
    page.get_by_role("link", name="Delete", exact=True).click()
    assert "cannot be" not in page.locator("main").inner_text()
    page.get_by_label("Move the pictures to the Trash too").check()
    page.get_by_role("button", name="Delete album").click()
    page.wait_for_url("**/albums/")
    toast = page.get_by_test_id("undo-toast")
    expect(toast).to_contain_text("Album “Keepers” and its 2 pictures moved to the Trash.")
    assert page.get_by_text("You have no albums yet.").is_visible()
    assert not Photo.objects.visible_to(Album.objects.get(pk=keep).owner).exists()
    for pk in moved:
        assert status_of(page.context, f"/photos/{pk}/s") == 404
    screenshot(page, "15-undo-toast")
    toast.get_by_role("button", name="Undo").click()
    page.wait_for_url(f"**/albums/{keep}/")
    page.get_by_text("2 pictures restored to their album.").wait_for()
    assert wait_images_loaded(page, TILES) == 2

    # Deleted again, the toast goes away by itself; the Trash page (in the Tools menu) restores the album.
    page.get_by_role("link", name="Delete", exact=True).click()
    page.get_by_label("Move the pictures to the Trash too").check()
    page.get_by_role("button", name="Delete album").click()
    page.wait_for_url("**/albums/")
    expect(page.get_by_test_id("undo-toast")).to_be_hidden(timeout=15_000)
    page.get_by_text("Tools", exact=True).click()
    page.get_by_role("link", name="Trash", exact=True).click()
    page.wait_for_url("**/trash/")
    assert page.get_by_test_id("trashed-photo").count() == 2
    assert "Purged on" in page.get_by_test_id("trashed-photo").first.inner_text()
    assert wait_images_loaded(page, ".trash-item img") == 2
    screenshot(page, "16-trash")
    album_row = page.get_by_test_id("trashed-album")
    expect(album_row).to_contain_text("Keepers")
    album_row.get_by_role("button", name="Restore album").click()
    page.wait_for_url(f"**/albums/{keep}/")
    assert wait_images_loaded(page, TILES) == 2
    assert set(Photo.objects.filter(album_id=keep, trashed_at__isnull=True).values_list("pk", flat=True)) == moved
    page.goto("/trash/")
    page.get_by_text("The Trash is empty.").wait_for()


@pytest.mark.vision
def test_upload_preview_shows_the_automatic_category(page, tmp_path, settings):
    """With the real models, the category Photocloud sees appears in the upload queue as soon as it is known."""
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "VISION": True}
    register(page, "iris")
    create_album(page, "Pets", category="misc")
    (tmp_path / "cat.jpg").write_bytes(images.jpeg("cat"))
    pick_files(page, [tmp_path / "cat.jpg"])
    upload_queue(page, expected_stored=1)
    result = queue_item(page, "cat.jpg").locator(".result")
    expect(result).to_contain_text("animal", timeout=30_000)
    page.goto(page.url)
    page.locator(".tile img").first.click()
    expect(page.locator(".seen")).to_contain_text("Animal")
    page.get_by_role("link", name="Find similar", exact=True).click()
    expect(page.get_by_role("heading", name="Similar pictures")).to_be_visible()


def test_upload_queue_says_what_photocloud_saw_as_the_picture_page_does(page, tmp_path):
    """The queue says a category it is sure of, a guess as "maybe", and the "none of these" class as none: an empty
    category was shown as " · (24%)", and guesses as facts. The analyses are real rows, written as the first poll of
    each picture reaches the server (vision is off in these tests, so nothing overwrites them)."""
    from photocloud.library.models import Photo
    from photocloud.vision.models import PhotoAnalysis, encode_features

    seen = {"sure.jpg": ("animal", 0.77), "guess.jpg": ("illustration", 0.47), "none.jpg": ("", 0.24)}

    def analyse_then_answer(route):
        photo = Photo.objects.get(pk=route.request.url.rstrip("/").rsplit("/", 1)[-1])
        category, confidence = seen[photo.original_name]
        PhotoAnalysis.objects.get_or_create(
            photo=photo,
            defaults={"category": category, "confidence": confidence, "features": encode_features(np.zeros(1280))},
        )
        route.continue_()

    page.route(re.compile(r"/api/photos/[0-9a-f-]{36}/$"), analyse_then_answer)
    register(page, "quinn")
    create_album(page, "Seen", category="misc")
    for name in seen:
        (tmp_path / name).write_bytes(images.unique_jpeg("cat", token=name))
    pick_files(page, [tmp_path / name for name in seen])
    upload_queue(page, expected_stored=3)
    expect(queue_item(page, "sure.jpg").locator(".result")).to_have_text("Stored · ready · animal (77%)")
    expect(queue_item(page, "guess.jpg").locator(".result")).to_have_text(
        "Stored · ready · maybe anime / illustration (47%)"
    )
    expect(queue_item(page, "none.jpg").locator(".result")).to_have_text(
        "Stored · ready · none of the usual categories"
    )
