"""The everyday pages in real Chromium: the timeline (justified rows, day and month headers, the date scrubber), the
picture viewer (keys, zoom, full screen, slideshow, swipe), dark mode, the phone layout, and axe-core (WCAG 2.1 AA)
on the main pages signed out and signed in, on a desktop and a 390 px phone.

Run: python -m pytest tests/e2e/test_ui.py
"""

import re
from datetime import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from tests import images

from .ui import PASSWORD, axe_violations, log_in, wait_images_loaded

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
# (name, size, taken, title): landscape, portrait, square and panorama pictures over three months of two years.
PICTURES = [
    ("beach.jpg", (480, 320), datetime(2024, 5, 18, 9, 0), "Beach at dawn"),
    ("tower.jpg", (320, 480), datetime(2024, 5, 18, 11, 0), ""),
    ("pano.jpg", (900, 240), datetime(2024, 5, 18, 12, 0), "Bay panorama"),
    ("square.jpg", (400, 400), datetime(2024, 5, 3, 8, 0), ""),
    ("cafe.jpg", (480, 360), datetime(2024, 3, 9, 15, 0), "Café"),
    ("street.jpg", (360, 480), datetime(2024, 3, 9, 16, 0), ""),
    ("snow.jpg", (480, 300), datetime(2023, 12, 24, 10, 0), "Snow"),
    ("hill.jpg", (480, 320), datetime(2023, 12, 24, 11, 0), "Hill"),
]


def _library(make_user, name="tess"):
    """A user with the pictures above, uploaded and processed for real, in one public album."""
    from photocloud.library import services as library

    owner = make_user(name, password=PASSWORD)
    album = library.create_album(owner, title="Travels", category="travel", access="public")
    photos = {}
    for index, (file_name, size, taken, title) in enumerate(PICTURES):
        picture = images.photo(["cat", "coffee", "astronaut", "rocket"][index % 4], size=size)
        content = images.encode(picture, "JPEG", images.exif_for(taken=taken))
        photo = library.ingest_upload(owner, album, SimpleUploadedFile(file_name, content)).photo
        photo.refresh_from_db()
        if title:
            library.update_photo(photo, title=title)
        photos[file_name] = photo
    return owner, album, photos


def _row_tops(page, selector):
    return page.eval_on_selector_all(selector, "tiles => tiles.map(t => Math.round(t.getBoundingClientRect().top))")


def test_timeline_justified_rows_headers_and_date_scrubber(new_context, make_user, screenshot):
    owner, album, photos = _library(make_user)
    page = new_context().new_page()
    log_in(page, owner.username)
    page.goto("/library/")
    wait_images_loaded(page, "#timeline .tile img")

    # Month and day headers, newest first; the two pictures of 9 March share one day section.
    expect(page.locator("#timeline h2.month")).to_have_text(["May 2024", "March 2024", "December 2023"])
    expect(page.locator("#timeline section.day h3")).to_have_text(
        ["Saturday 18 May", "Friday 3 May", "Saturday 9 March", "Sunday 24 December"]
    )
    # Justified rows: every tile keeps its picture's shape, and the tiles of the 18 May row are equally high.
    shapes = page.eval_on_selector_all(
        "#timeline .tile",
        "tiles => tiles.map(t => { const r = t.getBoundingClientRect(); const i = t.querySelector('img');"
        " return [r.width / r.height, i.naturalWidth / i.naturalHeight, r.height]; })",
    )
    for shown, natural, _ in shapes:
        assert shown == pytest.approx(natural, rel=0.03)
    # Rows: the tiles of a row are equally high, and every row but a day's last fills the width.
    rows = page.eval_on_selector_all(
        "#timeline .justified",
        """grids => grids.map(grid => {
            const right = grid.getBoundingClientRect().right, rows = new Map();
            for (const tile of grid.querySelectorAll(".tile")) {
                const box = tile.getBoundingClientRect(), top = Math.round(box.top);
                rows.set(top, [...(rows.get(top) || []), [box.height, right - box.right]]);
            }
            return [...rows.values()];
        })""",
    )
    assert sum(len(day) for day in rows) > len(rows)  # some day has two rows (the panorama does not fit beside)
    for day in rows:
        for row in day:
            heights = [height for height, _ in row]
            assert max(heights) - min(heights) < 1.5
        for row in day[:-1]:
            assert row[-1][1] < 1.5  # the last tile ends at the right edge
    # Alternative text: the title, else when it was taken (vision is off in these tests), never the file name.
    expect(page.locator(f'[data-photo-id="{photos["beach.jpg"].pk}"] img')).to_have_attribute("alt", "Beach at dawn")
    expect(page.locator(f'[data-photo-id="{photos["tower.jpg"].pk}"] img')).to_have_attribute(
        "alt", "Photo taken on 18 May 2024"
    )
    screenshot(page, "timeline")

    # The date scrubber lists each year and month with its count and jumps there.
    scrubber = page.get_by_role("navigation", name="Jump to a date")
    expect(scrubber.locator(".scrub-year")).to_have_text(["2024", "2023"])
    march = scrubber.get_by_role("link", name="Mar 2024, 2 pictures")
    expect(march).to_be_visible()
    march.click()
    page.wait_for_url(re.compile(r"/library/\?from=2024-03$"))
    expect(page.locator("#timeline h2.month")).to_have_text(["March 2024", "December 2023"])
    expect(page.locator("#timeline .tile")).to_have_count(4)
    page.get_by_role("link", name="Newer pictures").click()
    page.wait_for_url(re.compile(r"from=2024-04$"))
    expect(page.locator("#timeline h2.month").first).to_have_text("March 2024")
    assert page.goto("/library/?from=2024-13").status == 404
    assert page.goto("/library/?from=yesterday").status == 404

    # The same justified grid in an album and in search results.
    page.goto(f"/albums/{album.pk}/")
    wait_images_loaded(page, ".justified .tile img")
    assert page.locator(".justified .tile").count() == len(PICTURES)
    page.goto("/search/?q=snow")
    expect(page.locator(".result-grid.justified .result")).to_have_count(1)

    # A phone: the scrubber is a select that jumps, the rows are lower, nothing scrolls sideways.
    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    log_in(phone, owner.username)
    phone.goto("/library/")
    wait_images_loaded(phone, "#timeline .tile img")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(phone.locator(".scrub-years")).to_be_hidden()
    phone.get_by_label("Jump to", exact=True).select_option("2023-12")
    phone.get_by_role("button", name="Go").click()
    phone.wait_for_url(re.compile(r"from=2023-12"))
    expect(phone.locator("#timeline h2.month")).to_have_text(["December 2023"])
    screenshot(phone, "timeline-phone")


def test_timeline_pages_join_at_their_boundary(new_context, make_user, settings):
    """60 pictures a page by default; with 3 a page the day of 18 May is cut, and the infinite scroll joins it."""
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "PAGE_SIZE": 2}
    owner, _, _ = _library(make_user)
    page = new_context().new_page()
    log_in(page, owner.username)
    page.goto("/library/")
    for _ in range(10):
        page.mouse.wheel(0, 5000)
        page.wait_for_timeout(150)
    expect(page.locator("#timeline .tile")).to_have_count(len(PICTURES))
    expect(page.locator("#timeline h2.month")).to_have_text(["May 2024", "March 2024", "December 2023"])
    expect(page.locator("#timeline section.day")).to_have_count(4)
    expect(page.locator("#timeline section.day").first.locator(".tile")).to_have_count(3)


def test_viewer_keys_zoom_full_screen_slideshow_and_swipe(new_context, make_user, screenshot):
    owner, album, photos = _library(make_user)
    page = new_context().new_page()
    log_in(page, owner.username)
    newest = photos["pano.jpg"]  # the album's order: newest first
    page.goto(f"/photos/{newest.pk}/")
    picture = page.locator("#picture")
    # The large rendition is the image; the small one the grid loaded is drawn under it while it arrives.
    expect(picture).to_have_attribute("src", f"/photos/{newest.pk}/l")
    assert f"/photos/{newest.pk}/s" in picture.evaluate("img => getComputedStyle(img).backgroundImage")
    wait_images_loaded(page, "#picture")
    stage = page.locator("#stage")

    # Arrow keys move to the next (older) and previous picture in place, with the address and title following.
    page.keyboard.press("ArrowRight")
    page.wait_for_url(f"**/photos/{photos['tower.jpg'].pk}/")
    expect(page.locator(".info h1")).to_have_text("tower")
    page.keyboard.press("ArrowLeft")
    page.wait_for_url(f"**/photos/{newest.pk}/")
    expect(page).to_have_title("Bay panorama · Photocloud")
    page.go_back()
    page.wait_for_url(f"**/photos/{photos['tower.jpg'].pk}/")
    expect(page.locator(".info h1")).to_have_text("tower")

    # Zoom: the wheel, double-click, keys and buttons; Escape first resets the zoom.
    wait_images_loaded(page, "#picture")
    box = stage.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -300)
    expect(stage).to_have_attribute("data-zoom", re.compile(r"^2\.[0-9]+$"))
    # Dragging pans the zoomed picture.
    before = picture.evaluate("img => img.getBoundingClientRect().left")
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 80, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    assert picture.evaluate("img => img.getBoundingClientRect().left") == pytest.approx(before + 80, abs=2)
    page.keyboard.press("Escape")
    expect(stage).to_have_attribute("data-zoom", "1.00")
    stage.dblclick()
    expect(stage).to_have_attribute("data-zoom", "2.50")
    expect(page.locator(".zoom-level")).to_have_text("250%")
    page.keyboard.press("0")
    page.get_by_role("button", name="Zoom in").click()
    expect(stage).to_have_attribute("data-zoom", "1.50")
    page.keyboard.press("-")
    expect(stage).to_have_attribute("data-zoom", "1.00")

    # Full screen with the button or F; the arrow keys keep it while moving on; Escape leaves it.
    page.get_by_role("button", name="Full screen").click()
    page.wait_for_function("document.fullscreenElement && document.fullscreenElement.id === 'photo-page'")
    expect(page.locator("#photo-info")).to_be_hidden()  # the picture alone, until Info asks for the panel
    page.keyboard.press("i")
    expect(page.locator("#photo-info")).to_be_visible()
    page.keyboard.press("ArrowRight")
    page.wait_for_url(f"**/photos/{photos['beach.jpg'].pk}/")
    assert page.evaluate("Boolean(document.fullscreenElement)")
    screenshot(page, "viewer-full-screen")
    page.keyboard.press("Escape")
    page.wait_for_function("!document.fullscreenElement")
    expect(page.get_by_role("button", name="Full screen")).to_have_attribute("aria-pressed", "false")

    # The slideshow moves on by itself, in full screen; pressing the button again stops it.
    page.get_by_role("button", name="Slideshow").click()
    page.wait_for_url(f"**/photos/{photos['square.jpg'].pk}/", timeout=10_000)
    assert page.evaluate("Boolean(document.fullscreenElement)")
    page.get_by_role("button", name="Stop slideshow").click()
    expect(page.get_by_role("button", name="Slideshow")).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("Escape")  # leaves full screen
    page.wait_for_function("!document.fullscreenElement")

    # Escape once more closes the viewer: back to the album.
    page.keyboard.press("Escape")
    page.wait_for_url(f"**/albums/{album.pk}/")

    # On a phone: a swipe to the left shows the next picture, to the right the previous one.
    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    log_in(phone, owner.username)
    phone.goto(f"/photos/{newest.pk}/")
    wait_images_loaded(phone, "#picture")
    _swipe(phone, "#stage", -150)
    phone.wait_for_url(f"**/photos/{photos['tower.jpg'].pk}/")
    _swipe(phone, "#stage", 150)
    phone.wait_for_url(f"**/photos/{newest.pk}/")
    # Two fingers apart zoom in.
    _pinch(phone, "#stage")
    assert float(phone.locator("#stage").get_attribute("data-zoom")) > 1.3


def _touch(page, selector, moves):
    """Real touch input (Chromium's DevTools protocol): fingers down at the centre of `selector` offset by the first
    [(dx, dy), …] of each finger's path, along it in steps, then up; the page sees what a phone's browser sends."""
    box = page.locator(selector).bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)

    def points(step):
        return [{"x": cx + path[step][0], "y": cy + path[step][1], "id": finger} for finger, path in enumerate(moves)]

    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": points(0)})
    for step in range(1, len(moves[0])):
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": points(step)})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def _swipe(page, selector, dx):
    _touch(page, selector, [[(dx * -0.5 + dx * step / 6, 0) for step in range(7)]])


def _pinch(page, selector):
    _touch(page, selector, [[(-20 - 10 * step, 0) for step in range(7)], [(20 + 10 * step, 0) for step in range(7)]])


def test_dark_mode_follows_the_system_and_the_switch_is_remembered(new_context, make_user):
    owner, album, photos = _library(make_user)
    background = "() => getComputedStyle(document.body).backgroundColor"
    dark = new_context(color_scheme="dark").new_page()
    dark.goto("/")
    assert dark.evaluate(background) == "rgb(20, 23, 28)"
    switch = dark.get_by_role("button", name="Dark mode")
    expect(switch).to_have_attribute("aria-pressed", "true")
    switch.click()
    expect(switch).to_have_attribute("aria-pressed", "false")
    assert dark.evaluate(background) == "rgb(247, 248, 250)"
    dark.goto("/accounts/login/")  # remembered on the next page, whatever the system says
    assert dark.evaluate(background) == "rgb(247, 248, 250)"
    expect(dark.get_by_role("button", name="Dark mode")).to_have_attribute("aria-pressed", "false")

    light = new_context(color_scheme="light").new_page()
    log_in(light, owner.username)
    light.goto("/library/")
    assert light.evaluate(background) == "rgb(247, 248, 250)"
    light.get_by_role("button", name="Dark mode").click()
    light.reload()
    assert light.evaluate(background) == "rgb(20, 23, 28)"
    # Dark pages meet the same contrast: the timeline, an album, a picture, search and the Teach page.
    found = []
    for url in (
        "/library/",
        f"/albums/{album.pk}/",
        photos["beach.jpg"].get_absolute_url(),
        "/search/?q=snow",
        "/library/teach/",
    ):
        light.goto(url)
        found += axe_violations(light)
    assert not found, "\n".join(found)


def test_phone_header_fits_one_row_and_menus_close_with_escape_or_a_click_outside(new_context, make_user):
    owner, _, _ = _library(make_user)
    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto("/")
    header = phone.locator("header.top")
    assert header.bounding_box()["height"] < 60  # one row
    log_in(phone, owner.username)
    phone.goto("/library/")
    assert header.bounding_box()["height"] < 60
    children = header.evaluate(
        "h => [...h.children].filter(c => c.offsetParent).map(c => c.getBoundingClientRect().top)"
    )
    assert max(children) - min(children) < 20
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The navigation behind the menu button: it opens, and closes with Escape.
    menu = phone.get_by_role("button", name="Menu")
    nav = phone.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    menu.click()
    expect(nav.get_by_role("link", name="Albums")).to_be_visible()
    phone.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(menu).to_be_focused()
    menu.click()
    nav.get_by_role("link", name="Albums").click()
    phone.wait_for_url("**/albums/")
    phone.get_by_role("link", name=re.compile("^Travels")).click()
    # The file picker takes pictures from the camera roll (image/*) in the album's uploader.
    expect(phone.locator("#file-input")).to_have_attribute("accept", re.compile(r"^image/\*"))

    # On a desktop the account menu opens with the keyboard and closes with Escape or a click outside.
    desk = new_context().new_page()
    log_in(desk, owner.username)
    desk.goto("/library/")
    account = desk.locator(".account details.menu")
    account.locator("summary").focus()
    desk.keyboard.press("Enter")
    expect(account.get_by_role("link", name="My profile")).to_be_visible()
    desk.keyboard.press("Escape")
    expect(account.get_by_role("link", name="My profile")).to_be_hidden()
    expect(account.locator("summary")).to_be_focused()
    account.locator("summary").click()
    expect(account.get_by_role("link", name="My profile")).to_be_visible()
    desk.locator("h1").click()
    expect(account.get_by_role("link", name="My profile")).to_be_hidden()


def test_installable_favicon_manifest_and_icons(new_context):
    page = new_context().new_page()
    page.goto("/")
    manifest_url = page.locator('link[rel="manifest"]').get_attribute("href")
    manifest = page.request.get(manifest_url)
    assert manifest.ok and "manifest+json" in manifest.headers["content-type"]
    data = manifest.json()
    assert data["display"] == "standalone" and data["start_url"] and data["name"] == "Photocloud"
    sizes = set()
    for icon in data["icons"]:
        response = page.request.get(
            page.evaluate("([base, src]) => new URL(src, new URL(base, location)).href", [manifest_url, icon["src"]])
        )
        assert response.ok, icon
        sizes.add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes
    for selector in ('link[rel="icon"]', 'link[rel="apple-touch-icon"]'):
        assert page.request.get(page.locator(selector).first.get_attribute("href")).ok


SIGNED_OUT = ["/", "/accounts/login/", "/accounts/register/", "/accounts/password/reset/", "{album}", "{photo}"]
SIGNED_IN = [
    "/library/",
    "/library/?from=2024-03",
    "/albums/",
    "/albums/new/",
    "{album}",
    "{photo}",
    "/photos/{photo_id}/edit/",
    "/library/dates/",
    "/library/dates/2024/",
    "/library/dates/2024/5/",
    "/library/themes/",
    "/library/themes/travel/",
    "/library/favourites/",
    "/library/archive/",
    "/trash/",
    "/search/?q=snow",
    "/search/image/",
    "/library/teach/",
    "/library/duplicates/",
    "/feed/",
    "/for-you/",
    "/notifications/",
    "/u/{user}/",
    "/accounts/profile/",
    "/accounts/tokens/",
    "/crawls/",
    "/sync/",
]


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_axe_finds_no_wcag_violation_on_the_main_pages(new_context, make_user, viewport):
    owner, album, photos = _library(make_user)
    values = {"album": album.get_absolute_url(), "photo": photos["beach.jpg"].get_absolute_url()}
    values |= {"photo_id": photos["beach.jpg"].pk, "user": owner.username}
    options = {"viewport": viewport, "is_mobile": True, "has_touch": True} if viewport else {}
    found = []
    visitor = new_context(**options).new_page()
    for url in SIGNED_OUT:
        visitor.goto(url.format(**values))
        found += axe_violations(visitor)
    member = new_context(**options).new_page()
    log_in(member, owner.username)
    for url in SIGNED_IN:
        response = member.goto(url.format(**values))
        assert response.status == 200, url
        found += axe_violations(member)
    # Open menus are checked too.
    member.goto("/library/")
    if viewport:
        member.get_by_role("button", name="Menu").click()
    else:
        member.locator(".account summary").click()
    found += axe_violations(member)
    assert not found, "\n".join(found)
