"""The web crawler in real Chromium: from a picture's page, start a crawl of a real local web site, watch its
progress while a real task worker runs it, and save a result into an album.

The task backend here is the production one (django-tasks-db) with a worker thread in the test process, so the
crawl really runs in the background while the page polls for progress.
"""

import re
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from playwright.sync_api import expect

from tests import images

from .ui import create_album, register, wait_images_loaded

pytestmark = pytest.mark.e2e


@pytest.fixture
def worker(settings):
    """A django-tasks-db worker in a thread: tasks are queued in the database and run beside the live server."""
    from django_tasks_db.management.commands.db_worker import Worker

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    running = Worker(
        queue_names=["default"],
        interval=0.1,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="e2e-worker",
        excluded_queue_names=[],
    )

    def run():
        try:
            running.run()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield running
    running.running = False
    thread.join(timeout=30)


@pytest.fixture
def crawler_settings(settings):
    settings.PHOTOCLOUD = {
        **settings.PHOTOCLOUD,
        "CRAWLER": {
            **settings.PHOTOCLOUD["CRAWLER"],
            "ALLOW_NETWORKS": ["127.0.0.1/32"],
            "HOST_DELAY": 0.25,
            "TIMEOUT": 2.0,
        },
    }


def _wait_ready(photo, timeout=30):
    import time

    from photocloud.library.models import Photo

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Photo.objects.get(pk=photo.pk).status == "ready":
            return
        time.sleep(0.1)
    raise AssertionError("The picture was not processed in time.")


def test_crawl_from_a_picture_and_save_a_result(page, site, worker, crawler_settings, screenshot):
    from photocloud.accounts.models import User
    from photocloud.library import services as library
    from photocloud.library.models import Album, Photo

    register(page, "nadia")
    album_id = create_album(page, "Moodboard", category="animal", access="Only me")
    nadia = User.objects.get(username="nadia")
    result = library.ingest_upload(
        nadia, Album.objects.get(pk=album_id), SimpleUploadedFile("chelsea.jpg", images.jpeg("cat"))
    )
    _wait_ready(result.photo)

    # From the picture's page to a prefilled crawl form.
    page.goto(f"/photos/{result.photo.pk}/")
    page.get_by_role("link", name="Find similar on the web").click()
    page.wait_for_url(re.compile(rf"/crawls/new/\?photo={result.photo.pk}$"))
    expect(page.locator(".crawl-target")).to_contain_text("Looking for images like")
    page.get_by_label("Keywords").fill("tabby cat")
    page.get_by_label("Start pages").fill(f"{site.url}/\n")
    page.get_by_label("Follow links this deep").fill("1")
    screenshot(page, "crawler-01-new")
    page.get_by_role("button", name="Start crawl").click()
    page.wait_for_url(re.compile(r"/crawls/[0-9a-f-]{36}/$"))

    # Live progress while the worker crawls (a quarter second between requests to the site).
    status = page.get_by_test_id("crawl-status")
    expect(status).to_have_text("Running", timeout=15_000)
    page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=pages-fetched]').textContent) > 0"
        " && document.querySelector('[data-testid=crawl-status]').textContent.trim() === 'Running'"
    )
    screenshot(page, "crawler-02-running")
    expect(status).to_have_text("Done", timeout=60_000)  # the page reloads itself when the crawl ends
    assert int(page.get_by_test_id("images-kept").inner_text()) >= 6
    assert wait_images_loaded(page, ".candidate img") >= 6
    first = page.locator(".candidate").first
    expect(first.locator(".source")).to_have_text("Cats")
    screenshot(page, "crawler-03-results")

    # Save the best result into the album.
    first.get_by_role("checkbox").check()
    page.get_by_label("Save the selected images into").select_option(label="Moodboard")
    page.get_by_role("button", name="Save selected").click()
    expect(page.locator(".messages")).to_contain_text("Saved 1 image(s) into “Moodboard”.")
    expect(page.locator(".candidate").first.locator(".badge")).to_have_text("Saved")
    saved = Photo.objects.get(album_id=album_id, source_url=f"{site.url}/img/cat.jpg")
    assert saved.source_page_url == f"{site.url}/cats.html" and saved.retrieved_at is not None

    # The crawl is listed under Tools → Web crawls.
    page.locator("summary", has_text="Tools").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Web crawls").click()
    expect(page.locator("table.crawls")).to_contain_text("tabby cat")
    crawl_url = page.locator("table.crawls a").first.get_attribute("href")
    page.goto(f"/photos/{saved.pk}/")
    expect(page.locator(".info h1")).to_have_text("A tabby cat")

    # Phone-sized: the crawl pages fit the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    for url in ("/crawls/", crawl_url, "/crawls/new/"):
        page.goto(url)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= 392, f"{url} scrolls sideways on a phone: {scroll_width}px wide"
    screenshot(page, "crawler-04-phone")
