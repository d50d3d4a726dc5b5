"""REST API for crawls: the same services as the pages. Crawls are private to their owner."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle

from photocloud.core.schema import refusal
from photocloud.library.models import Album, Photo
from photocloud.library.serializers import upload_summary

from . import selectors, services
from .serializers import (
    CandidateSerializer,
    CrawlCreateSerializer,
    CrawlSerializer,
    SaveResponseSerializer,
    SaveSerializer,
)


class CrawlRefusedError(exceptions.APIException):
    default_code = "crawl_refused"

    def __init__(self, refusal: services.CrawlRefused):
        super().__init__(refusal.message)
        self.status_code = refusal.status


class CrawlViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Your web crawls. Create one and poll it for progress; its candidates are ranked best first."""

    serializer_class = CrawlSerializer
    permission_classes = [permissions.IsAuthenticated]
    lookup_value_regex = "[0-9a-f-]{36}"

    def get_queryset(self):
        return selectors.crawls_of(self.request.user)

    def get_throttles(self):
        """Starting a crawl counts like a search; saving images counts like uploading them (each is an ingest)."""
        scopes = {"create": "search", "save": "upload"}
        if self.action in scopes:
            self.throttle_scope = scopes[self.action]
            return [*super().get_throttles(), ScopedRateThrottle()]
        return super().get_throttles()

    @extend_schema(
        request=CrawlCreateSerializer,
        responses={
            201: CrawlSerializer,
            400: refusal(
                "Nothing to look for (no picture, no keywords), no start page to use, a start page that is no web "
                "address, or a picture that does not exist or you may not see"
            ),
        },
    )
    def create(self, request):
        query = CrawlCreateSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        target = None
        if data.get("photo"):
            target = Photo.objects.visible_to(request.user).filter(pk=data["photo"]).first()
            if target is None:
                raise exceptions.ValidationError({"photo": ["That picture does not exist or you may not see it."]})
        try:
            start_pages = services.clean_seed_urls(data["start_pages"])
        except ValueError as problem:
            raise exceptions.ValidationError({"start_pages": [str(problem)]}) from None
        try:
            crawl = services.start_crawl(
                request.user,
                target=target,
                keywords=data["keywords"],
                start_pages=start_pages,
                use_sources=data["use_sources"],
                max_pages=data.get("max_pages"),
                max_depth=data.get("max_depth"),
            )
        except services.CrawlRefused as refusal:
            raise CrawlRefusedError(refusal) from None
        crawl.refresh_from_db()
        return Response(CrawlSerializer(crawl).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.delete_crawl(instance)

    @extend_schema(request=None, responses=CrawlSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Stop the crawl before its next request; what it found so far stays."""
        crawl = self.get_object()
        services.cancel_crawl(crawl)
        crawl.refresh_from_db()
        return Response(CrawlSerializer(crawl).data)

    @extend_schema(responses=CandidateSerializer(many=True))
    @action(detail=True, methods=["get"])
    def candidates(self, request, pk=None):
        """The images the crawl kept, best first."""
        page = self.paginate_queryset(selectors.ranked_candidates(self.get_object()))
        return self.get_paginated_response(CandidateSerializer(page, many=True).data)

    @extend_schema(
        request=SaveSerializer,
        responses={200: SaveResponseSerializer, 400: refusal("Some of these images are not from this crawl.")},
    )
    @action(detail=True, methods=["post"])
    def save(self, request, pk=None):
        """Save candidates into one of your albums, through the normal ingest, with their source recorded."""
        crawl = self.get_object()
        query = SaveSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        album = get_object_or_404(Album.objects.owned_by(request.user), pk=query.validated_data["album"])
        ids = set(query.validated_data["candidates"])
        candidates = list(crawl.candidates.filter(pk__in=ids))
        if len(candidates) != len(ids):
            raise exceptions.ValidationError({"candidates": ["Some of these images are not from this crawl."]})
        results = services.save_candidates(request.user, crawl, candidates, album)
        return Response(upload_summary(results, request))
