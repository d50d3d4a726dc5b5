"""Correcting a picture by hand in real Chromium: the date taken from the picture page with the keyboard (a wrong
offset explained, the picture then in its new date album), turning it right (the served rendition upright on the
page), and axe-core finding no WCAG violation on the page with the form open."""

from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from tests import images

from .ui import PASSWORD, axe_violations, log_in, wait_images_loaded

pytestmark = pytest.mark.e2e


def _natural_size(page) -> tuple[int, int]:
    wait_images_loaded(page, "#picture")
    return tuple(page.eval_on_selector("#picture", "img => [img.naturalWidth, img.naturalHeight]"))


def test_correct_the_date_and_turn_a_picture_on_its_page(new_context, make_user):
    from photocloud.library import services as library

    owner = make_user("edda", password=PASSWORD)
    album = library.create_album(owner, title="Travels", category="travel", access="public")
    content = images.encode(images.photo("cat", size=(480, 320)), "JPEG", images.exif_for(taken=datetime(2024, 5, 18)))
    photo = library.ingest_upload(owner, album, SimpleUploadedFile("cat.jpg", content)).photo

    page = new_context().new_page()
    log_in(page, owner.username)
    page.goto(photo.get_absolute_url())
    width, height = _natural_size(page)
    assert width > height

    # --- with the keyboard: open the form, a wrong offset first, then the right one ---------------------------------
    summary = page.locator("#edit-meta > summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Date and time taken")).to_be_visible()
    found = axe_violations(page)
    assert not found, "\n".join(found)
    page.get_by_label("Date and time taken").fill("2019-08-03T21:15")
    page.get_by_label("Time zone (optional)").fill("+25:00")
    page.get_by_label("Time zone (optional)").press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Write the offset as +HH:MM or -HH:MM")
    page.get_by_label("Time zone (optional)").fill("+09:00")
    page.get_by_label("Time zone (optional)").press("Enter")
    page.wait_for_url(f"**{photo.get_absolute_url()}")
    expect(page.locator(".exif")).to_contain_text("3 August 2019, 21:15")
    expect(page.locator(".exif")).to_contain_text("UTC+09:00")
    page.goto("/library/dates/2019/8/")
    expect(page.locator(f"a.tile[data-photo-id='{photo.pk}']")).to_have_count(1)
    page.goto("/library/dates/2024/5/")
    expect(page.locator(f"a.tile[data-photo-id='{photo.pk}']")).to_have_count(0)

    # --- turn right: the large rendition on the page is now portrait -------------------------------------------------
    page.goto(photo.get_absolute_url())
    page.get_by_role("button", name="Turn right").click()
    page.wait_for_url(f"**{photo.get_absolute_url()}")
    assert _natural_size(page) == (height, width)
    assert page.eval_on_selector("#picture", "img => [+img.getAttribute('width'), +img.getAttribute('height')]") == [
        height,
        width,
    ]
    photo.refresh_from_db()
    assert photo.rotation == 90
