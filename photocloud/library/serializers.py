from datetime import UTC, datetime

from django.conf import settings
from django.db.models.manager import BaseManager
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from photocloud.core import serializers as strict

from . import stacks
from .access import can_edit, can_see_location, holds, visible_albums
from .bulk import ACTIONS
from .models import CONFIDENT_SYSTEM_CATEGORY, Access, Album, BulkJob, Photo, category_key
from .selectors import album_photos
from .services import MAX_OFFSET_MINUTES, parse_tags
from .trash import purge_date


class OwnedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """Looks ids up among the requester's own objects only, so another user's id reads as "does not exist"."""

    def get_queryset(self):
        return super().get_queryset().owned_by(self.context["request"].user)


class CoverField(OwnedPrimaryKeyRelatedField):
    """An album's cover: shown only while it is a live picture of that album (access.shown_cover)."""

    def use_pk_only_optimization(self):
        return False

    def get_attribute(self, album):
        return album.shown_cover


class TagListField(serializers.ListField):
    child = serializers.CharField(max_length=50)
    json_types = (list, str)  # a list, or the tags in one text separated by commas (the schema says both)

    def to_representation(self, manager):
        return [tag.name for tag in manager.all()]

    def to_internal_value(self, data):
        if isinstance(data, str):
            return parse_tags(data)
        return parse_tags(",".join(super().to_internal_value(data)))


class AlbumSerializer(strict.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    tags = TagListField(required=False)
    cover = CoverField(queryset=Photo.objects.all(), required=False, allow_null=True)
    photo_count = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Album
        fields = [
            "id",
            "owner",
            "title",
            "category",
            "tags",
            "description",
            "access",
            "cover",
            "photo_count",
            "created_at",
            "updated_at",
            "url",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_photo_count(self, album) -> int:
        count = getattr(album, "photo_count", None)
        return album_photos(album).count() if count is None else count

    def get_url(self, album) -> str:
        return album.get_absolute_url()

    def validate_category(self, value):
        value = category_key(value)
        if not value:
            raise serializers.ValidationError("An album needs one category.")
        return value

    def validate_cover(self, cover):
        if cover is not None and (self.instance is None or not holds(self.instance, cover)):
            raise serializers.ValidationError("The cover must be a picture of this album.")
        return cover


_ANY_PHOTO = "00000000-0000-0000-0000-000000000000"


def _file_url(context, photo, size) -> str:
    """The address of a picture's file (`size`: original or a thumbnail's), reversed and made absolute once per
    response and size with a stand-in key, then the picture's key put in: reversing it for every picture and size
    (four a picture) was a tenth of the CPU of serialising a page of them (bench/search_e2e.py --in-process)."""
    addresses = context.setdefault("_file_urls", {})
    if size not in addresses:
        path, request = reverse("library:photo_file", args=[_ANY_PHOTO, size]), context.get("request")
        addresses[size] = request.build_absolute_uri(path) if request else path
    return addresses[size].replace(_ANY_PHOTO, str(photo.pk))


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]"
        r"(:[0-5][0-9](\.[0-9]{1,6})?)?$",
        "example": "2024-05-01T18:30:00",
    }
)
class WallClockField(serializers.DateTimeField):
    """A camera's wall-clock time: ISO 8601 without a zone (the zone, when known, is a separate offset in minutes)."""

    default_error_messages = {
        "zoned": "Give the wall-clock time without a zone (for example 2024-05-01T18:30:00), and the zone in "
        "taken_offset.",
    }

    def to_internal_value(self, value):
        try:
            parsed = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:  # well formed but no such day or time (month 13): DateTimeField says "wrong format"
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            self.fail("zoned")
        return super().to_internal_value(value)

    def enforce_timezone(self, value):
        return value.replace(tzinfo=None)

    def to_representation(self, value):
        return value.isoformat() if value else None


_OFFSET_HELP = "Minutes east of UTC of the camera's clock (-1080 to 1080); null when unknown"


class StackMemberSerializer(serializers.ModelSerializer):
    """Another picture of a stack, as its cover's page offers it: its own page and its original."""

    original = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Photo
        fields = ["id", "original_name", "format", "mime_type", "file_size", "stack_cover", "original", "url"]
        read_only_fields = fields

    def get_original(self, photo) -> str:
        return _file_url(self.context, photo, "original")

    def get_url(self, photo) -> str:
        return photo.get_absolute_url()


def _viewer(context):
    return getattr(context.get("request"), "user", None)


class PhotoListSerializer(serializers.ListSerializer):
    """A page of pictures: their stacks and the albums the viewer may see of them are read for the whole page at
    once (stacks.attach, access.visible_albums), not per picture."""

    def to_representation(self, data):
        photos = list(data.all() if isinstance(data, BaseManager) else data)
        stacks.attach(_viewer(self.context), photos)
        self.child.remember_albums(photos)
        return super().to_representation(photos)


class PhotoSerializer(strict.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    album = OwnedPrimaryKeyRelatedField(
        queryset=Album.objects.all(),
        allow_null=True,
        help_text="Its home album; null when it lives in your library alone, or when its home album is one you may "
        "not see (you see the picture through another album of `albums`). Kept for compatibility: `albums` lists them "
        "all. See /api/photos/bulk/ to place it in more albums.",
    )
    albums = serializers.SerializerMethodField(
        help_text="The albums holding the picture that you may see (on your own pictures, all of them), its home "
        "album first; an album you may not see is never named."
    )
    tags = TagListField(required=False)
    effective_category = serializers.CharField(read_only=True)
    latitude = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=-90,
        max_value=90,
        help_text="Null when unknown or not shared with you. Yours to correct with longitude; both null removes it.",
    )
    longitude = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    thumbnails = serializers.SerializerMethodField()
    original = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    archived = serializers.BooleanField(
        required=False, help_text="Left out of your timeline and automatic albums; null on others' pictures"
    )
    favourite = serializers.BooleanField(required=False, help_text="In your Favourites; null on others' pictures")
    taken_local = WallClockField(
        required=False,
        allow_null=True,
        help_text="The camera's wall-clock time when the photo was taken, ISO 8601 without a zone (taken_at is the "
        "instant; taken_offset, in minutes, the camera's zone when the file records it). Yours to correct, with "
        "taken_offset: the timeline and date albums follow. Null until known; it cannot be set back to null.",
    )
    taken_offset = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=-MAX_OFFSET_MINUTES,
        max_value=MAX_OFFSET_MINUTES,
        help_text=_OFFSET_HELP,
    )
    sort_date = serializers.DateTimeField(
        read_only=True,
        default_timezone=UTC,
        help_text="What the timeline sorts and groups by: the camera's wall-clock time as if UTC (taken_local), else "
        "the upload's on the server's clock. Its date is the picture's in the timeline, date albums and search.",
    )
    analysis = serializers.SerializerMethodField(
        help_text="What Photocloud sees (system category, confidence, labels, text, faces); null until analysed. "
        "A suggestion beside the user's own category, never replacing it."
    )
    stack_cover = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The picture this one is stacked under (a RAW beside its JPEG), which listings show instead; null "
        "for a cover or a lone picture",
    )
    stack_size = serializers.SerializerMethodField(
        help_text="How many pictures the listings' tile stands for: 1 for a lone picture, 2 for a RAW + JPEG stack"
    )
    stack = serializers.SerializerMethodField(
        help_text="The other pictures of its stack that you may see, each with its original to download"
    )

    class Meta:
        model = Photo
        list_serializer_class = PhotoListSerializer
        fields = [
            "id",
            "owner",
            "album",
            "albums",
            "title",
            "description",
            "category",
            "effective_category",
            "tags",
            "sha256",
            "original_name",
            "format",
            "mime_type",
            "file_size",
            "width",
            "height",
            "status",
            "status_detail",
            "taken_at",
            "taken_offset",
            "taken_local",
            "sort_date",
            "camera_make",
            "camera_model",
            "lens",
            "exposure_time",
            "f_number",
            "iso",
            "focal_length",
            "orientation",
            "latitude",
            "longitude",
            "thumbnails",
            "original",
            "url",
            "analysis",
            "archived",
            "favourite",
            "stack_cover",
            "stack_size",
            "stack",
            "created_at",
        ]
        read_only_fields = [
            name
            for name in fields
            if name
            not in (
                *("album", "title", "description", "category", "tags", "archived", "favourite"),
                *("taken_local", "taken_offset", "latitude", "longitude"),
            )
        ]

    def remember_albums(self, photos) -> dict:
        """The albums the viewer may see of these pictures (access.visible_albums), kept in the context for the
        rest of the response."""
        known = self.context.setdefault("_visible_albums", {})
        missing = [photo.pk for photo in photos if photo.pk not in known]
        if missing:
            known.update(visible_albums(self.context["request"].user, missing))
        return known

    def to_representation(self, photo):
        data = super().to_representation(photo)
        if not can_edit(self.context["request"].user, photo):  # the owner's private marks
            data["archived"] = data["favourite"] = None
        if not can_see_location(self.context["request"].user, photo):
            data["latitude"] = data["longitude"] = None
        if photo.album_id is not None and photo.album_id not in self.remember_albums([photo])[photo.pk]:
            data["album"] = None  # a home album the viewer may not see is never named
        return data

    def validate(self, data):
        if ("latitude" in data) != ("longitude" in data) or (data.get("latitude") is None) != (
            data.get("longitude") is None
        ):
            raise serializers.ValidationError({"latitude": "Give latitude and longitude together (both null: remove)."})
        if "taken_local" in data and data["taken_local"] is None:
            raise serializers.ValidationError({"taken_local": "The date taken can be corrected, not removed."})
        if "taken_offset" in data and "taken_local" not in data and self.instance and self.instance.taken_at is None:
            raise serializers.ValidationError({"taken_offset": "Give the date taken (taken_local) with its offset."})
        if (local := data.get("taken_local")) is not None and not 1800 <= local.year <= 2200:
            raise serializers.ValidationError({"taken_local": "The year must be between 1800 and 2200."})
        return data

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_albums(self, photo) -> list[str]:
        return [str(pk) for pk in self.remember_albums([photo])[photo.pk]]

    def get_thumbnails(self, photo) -> dict[str, str]:
        if photo.status != Photo.Status.READY:
            return {}
        return {size: _file_url(self.context, photo, size) for size in settings.PHOTOCLOUD["THUMBNAIL_SIZES"]}

    def get_original(self, photo) -> str:
        return _file_url(self.context, photo, "original")

    def get_url(self, photo) -> str:
        return photo.get_absolute_url()

    def _stack(self, photo) -> list:
        if not hasattr(photo, "stack_shown"):  # one picture; a list loads its page's stacks at once
            stacks.attach(_viewer(self.context), [photo])
        return photo.stack_shown

    def get_stack_size(self, photo) -> int:
        size = getattr(photo, "stack_size", None)  # annotated on listings (stacks.with_stack_size)
        return size if size is not None else 1 + len(self._stack(photo))

    @extend_schema_field(StackMemberSerializer(many=True))
    def get_stack(self, photo):
        members = self._stack(photo)
        if not members:  # most pictures: no serializer to set up for none
            return []
        return StackMemberSerializer(members, many=True, context=self.context).data

    def get_analysis(self, photo) -> dict | None:
        seen = getattr(photo, "analysis", None)  # the vision app's one-to-one; missing until analysed
        if seen is None:
            return None
        return {
            "category": seen.category,
            "category_label": seen.category_label,  # as the pages name it ("Anime / illustration"); "" for none
            "confidence": seen.confidence,  # calibrated; below CONFIDENT_SYSTEM_CATEGORY the category is a hint
            "confident": seen.confidence >= CONFIDENT_SYSTEM_CATEGORY and bool(seen.category),
            "labels": seen.labels,
            "text": seen.text,
            "faces": len(seen.faces),
            "taught_category": seen.taught_category,
            "taught_confidence": seen.taught_confidence,
        }

    def validate_category(self, value):
        return category_key(value)


class UploadSerializer(strict.Serializer):
    """Multipart upload: one or more `file` parts, into `album`, or into your library alone with `library`
    (default: your "Uploads" album)."""

    album = serializers.UUIDField(required=False)
    library = serializers.BooleanField(
        required=False, default=False, help_text="Into your library alone, in no album (instead of `album`)"
    )
    file = serializers.ListField(child=serializers.FileField(allow_empty_file=True), allow_empty=False)


class UploadResultSerializer(serializers.Serializer):
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=["stored", "duplicate", "rejected"])
    reason = serializers.CharField(allow_blank=True)
    code = serializers.CharField(allow_blank=True)
    photo = PhotoSerializer(allow_null=True)


class UploadResponseSerializer(serializers.Serializer):
    stored = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()
    results = UploadResultSerializer(many=True)


def upload_summary(results, request) -> dict:
    """The answer to storing several files (`UploadResponseSerializer`): the counts and each file's result
    (`services.UploadResult`), for uploads and for images saved from the web alike."""
    return {
        "stored": sum(r.status == "stored" for r in results),
        "duplicates": sum(r.status == "duplicate" for r in results),
        "rejected": sum(r.status == "rejected" for r in results),
        "results": UploadResultSerializer(results, many=True, context={"request": request}).data,
    }


class HashQuerySerializer(strict.Serializer):
    sha256 = serializers.ListField(
        child=serializers.RegexField(r"^[0-9a-f]{64}$", error_messages={"invalid": "Not a SHA-256 hex digest."}),
        max_length=1000,
    )


class HashAnswerSerializer(serializers.Serializer):
    present = serializers.DictField(child=serializers.UUIDField(), help_text="sha256 -> picture id, for those you have")
    missing = serializers.ListField(child=serializers.CharField())
    trashed = serializers.DictField(
        child=serializers.UUIDField(), help_text="sha256 -> picture id, for those of the missing in your Trash"
    )


class AlbumFilterSerializer(strict.QueryFilters):
    """Query-string filters of the album list."""

    owner = serializers.CharField(required=False, allow_blank=True, max_length=150, help_text="Only this user's")
    mine = serializers.BooleanField(required=False, default=False, help_text="Only mine")


class AlbumDeleteSerializer(strict.Serializer):
    move_to = serializers.UUIDField(
        required=False, help_text="One of your albums: move the pictures there instead of to the Trash with the album"
    )


class PhotoFilterSerializer(AlbumFilterSerializer):
    """Query-string filters of the picture list."""

    album = serializers.UUIDField(required=False, help_text="Only pictures of this album")
    status = serializers.ChoiceField(
        choices=Photo.Status.choices, required=False, allow_blank=True, help_text="Processing state"
    )


class TrashedPhotoSerializer(serializers.ModelSerializer):
    """A picture in the owner's Trash: where it came from and when it will be deleted for good."""

    album_title = serializers.CharField(source="album.title", read_only=True, allow_null=True)
    album_deleted = serializers.SerializerMethodField()
    purge_at = serializers.SerializerMethodField()
    thumbnail = serializers.SerializerMethodField()

    class Meta:
        model = Photo
        fields = [
            "id",
            "title",
            "album",
            "album_title",
            "album_deleted",
            "sha256",
            "trashed_at",
            "purge_at",
            "thumbnail",
        ]
        read_only_fields = fields

    def get_album_deleted(self, photo) -> bool:
        return photo.album_id is not None and photo.album.trashed_at is not None

    def get_purge_at(self, photo) -> datetime:
        return purge_date(photo.trashed_at)

    def get_thumbnail(self, photo) -> str | None:
        if photo.status != Photo.Status.READY:
            return None
        path = reverse("library:trash_file", args=[photo.pk, "s"])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class MarksSerializer(strict.Serializer):
    photos = serializers.ListField(child=serializers.UUIDField(), max_length=1000)
    archived = serializers.BooleanField(required=False)
    favourite = serializers.BooleanField(required=False)

    schema_rules = {"anyOf": [{"required": ["archived"]}, {"required": ["favourite"]}]}

    def validate(self, data):
        if "archived" not in data and "favourite" not in data:
            raise serializers.ValidationError("Give `archived` and/or `favourite`.")
        return data


class TrashIdsSerializer(strict.Serializer):
    photos = serializers.ListField(child=serializers.UUIDField(), max_length=1000, required=False, default=list)
    albums = serializers.ListField(
        child=serializers.UUIDField(),
        max_length=100,
        required=False,
        default=list,
        help_text="Albums deleted with their pictures: restored with every picture deleted with them.",
    )


class TrashDeleteSerializer(strict.Serializer):
    photos = serializers.ListField(
        child=serializers.UUIDField(),
        min_length=1,
        max_length=1000,
        error_messages={
            "required": "Name the pictures to delete for good.",
            "min_length": "Name the pictures to delete for good.",
        },
    )


class TrashCountSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many pictures")


class YearSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    count = serializers.IntegerField()
    cover = PhotoSerializer(allow_null=True, help_text="The newest picture of the period")


class MonthSerializer(YearSerializer):
    month = serializers.IntegerField(min_value=1, max_value=12)


class EventSerializer(serializers.Serializer):
    start = serializers.DateTimeField(default_timezone=UTC, help_text="The camera's wall-clock time, as sort_date")
    end = serializers.DateTimeField(default_timezone=UTC, help_text="The camera's wall-clock time, as sort_date")
    count = serializers.IntegerField()
    photos = serializers.ListField(child=serializers.UUIDField(), help_text="Its pictures, in the order taken")


class ThemeSerializer(serializers.Serializer):
    theme = serializers.CharField()
    count = serializers.IntegerField()
    cover = PhotoSerializer(allow_null=True)


class BulkSerializer(serializers.Serializer):
    """One action on a selection of your pictures, with the parameters that action takes."""

    ids = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=10000)
    action = serializers.ChoiceField(choices=list(ACTIONS))
    album = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="One of your albums: for add_to_album, remove_from_album, move_to_album (null: into your library "
        "alone)",
    )
    category = serializers.CharField(
        required=False, allow_blank=True, max_length=50, help_text="set_category (blank: the album's); new_album"
    )
    tags = TagListField(required=False, max_length=50, help_text="add_tags, remove_tags")
    degrees = serializers.ChoiceField(choices=[90, 180, 270], required=False, help_text="rotate, clockwise")
    title = serializers.CharField(required=False, max_length=200, help_text="new_album")
    access = serializers.ChoiceField(choices=Access.choices, required=False, help_text="new_album")
    taken_local = WallClockField(
        required=False, help_text="set_date: the camera's wall-clock time, ISO 8601 without a zone"
    )
    taken_offset = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=-MAX_OFFSET_MINUTES,
        max_value=MAX_OFFSET_MINUTES,
        help_text=f"set_date: {_OFFSET_HELP}",
    )
    latitude = serializers.FloatField(required=False, min_value=-90, max_value=90, help_text="set_location")
    longitude = serializers.FloatField(required=False, min_value=-180, max_value=180, help_text="set_location")

    def validate_category(self, value):
        return category_key(value)

    def params(self) -> dict:
        """The action's parameters as JSON values (kept by a background job)."""
        data = {name: value for name, value in self.validated_data.items() if name not in ("ids", "action")}
        if data.get("album") is not None:
            data["album"] = str(data["album"])
        if data.get("taken_local") is not None:
            data["taken_local"] = data["taken_local"].isoformat()
        return data


class BulkResultSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    ok = serializers.BooleanField()
    error = serializers.CharField(required=False, help_text="Why this picture was left as it was")


class BulkResponseSerializer(serializers.Serializer):
    results = BulkResultSerializer(many=True, help_text="One per id, in order")
    album = serializers.UUIDField(allow_null=True, help_text="The album new_album made; else null")


class BulkJobSerializer(serializers.ModelSerializer):
    """A bulk action running in the background: poll its `url` until `state` is done (or failed)."""

    results = BulkResultSerializer(many=True)
    album = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = BulkJob
        fields = ["id", "action", "state", "total", "done", "failed", "results", "album", "created_at", "finished_at"]
        fields += ["url"]
        read_only_fields = fields

    def get_album(self, job) -> str | None:
        return job.params.get("album")

    def get_url(self, job) -> str:
        return reverse("api:job", args=[job.pk])


class DownloadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=10000)
