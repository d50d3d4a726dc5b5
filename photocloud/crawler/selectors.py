"""Reads for crawls. Crawls are private: every lookup goes through `crawls_of(owner)`."""

from datetime import timedelta

from django.db.models import Sum
from django.utils import timezone

from .models import Candidate, Crawl


def crawls_of(owner):
    if not owner.is_authenticated:
        return Crawl.objects.none()
    return Crawl.objects.filter(owner=owner).select_related("target")


def active_crawls(owner):
    return crawls_of(owner).filter(status__in=Crawl.ACTIVE)


def usage_today(owner) -> tuple[int, int]:
    """Pages and bytes the owner's crawls fetched in the last 24 hours (the per-user daily budget)."""
    totals = crawls_of(owner).filter(created_at__gte=timezone.now() - timedelta(days=1)).aggregate(
        pages=Sum("pages_fetched"), bytes=Sum("bytes_fetched")
    )
    return totals["pages"] or 0, totals["bytes"] or 0


def ranked_candidates(crawl: Crawl):
    """Best first: similarity plus keyword match (see ranking.py), then the larger image."""
    return Candidate.objects.filter(crawl=crawl).order_by("-score", "-width", "pk")
