from django.conf import settings
from django.db import models
from django.db.models import Q

USER = settings.AUTH_USER_MODEL
COMMENT_MAX_LENGTH = 2000
MAX_REPLY_DEPTH = 3  # a top-level comment is at depth 0; deeper replies join the level above (services.add_comment)


# Likes, comments and notifications point at an album or a picture through two explicit foreign keys (exactly one
# set, enforced by the database) rather than a generic relation, so that access filters stay plain joins.
ONE_TARGET = Q(album__isnull=False, photo__isnull=True) | Q(album__isnull=True, photo__isnull=False)


def delete_with_target(collector, field, sub_objs, using):
    """CASCADE, without its first step on databases that cannot defer constraint checks (MySQL, MariaDB): setting the
    nullable key to NULL, which breaks the one-target CHECK constraint (a picture with a comment could not be deleted).
    The rows are deleted before their target instead, as for a key that is not nullable."""
    collector.collect(
        sub_objs, source=field.remote_field.model, source_attr=field.name, nullable=False, fail_on_restricted=False
    )


class TargetMixin(models.Model):
    album = models.ForeignKey("library.Album", null=True, blank=True, on_delete=delete_with_target, related_name="+")
    photo = models.ForeignKey("library.Photo", null=True, blank=True, on_delete=delete_with_target, related_name="+")

    class Meta:
        abstract = True

    @property
    def target(self):
        return self.album or self.photo


class Like(TargetMixin):
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=ONE_TARGET, name="like_one_target"),
            # NULLs never collide in a unique index (all three databases), so each pair is unique on its own.
            models.UniqueConstraint(fields=["user", "album"], name="unique_album_like"),
            models.UniqueConstraint(fields=["user", "photo"], name="unique_photo_like"),
        ]
        indexes = [models.Index(fields=["photo", "-created_at"]), models.Index(fields=["album", "-created_at"])]

    def __str__(self):
        return f"{self.user} likes {self.target}"


class Collect(models.Model):
    """An album a user keeps, read-only, in their space."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="collects")
    album = models.ForeignKey("library.Album", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "album"], name="unique_collect")]
        indexes = [models.Index(fields=["album", "user"])]

    def __str__(self):
        return f"{self.user} collected {self.album}"


class Comment(TargetMixin):
    author = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    body = models.TextField(max_length=COMMENT_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="Deleted by its author, kept for its replies.")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=ONE_TARGET, name="comment_one_target")]
        indexes = [models.Index(fields=["photo", "created_at"]), models.Index(fields=["album", "created_at"])]

    def __str__(self):
        return self.body[:50]


class Notification(TargetMixin):
    """Something another user did to the recipient's content or to the recipient; the target may be none (follow)."""

    class Verb(models.TextChoices):
        LIKE = "like", "liked"
        COLLECT = "collect", "collected"
        COMMENT = "comment", "commented on"
        REPLY = "reply", "replied to your comment on"
        FOLLOW = "follow", "started following you"

    recipient = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notifications")
    actor = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    verb = models.CharField(max_length=10, choices=Verb.choices)
    comment = models.ForeignKey(Comment, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=ONE_TARGET | Q(album__isnull=True, photo__isnull=True), name="notification_at_most_one_target"
            ),
        ]
        indexes = [models.Index(fields=["recipient", "read_at"]), models.Index(fields=["recipient", "-created_at"])]

    def __str__(self):
        return f"{self.actor} {self.get_verb_display()} {self.target or ''}".strip()


class PhotoView(models.Model):
    """A logged-in user opened a picture's page: one row per user and picture, for recommendations."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    photo = models.ForeignKey("library.Photo", on_delete=models.CASCADE, related_name="+")
    count = models.PositiveIntegerField(default=1)
    last_viewed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "photo"], name="unique_photo_view")]
        indexes = [models.Index(fields=["photo", "user"])]

    def __str__(self):
        return f"{self.user} viewed {self.photo_id} ×{self.count}"
