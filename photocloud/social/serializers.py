from rest_framework import serializers

from photocloud.core import serializers as strict
from photocloud.core.models import MAX_ID
from photocloud.crawler.serializers import CandidateSerializer, CrawlSerializer
from photocloud.library.serializers import AlbumSerializer, PhotoSerializer

from .models import COMMENT_MAX_LENGTH, Comment, Notification


class UserRefSerializer(serializers.Serializer):
    username = serializers.CharField()
    shown_name = serializers.CharField()


class LikeSummarySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    liked = serializers.BooleanField()
    likers = UserRefSerializer(many=True, help_text="The most recent likers.")


class CollectSummarySerializer(serializers.Serializer):
    count = serializers.IntegerField()
    collected = serializers.BooleanField()


class CommentSerializer(strict.ModelSerializer):
    author = UserRefSerializer(read_only=True, allow_null=True, help_text="Null once the comment is deleted.")
    parent = serializers.IntegerField(
        source="parent_id",
        required=False,
        allow_null=True,
        help_text="The comment this one replies to (same album or picture).",
    )
    body = serializers.CharField(max_length=COMMENT_MAX_LENGTH, help_text="Plain text; shown escaped.")
    album = serializers.UUIDField(source="album_id", read_only=True, allow_null=True)
    photo = serializers.UUIDField(source="photo_id", read_only=True, allow_null=True)
    deleted = serializers.SerializerMethodField(help_text="Deleted by its author and kept for its replies; no body.")

    class Meta:
        model = Comment
        fields = ["id", "author", "parent", "body", "album", "photo", "created_at", "edited_at", "deleted"]
        read_only_fields = ["id", "created_at", "edited_at"]

    def get_deleted(self, comment) -> bool:
        return comment.deleted_at is not None

    def to_representation(self, comment):
        data = super().to_representation(comment)
        if comment.deleted_at is not None:
            data["author"] = None  # a placeholder no longer says who wrote it
        return data


class CommentEditSerializer(strict.Serializer):
    body = serializers.CharField(max_length=COMMENT_MAX_LENGTH)


class NotificationSerializer(serializers.ModelSerializer):
    actor = UserRefSerializer(read_only=True)
    text = serializers.CharField(source="get_verb_display", read_only=True)
    album = serializers.UUIDField(source="album_id", read_only=True, allow_null=True)
    photo = serializers.UUIDField(source="photo_id", read_only=True, allow_null=True)
    comment = serializers.IntegerField(source="comment_id", read_only=True, allow_null=True)
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "actor", "verb", "text", "album", "photo", "comment", "created_at", "read_at", "read"]

    def get_read(self, note) -> bool:
        return note.read_at is not None


class NotificationFilterSerializer(strict.QueryFilters):
    unread = serializers.BooleanField(default=False, help_text="Only the unread ones.")


class MarkReadSerializer(strict.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=1000,
        help_text="Notifications to mark read; all of them when left out.",
    )


class MarkReadResultSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    unread = serializers.IntegerField()


class FeedSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many pictures the feed has in all.")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    photos = PhotoSerializer(many=True)
    albums = AlbumSerializer(many=True)


class RecommendationSerializer(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.UUIDField(source="item.pk")
    url = serializers.CharField(source="item.get_absolute_url")
    title = serializers.CharField(source="item.title")
    owner = serializers.CharField(source="item.owner.username")
    score = serializers.FloatField()
    reason = serializers.CharField(help_text="Why it is recommended, e.g. “Looks like “Cup”, which you liked”.")
    because = serializers.UUIDField(source="because.pk", allow_null=True, default=None)


class RecommendationsQuerySerializer(strict.QueryFilters):
    ALLOWED_EXTRA = ("format",)  # one answer, no pages

    limit = serializers.IntegerField(min_value=1, max_value=50, default=10, help_text="Of each kind")


class RecommendationsSerializer(serializers.Serializer):
    photos = RecommendationSerializer(many=True)
    albums = RecommendationSerializer(many=True)


class WebFindsSerializer(serializers.Serializer):
    sources = serializers.BooleanField(help_text="False until an administrator configures crawl sources.")
    running = CrawlSerializer(allow_null=True, help_text="Your web crawl still running, if any.")
    crawl = CrawlSerializer(allow_null=True, help_text="Your latest crawl that finished in the last week.")
    results = CandidateSerializer(many=True, help_text="Its best images you have not saved yet.")


class CopySerializer(strict.Serializer):
    album = serializers.UUIDField(help_text="One of your albums.")
