import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    display_name = models.CharField(max_length=80, blank=True)
    bio = models.TextField(max_length=2000, blank=True)
    # Stored as a processed 256px JPEG under a name derived from the user id, never from the upload name.
    avatar = models.CharField(max_length=200, blank=True, editable=False)
    share_location = models.BooleanField(
        default=False, help_text="Show the GPS position of my pictures to people who may see them."
    )

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username


class Follow(models.Model):
    """`follower` follows `followee`; followers may see albums shared with "my followers"."""

    follower = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="following")
    followee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followers")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="unique_follow"),
            models.CheckConstraint(condition=~models.Q(follower=models.F("followee")), name="no_self_follow"),
        ]
        indexes = [models.Index(fields=["followee", "follower"])]
        db_table = "social_follow"  # moved from the social app without moving data (accounts/migrations/0002)

    def __str__(self):
        return f"{self.follower} → {self.followee}"


class ApiToken(models.Model):
    """A personal token for clients (sync client, scripts). Only a hash is stored; the key is shown once."""

    PREFIX_LENGTH = 8

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=PREFIX_LENGTH)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user, name: str) -> tuple["ApiToken", str]:
        key = "pc_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, prefix=key[: cls.PREFIX_LENGTH], key_hash=cls.hash_key(key))
        return token, key
