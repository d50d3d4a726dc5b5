"""Likes, collects, follows, comments, notifications and the feed: pages, API, and access levels everywhere.

alice owns the content; bob follows her; carol does not. A followers-only or private item must never show up in the
feed, notifications, counts or recommendations of someone who may not see it.
"""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from photocloud.library.models import Photo
from photocloud.social import selectors, services
from photocloud.social.models import Collect, Comment, Like, Notification, PhotoView
from photocloud.social.recommend import Recommender
from tests import images
from tests.factories import album as make_album
from tests.factories import photo as make_photo


@pytest.fixture
def carol(make_user):
    return make_user("carol")


@pytest.fixture
def world(alice, bob, carol):
    """alice has one album of each access level with one picture each; bob follows her."""
    services.follow(bob, alice)
    albums = {access: make_album(alice, access) for access in ("public", "followers", "private")}
    photos = {access: make_photo(albums[access], title=f"{access} picture") for access in albums}
    return albums, photos


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


# --- likes and collects --------------------------------------------------------------------------------------------


def test_like_unlike_counts_and_likers(world, alice, bob, carol):
    albums, photos = world
    assert services.like(bob, photos["public"])
    assert not services.like(bob, photos["public"])  # once only
    services.like(carol, photos["public"])
    services.like(bob, albums["public"])
    summary = selectors.like_summary(bob, photos["public"])
    assert summary["count"] == 2 and summary["liked"]
    assert [user.username for user in summary["likers"]] == ["carol", "bob"]
    assert selectors.like_summary(bob, albums["public"])["count"] == 1
    assert services.unlike(bob, photos["public"]) and not services.unlike(bob, photos["public"])
    assert selectors.like_summary(bob, photos["public"])["count"] == 1


def test_like_page_and_htmx_swap(world, bob):
    _, photos = world
    client = client_for(bob)
    response = client.post(f"/social/like/photo/{photos['public'].pk}/", {"action": "like"})
    assert response.status_code == 302 and response["Location"].endswith("#social")
    response = client.post(f"/social/like/photo/{photos['public'].pk}/", {"action": "unlike"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"0 likes" in response.content and b"<html" not in response.content


def test_hidden_items_cannot_be_liked_commented_or_collected(world, carol):
    albums, photos = world
    client = client_for(carol)
    for url in (
        f"/social/like/photo/{photos['followers'].pk}/",
        f"/social/like/album/{albums['private'].pk}/",
        f"/social/collect/{albums['followers'].pk}/",
        f"/social/comments/photo/{photos['private'].pk}/",
        f"/social/like/nonsense/{photos['public'].pk}/",
    ):
        assert client.post(url, {"body": "hi"}).status_code == 404, url
    assert not Like.objects.exists() and not Collect.objects.exists() and not Comment.objects.exists()


def test_collected_albums_are_read_only_and_follow_access(world, alice, bob):
    albums, _ = world
    client = client_for(bob)
    client.post(f"/social/collect/{albums['followers'].pk}/", {"action": "collect"})
    page = client.get("/collected/")
    assert albums["followers"].title in page.content.decode()
    album_page = client.get(albums["followers"].get_absolute_url()).content.decode()
    assert f"/albums/{albums['followers'].pk}/edit/" not in album_page and "Collected" in album_page
    assert client.get(f"/albums/{albums['followers'].pk}/edit/").status_code == 404
    assert client.post(f"/albums/{albums['followers'].pk}/delete/").status_code == 404
    with pytest.raises(services.SocialError):
        services.collect(alice, albums["public"])  # your own album is not collected
    services.unfollow(bob, alice)  # no longer allowed to see it: it leaves the collection page
    assert albums["followers"].title not in client.get("/collected/").content.decode()
    services.follow(bob, alice)
    client.post(f"/social/collect/{albums['followers'].pk}/", {"action": "uncollect", "next": "collected"})
    assert not Collect.objects.filter(user=bob).exists()


# --- follows ---------------------------------------------------------------------------------------------------------


def test_followers_and_following_lists(world, alice, bob, carol):
    services.follow(carol, alice)
    page = APIClient().get("/social/people/alice/followers/").content.decode()
    assert "bob" in page and "carol" in page
    assert "alice" in APIClient().get("/social/people/bob/following/").content.decode()
    assert [row["username"] for row in APIClient().get("/api/users/alice/followers/").json()["results"]] == [
        "carol",
        "bob",
    ]
    profile = client_for(bob).get("/u/alice/").content.decode()
    assert "/social/people/alice/followers/" in profile
    notes = Notification.objects.filter(recipient=alice, verb="follow")
    assert notes.count() == 2
    services.unfollow(carol, alice)
    assert notes.count() == 1  # an undone follow takes back its unread notification


# --- comments ------------------------------------------------------------------------------------------------------


def test_comments_replies_escape_edit_delete_and_moderation(world, alice, bob, carol):
    _, photos = world
    target = photos["public"]
    bob_client, carol_client = client_for(bob), client_for(carol)
    response = bob_client.post(f"/social/comments/photo/{target.pk}/", {"body": "<script>alert(1)</script> nice"})
    comment = Comment.objects.get()
    assert response["Location"].endswith(f"#comment-{comment.pk}")
    carol_client.post(f"/social/comments/photo/{target.pk}/", {"body": "thanks", "parent": comment.pk})
    reply = Comment.objects.get(parent=comment)
    page = carol_client.get(target.get_absolute_url()).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; nice" in page and "<script>alert(1)" not in page
    assert page.index(f'id="comment-{comment.pk}"') < page.index(f'id="comment-{reply.pk}"')

    # Only the author edits; the author or the picture's owner deletes.
    assert carol_client.post(f"/social/comments/{comment.pk}/edit/", {"body": "hacked"}).status_code == 302
    comment.refresh_from_db()
    assert comment.body.endswith("nice") and comment.edited_at is None
    bob_client.post(f"/social/comments/{comment.pk}/edit/", {"body": "edited"})
    comment.refresh_from_db()
    assert comment.body == "edited" and comment.edited_at is not None
    carol_client.post(f"/social/comments/{comment.pk}/delete/")
    assert Comment.objects.filter(pk=comment.pk).exists()
    assert (
        "Its 1 reply will be deleted too"
        in client_for(alice).get(f"/social/comments/{comment.pk}/delete/").content.decode()
    )
    client_for(alice).post(f"/social/comments/{comment.pk}/delete/")
    assert not Comment.objects.exists()


def test_comment_limits_and_rate_limit(world, bob):
    _, photos = world
    client = client_for(bob)
    url = f"/social/comments/photo/{photos['public'].pk}/"
    client.post(url, {"body": "x" * 2001})
    client.post(url, {"body": "   "})
    assert not Comment.objects.exists()
    with pytest.raises(services.SocialError):
        services.add_comment(bob, photos["public"], "y" * 2001)
    for n in range(12):
        client.post(url, {"body": f"comment {n}"})
    assert Comment.objects.count() == 10
    response = client.post(url, {"body": "more"}, follow=True)
    assert "too fast" in response.content.decode()


@pytest.fixture
def clock(monkeypatch):
    """A wall clock the test moves: what the comments' times and any rate limiter read (time.time, timezone.now)."""
    now = [1_800_000_000.0]
    monkeypatch.setattr(time, "time", lambda *_: now[0])  # *_: a class attribute timer gets self
    monkeypatch.setattr(timezone, "now", lambda: datetime.fromtimestamp(now[0], UTC))
    return now


def test_at_most_ten_comments_in_any_minute_however_the_minute_falls(world, bob, clock):
    """A user posted 12 comments within one minute through the page: the limit must hold over any 60 seconds, not
    per clock minute (ten just before a minute ends and ten more just after)."""
    _, photos = world
    client = client_for(bob)
    url = f"/social/comments/photo/{photos['public'].pk}/"
    for start in (clock[0], clock[0] + 1000 + 30):  # two phases of the minute: one of them straddles any boundary
        clock[0] = start
        for n in range(40):  # one try every two seconds for 80 seconds
            assert client.post(url, {"body": f"comment {n}"}).status_code == 302
            clock[0] += 2
    times = sorted(Comment.objects.values_list("created_at", flat=True))
    busiest = max(sum(1 for other in times if at - timedelta(seconds=60) < other <= at) for at in times)
    assert busiest == 10  # the limit, reached and never passed


def test_the_page_and_the_api_share_one_comment_limit(world, bob, clock):
    _, photos = world
    client = client_for(bob)
    page = f"/social/comments/photo/{photos['public'].pk}/"
    for n in range(6):
        client.post(page, {"body": f"page {n}"})
        clock[0] += 1
    api = f"/api/photos/{photos['public'].pk}/comments/"
    answers = [client.post(api, {"body": f"api {n}"}, format="json").status_code for n in range(5)]
    assert answers == [201, 201, 201, 201, 429] and Comment.objects.count() == 10
    assert "too fast" in client.post(page, {"body": "more"}, follow=True).content.decode()
    clock[0] += 61  # a quiet minute later, both paths take comments again
    assert client.post(api, {"body": "later"}, format="json").status_code == 201
    assert client.post(page, {"body": "later"}).status_code == 302 and Comment.objects.count() == 12


def test_reply_must_be_on_the_same_target(world, bob):
    _, photos = world
    comment = services.add_comment(bob, photos["public"], "hello")
    other = make_photo(photos["public"].album)
    with pytest.raises(services.SocialError):
        services.add_comment(bob, other, "reply", parent=comment)


# --- notifications ---------------------------------------------------------------------------------------------------


def test_notifications_for_each_action_and_mark_read(world, alice, bob, carol):
    albums, photos = world
    services.like(bob, photos["public"])
    services.collect(bob, albums["public"])
    comment = services.add_comment(carol, albums["public"], "lovely")
    services.add_comment(alice, albums["public"], "thank you", parent=comment)  # a reply to carol
    services.like(alice, photos["public"])  # nobody is told about their own actions
    assert sorted(Notification.objects.filter(recipient=alice).values_list("verb", flat=True)) == [
        "collect",
        "comment",
        "follow",
        "like",
    ]
    assert list(Notification.objects.filter(recipient=carol).values_list("verb", flat=True)) == ["reply"]

    client = client_for(alice)
    page = client.get("/library/").content.decode()
    assert 'data-testid="unread-count">4<' in page
    notes_page = client.get("/notifications/").content.decode()
    assert "lovely" in notes_page and "collected" in notes_page
    first = Notification.objects.filter(recipient=alice).first()
    client.post("/notifications/read/", {"id": first.pk})
    assert selectors.unread_count(alice) == 3
    client.post("/notifications/read/")
    assert (
        selectors.unread_count(alice) == 0
        and 'data-testid="unread-count"' not in client.get("/library/").content.decode()
    )


def test_notifications_never_reveal_what_the_recipient_may_no_longer_see(world, alice, bob):
    albums, photos = world
    comment = services.add_comment(bob, photos["followers"], "nice")
    services.add_comment(alice, photos["followers"], "thanks", parent=comment)
    assert selectors.unread_count(bob) == 1
    services.unfollow(bob, alice)  # the followers-only picture is now hidden from bob
    assert selectors.unread_count(bob) == 0 and not selectors.notifications_for(bob).exists()
    client = client_for(bob)
    assert "followers picture" not in client.get("/notifications/").content.decode()
    assert client.get("/api/notifications/").json()["count"] == 0
    services.follow(bob, alice)
    assert selectors.unread_count(bob) == 1


# --- feed ----------------------------------------------------------------------------------------------------------


def test_feed_shows_only_followed_and_visible(world, alice, bob, carol):
    albums, photos = world
    services.follow(carol, alice)
    bob_feed = {photo.pk for photo in selectors.feed_photos(bob)}
    carol_feed = {photo.pk for photo in selectors.feed_photos(carol)}
    assert bob_feed == {photos["public"].pk, photos["followers"].pk}
    assert carol_feed == {photos["public"].pk, photos["followers"].pk}  # carol follows now, so she is a follower
    services.unfollow(carol, alice)
    assert not selectors.feed_photos(carol).exists()
    page = client_for(bob).get("/feed/").content.decode()
    assert str(photos["followers"].pk) in page and str(photos["private"].pk) not in page
    body = client_for(bob).get("/api/feed/").json()
    assert {row["id"] for row in body["photos"]} == {str(photos["public"].pk), str(photos["followers"].pk)}
    assert str(albums["private"].pk) not in {row["id"] for row in body["albums"]}
    assert "Follow people" in client_for(carol).get("/feed/").content.decode()


# --- API -----------------------------------------------------------------------------------------------------------


def test_api_likes_collects_comments(world, alice, bob, carol):
    albums, photos = world
    client = client_for(bob)
    url = f"/api/photos/{photos['followers'].pk}/likes/"
    assert client.post(url).json()["count"] == 1
    assert APIClient().get(url).status_code == 404  # anonymous may not see it, so not its likes either
    assert client_for(carol).get(url).status_code == 404
    assert client.delete(url).json() == {"count": 0, "liked": False, "likers": []}
    assert client.post(f"/api/albums/{albums['public'].pk}/collect/").json() == {"count": 1, "collected": True}
    assert [row["id"] for row in client.get("/api/collected/").json()["results"]] == [str(albums["public"].pk)]
    assert client_for(alice).post(f"/api/albums/{albums['public'].pk}/collect/").status_code == 400

    comments = f"/api/albums/{albums['public'].pk}/comments/"
    created = client.post(comments, {"body": "hello"}, format="json")
    assert created.status_code == 201
    reply = client_for(carol).post(comments, {"body": "hi", "parent": created.json()["id"]}, format="json").json()
    assert reply["parent"] == created.json()["id"]
    assert [row["body"] for row in APIClient().get(comments).json()["results"]] == ["hello", "hi"]
    assert client.post(comments, {"body": "z" * 2001}, format="json").status_code == 400
    detail = f"/api/comments/{reply['id']}/"
    assert client.patch(detail, {"body": "not mine"}, format="json").status_code == 403
    assert client_for(carol).patch(detail, {"body": "edited"}, format="json").json()["edited_at"]
    assert client.delete(detail).status_code == 403
    assert client_for(alice).delete(detail).status_code == 204  # the owner moderates
    assert APIClient().post(comments, {"body": "anon"}, format="json").status_code in (401, 403)

    notes = client_for(alice).get("/api/notifications/?unread=true").json()
    assert {row["verb"] for row in notes["results"]} == {"follow", "collect", "comment"}
    marked = client_for(alice).post("/api/notifications/read/", {}, format="json").json()
    assert marked["unread"] == 0 and marked["marked"] == notes["count"]


def test_api_schema_lists_the_social_routes(db):
    schema = APIClient().get("/api/schema/?format=json").json()
    for route in (
        "/api/{kind}/{id}/likes/",
        "/api/albums/{id}/collect/",
        "/api/notifications/",
        "/api/feed/",
        "/api/recommendations/",
        "/api/photos/{id}/copy/",
        "/api/comments/{id}/",
    ):
        assert route in schema["paths"], route


# --- views, recommendations, copies --------------------------------------------------------------------------------


def test_opening_a_picture_records_a_view(world, alice, bob):
    _, photos = world
    client = client_for(bob)
    client.get(photos["public"].get_absolute_url())
    client.get(photos["public"].get_absolute_url())
    client_for(alice).get(photos["public"].get_absolute_url())  # owners' own views do not count
    assert list(PhotoView.objects.values_list("user__username", "count")) == [("bob", 2)]


def _shown_to(user) -> set:
    """Every album and picture id the social space shows `user`: feed, notifications, recommendations (and their
    reasons) and collected albums, through the selectors and through the API."""
    recommender = Recommender(user)
    shown = {photo.pk for photo in selectors.feed_photos(user)} | {album.pk for album in selectors.feed_albums(user)}
    shown |= {album.pk for album in selectors.collected_albums(user)}
    for note in selectors.notifications_for(user):
        shown |= {note.album_id, note.photo_id}
    for rec in recommender.photos(50) + recommender.albums(50):
        shown |= {rec.item.pk, rec.because.pk if rec.because else None}
    client = client_for(user)
    api = client.get("/api/feed/").json()
    shown |= {row["id"] for row in api["photos"] + api["albums"]}
    shown |= {row["id"] for row in client.get("/api/collected/").json()["results"]}
    for row in client.get("/api/notifications/").json()["results"]:
        shown |= {row["album"], row["photo"]}
    recommended = client.get("/api/recommendations/?limit=50").json()
    shown |= {row[key] for row in recommended["photos"] + recommended["albums"] for key in ("id", "because")}
    return {str(pk) for pk in shown if pk is not None}


def _visible_ids(user) -> set:
    from photocloud.library.models import Album

    ids = set(Photo.objects.visible_to(user).values_list("pk", flat=True))
    return {str(pk) for pk in ids | set(Album.objects.visible_to(user).values_list("pk", flat=True))}


def test_hidden_items_never_surface_in_feeds_notifications_recommendations_or_counts(world, alice, bob, carol):
    import numpy as np

    from photocloud.vision.models import PhotoAnalysis

    albums, photos = world
    for photo in photos.values():  # features, so that content similarity can pick them too
        PhotoAnalysis.objects.create(photo=photo, features=np.ones(1280, dtype=np.float16).tobytes(), model_version="t")
    carol_album = make_album(carol, "public", title="carol's")
    make_photo(carol_album)
    services.collect(bob, albums["followers"])
    services.like(bob, photos["followers"])
    services.like(bob, albums["followers"])
    comment = services.add_comment(bob, photos["followers"], "nice")
    services.add_comment(alice, photos["followers"], "thanks", parent=comment)
    services.add_comment(alice, albums["followers"], "more soon")
    services.like(carol, photos["public"])
    services.like(carol, carol_album)
    assert str(photos["followers"].pk) in _shown_to(bob)  # while bob follows alice he does see it

    services.unfollow(bob, alice)
    for user in (bob, carol):
        assert _shown_to(user) <= _visible_ids(user), user
    assert selectors.unread_count(bob) == 0  # the reply was about a picture bob may no longer see
    assert client_for(bob).get(f"/api/photos/{photos['followers'].pk}/likes/").status_code == 404
    assert client_for(bob).get(f"/api/albums/{albums['followers'].pk}/comments/").status_code == 404
    assert not any(str(photos[level].pk) in _shown_to(bob) for level in ("followers", "private"))


def test_copy_to_my_album_credits_the_author(alice, bob, upload, django_capture_on_commit_callbacks):
    source_album = make_album(alice, "public")
    alice_client = APIClient()
    alice_client.force_login(alice)
    response = upload(alice_client, [("cup.jpg", images.jpeg("coffee", gps=(48.85, 2.35)))], album=source_album)
    original = Photo.objects.get(owner=alice)
    mine = make_album(bob, "private", title="Mine")
    client = client_for(bob)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/photos/{original.pk}/copy/", {"album": str(mine.pk)}, format="json")
    assert response.status_code == 201, response.content
    copy = Photo.objects.get(owner=bob)
    assert copy.album == mine and copy.copied_from == original and copy.credited_author == alice
    assert copy.credit == alice.shown_name and copy.source_page_url.endswith(original.get_absolute_url())
    assert copy.latitude is None  # alice does not share her locations, so bob's copy has none
    assert client.post(f"/api/photos/{original.pk}/copy/", {"album": str(mine.pk)}, format="json").status_code == 200
    assert "Originally by" in client.get(copy.get_absolute_url()).content.decode()
    carol_album = make_album(alice, "private", title="not bob's")
    assert (
        client.post(f"/api/photos/{original.pk}/copy/", {"album": str(carol_album.pk)}, format="json").status_code
        == 404
    )
    # The form on the picture page does the same.
    page = client.get(original.get_absolute_url()).content.decode()
    assert "Add to my album" in page
    other = make_album(bob, "public", title="Other")
    response = client.post(f"/social/photos/{original.pk}/copy/", {"album": str(other.pk)}, follow=True)
    assert "You already have this picture." in response.content.decode()  # deduplicated per owner by content


def test_bad_input_answers_4xx(world, bob):
    _, photos = world
    client = client_for(bob)
    assert client.post(f"/api/photos/{photos['public'].pk}/comments/", {"body": ""}, format="json").status_code == 400
    assert (
        client.post(
            f"/api/photos/{photos['public'].pk}/comments/", {"body": "x", "parent": 999999}, format="json"
        ).status_code
        == 404
    )
    assert client.get("/api/recommendations/?limit=abc").status_code == 400
    assert client.post("/api/notifications/read/", {"ids": ["x"]}, format="json").status_code == 400
    assert client.post(f"/social/photos/{photos['public'].pk}/copy/", {"album": "nope"}).status_code == 302
    for bad in ("abc", "²", "9" * 30, "0", "-1"):
        response = client.post("/notifications/read/", {"id": bad})
        assert response.status_code == 400 and "is not a notification id" in response.content.decode(), bad
        assert response.templates[0].name == "400.html"  # the site's page, not bare text
    for bad in (10**30, 0):
        response = client.post("/api/notifications/read/", {"ids": [bad]}, format="json")
        assert response.status_code == 400 and response.json()["ids"], bad
    for route in ("likes", "comments"):
        response = client.get(f"/api/photos/{'-' * 36}/{route}/")
        assert response.status_code == 404 and "detail" in response.json()
    assert client.post(f"/social/like/photo/{'-' * 36}/").status_code == 404
    assert client.get("/social/people/nobody/followers/").status_code == 404


def test_notifications_wait_for_the_next_log_in(world, alice, bob):
    _, photos = world
    services.like(bob, photos["public"])
    client = APIClient()
    response = client.post("/accounts/login/", {"username": "alice", "password": "a-long-Passw0rd!"}, follow=True)
    assert 'You have <a href="/notifications/">2 new notifications</a>.' in response.content.decode()


def test_long_discussions_show_the_newest_threads_first(world, bob, carol):
    _, photos = world
    first = services.add_comment(bob, photos["public"], "the very first")
    services.add_comment(carol, photos["public"], "reply to the first", parent=first)
    for n in range(50):
        latest = services.add_comment(bob, photos["public"], f"comment {n}")
    services.add_comment(carol, photos["public"], "reply to the latest", parent=latest)
    page = client_for(carol).get(photos["public"].get_absolute_url()).content.decode()
    assert "Show 1 older comment" in page and "the very first" not in page and "reply to the first" not in page
    assert "reply to the latest" in page and page.count('class="comment"') == 51
    everything = client_for(carol).get(photos["public"].get_absolute_url() + "?comments=all").content.decode()
    assert "the very first" in everything and "reply to the first" in everything and "older comment" not in everything
