"""REST API of the social space: the same selectors and services as the pages."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, status
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from photocloud.accounts.models import User
from photocloud.core import serializers as strict
from photocloud.core.pagination import ApiPagination
from photocloud.core.schema import refusal
from photocloud.crawler.api import CrawlRefusedError
from photocloud.crawler.serializers import CrawlSerializer
from photocloud.crawler.services import CrawlRefused
from photocloud.library import selectors as library_selectors
from photocloud.library.models import Album
from photocloud.library.serializers import AlbumSerializer, PhotoSerializer

from . import selectors, services
from .recommend import recommendations
from .serializers import (
    CollectSummarySerializer,
    CommentEditSerializer,
    CommentSerializer,
    CopySerializer,
    FeedSerializer,
    LikeSummarySerializer,
    MarkReadResultSerializer,
    MarkReadSerializer,
    NotificationFilterSerializer,
    NotificationSerializer,
    RecommendationsQuerySerializer,
    RecommendationsSerializer,
    UserRefSerializer,
    WebFindsSerializer,
)

KIND = OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=["albums", "photos"])


def _target(request, kind: str, pk):
    """kind is "albums" or "photos" in API paths."""
    return selectors.target_for(request.user, kind.rstrip("s"), pk)


def _refused(error: Exception):
    return exceptions.ValidationError({"detail": str(error)})


class LikeView(APIView):
    """GET who liked an album or picture; POST likes it, DELETE unlikes it."""

    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    def _answer(self, request, target):
        return Response(LikeSummarySerializer(selectors.like_summary(request.user, target)).data)

    @extend_schema(parameters=[KIND], responses=LikeSummarySerializer)
    def get(self, request, kind, pk):
        return self._answer(request, _target(request, kind, pk))

    @extend_schema(parameters=[KIND], request=None, responses=LikeSummarySerializer)
    def post(self, request, kind, pk):
        target = _target(request, kind, pk)
        services.like(request.user, target)
        return self._answer(request, target)

    @extend_schema(parameters=[KIND], responses={200: LikeSummarySerializer})
    def delete(self, request, kind, pk):
        target = _target(request, kind, pk)
        services.unlike(request.user, target)
        return self._answer(request, target)


class CollectView(APIView):
    """POST collects an album (read-only in your space), DELETE uncollects it."""

    permission_classes = [permissions.IsAuthenticated]

    def _answer(self, request, album):
        return Response(CollectSummarySerializer(selectors.collect_summary(request.user, album)).data)

    @extend_schema(
        request=None, responses={200: CollectSummarySerializer, 400: refusal("Your own album cannot be collected.")}
    )
    def post(self, request, pk):
        album = selectors.target_for(request.user, "album", pk)
        try:
            services.collect(request.user, album)
        except services.SocialError as error:
            raise _refused(error) from None
        return self._answer(request, album)

    @extend_schema(responses={200: CollectSummarySerializer})
    def delete(self, request, pk):
        album = selectors.target_for(request.user, "album", pk)
        services.uncollect(request.user, album)
        return self._answer(request, album)


class CollectedView(APIView):
    """The albums you collected and may still see."""

    pagination_class = ApiPagination  # also tells the schema that the list comes a page at a time

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=AlbumSerializer(many=True))
    def get(self, request):
        albums = selectors.collected_albums(request.user).prefetch_related("tags")
        return _paginated(request, self, albums, AlbumSerializer)


def _paginated(request, view, queryset, serializer_class):
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, context={"request": request}).data)


class CommentListView(APIView):
    """GET the comments on an album or picture (oldest first; `parent` threads replies); POST adds one."""

    pagination_class = ApiPagination  # also tells the schema that the list comes a page at a time

    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    @extend_schema(parameters=[KIND], responses=CommentSerializer(many=True))
    def get(self, request, kind, pk):
        target = _target(request, kind, pk)
        comments = selectors.comments_on(target)
        return _paginated(request, self, comments, CommentSerializer)

    @extend_schema(parameters=[KIND], request=CommentSerializer, responses={201: CommentSerializer})
    def post(self, request, kind, pk):
        target = _target(request, kind, pk)
        data = CommentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        parent_id = data.validated_data.get("parent_id")
        parent = selectors.comment_for(request.user, parent_id) if parent_id else None
        try:
            comment = services.add_comment(
                request.user, target, data.validated_data["body"], parent=parent, limited=True
            )
        except services.CommentingTooFast as error:
            raise exceptions.Throttled(detail=str(error)) from None
        except services.SocialError as error:
            raise _refused(error) from None
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class CommentDetailView(APIView):
    """PATCH edits your comment; DELETE removes your comment, or any comment on your album or picture."""

    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    @extend_schema(responses=CommentSerializer)
    def get(self, request, pk):
        return Response(CommentSerializer(selectors.comment_for(request.user, pk)).data)

    @extend_schema(request=CommentEditSerializer, responses=CommentSerializer)
    def patch(self, request, pk):
        comment = selectors.comment_for(request.user, pk)
        data = CommentEditSerializer(data=request.data, partial=True)  # PATCH: what is left out stays
        data.is_valid(raise_exception=True)
        if comment.author_id != request.user.pk:
            raise exceptions.PermissionDenied("Only its author can edit a comment.")
        try:
            if "body" in data.validated_data:
                services.edit_comment(request.user, comment, data.validated_data["body"])
        except services.SocialError as error:
            raise _refused(error) from None
        return Response(CommentSerializer(comment).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        comment = selectors.comment_for(request.user, pk)
        if not services.can_delete_comment(request.user, comment):
            raise exceptions.PermissionDenied(
                "You may only delete your own comments, or comments on your albums and pictures."
            )
        services.delete_comment(request.user, comment)
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotificationListView(APIView):
    """Your notifications about things you may still see, newest first."""

    pagination_class = ApiPagination  # also tells the schema that the list comes a page at a time

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(parameters=[NotificationFilterSerializer], responses=NotificationSerializer(many=True))
    def get(self, request):
        query = strict.checked_query(request, NotificationFilterSerializer)
        notes = selectors.notifications_for(request.user)
        if query["unread"]:
            notes = notes.filter(read_at__isnull=True)
        return _paginated(request, self, notes, NotificationSerializer)


class NotificationReadView(APIView):
    """Mark notifications read (the given ids, or all); answers how many changed and how many stay unread."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=MarkReadSerializer, responses=MarkReadResultSerializer)
    def post(self, request):
        data = MarkReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        marked = services.mark_read(request.user, data.validated_data.get("ids"))
        return Response({"marked": marked, "unread": selectors.unread_count(request.user)})


class FeedView(APIView):
    """Recent pictures, visible to you, of the people you follow, a page at a time (`?page=`), and on the first page
    their recent albums."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(parameters=[OpenApiParameter("page", int)], responses=FeedSerializer)
    def get(self, request):
        context = {"request": request}
        paginator = ApiPagination()
        photos = library_selectors.serialized(selectors.feed_photos(request.user))
        page = paginator.paginate_queryset(photos, request, view=self)
        albums = selectors.feed_albums(request.user).prefetch_related("tags")[:20] if paginator.page.number == 1 else []
        return Response(
            {
                "count": paginator.page.paginator.count,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "photos": PhotoSerializer(page, many=True, context=context).data,
                "albums": AlbumSerializer(albums, many=True, context=context).data,
            }
        )


class RecommendationsView(APIView):
    """Pictures and albums for you, each with the reason it was chosen."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(parameters=[RecommendationsQuerySerializer], responses=RecommendationsSerializer)
    def get(self, request):
        limit = strict.checked_query(request, RecommendationsQuerySerializer)["limit"]
        return Response(RecommendationsSerializer(recommendations(request.user, limit, limit)).data)


class WebFindsView(APIView):
    """Recommendations from the web: the best unsaved finds of your latest crawl; POST starts a crawl for more like
    the picture you last liked or collected (else your newest), within the crawler's budgets."""

    permission_classes = [permissions.IsAuthenticated]
    throttle_scope = "search"

    def get_throttles(self):
        """Starting a crawl counts like a search, as through /api/crawls/."""
        if self.request.method == "POST":
            return [*super().get_throttles(), ScopedRateThrottle()]
        return super().get_throttles()

    @extend_schema(responses=WebFindsSerializer)
    def get(self, request):
        return Response(WebFindsSerializer(selectors.web_finds(request.user)).data)

    @extend_schema(
        request=None,
        responses={201: CrawlSerializer, 400: refusal("Nothing to look for yet, or no source to start from.")},
    )
    def post(self, request):
        try:
            crawl = services.find_on_the_web(request.user, selectors.web_target(request.user))
        except services.SocialError as error:
            raise _refused(error) from None
        except CrawlRefused as refusal:
            raise CrawlRefusedError(refusal) from None
        crawl.refresh_from_db()
        return Response(CrawlSerializer(crawl).data, status=status.HTTP_201_CREATED)


class CopyView(APIView):
    """Add someone else's picture to one of your albums, as your own copy crediting its author and source."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=CopySerializer,
        responses={
            201: PhotoSerializer,
            200: OpenApiResponse(PhotoSerializer, description="Already in that album of yours."),
            403: refusal("Its owner does not allow copies, or a session request lacks its CSRF token."),
        },
    )
    def post(self, request, pk):
        photo = selectors.target_for(request.user, "photo", pk)
        data = CopySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        album = get_object_or_404(Album.objects.owned_by(request.user), pk=data.validated_data["album"])
        try:
            result = services.copy_to_album(
                request.user, photo, album, request.build_absolute_uri(photo.get_absolute_url())
            )
        except services.CopyNotAllowed as error:
            raise exceptions.PermissionDenied(str(error)) from None
        except services.SocialError as error:
            raise _refused(error) from None
        if result.status == "rejected":
            return Response({"detail": result.reason, "code": result.code}, status=result.http_status)
        body = PhotoSerializer(result.photo, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED if result.status == "stored" else status.HTTP_200_OK)


class PeopleView(APIView):
    """Followers of a user, or the people they follow."""

    pagination_class = ApiPagination  # also tells the schema that the list comes a page at a time

    permission_classes = [permissions.AllowAny]
    direction = "followers"

    @extend_schema(responses=UserRefSerializer(many=True))
    def get(self, request, username):
        owner = get_object_or_404(User, username=username, is_active=True)
        users = selectors.followers(owner) if self.direction == "followers" else selectors.following(owner)
        return _paginated(request, self, users, UserRefSerializer)
