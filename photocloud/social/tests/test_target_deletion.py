"""Deleting a liked or commented picture or album takes its likes, comments and notifications with it, on every
database: MySQL and MariaDB cannot defer constraint checks, and Django's CASCADE there first sets the key to NULL,
which the one-target CHECK constraint refuses (found by fuzzing the API on MariaDB)."""

from photocloud.library import services as library
from photocloud.social import services
from photocloud.social.models import Comment, Like, Notification
from tests.factories import album as make_album
from tests.factories import photo as make_photo


def _react(user, other, target):
    services.like(other, target)
    first = services.add_comment(other, target, "Lovely.")
    services.add_comment(user, target, "Thanks!", parent=first)


def test_a_picture_with_likes_comments_and_notifications_can_be_deleted(alice, bob):
    album = make_album(alice)
    picture, kept = make_photo(album), make_photo(album)
    _react(alice, bob, picture)
    _react(alice, bob, kept)
    assert Notification.objects.filter(photo=picture).exists()
    library.delete_photo(picture)
    assert not Comment.objects.filter(photo=picture.pk).exists()
    assert not Like.objects.filter(photo=picture.pk).exists()
    assert not Notification.objects.filter(photo=picture.pk).exists()
    assert Comment.objects.filter(photo=kept).count() == 2


def test_an_album_with_reactions_to_it_and_its_pictures_can_be_deleted(alice, bob):
    album = make_album(alice)
    picture = make_photo(album)
    _react(alice, bob, album)
    _react(alice, bob, picture)
    library.delete_album(album)
    assert not Comment.objects.exists()
    assert not Like.objects.exists()
    assert not Notification.objects.filter(album__isnull=False).exists()
    assert not Notification.objects.filter(photo__isnull=False).exists()
