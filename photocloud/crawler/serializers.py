from django.urls import reverse
from rest_framework import serializers

from photocloud.core import serializers as strict
from photocloud.core.models import MAX_ID
from photocloud.library.serializers import UploadResultSerializer

from .models import Candidate, Crawl
from .services import MAX_SAVE


class CrawlCreateSerializer(strict.Serializer):
    photo = serializers.UUIDField(required=False, allow_null=True, help_text="A picture you may see, to look for.")
    keywords = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    start_pages = serializers.ListField(
        child=serializers.CharField(max_length=2000),
        required=False,
        default=list,
        help_text="http(s) URLs to start from.",
    )
    use_sources = serializers.BooleanField(default=True, help_text="Also start from the configured sources.")
    max_depth = serializers.IntegerField(min_value=0, required=False)
    max_pages = serializers.IntegerField(min_value=1, required=False)


class CrawlSerializer(serializers.ModelSerializer):
    target = serializers.UUIDField(source="target_id", allow_null=True, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Crawl
        fields = [
            "id",
            "url",
            "status",
            "target",
            "keywords",
            "seed_urls",
            "use_sources",
            "ranked_by_similarity",
            "pages_fetched",
            "bytes_fetched",
            "images_found",
            "images_kept",
            "seconds_used",
            "max_depth",
            "max_pages",
            "max_bytes",
            "max_seconds",
            "outcome",
            "error",
            "notes",
            "created_at",
            "started_at",
            "finished_at",
            "heartbeat",
        ]
        read_only_fields = fields

    def get_url(self, crawl) -> str:
        return reverse("crawler:detail", args=[crawl.pk])


class CandidateSerializer(serializers.ModelSerializer):
    thumbnail = serializers.SerializerMethodField()
    saved_photo = serializers.UUIDField(source="saved_id", allow_null=True, read_only=True)

    class Meta:
        model = Candidate
        fields = [
            "id",
            "image_url",
            "page_url",
            "page_title",
            "alt",
            "caption",
            "format",
            "width",
            "height",
            "bytes",
            "sha256",
            "similarity",
            "keyword_score",
            "score",
            "retrieved_at",
            "thumbnail",
            "saved_photo",
        ]
        read_only_fields = fields

    def get_thumbnail(self, candidate) -> str:
        return reverse("crawler:candidate_image", args=[candidate.crawl_id, candidate.pk])


class SaveSerializer(strict.Serializer):
    candidates = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=MAX_SAVE,
        help_text=f"Candidate ids, at most {MAX_SAVE} per request.",
    )
    album = serializers.UUIDField(help_text="One of your albums.")


class SaveResponseSerializer(serializers.Serializer):
    stored = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = UploadResultSerializer(many=True)
