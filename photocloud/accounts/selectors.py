"""Reads about accounts: who follows whom (the library's access rules read follows too, see library/access.py)."""

from .models import Follow


def is_following(follower, followee) -> bool:
    return follower.is_authenticated and Follow.objects.filter(follower=follower, followee=followee).exists()
