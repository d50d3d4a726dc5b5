"""Defects a review found: withdrawn notifications, deep reply chains, deleting commented comments, copies of
followers-only pictures and of copies, recommendations after a copy, their wording and cost, API query counts."""

import importlib
from datetime import timedelta

import numpy as np
import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from photocloud.library.models import Photo
from photocloud.library.services import set_tags
from photocloud.social import selectors, services
from photocloud.social.models import MAX_REPLY_DEPTH, Comment, Like, Notification, PhotoView
from photocloud.social.recommend import Recommender, recommendations
from tests import images
from tests.factories import album as make_album
from tests.factories import photo as make_photo


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


@pytest.fixture
def carol(make_user):
    return make_user("carol")


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def depth(comment) -> int:
    levels = 0
    while comment.parent_id is not None:
        comment, levels = comment.parent, levels + 1
    return levels


# --- 1. notifications ---------------------------------------------------------------------------------------------


def test_unfollowing_one_person_keeps_the_follow_notifications_to_others(alice, bob, carol):
    services.follow(bob, alice)
    services.follow(bob, carol)
    services.unfollow(bob, alice)
    assert not Notification.objects.filter(recipient=alice).exists()
    assert Notification.objects.filter(recipient=carol, actor=bob, verb="follow").count() == 1


def test_unliking_keeps_the_like_notification_of_another_target_owner(alice, bob, carol):
    mine, theirs = make_photo(make_album(alice)), make_photo(make_album(carol))
    services.like(bob, mine)
    services.like(bob, theirs)
    services.unlike(bob, mine)
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["carol"]


# --- 2. deep reply chains -----------------------------------------------------------------------------------------


def test_a_long_reply_chain_nests_at_most_three_levels_and_renders(alice, bob, carol):
    target = make_photo(make_album(alice))
    comment = services.add_comment(bob, target, "start")
    for n in range(80):
        comment = services.add_comment(carol if n % 2 else bob, target, f"reply {n}", parent=comment)
    assert max(depth(c) for c in Comment.objects.all()) == MAX_REPLY_DEPTH
    assert comment.body == f"@{bob.shown_name} reply 79"  # it answered bob's reply, now its sibling
    assert Notification.objects.filter(verb="reply", recipient=bob, comment=comment).exists()
    response = client_for(carol).get(target.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="comment"') == 81 and "reply 79" in page


def test_a_deep_stored_chain_renders_and_loads_in_a_fixed_number_of_queries(alice, bob, django_assert_max_num_queries):
    """Chains stored before the cap (or however deep) render without recursion; the migration flattens them."""
    target = make_photo(make_album(alice))
    parent = top = Comment.objects.create(author=bob, photo=target, body="start")
    for n in range(120):
        parent = Comment.objects.create(author=bob, photo=target, body=f"reply {n}", parent=parent)
    for n in range(3):
        services.add_comment(bob, target, f"newer {n}")
    with django_assert_max_num_queries(4):
        threads, hidden = selectors.comment_thread(target, limit=3)
    assert hidden == 1 and len(threads) == 3
    everything, _ = selectors.comment_thread(target)
    assert everything[0].pk == top.pk and len(everything[0].thread_replies) == 120
    assert {reply.depth for reply in everything[0].thread_replies} == {1, 2, 3}
    page = client_for(bob).get(target.get_absolute_url() + "?comments=all")
    assert page.status_code == 200 and "reply 119" in page.content.decode()

    migration = importlib.import_module("photocloud.social.migrations.0003_comment_depth_and_placeholders")
    migration.flatten_deep_replies(apps, None)
    assert max(depth(c) for c in Comment.objects.all()) == MAX_REPLY_DEPTH
    assert Comment.objects.count() == 124
    with django_assert_max_num_queries(1):
        assert len(services.descendants([top.pk])) == 121


# --- 3. deleting a comment others replied to -----------------------------------------------------------------------


def test_an_author_deleting_a_commented_comment_keeps_the_replies(alice, bob, carol):
    target = make_photo(make_album(alice))
    comment = services.add_comment(bob, target, "bob's words")
    reply = services.add_comment(carol, target, "carol's answer", parent=comment)
    bob_client = client_for(bob)
    assert "Its 1 reply stays" in bob_client.get(f"/social/comments/{comment.pk}/delete/").content.decode()
    bob_client.post(f"/social/comments/{comment.pk}/delete/")
    comment.refresh_from_db()
    assert comment.deleted_at is not None and comment.body == "" and Comment.objects.filter(pk=reply.pk).exists()
    assert not Notification.objects.filter(comment=comment).exists()
    assert Notification.objects.filter(comment=reply).exists()
    page = client_for(carol).get(target.get_absolute_url()).content.decode()
    assert "[deleted]" in page and "carol&#x27;s answer" in page and "bob&#x27;s words" not in page
    api = client_for(carol).get(f"/api/comments/{comment.pk}/").json()
    assert api["deleted"] and api["author"] is None and api["body"] == ""
    with pytest.raises(services.SocialError):
        services.edit_comment(bob, comment, "back")
    # Once its last reply goes, the placeholder goes too.
    client_for(carol).post(f"/social/comments/{reply.pk}/delete/")
    assert not Comment.objects.exists()


def test_owner_moderation_removes_the_whole_thread_and_counts_every_level(alice, bob, carol):
    target = make_photo(make_album(alice))
    comment = services.add_comment(bob, target, "top")
    child = services.add_comment(carol, target, "one", parent=comment)
    grandchild = services.add_comment(bob, target, "two", parent=child)
    services.add_comment(carol, target, "three", parent=grandchild)
    alice_client = client_for(alice)
    assert (
        "Its 3 replies will be deleted too"
        in alice_client.get(f"/social/comments/{comment.pk}/delete/").content.decode()
    )
    response = alice_client.post(f"/social/comments/{comment.pk}/delete/", follow=True)
    assert "Comment and 3 replies deleted." in response.content.decode()
    assert not Comment.objects.exists()


# --- 5, 6. copies -------------------------------------------------------------------------------------------------


@pytest.fixture
def uploaded(alice, upload):
    """One real picture of alice's in each of a public and a followers-only album."""
    client = client_for(alice)
    result = {}
    for access, name in (("public", "coffee"), ("followers", "astronaut")):
        upload(client, [(f"{name}.jpg", images.jpeg(name))], album=make_album(alice, access))
        result[access] = Photo.objects.get(owner=alice, album__access=access)
    return result


def test_followers_only_pictures_cannot_be_copied(uploaded, alice, bob):
    services.follow(bob, alice)
    mine = make_album(bob, "public", title="Mine")
    client = client_for(bob)
    hidden = uploaded["followers"]
    response = client.post(f"/api/photos/{hidden.pk}/copy/", {"album": str(mine.pk)}, format="json")
    assert response.status_code == 403 and "Only public pictures" in response.json()["detail"]
    response = client.post(f"/social/photos/{hidden.pk}/copy/", {"album": str(mine.pk)}, follow=True)
    assert "Only public pictures" in response.content.decode()
    assert not Photo.objects.filter(owner=bob).exists()
    assert "Add to my album" not in client.get(hidden.get_absolute_url()).content.decode()
    assert "Add to my album" in client.get(uploaded["public"].get_absolute_url()).content.decode()


def test_a_copy_of_a_copy_credits_the_original(uploaded, alice, bob, carol, django_capture_on_commit_callbacks):
    original = uploaded["public"]
    Photo.objects.filter(pk=original.pk).update(
        credit="Jane Doe", source_url="https://example.org/cup.jpg", source_page_url="https://example.org/cups"
    )
    for user, source in ((bob, original), (carol, None)):
        source = source or Photo.objects.get(owner=bob)
        album = make_album(user, "public", title="Mine")
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(user).post(f"/api/photos/{source.pk}/copy/", {"album": str(album.pk)}, format="json")
        assert response.status_code == 201, response.content
    copy = Photo.objects.get(owner=carol)
    assert copy.copied_from_id == original.pk and copy.credited_author is None and copy.credit == "Jane Doe"
    assert copy.source_url == "https://example.org/cup.jpg" and copy.source_page_url == "https://example.org/cups"


def test_a_copy_of_a_users_copy_credits_that_user(uploaded, alice, bob, carol, django_capture_on_commit_callbacks):
    original = uploaded["public"]
    for user, source in ((bob, original), (carol, None)):
        source = source or Photo.objects.get(owner=bob)
        with django_capture_on_commit_callbacks(execute=True):
            services.copy_to_album(
                user, source, make_album(user, "public"), f"http://testserver{source.get_absolute_url()}"
            )
    copy = Photo.objects.get(owner=carol)
    assert copy.copied_from == original and copy.credited_author == alice and copy.credit == alice.shown_name
    assert copy.source_page_url.endswith(original.get_absolute_url())


# --- 7, 8. recommendations ----------------------------------------------------------------------------------------


def test_a_picture_already_copied_is_not_recommended_again(alice, bob):
    original = make_photo(make_album(alice), "Original")
    other = make_photo(make_album(alice), "Other")
    services.follow(bob, alice)
    copy = make_photo(make_album(bob), "My copy")  # another file: the location was stripped
    Photo.objects.filter(pk=copy.pk).update(copied_from=original)
    recommended = {rec.item.pk for rec in Recommender(bob).photos(10)}
    assert other.pk in recommended and original.pk not in recommended


def test_reasons_name_what_the_neighbours_did(make_user):
    alice, bob, carol = (make_user(name) for name in ("alice", "bob", "carol"))
    shared, viewed_only = make_photo(make_album(alice), "Shared"), make_photo(make_album(alice), "Seen")
    services.like(bob, shared)
    services.like(carol, shared)
    services.record_view(carol, viewed_only)
    reasons = {rec.item.pk: rec.reason for rec in Recommender(bob).photos(10)}
    assert reasons[viewed_only.pk] == "People who liked “Shared” also viewed this"


def test_popular_recently_counts_recent_interactions_only(make_user):
    alice, bob, *others = (make_user(f"user{n}") for n in range(8))
    services.follow(bob, make_user("quiet"))  # not cold, nothing else known
    old_hit, new = make_photo(make_album(alice), "Old hit"), make_photo(make_album(alice), "New")
    for user in others:
        services.like(user, old_hit)
    Like.objects.filter(photo=old_hit).update(created_at=timezone.now() - timedelta(days=90))
    services.like(others[0], new)
    reasons = {rec.item.pk: rec.reason for rec in Recommender(bob).photos(10)}
    assert reasons[new.pk] == "Popular recently" and reasons[old_hit.pk] == "Recently shared"


def test_recommendations_are_cached_until_the_user_acts(alice, bob, carol, django_assert_max_num_queries):
    services.follow(bob, alice)
    public, later = make_album(alice), make_album(alice, title="later")
    first = make_photo(public, "First")
    assert [rec.item.pk for rec in recommendations(bob, 10, 5)["photos"]] == [first.pk]
    second = make_photo(later, "Second")
    with django_assert_max_num_queries(3):  # cached: only the access re-check
        assert [rec.item.pk for rec in recommendations(bob, 10, 5)["photos"]] == [first.pk]
    public.access = "private"
    public.save()
    assert recommendations(bob, 10, 5)["photos"] == []  # what bob may no longer see is dropped at once
    services.like(bob, make_photo(make_album(carol)))
    assert [rec.item.pk for rec in recommendations(bob, 10, 5)["photos"]] == [second.pk]


def test_neighbours_are_counted_in_the_database(make_user):
    bob, *others = (make_user(f"user{n}") for n in range(5))
    pictures = [make_photo(make_album(others[0])) for _ in range(4)]
    for picture in pictures:
        services.like(bob, picture)
        PhotoView.objects.create(user=others[1], photo=picture)
    services.like(others[2], pictures[0])
    recommender = Recommender(bob)
    with CaptureQueriesContext(connection) as queries:
        from photocloud.social.recommend import _neighbours

        assert _neighbours(bob, recommender.profile)[:2] == [others[1].pk, others[2].pk]
    assert all("COUNT(" in query["sql"].upper() for query in queries.captured_queries)


# --- 9. API query counts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["/api/feed/", "/api/collected/"])
def test_feed_and_collected_queries_stay_flat(route, alice, bob, django_assert_max_num_queries):
    services.follow(bob, alice)
    client = client_for(bob)

    def grow(albums, pictures):
        for _ in range(albums):
            album = make_album(alice, title=f"album {Photo.objects.count()}")
            set_tags(album, ["sea", "sun"])
            services.collect(bob, album)
            for _ in range(pictures):
                set_tags(make_photo(album, features=np.ones(1280)), ["sea", "boat"])

    grow(1, 2)
    with CaptureQueriesContext(connection) as small:
        assert client.get(route).status_code == 200
    grow(6, 5)
    with django_assert_max_num_queries(len(small.captured_queries)):
        body = client.get(route).json()
    assert body["count"] == (32 if route == "/api/feed/" else 7)
