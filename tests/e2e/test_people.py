"""People in real Chromium: real photographs analysed by the real models become a person; the owner names it (in
Chinese), splits off a face and merges it back, moves a stranger's face in and says "not this person", sees the face
boxes on the picture, and hides the person. Someone else sees none of it.

Run: python -m pytest tests/e2e/test_people.py
"""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from .ui import axe_violations, register

pytestmark = [pytest.mark.e2e, pytest.mark.vision]
DATA = Path(__file__).resolve().parents[2] / "photocloud" / "people" / "tests" / "data"


def _photos_of_people(owner, settings):
    """Real photographs ingested, then analysed by the real models (the people stage follows analysis)."""
    from photocloud.library import services as library
    from photocloud.vision import services as vision

    album = library.create_album(owner, title="Press photos", category="people", access="public")
    photos = {}
    for name in ("obama-1", "obama-2", "obama-3", "biden"):
        upload = SimpleUploadedFile(f"{name}.jpg", (DATA / f"{name}.jpg").read_bytes())
        photos[name] = library.ingest_upload(owner, album, upload).photo
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "VISION": True}
    vision.analyze_photos([photo.pk for photo in photos.values()])
    return photos


def _count(page, text):
    expect(page.locator(".person-head .meta")).to_contain_text(text)


def test_name_split_merge_move_hide_people(new_context, settings, screenshot):
    from photocloud.accounts.models import User

    page = new_context().new_page()
    register(page, "maria")
    photos = _photos_of_people(User.objects.get(username="maria"), settings)

    page.goto("/people/")
    cards = page.locator(".person-card")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("3 pictures")
    assert not axe_violations(page), axe_violations(page)  # the count under a name was too faint (4.3:1)
    cards.first.click()
    page.get_by_label("Name").fill("巴拉克·奥巴马")
    page.get_by_role("button", name="Save name").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("巴拉克·奥巴马")
    expect(page.locator(".justified .tile")).to_have_count(3)
    person_url = page.url
    screenshot(page, "person")

    # The picture page: the person by name, the face box over the picture when the pointer is on the name.
    page.goto(f"/photos/{photos['obama-2'].pk}/")
    line = page.locator(".photo-faces li").first
    expect(line).to_contain_text("巴拉克·奥巴马")
    expect(page.locator(".face-frame .face-box")).to_have_count(1)
    line.hover()
    expect(page.locator(".face-box.lit")).to_be_visible()
    screenshot(page, "picture-people")

    # Split the face off into someone new, then merge that one back.
    line.locator("summary").click()
    line.get_by_label("This face is").select_option("new")
    line.get_by_role("button", name="Move").click()
    expect(page.locator(".photo-faces li").first).to_contain_text("Unnamed person")
    page.goto(person_url)
    _count(page, "2 pictures")
    page.locator("#merge-other").select_option(index=0)
    page.get_by_role("button", name="Merge").click()
    _count(page, "3 pictures")

    # A stranger's face moved in by mistake, then taken away again with "not this person".
    page.goto(f"/photos/{photos['biden'].pk}/")
    line = page.locator(".photo-faces li").first
    expect(line).to_contain_text("Not grouped yet")
    line.locator("summary").click()
    line.get_by_label("This face is").select_option(label=f"巴拉克·奥巴马 (#{person_url.rstrip('/').split('/')[-1]})")
    line.get_by_role("button", name="Move").click()
    page.goto(person_url)
    _count(page, "4 pictures")
    page.goto(f"/photos/{photos['biden'].pk}/")
    line = page.locator(".photo-faces li").first
    line.locator("summary").click()
    line.get_by_label("This face is").select_option(label="Not 巴拉克·奥巴马")
    line.get_by_role("button", name="Move").click()
    page.goto(person_url)
    _count(page, "3 pictures")

    # Search by the name, then hide the person.
    page.goto("/search/?q=巴拉克·奥巴马")
    results = page.locator(".result")
    expect(results).to_have_count(3)
    expect(results.first.locator(".why")).to_contain_text("person “巴拉克·奥巴马”")
    page.goto(person_url)
    page.get_by_role("button", name="Hide this person").click()
    page.goto("/people/")
    expect(page.locator(".empty")).to_be_visible()
    page.get_by_role("link", name="Hidden people (1)").click()
    expect(page.locator(".person-card")).to_contain_text("巴拉克·奥巴马")

    # Someone else, on the same public picture: no names, no boxes, no people.
    stranger = new_context().new_page()
    register(stranger, "oscar")
    stranger.goto(f"/photos/{photos['obama-2'].pk}/")
    expect(stranger.locator(".viewer img")).to_be_visible()
    assert stranger.locator(".photo-people, .face-box").count() == 0
    assert "巴拉克" not in stranger.content()
    assert stranger.goto(person_url).status == 404
