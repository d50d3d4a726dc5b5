from rest_framework import serializers

from photocloud.core import serializers as strict
from photocloud.library.models import Album
from photocloud.library.serializers import OwnedPrimaryKeyRelatedField


class UploadStartSerializer(strict.Serializer):
    sha256 = serializers.RegexField(r"^[0-9a-f]{64}$", error_messages={"invalid": "Not a SHA-256 hex digest."})
    size = serializers.IntegerField(min_value=1, help_text="The whole file's size in bytes.")
    name = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default="", help_text="The file's name, for display only."
    )
    album = OwnedPrimaryKeyRelatedField(
        queryset=Album.objects.all(),
        required=False,
        allow_null=True,
        help_text="One of your albums; empty means your “Uploads” album.",
    )


class UploadStateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(["open", "duplicate"], help_text="duplicate: you have these bytes already.")
    id = serializers.UUIDField(allow_null=True, help_text="The upload to send chunks to (null for a duplicate).")
    offset = serializers.IntegerField(help_text="Bytes received so far: send the next chunk from here.")
    size = serializers.IntegerField()
    max_chunk_bytes = serializers.IntegerField()
    photo = serializers.UUIDField(allow_null=True, help_text="The picture you already have (duplicates only).")
    code = serializers.CharField(
        allow_blank=True, help_text='"restored": that picture was in your Trash and is back in your library.'
    )
    reason = serializers.CharField(allow_blank=True, help_text="What happened to a duplicate, in words.")


class ChunkQuerySerializer(strict.Serializer):
    offset = serializers.IntegerField(
        min_value=0,
        error_messages={"required": "Give the chunk's place as ?offset=<bytes>."},
        help_text="Where these bytes go; must equal the bytes received so far.",
    )


class ChunkAnswerSerializer(serializers.Serializer):
    offset = serializers.IntegerField(help_text="Bytes received so far.")
