"""The "Sync & import" page in real Chromium: reached from the Tools menu, it shows the user's import folder and its
counts refresh by themselves (htmx) while pictures are imported."""

import pytest
from playwright.sync_api import expect

from photocloud.accounts.models import User
from photocloud.sync import services
from photocloud.sync.models import ImportFolder
from tests import images

from .ui import register

pytestmark = pytest.mark.e2e


def test_import_progress_refreshes_by_itself(page, tmp_path, screenshot):
    register(page, "ines")
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    folder = ImportFolder.objects.create(owner=User.objects.get(username="ines"), path=str(incoming))

    page.goto("/")
    page.get_by_text("Tools").click()
    page.get_by_role("link", name="Sync & import").click()
    card = page.get_by_test_id("import-folder")
    expect(card).to_contain_text(str(incoming))
    expect(page.get_by_test_id("imported-count")).to_have_text("0")
    expect(page.get_by_role("link", name="create one on your API tokens page")).to_be_visible()

    picture = incoming / "beach.jpg"
    picture.write_bytes(images.unique_jpeg("coffee"))
    (incoming / "broken.jpg").write_bytes(images.truncated_jpeg())
    for path in (picture, incoming / "broken.jpg"):
        services.import_file(folder, path)
    expect(page.get_by_test_id("imported-count")).to_have_text("1", timeout=12_000)  # no reload: htmx polls
    expect(card.get_by_role("link", name="beach.jpg")).to_be_visible()
    expect(card).to_contain_text("Rejected: ")
    screenshot(page, "sync-imports")
