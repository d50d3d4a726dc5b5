from django.db import IntegrityError, transaction

from .models import Follow


class FollowError(ValueError):
    pass


def follow(follower, followee) -> bool:
    """Make `follower` follow `followee`; returns False when it already did."""
    if follower.pk == followee.pk:
        raise FollowError("You cannot follow yourself.")
    try:
        with transaction.atomic():
            Follow.objects.create(follower=follower, followee=followee)
    except IntegrityError:
        return False
    return True


def unfollow(follower, followee) -> bool:
    deleted, _ = Follow.objects.filter(follower=follower, followee=followee).delete()
    return bool(deleted)


def is_following(follower, followee) -> bool:
    return follower.is_authenticated and Follow.objects.filter(follower=follower, followee=followee).exists()
