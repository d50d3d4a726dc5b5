"""Resumable uploads for the sync client: start (or find) a session, send chunks at an offset, complete.

A restarted client asks to start the same content again and gets the unfinished session back with its offset, so
an interrupted upload, even of a killed process, goes on where the server's committed bytes end.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, status
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from photocloud.core.schema import refusal
from photocloud.library.serializers import UploadResultSerializer

from . import services
from .models import UploadSession
from .serializers import ChunkAnswerSerializer, ChunkQuerySerializer, UploadStartSerializer, UploadStateSerializer


def _state(session: UploadSession) -> dict:
    return {
        "status": "open",
        "id": session.pk,
        "offset": session.received,
        "size": session.size,
        "max_chunk_bytes": services.MAX_CHUNK_BYTES,
        "photo": None,
        "code": "",
        "reason": "",
    }


def _error(error: services.UploadError) -> Response:
    return Response({"detail": error.message, **error.extra}, status=error.status)


class _SessionView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def session(self, pk) -> UploadSession:
        return get_object_or_404(UploadSession.objects.filter(owner=self.request.user), pk=pk)


class _UploadRate:
    """Starting and completing (which decodes and stores a picture) count against the same `upload` rate as
    /api/photos/upload/, on top of the general one; sending chunks has only the general rate."""

    throttle_scope = "upload"

    def get_throttles(self):
        return [*super().get_throttles(), ScopedRateThrottle()]


class UploadStartView(_UploadRate, _SessionView):
    @extend_schema(
        request=UploadStartSerializer,
        responses={
            200: OpenApiResponse(UploadStateSerializer, description="Resumed, or a duplicate: nothing to send"),
            201: UploadStateSerializer,
            400: refusal("No such album of yours (`album`)."),
            409: refusal("An unfinished upload of these bytes has another size."),
            413: refusal("The file is larger than the server takes."),
        },
        operation_id="uploads_start",
    )
    def post(self, request):
        """Start sending a file, or resume the unfinished upload of the same bytes. Nothing is sent for bytes you
        already have (status "duplicate"); if their picture is in your Trash it comes back (code "restored")."""
        start = UploadStartSerializer(data=request.data, context={"request": request})
        start.is_valid(raise_exception=True)
        try:
            session, duplicate = services.start_upload(request.user, **start.validated_data)
        except services.UploadError as error:
            return _error(error)
        if duplicate is not None:
            return Response(
                {
                    "status": "duplicate",
                    "id": None,
                    "offset": duplicate.photo.file_size,
                    "size": duplicate.photo.file_size,
                    "max_chunk_bytes": services.MAX_CHUNK_BYTES,
                    "photo": duplicate.photo.pk,
                    "code": duplicate.code,
                    "reason": duplicate.reason,
                }
            )
        return Response(_state(session), status=status.HTTP_201_CREATED if session.received == 0 else 200)


class UploadView(_SessionView):
    @extend_schema(responses=UploadStateSerializer, operation_id="uploads_retrieve")
    def get(self, request, pk):
        """Where an upload stands."""
        return Response(_state(self.session(pk)))

    @extend_schema(
        request={"application/octet-stream": OpenApiTypes.BINARY},
        parameters=[ChunkQuerySerializer],
        responses={
            200: ChunkAnswerSerializer,
            400: refusal("The chunk is empty, shorter than announced, or does not fit in the file's announced size."),
            409: refusal(
                "The offset is not where the received bytes end (`offset` says where), or the upload is being completed"
            ),
        },
        operation_id="uploads_chunk",
    )
    def put(self, request, pk):
        """Send the next chunk (raw bytes, at most `max_chunk_bytes`). A wrong offset is answered with 409 and the
        offset to send from."""
        session = self.session(pk)
        query = ChunkQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        offset = query.validated_data["offset"]
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise exceptions.ValidationError({"detail": "The Content-Length header is not a number."}) from None
        try:
            received = services.receive_chunk(session, offset, request._request, length)
        except services.UploadError as error:
            return _error(error)
        return Response({"offset": received})

    @extend_schema(responses={204: None, 409: refusal("The upload is being completed.")}, operation_id="uploads_abort")
    def delete(self, request, pk):
        """Give up an unfinished upload and drop the bytes received (nothing in the library changes); not while a
        request is completing it."""
        if not services.discard_upload(self.session(pk)):
            return _error(
                services.UploadError(
                    "This upload is being completed; it cannot be given up now.", status=409, code="completing"
                )
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


class UploadCompleteView(_UploadRate, _SessionView):
    @extend_schema(
        request=None,
        responses={
            201: UploadResultSerializer,
            200: OpenApiResponse(UploadResultSerializer, description="Already in your library."),
            **dict.fromkeys(
                (400, 413, 415),
                OpenApiResponse(UploadResultSerializer, description="Rejected: `reason` says why."),
            ),
            409: refusal("Bytes are missing (`offset` says how many arrived), or another request is completing it."),
        },
        operation_id="uploads_complete",
    )
    def post(self, request, pk):
        """Check the received bytes against the announced SHA-256 and add the picture: stored (201), already there
        (200), or rejected with the reason (4xx)."""
        try:
            result = services.complete_upload(self.session(pk))
        except services.UploadError as error:
            return _error(error)
        body = UploadResultSerializer(result, context={"request": request}).data
        return Response(body, status=result.http_status)
