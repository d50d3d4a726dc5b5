from rest_framework import serializers

from photocloud.core import serializers as strict

from .models import ApiToken, User
from .selectors import is_following


class MeSerializer(strict.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email", "display_name", "bio", "share_location", "date_joined"]
        read_only_fields = ["id", "username", "date_joined"]


class UserSerializer(serializers.ModelSerializer):
    followers = serializers.IntegerField(source="followers.count", read_only=True)
    following = serializers.IntegerField(source="following.count", read_only=True)
    is_following = serializers.SerializerMethodField()
    avatar = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["username", "display_name", "bio", "avatar", "followers", "following", "is_following"]

    def get_is_following(self, user) -> bool:
        return is_following(self.context["request"].user, user)

    def get_avatar(self, user) -> str | None:
        from django.urls import reverse

        return reverse("people:avatar", args=[user.username]) if user.avatar else None


class ApiTokenSerializer(strict.ModelSerializer):
    key = serializers.SerializerMethodField(help_text="Shown only in the answer that creates the token.")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "key"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at"]

    def get_key(self, token) -> str | None:
        return self.context.get("new_key")
