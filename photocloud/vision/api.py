from django.db.models import Prefetch, prefetch_related_objects
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from photocloud.core import serializers as strict
from photocloud.core.schema import refusal
from photocloud.library.imaging import ImageRejected
from photocloud.library.models import Photo
from photocloud.library.serializers import PhotoSerializer

from . import services
from .models import PhotoAnalysis
from .similar import METRICS, SCOPES, similar_photos


class SimilarityOptions(strict.Serializer):
    metric = serializers.ChoiceField(choices=list(METRICS), default="l1", help_text="l1 (Manhattan) or cosine")
    scope = serializers.ChoiceField(choices=list(SCOPES), default="all", help_text="mine or all (that I may see)")
    limit = serializers.IntegerField(min_value=1, max_value=200, default=24)


class SimilarityQuerySerializer(strict.QueryFilters, SimilarityOptions):
    ALLOWED_EXTRA = ("format",)  # one answer, no pages


class ImageQuerySerializer(SimilarityOptions):
    picture = serializers.FileField(help_text="Compared, never stored")


class SimilarResultSerializer(serializers.Serializer):
    distance = serializers.FloatField(help_text="In the chosen metric, smaller is closer")
    similarity = serializers.IntegerField(help_text="How alike the pictures look, 0-100 %, whatever the metric")
    photo = PhotoSerializer()


def _results(request, hits):
    photos = [photo for photo, _ in hits]
    # What PhotoSerializer reads beside the row, in two queries for all the hits instead of two per hit (the
    # analyses without their vectors, 2.5 KB each); one serializer for the list, so its fields are set up once.
    prefetch_related_objects(
        photos, "tags", Prefetch("analysis", PhotoAnalysis.objects.defer("features", "face_identities"))
    )
    serialized = PhotoSerializer(photos, many=True, context={"request": request}).data
    return Response(
        [
            {"distance": distance, "similarity": photo.similarity.percent, "photo": data}
            for (photo, distance), data in zip(hits, serialized, strict=True)
        ]
    )


class SimilarView(APIView):
    """The pictures most similar to this one, nearest first, among those you may see."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(parameters=[SimilarityQuerySerializer], responses=SimilarResultSerializer(many=True))
    def get(self, request, pk):
        # Its analysis in the same query: the features are the search's query vector.
        photo = get_object_or_404(Photo.objects.visible_to(request.user).select_related("analysis"), pk=pk)
        query = strict.checked_query(request, SimilarityQuerySerializer)
        vector = services.photo_vector(photo)
        if vector is None:
            raise exceptions.NotFound("This picture has not been analysed yet.")
        return _results(request, similar_photos(request.user, vector, exclude=photo, **query))


class ImageSearchView(APIView):
    """Search by an uploaded picture (not stored)."""

    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [MultiPartParser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "search"

    @extend_schema(
        request=ImageQuerySerializer,
        responses={200: SimilarResultSerializer(many=True), 400: refusal("The file is no picture Photocloud reads.")},
    )
    def post(self, request):
        query = ImageQuerySerializer(data=request.data)
        query.is_valid(raise_exception=True)
        options = dict(query.validated_data)
        try:
            vector = services.embed_upload(options.pop("picture"))
        except ImageRejected as rejection:
            raise exceptions.ValidationError({"picture": [rejection.message]}) from None
        return _results(request, similar_photos(request.user, vector, **options))
