from django.conf import settings
from django.db import models


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

    def __str__(self):
        return f"{self.follower} → {self.followee}"
