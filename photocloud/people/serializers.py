from django.urls import reverse
from rest_framework import serializers

from photocloud.core import serializers as strict
from photocloud.core.models import MAX_ID
from photocloud.library.serializers import PhotoSerializer

from . import selectors
from .models import Face, Person


def _thumbnail(request, face: Face) -> str:
    path = reverse("library:photo_file", args=[face.photo_id, "m"])
    return request.build_absolute_uri(path) if request else path


class FaceBoxSerializer(serializers.ModelSerializer):
    """A face: where it is in its picture (pixels of the original, as displayed) and whom it belongs to."""

    person = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    person_name = serializers.SerializerMethodField()
    photo = serializers.UUIDField(source="photo_id", read_only=True)

    class Meta:
        model = Face
        fields = ["id", "photo", "position", "x", "y", "width", "height", "score", "quality", "person", "person_name"]
        read_only_fields = fields

    def get_person_name(self, face) -> str | None:
        return face.person.name if face.person_id else None


class CoverSerializer(serializers.Serializer):
    face = serializers.IntegerField(source="pk")
    photo = serializers.UUIDField(source="photo_id")
    box = serializers.SerializerMethodField(help_text="[x, y, width, height] in the original picture's pixels")
    photo_width = serializers.IntegerField(source="photo.width")
    photo_height = serializers.IntegerField(source="photo.height")
    image = serializers.SerializerMethodField(help_text="The 1024 px rendition to crop the face from")

    def get_box(self, face) -> list[int]:
        return [face.x, face.y, face.width, face.height]

    def get_image(self, face) -> str:
        return _thumbnail(self.context.get("request"), face)


class PersonSerializer(strict.ModelSerializer):
    photo_count = serializers.IntegerField(read_only=True)
    cover = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Person
        fields = ["id", "name", "hidden", "photo_count", "cover", "url", "created_at"]
        read_only_fields = ["id", "photo_count", "cover", "url", "created_at"]
        extra_kwargs = {"name": {"help_text": "Any language; empty for a person not named yet"}}

    def get_cover(self, person) -> CoverSerializer(allow_null=True):
        face = selectors.shown_cover(person)
        return CoverSerializer(face, context=self.context).data if face else None

    def get_url(self, person) -> str:
        return person.get_absolute_url()

    def validate_name(self, value):
        return " ".join(value.split())


class MergeSerializer(strict.Serializer):
    people = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=100,
        help_text="Your people to merge in",
    )


class FaceMoveSerializer(strict.Serializer):
    person = serializers.IntegerField(
        min_value=1,
        allow_null=True,
        required=False,
        help_text='Your person to place the face on; null for "not this person"; left out: unchanged',
    )
    new_person = serializers.BooleanField(default=False, help_text="Place the face on a new person instead")


class SimilarFaceSerializer(serializers.Serializer):
    similarity = serializers.FloatField(help_text="Cosine similarity of the closest face in the picture, -1 to 1")
    photo = PhotoSerializer()


class PeopleFilterSerializer(strict.QueryFilters):
    hidden = serializers.ChoiceField(
        choices=["false", "true", "all"], default="false", help_text="Hidden people: false (default), true, all"
    )
