"""Reads for crawls. Crawls are private: every lookup goes through `crawls_of(owner)`."""

from datetime import timedelta

from django.db.models import BigIntegerField, Case, F, FloatField, OuterRef, Q, Subquery, Sum, When
from django.utils import timezone

from photocloud.library.models import Photo

from .models import Candidate, Crawl, CrawlSource

USAGE_WINDOW = timedelta(days=1)
RECENT = timedelta(days=7)  # how long a finished crawl's results stay offered as recommendations


def crawls_of(owner):
    """The owner's crawls, each with `target_title`: its target's title while the owner may still see the picture
    (Crawl.label shows it), None otherwise."""
    if not owner.is_authenticated:
        return Crawl.objects.none()
    title = Photo.objects.visible_to(owner).filter(pk=OuterRef("target_id")).values("title")[:1]
    return Crawl.objects.filter(owner=owner, deleted_at__isnull=True).annotate(target_title=Subquery(title))


def visible_target(crawl: Crawl, viewer) -> Photo | None:
    """The crawl's target picture if `viewer` may (still) see it: its owner can make it private after the crawl
    started, and then neither the page nor the ranking may use it."""
    if crawl.target_id is None:
        return None
    return Photo.objects.visible_to(viewer).filter(pk=crawl.target_id).first()


def active_crawls(owner):
    return crawls_of(owner).filter(status__in=Crawl.ACTIVE)


def usage_today(owner) -> dict[str, float]:
    """Pages, bytes and seconds of the owner's crawls of the last 24 hours, for the per-user daily budget. A crawl
    still queued or running counts with its whole budget, so crawls started side by side cannot overspend, and
    deleted crawls count too, so deleting one does not give its budget back."""
    active = Q(status__in=Crawl.ACTIVE)
    columns = (
        ("pages", "pages_fetched", BigIntegerField()),
        ("bytes", "bytes_fetched", BigIntegerField()),
        ("seconds", "seconds_used", FloatField()),
    )
    totals = Crawl.objects.filter(owner=owner, created_at__gte=timezone.now() - USAGE_WINDOW).aggregate(
        **{
            name: Sum(Case(When(active, then=F(f"max_{name}")), default=F(used), output_field=kind))
            for name, used, kind in columns
        }
    )
    return {name: value or 0 for name, value in totals.items()}


def library_hashes(owner, candidates) -> set[str]:
    """Which of these candidates' files the owner already has (saved before, or uploaded)."""
    hashes = [candidate.sha256 for candidate in candidates]
    return set(Photo.objects.owned_by(owner).filter(sha256__in=hashes).values_list("sha256", flat=True))


def ranked_candidates(crawl: Crawl):
    """Best first: similarity plus keyword match (see ranking.py), then the larger image; `saved_id` is the picture
    saved from it while that picture is in the owner's library (not in the Trash)."""
    saved = Photo.objects.live().filter(pk=OuterRef("saved_photo_id")).values("pk")  # saved into an own album
    candidates = Candidate.objects.filter(crawl=crawl).annotate(saved_id=Subquery(saved[:1]))
    return candidates.order_by("-score", "-width", "pk")


def sources_configured() -> bool:
    """Whether an administrator gave the crawler anywhere to start from besides the user's own pages."""
    return CrawlSource.objects.filter(enabled=True).exists()


def recent_results(owner, limit: int) -> tuple[Crawl | None, list[Candidate]]:
    """The owner's latest crawl that finished in the last RECENT days, with its best images not saved yet and not
    already in the owner's library otherwise (uploaded, synced or imported)."""
    crawl = crawls_of(owner).filter(status=Crawl.Status.DONE, finished_at__gte=timezone.now() - RECENT).first()
    if crawl is None:
        return None, []
    unsaved = ranked_candidates(crawl).filter(saved_id__isnull=True)
    return crawl, list(unsaved.exclude(sha256__in=Photo.objects.owned_by(owner).values("sha256"))[:limit])
