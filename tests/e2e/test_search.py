"""Search in real Chromium: the header box, results that say why they matched, facets, filters, sorting, spelling
and meaning, an empty state, access levels, keyboard use and a phone screen (results first, facets folded).

Run: python -m pytest tests/e2e/test_search.py
"""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from playwright.sync_api import expect

from tests import images

from .ui import register

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}


def _picture(owner, album, name, rgb, tags, **exif):
    """A real JPEG uploaded and processed (thumbnails, dominant colour), then tagged by its owner."""
    from photocloud.library import services as library

    content = images.encode(Image.new("RGB", (320, 240), rgb), "JPEG", images.exif_for(**exif))
    result = library.ingest_upload(owner, album, SimpleUploadedFile(name, content))
    photo = result.photo
    photo.refresh_from_db()
    library.update_photo(photo, tags=tags)
    return photo


def test_search_the_library_by_words_meaning_facets_and_filters(new_context, make_user, screenshot):
    from photocloud.library import services as library

    context = new_context()
    page = context.new_page()
    register(page, "sam")
    from photocloud.accounts.models import User

    sam = User.objects.get(username="sam")
    trip = library.create_album(sam, title="Coast trip", category="travel", access="public")
    sea = _picture(sam, trip, "sea.jpg", (30, 60, 200), ["beach", "sunset"], make="Canon", model="EOS R6")
    sand = _picture(sam, trip, "sand.jpg", (240, 220, 30), ["beach"], make="Nikon", model="Z6")
    _picture(sam, trip, "pines.jpg", (40, 160, 40), ["forest"])
    other = make_user("rita")
    hidden = library.create_album(other, title="Rita's secret beach", category="travel", access="private")
    _picture(other, hidden, "secret.jpg", (220, 30, 30), ["beach"])

    # --- the header search box, from any page ------------------------------------------------------------------
    from photocloud.search import meaning

    meaning.embed(["warm up"])  # the live server runs in this process: load the text model before the clock runs
    page.goto("/library/")
    page.locator("#header-q").fill("beach")
    page.locator("#header-q").press("Enter")
    page.wait_for_url(re.compile(r"/search/\?q=beach"))
    expect(page.get_by_test_id("result-count")).to_have_text("2 pictures for “beach”")
    results = page.locator(".result")
    expect(results).to_have_count(2)
    expect(results.first.locator(".why")).to_contain_text("tag “beach”")
    expect(page.get_by_text("secret", exact=False)).to_have_count(0)
    page.locator(".result .tile img").first.wait_for()
    screenshot(page, "search-results")

    # --- a facet narrows the results; its chip takes the filter off again ---------------------------------------
    facets = page.get_by_role("complementary", name="Refine")
    expect(facets.locator("details.refine")).to_have_attribute("open", "")  # a wide screen: open beside the results
    facets.get_by_role("link", name=re.compile("blue")).click()
    page.wait_for_url(re.compile(r"color=blue"))
    expect(results).to_have_count(1)
    expect(page.locator(f'.result a.tile[href="/photos/{sea.pk}/"]')).to_have_count(1)
    page.get_by_role("link", name="Remove filter Colour").click()
    expect(results).to_have_count(2)

    # --- filters form and sorting, by keyboard ---------------------------------------------------------------
    page.locator(".search-filters summary").focus()
    page.keyboard.press("Enter")
    page.get_by_label("Camera make").fill("nikon")
    page.get_by_label("Camera make").press("Enter")
    page.wait_for_url(re.compile(r"make=nikon"))
    expect(results).to_have_count(1)
    expect(page.locator(f'.result a.tile[href="/photos/{sand.pk}/"]')).to_have_count(1)
    page.get_by_role("navigation", name="Sort by").get_by_role("link", name="Newest first").click()
    page.wait_for_url(re.compile(r"sort=newest"))
    expect(results).to_have_count(1)

    # --- meaning, spelling and an empty state ------------------------------------------------------------------
    page.goto("/search/?q=seaside")
    expect(results).to_have_count(2)
    expect(results.first.locator(".why")).to_contain_text("similar meaning")
    page.goto("/search/?q=beahc")
    expect(page.locator(".suggestion")).to_contain_text("beach")
    expect(results).to_have_count(2)
    page.goto("/search/?q=volcano")
    expect(page.get_by_test_id("empty")).to_contain_text("No pictures match “volcano”")
    screenshot(page, "search-empty")

    # --- a phone screen: no sideways scrolling, the results first, the facets one tap (or key) away ---------------
    phone = new_context(viewport=PHONE).new_page()
    phone.goto("/search/?q=beach")
    phone_results = phone.locator(".result")
    expect(phone_results).to_have_count(2)  # anonymous: sam's public album only, never rita's
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 2
    refine = phone.get_by_role("complementary", name="Refine")
    blue = refine.get_by_role("link", name=re.compile("blue"))
    expect(blue).to_be_hidden()
    box = phone_results.first.bounding_box()
    assert phone.evaluate("window.scrollY") == 0 and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]
    screenshot(phone, "search-phone")
    phone.set_viewport_size({"width": 1024, "height": 768})  # turned sideways, or a wider window: beside the results
    expect(blue).to_be_visible()
    phone.set_viewport_size(PHONE)
    expect(blue).to_be_hidden()
    refine.locator(".refine > summary").focus()
    phone.keyboard.press("Enter")
    expect(blue).to_be_visible()
    screenshot(phone, "search-phone-refine")
    blue.click()
    phone.wait_for_url(re.compile(r"color=blue"))
    expect(phone_results).to_have_count(1)
    expect(refine.get_by_role("link", name=re.compile("blue"))).to_be_visible()  # a filter is on: open to show it
