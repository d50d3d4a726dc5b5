"""API routes of this app; included in the "api" namespace by photocloud/urls.py."""

from rest_framework.routers import SimpleRouter

from .api import CrawlViewSet

router = SimpleRouter()
router.register("crawls", CrawlViewSet, basename="crawl")

urlpatterns = router.urls
