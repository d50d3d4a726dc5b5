"""Select many in real Chromium: a Shift range moved to another album, added to a second album, downloaded as a ZIP
(checked byte for byte), deleted to the Trash with an Undo offer; upload from the timeline into the library alone."""

import io
import re
import zipfile

import pytest

from tests import images

from .ui import create_album, drop_files, register, upload_queue

pytestmark = pytest.mark.e2e


def _tiles(page):
    return page.locator("a.tile[data-photo-id]")


def _album_ids(album_id):
    from photocloud.library import selectors
    from photocloud.library.models import Album

    return {str(p.pk) for p in selectors.album_photos(Album.objects.get(pk=album_id))}


def _choose(page, title):
    page.locator("#bulk-album").select_option(label=title)


def test_select_a_range_move_add_download_and_delete(page):
    from photocloud.library.models import Photo

    page.set_default_timeout(90_000)  # the first album loads the search model: slow on a loaded machine
    register(page, "selma")
    best = create_album(page, "Best")
    second = create_album(page, "Second")
    trip = create_album(page, "Trip")
    originals = {f"pic{n}.jpg": images.variant("cat", seed=40 + n) for n in range(4)}
    drop_files(page, list(originals.items()))
    upload_queue(page, expected_stored=4)

    # --- click the first tile's mark, Shift+click the third: a range of three ---------------------------------------
    page.goto(f"/albums/{trip}/")
    assert _tiles(page).count() == 4
    ids = [_tiles(page).nth(n).get_attribute("data-photo-id") for n in range(4)]
    _tiles(page).nth(0).locator(".select-mark").click()
    _tiles(page).nth(2).locator(".select-mark").click(modifiers=["Shift"])
    assert page.locator("#bulk-count").inner_text() == "3 selected"
    assert page.locator("a.tile.selected").count() == 3

    # --- move them to "Best" ----------------------------------------------------------------------------------------
    _choose(page, "Best")
    page.get_by_role("button", name="Move", exact=True).click()
    page.wait_for_load_state("load")
    page.wait_for_function("() => document.querySelectorAll('a.tile[data-photo-id]').length === 1")
    assert _album_ids(best) == set(ids[:3]) and _album_ids(trip) == {ids[3]}

    # --- on "Best": everything, with the keyboard (Space, Shift+Space), added to "Second" as well ---------------------
    page.goto(f"/albums/{best}/")
    _tiles(page).nth(0).focus()
    page.keyboard.press("Space")
    _tiles(page).nth(2).focus()
    page.keyboard.press("Shift+Space")
    assert page.locator("#bulk-count").inner_text() == "3 selected"
    page.keyboard.press("Escape")
    assert page.locator("#bulk-bar").is_hidden()
    _tiles(page).nth(0).locator(".select-mark").click()
    _tiles(page).nth(2).click(modifiers=["Shift"])
    _choose(page, "Second")
    page.get_by_role("button", name="Add to album").click()
    page.wait_for_load_state("load")
    page.wait_for_function("() => !document.querySelector('#bulk-bar').hidden || true")
    page.wait_for_timeout(300)
    assert _album_ids(second) == set(ids[:3]) and _album_ids(best) == set(ids[:3])
    assert Photo.objects.filter(owner__username="selma").count() == 4  # placed, never copied

    # --- download the selection as a ZIP: the originals, byte for byte --------------------------------------------
    page.goto(f"/albums/{second}/")
    _tiles(page).nth(0).locator(".select-mark").click()
    _tiles(page).nth(2).locator(".select-mark").click(modifiers=["Shift"])
    with page.expect_download() as download:
        page.get_by_role("button", name="Download ZIP").click()
    with zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read())) as archive:
        got = {name: archive.read(name) for name in archive.namelist()}
    assert got == {name: data for name, data in originals.items() if name != _name_of(ids[3])}

    # --- delete two to the Trash, with an Undo offer -----------------------------------------------------------------
    page.goto(f"/albums/{second}/")
    _tiles(page).nth(0).locator(".select-mark").click()
    _tiles(page).nth(1).locator(".select-mark").click(modifiers=["Shift"])
    chosen = {_tiles(page).nth(n).get_attribute("data-photo-id") for n in range(2)}
    page.get_by_role("button", name="Delete", exact=True).click()
    page.locator("#bulk-undo").filter(has_text="2 pictures moved to the Trash.").wait_for()
    box = page.locator("#bulk-undo").bounding_box()  # on screen whole, not shifted half out of the left edge
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]
    assert {str(pk) for pk in Photo.objects.in_trash_of(_user("selma")).values_list("pk", flat=True)} == chosen
    page.goto("/trash/")
    assert page.locator(".trash-item[data-photo-id]").count() == 2
    page.goto(f"/albums/{second}/")
    assert _tiles(page).count() == 1

    # --- on an album, "Remove from album" with no album chosen removes from this one ---------------------------------
    page.goto(f"/albums/{best}/")
    assert _tiles(page).count() == 1
    _tiles(page).nth(0).locator(".select-mark").click()
    page.get_by_role("button", name="Remove from album").click()
    page.wait_for_function("() => document.querySelectorAll('a.tile[data-photo-id]').length === 0")
    assert _album_ids(best) == set() and len(_album_ids(second)) == 1


def _name_of(photo_id):
    from photocloud.library.models import Photo

    return Photo.objects.get(pk=photo_id).original_name


def _user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def test_upload_from_the_timeline_into_the_library(page):
    from photocloud.library.models import Photo

    page.set_default_timeout(90_000)
    register(page, "tim")
    page.goto("/library/")
    page.locator("#upload-album").select_option(label="My library (no album)")
    drop_files(page, [("alone.jpg", images.variant("coffee", seed=7))])
    upload_queue(page, expected_stored=1)
    photo = Photo.objects.get(owner__username="tim")
    assert photo.album_id is None
    page.goto("/library/")
    assert page.locator(f'a.tile[data-photo-id="{photo.pk}"]').count() == 1
    assert re.search(r"My library", page.content())


def _person_with_faces(username, photo_ids):
    """A person of `username` with one face in each of these pictures, made as the people stage would store them."""
    import numpy as np

    from photocloud.people.models import Face, Person

    owner = _user(username)
    person = Person.objects.create(owner=owner, name="Grandma")
    for photo_id in photo_ids:
        Face.objects.create(
            owner=owner,
            photo_id=photo_id,
            position=0,
            x=10,
            y=10,
            width=60,
            height=60,
            score=0.95,
            quality=0.9,
            embedding=np.ones(128, dtype=np.float32).tobytes(),
            person=person,
        )
    return person


def test_select_a_range_on_a_persons_page_and_add_it_to_an_album(page):
    page.set_default_timeout(90_000)
    register(page, "petra")
    family = create_album(page, "Family")
    trip = create_album(page, "Trip")
    drop_files(page, [(f"p{n}.jpg", images.variant("coffee", seed=60 + n)) for n in range(4)])
    upload_queue(page, expected_stored=4)
    person = _person_with_faces("petra", _album_ids(trip))

    page.goto(f"/people/{person.pk}/")
    assert page.locator("#photo-grid .justified").count() == 1  # the grid of the timeline and albums
    assert _tiles(page).count() == 4
    ids = [_tiles(page).nth(n).get_attribute("data-photo-id") for n in range(4)]
    _tiles(page).nth(0).locator(".select-mark").click()
    _tiles(page).nth(2).locator(".select-mark").click(modifiers=["Shift"])
    assert page.locator("#bulk-count").inner_text() == "3 selected"
    assert page.locator("a.tile.selected").count() == 3
    _choose(page, "Family")
    page.get_by_role("button", name="Add to album").click()
    page.wait_for_load_state("load")
    page.wait_for_function("() => document.querySelectorAll('a.tile.selected').length === 0")
    assert _album_ids(family) == set(ids[:3])
    assert _album_ids(trip) == set(ids)  # added, not moved
    page.goto(f"/people/{person.pk}/")
    assert _tiles(page).count() == 4  # still the person's pictures
