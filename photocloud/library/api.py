"""REST API for albums, pictures, uploads and automatic albums. The same services as the pages."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from photocloud.core import serializers as strict
from photocloud.core.pagination import CappedCountPagination
from photocloud.core.schema import refusal

from . import bulk, selectors, services, stacks, trash
from .access import can_edit
from .downloads import zip_response
from .models import Album, BulkJob, Photo
from .serializers import (
    AlbumDeleteSerializer,
    AlbumFilterSerializer,
    AlbumSerializer,
    BulkJobSerializer,
    BulkResponseSerializer,
    BulkSerializer,
    DownloadSerializer,
    EventSerializer,
    HashAnswerSerializer,
    HashQuerySerializer,
    MarksSerializer,
    MonthSerializer,
    PhotoFilterSerializer,
    PhotoSerializer,
    ThemeSerializer,
    TrashCountSerializer,
    TrashDeleteSerializer,
    TrashedPhotoSerializer,
    TrashIdsSerializer,
    UploadResponseSerializer,
    UploadSerializer,
    YearSerializer,
    upload_summary,
)
from .uploads import oversized_files

ZIP = {(200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="A ZIP of the originals")}


class IsOwnerOrReadOnly(permissions.BasePermission):
    def has_object_permission(self, request, view, obj):
        return request.method in permissions.SAFE_METHODS or can_edit(request.user, obj)


def _filtered(request, queryset, filters_class):
    """Apply the list filters of the query string, refusing malformed values and unknown filters with a 400."""
    filters = strict.checked_query(request, filters_class)
    if owner := filters.get("owner"):
        # The owner's key looked up first, not a join nor a subquery: SQLite then counts the pictures in 70 ms
        # rather than 350 ms at 100,000, and PostgreSQL walks the owner's date index for a page rather than sorting
        # them all (bench/pages.py, the photo list seen by a follower).
        found = _owner_key(request, owner)
        queryset = queryset.filter(owner=found) if found is not None else queryset.none()
    if filters.get("mine"):
        queryset = queryset.owned_by(request.user)
    if album := filters.get("album"):
        queryset = queryset.in_album(album)
    if state := filters.get("status"):
        queryset = queryset.filter(status=state)
    return queryset


def _owner_key(request, username):
    """The key of the user named `username` (None when there is none), looked up once per request: the list's parts
    (PhotoViewSet.listing_parts) are each filtered by it."""
    keys = request.__dict__.setdefault("_owner_keys", {})
    if username not in keys:
        keys[username] = get_user_model().objects.filter(username=username).values_list("pk", flat=True).first()
    return keys[username]


_NO_SUCH_COVER = refusal("The cover is no picture of this album (`cover`).")
_PHOTO_REFUSED = refusal(
    "No such album of yours (`album`), or a date or place that cannot be (`taken_local`, `taken_offset`, "
    "`latitude` and `longitude` together)."
)


@extend_schema_view(
    list=extend_schema(parameters=[AlbumFilterSerializer]),
    create=extend_schema(responses={201: AlbumSerializer, 400: _NO_SUCH_COVER}),
    update=extend_schema(responses={200: AlbumSerializer, 400: _NO_SUCH_COVER}),
    partial_update=extend_schema(responses={200: AlbumSerializer, 400: _NO_SUCH_COVER}),
    destroy=extend_schema(
        parameters=[AlbumDeleteSerializer],
        responses={204: None, 400: refusal("The pictures cannot move to the album being deleted (`move_to`).")},
    ),
)
class AlbumViewSet(viewsets.ModelViewSet):
    serializer_class = AlbumSerializer
    permission_classes = [permissions.IsAuthenticatedOrReadOnly, IsOwnerOrReadOnly]

    def get_queryset(self):
        queryset = Album.objects.visible_to(self.request.user).select_related("owner", "cover").prefetch_related("tags")
        # Explicit unique ordering so pages never repeat or skip albums.
        queryset = selectors.with_photo_count(queryset).order_by("-created_at", "pk")
        return _filtered(self.request, queryset, AlbumFilterSerializer) if self.action == "list" else queryset

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("cover", None)  # a new album has no pictures yet; the first upload becomes its cover
        serializer.instance = services.create_album(self.request.user, **data)

    def perform_update(self, serializer):
        services.update_album(serializer.instance, **serializer.validated_data)

    @extend_schema(responses=ZIP)
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The album's pictures as a ZIP of their originals (without GPS for those who may not see it), streamed."""
        album = self.get_object()
        photos = Photo.objects.visible_to(request.user).in_album(album).order_by("-sort_date", "-created_at", "pk")
        return zip_response(request.user, photos, album.title)

    def perform_destroy(self, album):
        """The album goes to the Trash with the pictures whose home it is (restorable), unless they move to
        `move_to`; pictures only placed in it stay in your library and other albums."""
        params = AlbumDeleteSerializer(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        target = params.validated_data.get("move_to")
        if not target:
            trash.trash_album(album)
            return
        move_to = get_object_or_404(Album.objects.owned_by(self.request.user), pk=target)
        try:
            services.delete_album(album, move_to=move_to)
        except ValueError as error:
            raise exceptions.ValidationError({"move_to": str(error)}) from None


@extend_schema_view(
    list=extend_schema(parameters=[PhotoFilterSerializer]),
    update=extend_schema(responses={200: PhotoSerializer, 400: _PHOTO_REFUSED}),
    partial_update=extend_schema(responses={200: PhotoSerializer, 400: _PHOTO_REFUSED}),
)
class PhotoViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = PhotoSerializer
    permission_classes = [permissions.IsAuthenticatedOrReadOnly, IsOwnerOrReadOnly]
    pagination_class = CappedCountPagination  # a whole library is never counted for a page of it
    throttle_scope = None  # the upload action sets "upload" (ScopedRateThrottle)

    def get_queryset(self):
        queryset = selectors.serialized(Photo.objects.visible_to(self.request.user))
        if self.action != "list":  # a stack's members are reached by id (the cover's `stack`), not listed
            return queryset
        return _filtered(self.request, stacks.with_stack_size(queryset.listed()), PhotoFilterSerializer)

    def listing_parts(self, photos):
        """The list as parts that hold its pictures between them, none in two (access.visible_parts: the user's own,
        the others' by their home album, the others' placed in an album), for CappedCountPagination to read each in
        its own order, cut at the page, and merge, and to count each up to its cap: the list in one query (theirs,
        or a public album, or a shared one, ...) has no index in date order on PostgreSQL, so every picture the user
        may see was read and sorted for a page (120 ms at 100,000 pictures), and a follower's count of an owner's
        pictures gathered all they may see first (bench/pages.py). A page's pictures are read through their parts
        too (with what the list shows of them). None for a list narrowed to an album, or to the user's own, which
        walks that one's index as it is."""
        query, user = self.request.query_params, self.request.user
        if self.action != "list" or {"album", "mine"} & set(query):
            return None
        owner = _owner_key(self.request, query["owner"]) if query.get("owner") else None
        merged = connections[photos.db].features.supports_slicing_ordering_in_compound  # not SQLite (core.pagination)
        if query.get("owner") and (owner in (None, user.pk) or not merged):
            return None  # on SQLite, one owner's list counted in one query costs less than in parts (bench/pages.py)
        return [
            _filtered(self.request, stacks.with_stack_size(part.listed()), PhotoFilterSerializer)
            for part in selectors.serialized(Photo.objects.all()).visible_parts(user, owner=owner)
        ]

    def perform_update(self, serializer):
        photo, fields = serializer.instance, dict(serializer.validated_data)
        marks = {name: fields.pop(name) for name in ("archived", "favourite") if name in fields}
        taken = {name: fields.pop(name) for name in ("taken_local", "taken_offset") if name in fields}
        place = {name: fields.pop(name) for name in ("latitude", "longitude") if name in fields}
        services.update_photo(photo, **fields)
        # After the save above (of the fields it changes): each a queryset update of its own.
        if marks:
            services.set_marks(self.request.user, [photo.pk], **marks)
        if taken:
            offset = taken.get("taken_offset", photo.taken_offset)
            services.set_taken(self.request.user, [photo.pk], taken.get("taken_local", photo.taken_local), offset)
        if place:
            services.set_location(self.request.user, [photo.pk], place["latitude"], place["longitude"])
        if marks or taken or place:
            photo.refresh_from_db()

    def perform_destroy(self, photo):
        """The picture goes to its owner's Trash (see /api/trash/)."""
        trash.trash_photos(self.request.user, [photo.pk])

    @extend_schema(request=None, responses=PhotoSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Process a picture again (for one that failed)."""
        photo = self.get_object()
        if not can_edit(request.user, photo):
            raise exceptions.PermissionDenied("Only the owner can do that.")
        services.retry_processing(photo)
        photo.refresh_from_db()
        return Response(self.get_serializer(photo).data)

    @extend_schema(request=None, responses=PhotoSerializer)
    @action(detail=True, methods=["post"])
    def unstack(self, request, pk=None):
        """Separate the stack this picture is part of (its cover or a member): every file becomes a picture of its
        own again, listed on its own. Answers with the picture as it now is; a picture in no stack is left alone."""
        photo = self.get_object()
        if not can_edit(request.user, photo):
            raise exceptions.PermissionDenied("Only the owner can do that.")
        stacks.unstack(request.user, photo.pk)
        photo.refresh_from_db()
        return Response(self.get_serializer(photo).data)

    @extend_schema(
        request=UploadSerializer,
        responses={
            201: UploadResponseSerializer,
            200: OpenApiResponse(UploadResponseSerializer, description="Every file was already in your library."),
            400: refusal("Nothing could be stored: the per-file reasons, or what is wrong", "UploadResponse"),
            404: refusal("No such album of yours."),
            413: refusal("Nothing could be stored: a file or the request is too large", "UploadResponse"),
            415: refusal("Nothing could be stored: a file is no picture Photocloud reads", "UploadResponse"),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        parser_classes=[MultiPartParser],
        throttle_scope="upload",
        throttle_classes=[UserRateThrottle, ScopedRateThrottle],
        permission_classes=[permissions.IsAuthenticated],
    )
    def upload(self, request):
        """Upload pictures. Each file gets its own result: stored, duplicate, or rejected with the reason.

        The answer is 201 when at least one file was stored, 200 when all were already there, and 4xx with the
        per-file reasons when nothing could be stored.
        """
        album_id = request.data.get("album")
        into_library = str(request.data.get("library", "")).lower() in ("1", "true", "on", "yes")
        if into_library and album_id:
            raise exceptions.ValidationError({"library": "Name an album or the library, not both."})
        if into_library:
            album = None
        elif album_id:
            try:
                album = Album.objects.owned_by(request.user).get(pk=album_id)
            except (Album.DoesNotExist, DjangoValidationError):
                raise exceptions.NotFound("No such album of yours.") from None
        else:
            album = services.default_album(request.user)
        files = request.FILES.getlist("file")
        skipped = oversized_files(request._request)
        if not files and not skipped:
            raise exceptions.ValidationError({"detail": "Send one or more pictures in `file` fields."})
        results = [services.ingest_upload(request.user, album, uploaded) for uploaded in files]
        limit_mb = settings.PHOTOCLOUD["MAX_UPLOAD_BYTES"] // (1024 * 1024)
        results += [
            services.UploadResult(
                name, "rejected", reason=f"The file is larger than {limit_mb} MB.", code="too_large", http_status=413
            )
            for name in skipped
        ]
        body = upload_summary(results, request)
        if body["stored"]:
            code = status.HTTP_201_CREATED
        elif body["duplicates"]:
            code = status.HTTP_200_OK
        else:
            code = max(r.http_status for r in results)
        return Response(body, status=code)

    def _marked(self, photos):
        page = self.paginate_queryset(selectors.serialized(photos))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(parameters=[], responses=PhotoSerializer(many=True))
    @action(detail=False, permission_classes=[permissions.IsAuthenticated])
    def favourites(self, request):
        """My favourites, newest first."""
        return self._marked(selectors.favourite_photos(request.user))

    @extend_schema(parameters=[], responses=PhotoSerializer(many=True))
    @action(detail=False, permission_classes=[permissions.IsAuthenticated])
    def archived(self, request):
        """My archive: pictures left out of my timeline and automatic albums, newest first."""
        return self._marked(selectors.archived_photos(request.user))

    @extend_schema(request=MarksSerializer, responses=TrashCountSerializer)
    @action(detail=False, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def marks(self, request):
        """Archive or unarchive, favourite or unfavourite a selection of my pictures (others' ids are ignored)."""
        query = MarksSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        marks = {name: value for name, value in query.validated_data.items() if name != "photos"}
        return Response({"count": services.set_marks(request.user, query.validated_data["photos"], **marks)})

    @extend_schema(
        request=BulkSerializer,
        responses={
            200: BulkResponseSerializer,
            202: OpenApiResponse(BulkJobSerializer, description="Queued in the background: poll the job's url"),
            400: refusal(
                "A parameter the action needs is missing or cannot be (no such album of yours, no tags, a date taken "
                "outside 1800–2200): nothing changed."
            ),
        },
    )
    @action(detail=False, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def bulk(self, request):
        """One action on a selection of my pictures, with a result per id (others' or unknown ids are not found).
        More than 200 ids run in the background: the answer is then 202 with a job to poll."""
        query = BulkSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        ids, action, params = query.validated_data["ids"], query.validated_data["action"], query.params()
        try:
            if len(ids) > bulk.INLINE_LIMIT:
                job = bulk.start(request.user, action, ids, params)
                return Response(BulkJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
            results = bulk.run(request.user, action, ids, params)
        except (bulk.BulkError, PermissionError, ValueError) as error:
            raise exceptions.ValidationError({"detail": str(error)}) from None
        return Response({"results": results, "album": params.get("album") if action == "new_album" else None})

    @extend_schema(
        request=DownloadSerializer, responses={**ZIP, 404: refusal("None of these pictures is one you may see.")}
    )
    @action(detail=False, methods=["post"], permission_classes=[permissions.AllowAny])
    def download(self, request):
        """These pictures as a ZIP of their originals, streamed; only those I may see (404 when none)."""
        query = DownloadSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        photos = Photo.objects.visible_to(request.user).filter(pk__in=query.validated_data["ids"])
        if not photos.exists():
            raise exceptions.NotFound("None of these pictures is one you may see.")
        return zip_response(request.user, photos.order_by("-sort_date", "-created_at", "pk"), "photos")

    @extend_schema(request=HashQuerySerializer, responses=HashAnswerSerializer)
    @action(detail=False, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def lookup(self, request):
        """Which of these SHA-256 digests are already in my library (so a client can skip sending them), and which of
        the missing ones are in my Trash (sending one brings it back; a client that skips it says it is there)."""
        query = HashQuerySerializer(data=request.data)
        query.is_valid(raise_exception=True)
        hashes = set(query.validated_data["sha256"])
        present = dict(Photo.objects.owned_by(request.user).filter(sha256__in=hashes).values_list("sha256", "id"))
        trashed = dict(Photo.objects.in_trash_of(request.user).filter(sha256__in=hashes).values_list("sha256", "id"))
        return Response({"present": present, "missing": sorted(hashes - present.keys()), "trashed": trashed})


class TrashViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """My Trash: deleted pictures, restorable until their purge date, after which they are deleted for good."""

    serializer_class = TrashedPhotoSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return selectors.trash_photos(self.request.user)

    def _ids(self):
        ids = TrashIdsSerializer(data=self.request.data)
        ids.is_valid(raise_exception=True)
        return ids.validated_data

    @extend_schema(request=TrashIdsSerializer, responses={200: TrashCountSerializer})
    def create(self, request):
        """Move these pictures of mine to the Trash (a selection); others' or unknown ids are ignored."""
        return Response({"count": len(trash.trash_photos(request.user, self._ids()["photos"]))})

    @extend_schema(request=TrashIdsSerializer, responses=TrashCountSerializer)
    @action(detail=False, methods=["post"])
    def restore(self, request):
        """Put pictures back into their albums (recreating deleted albums), or whole deleted albums."""
        ids = self._ids()
        return Response({"count": trash.restore(request.user, photo_ids=ids["photos"], album_ids=ids["albums"])})

    @extend_schema(request=TrashDeleteSerializer, responses=TrashCountSerializer)
    @action(detail=False, methods=["post"], url_path="delete")
    def delete_forever(self, request):
        """Delete these pictures of the Trash for good. This cannot be undone."""
        ids = TrashDeleteSerializer(data=request.data)
        ids.is_valid(raise_exception=True)
        return Response({"count": trash.delete_forever(request.user, ids.validated_data["photos"])})

    @extend_schema(request=None, responses=TrashCountSerializer)
    @action(detail=False, methods=["post"])
    def empty(self, request):
        """Delete everything in my Trash for good. This cannot be undone."""
        return Response({"count": trash.delete_forever(request.user)})


class _AutoAlbumView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @staticmethod
    def _photo(photo, request):
        return PhotoSerializer(photo, context={"request": request}).data if photo else None

    @staticmethod
    def _check_date(year: int, month: int = 1) -> None:
        if year not in selectors.YEARS or month not in selectors.MONTHS:
            raise exceptions.NotFound(
                f"No such year or month (years {selectors.YEARS[0]}–{selectors.YEARS[-1]}, months 1–12)."
            )


class YearsView(_AutoAlbumView):
    """Automatic albums by date: the years of my library, with counts."""

    @extend_schema(responses=YearSerializer(many=True), operation_id="library_years_list")
    def get(self, request):
        rows = selectors.years(request.user)
        return Response(
            [{"year": r["year"], "count": r["count"], "cover": self._photo(r["cover"], request)} for r in rows]
        )


class MonthsView(_AutoAlbumView):
    @extend_schema(responses=MonthSerializer(many=True), operation_id="library_months_list")
    def get(self, request, year):
        self._check_date(year)
        rows = selectors.months(request.user, year)
        return Response(
            [
                {"year": year, "month": r["month"], "count": r["count"], "cover": self._photo(r["cover"], request)}
                for r in rows
            ]
        )


class EventsView(_AutoAlbumView):
    """Events in a month: runs of pictures taken close together."""

    @extend_schema(responses=EventSerializer(many=True), operation_id="library_events_list")
    def get(self, request, year, month):
        self._check_date(year, month)
        events = selectors.events(request.user, year, month)
        rows = [{"start": e.start, "end": e.end, "count": e.count, "photos": e.ids} for e in events]
        return Response(EventSerializer(rows, many=True).data)


class ThemesView(_AutoAlbumView):
    """Automatic albums by theme (category)."""

    @extend_schema(responses=ThemeSerializer(many=True), operation_id="library_themes_list")
    def get(self, request):
        return Response(
            [
                {"theme": r["theme"], "count": r["count"], "cover": self._photo(r["cover"], request)}
                for r in selectors.themes(request.user)
            ]
        )


class JobView(APIView):
    """A bulk action running in the background: its progress, and the per-picture results once done."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=BulkJobSerializer, operation_id="jobs_retrieve")
    def get(self, request, pk):
        return Response(BulkJobSerializer(get_object_or_404(BulkJob.objects.owned_by(request.user), pk=pk)).data)
