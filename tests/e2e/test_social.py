"""The social space in real Chromium, through the pages only: bob follows alice, likes her picture, collects her
album and comments; alice replies; each then sees the notifications waiting for them, and marks them read.

Run: python -m pytest tests/e2e/test_social.py
"""

import re

import pytest
from playwright.sync_api import expect

from tests import images

from .ui import create_album, pick_files, register, upload_queue

pytestmark = pytest.mark.e2e


def test_like_collect_comment_reply_and_notifications(new_context, tmp_path, screenshot):
    # alice shares a public album with one picture.
    alice = new_context().new_page()
    register(alice, "alice")
    album = create_album(alice, "Coffee mornings", category="food", access="Everyone")
    (tmp_path / "coffee.jpg").write_bytes(images.jpeg("coffee"))
    pick_files(alice, [tmp_path / "coffee.jpg"])
    upload_queue(alice, expected_stored=1)
    alice.goto(f"/albums/{album}/")
    photo_url = alice.locator(".justified a.tile").first.get_attribute("href")

    # bob follows her, collects the album, likes the picture and comments on it.
    bob = new_context().new_page()
    register(bob, "bob")
    bob.goto("/u/alice/")
    bob.get_by_role("button", name="Follow").click()
    bob.get_by_text("You now follow alice.").wait_for()
    bob.goto(f"/albums/{album}/")
    bob.get_by_role("button", name="Collect", exact=True).click()
    expect(bob.get_by_role("button", name="Collected", exact=True)).to_be_visible()
    bob.goto("/collected/")
    card = bob.locator(".collected-album")
    expect(card).to_contain_text("Coffee mornings")
    card.locator(".card").click()
    bob.wait_for_url(f"**/albums/{album}/")
    expect(bob.get_by_role("link", name="Edit", exact=True)).to_have_count(0)  # read-only for bob
    expect(bob.get_by_role("link", name="Delete", exact=True)).to_have_count(0)

    bob.goto(photo_url)
    bob.get_by_role("button", name="Like", exact=True).click()  # htmx swaps the button and count in place
    expect(bob.get_by_role("button", name="Liked", exact=True)).to_be_visible()
    expect(bob.get_by_test_id("like-count")).to_have_text("1 like")
    expect(bob.locator(".likers")).to_contain_text("bob")
    bob.get_by_label("Add a comment").fill("Lovely <b>crema</b>!")
    bob.get_by_role("button", name="Comment", exact=True).click()
    comment = bob.locator(".comment").first
    expect(comment.locator(".comment-body")).to_have_text("Lovely <b>crema</b>!")  # shown as text, not markup
    screenshot(bob, "social-photo")

    # alice sees four notifications waiting: follow, collect, like and comment; she replies to bob.
    alice.goto("/library/")
    expect(alice.get_by_test_id("unread-count")).to_have_text("4")
    alice.locator(".notifications-link").click()
    alice.wait_for_url("**/notifications/")
    notes = alice.locator(".notification.unread")
    expect(notes).to_have_count(4)
    text = alice.locator(".notifications").inner_text()
    for words in ("started following you", "collected", "liked", "commented on", "Lovely <b>crema</b>!"):
        assert words in text, words
    screenshot(alice, "social-notifications")
    alice.locator(".notification", has_text="commented on").get_by_role("link", name=re.compile("coffee")).click()
    alice.locator(".comment .reply summary").first.click()
    alice.get_by_label("Reply to bob").fill("Thank you, bob!")
    alice.get_by_role("button", name="Send reply").click()
    expect(alice.locator(".thread.replies .comment-body")).to_have_text("Thank you, bob!")
    alice.goto("/notifications/")
    alice.get_by_role("button", name="Mark all as read").click()
    expect(alice.locator(".notification.unread")).to_have_count(0)
    expect(alice.get_by_test_id("unread-count")).to_have_count(0)

    # bob is told about the reply, edits his comment, and finds the picture in his feed.
    bob.goto("/notifications/")
    expect(bob.get_by_test_id("unread-count")).to_have_text("1")
    expect(bob.locator(".notification.unread")).to_contain_text("replied to your comment on")
    bob.locator(".notification").get_by_role("button", name="Mark as read").click()
    expect(bob.locator(".notification.unread")).to_have_count(0)
    bob.goto(photo_url)
    bob.locator(".comment").first.get_by_role("link", name="Edit").click()
    bob.get_by_label("Comment").fill("Lovely crema, really.")
    bob.get_by_role("button", name="Save").click()
    expect(bob.locator(".comment-head").first).to_contain_text("(edited)")
    bob.goto("/feed/")
    expect(bob.locator(f'.grid a.tile[href="{photo_url}"]')).to_have_count(1)
    bob.goto("/for-you/")
    expect(bob.locator("h1")).to_have_text("For you")


def test_add_a_recommended_picture_to_my_album(new_context, tmp_path, screenshot):
    from photocloud.library.models import Photo

    alice = new_context().new_page()
    register(alice, "alice")
    create_album(alice, "Cups", category="food", access="Everyone")
    for name in ("coffee", "cat"):
        (tmp_path / f"{name}.jpg").write_bytes(images.jpeg(name))
    pick_files(alice, [tmp_path / "coffee.jpg", tmp_path / "cat.jpg"])
    upload_queue(alice, expected_stored=2)

    bob = new_context().new_page()
    register(bob, "bob")
    create_album(bob, "My references", category="food", access="Only me")
    bob.goto("/for-you/")
    recommended = bob.get_by_test_id("recommended-photos").locator(".recommendation")
    expect(recommended).to_have_count(2)  # a new user: recent public pictures
    first = recommended.first
    expect(first.locator(".reason")).to_have_text("Recently shared")
    screenshot(bob, "social-for-you")
    first.get_by_role("button", name="Add to my album").click()
    bob.get_by_text("Added to “My references”, credited to alice.").wait_for()
    expect(bob.locator(".credit")).to_contain_text("Originally by alice")
    copy = Photo.objects.get(owner__username="bob")
    assert copy.album.title == "My references" and copy.credited_author.username == "alice"
    assert copy.copied_from.owner.username == "alice" and copy.sha256 == copy.copied_from.sha256
