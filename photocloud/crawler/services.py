"""Writes for crawls: start, run, cancel, delete, save the chosen images, recover after a worker died.

The owner is always an argument taken from the authenticated user.
"""

import logging
import shutil
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from photocloud.library import services as library
from photocloud.library import stored_files, trash
from photocloud.library.models import Album, Photo
from photocloud.library.storage import local_copy

from . import selectors
from .engine import CrawlRun, all_seeds
from .fetch import Refused, check_url, parse_networks
from .models import FILES_ROOT, Candidate, Crawl

logger = logging.getLogger(__name__)

MAX_SEED_URLS = 20
MAX_SAVE = 50  # candidates saved by one request: each one is a full ingest
MAX_ATTEMPTS = 2  # a crawl whose worker died is resumed once, then marked failed
QUEUED_GRACE = timedelta(minutes=30)
NEVER_STARTED = timedelta(days=1)


class CrawlRefused(Exception):
    """A crawl that cannot start; `status` is the HTTP status the API answers with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def _config() -> dict:
    return settings.PHOTOCLOUD["CRAWLER"]


def clean_seed_urls(urls) -> list[str]:
    """Trimmed, unique, http(s) only, no internal IP literals. Raises ValueError with a message for the user."""
    cleaned = list(dict.fromkeys(url.strip() for url in urls if url and url.strip()))
    if len(cleaned) > MAX_SEED_URLS:
        raise ValueError(f"At most {MAX_SEED_URLS} start pages.")
    allow = parse_networks(_config()["ALLOW_NETWORKS"])
    for url in cleaned:
        if len(url) > 2000:
            raise ValueError("A start page URL is too long (at most 2000 characters).")
        try:
            check_url(url, allow)
        except Refused as refusal:
            raise ValueError(str(refusal)) from None
    return cleaned


def start_crawl(
    owner,
    *,
    target: Photo | None = None,
    keywords: str = "",
    start_pages: list[str] = (),
    use_sources: bool = True,
    max_pages: int | None = None,
    max_depth: int | None = None,
) -> Crawl:
    """Create a crawl within the owner's budgets and queue it. The target must be a picture the owner may see, and
    `start_pages` come from `clean_seed_urls` (the form and the API call it, to show its message on the field; the
    fetcher checks every URL again anyway)."""
    config = _config()
    keywords = " ".join(keywords.split())[:200]
    if target is None and not keywords:
        raise CrawlRefused("Give a picture to look for, keywords, or both.")
    if selectors.active_crawls(owner).count() >= config["ACTIVE_PER_USER"]:
        raise CrawlRefused(
            f"You already have {config['ACTIVE_PER_USER']} crawls running; wait for one to end or cancel it.",
            status=429,
        )
    used = selectors.usage_today(owner)
    pages_left = config["DAILY_PAGES"] - used["pages"]
    bytes_left = config["DAILY_BYTES"] - used["bytes"]
    seconds_left = int(config["DAILY_SECONDS"] - used["seconds"])
    if pages_left <= 0 or bytes_left <= 0 or seconds_left <= 0:
        raise CrawlRefused("You have used today's crawling budget. Try again tomorrow.", status=429)
    crawl = Crawl(
        owner=owner,
        target=target,
        keywords=keywords,
        seed_urls=list(start_pages),
        use_sources=use_sources,
        max_depth=min(max_depth if max_depth is not None else config["MAX_DEPTH"], config["MAX_DEPTH"]),
        max_pages=min(max_pages or config["MAX_PAGES"], config["MAX_PAGES"], pages_left),
        max_bytes=min(config["MAX_BYTES"], bytes_left),
        max_seconds=min(config["MAX_SECONDS"], seconds_left),
        heartbeat=timezone.now(),
    )
    if not all_seeds(crawl, target):
        raise CrawlRefused("Give at least one start page: no configured source can be used for this crawl.")
    crawl.save()
    transaction.on_commit(lambda: enqueue(crawl))
    return crawl


def enqueue(crawl: Crawl) -> None:
    from .tasks import run_crawl_task

    run_crawl_task.enqueue(str(crawl.pk))


def run_crawl(crawl_id) -> None:
    """The background job: claim the queued crawl (one worker only), crawl, and record how it ended."""
    now = timezone.now()
    claimed = Crawl.objects.filter(pk=crawl_id, status=Crawl.Status.QUEUED).update(
        status=Crawl.Status.RUNNING,
        heartbeat=now,
        attempts=F("attempts") + 1,
        started_at=Coalesce(F("started_at"), Value(now)),
    )
    if not claimed:
        return  # cancelled or deleted while waiting, or already taken
    crawl = Crawl.objects.select_related("owner").get(pk=crawl_id)
    # Not cancelled meanwhile, nor queued again and taken by another worker (see CrawlRun.mine).
    still_mine = Crawl.objects.filter(pk=crawl_id, status=Crawl.Status.RUNNING, attempts=crawl.attempts)
    try:
        outcome = CrawlRun(crawl).run()
    except Exception as exc:
        logger.exception("Crawl %s failed", crawl_id)
        still_mine.update(
            status=Crawl.Status.FAILED, error=f"The crawl stopped on an error: {exc}"[:500], finished_at=timezone.now()
        )
        return
    still_mine.update(status=Crawl.Status.DONE, outcome=outcome[:300], finished_at=timezone.now())


def cancel_crawl(crawl: Crawl) -> bool:
    """Stop a queued or running crawl; the worker sees it before its next request. False if it had ended."""
    return bool(
        Crawl.objects.filter(pk=crawl.pk, status__in=Crawl.ACTIVE).update(
            status=Crawl.Status.CANCELLED, outcome="Cancelled.", finished_at=timezone.now()
        )
    )


def delete_crawl(crawl: Crawl) -> None:
    """Delete the crawl's images (saved pictures stay in the library) and hide it. Its row stays, with what it used,
    until the daily budget no longer counts it (`forget_deleted_crawls`)."""
    cancel_crawl(crawl)
    prefix = crawl.files_prefix
    with transaction.atomic():
        Crawl.objects.filter(pk=crawl.pk).update(deleted_at=timezone.now())
        crawl.candidates.all().delete()
    transaction.on_commit(lambda: _remove_files(prefix))


def _remove_files(prefix: str) -> None:
    """Every file in a crawl's folder of the default storage: the folder itself when local, each object in S3."""
    try:
        folder = default_storage.path(prefix)
    except NotImplementedError:
        for item in list(stored_files.list_files(prefix)):
            default_storage.delete(item.name)
    else:
        shutil.rmtree(folder, ignore_errors=True)


def forget_deleted_crawls() -> int:
    """Rows of deleted crawls the daily budget no longer counts. Returns how many were removed."""
    old = timezone.now() - selectors.USAGE_WINDOW
    return Crawl.objects.filter(deleted_at__isnull=False, created_at__lt=old).delete()[1].get("crawler.Crawl", 0)


def save_candidates(owner, crawl: Crawl, candidates, album: Album) -> list[library.UploadResult]:
    """Save chosen images into one of the owner's albums through the normal ingest, with where they came from."""
    if crawl.owner_id != owner.pk or album.owner_id != owner.pk:
        raise PermissionError("Only your own crawl's images go into your own albums.")
    results = []
    for candidate in candidates:
        if candidate.crawl_id != crawl.pk:
            raise PermissionError("That image is not from this crawl.")
        stored = candidate.original_name
        name = f"{candidate.title or 'web-image'}.{candidate.extension}"
        if candidate.saved_photo_id:
            trashed = candidate.saved_photo.trashed_at is not None  # saving it again brings it back
            if trashed:
                trash.restore(owner, photo_ids=[candidate.saved_photo_id])
            reason = "Restored from the Trash." if trashed else "Already saved."
            results.append(
                library.UploadResult(name, "duplicate", photo=candidate.saved_photo, reason=reason, http_status=200)
            )
            continue
        try:
            with local_copy(stored) as path, open(path, "rb") as handle:
                result = library.ingest_upload(
                    owner,
                    album,
                    File(handle, name=name),
                    provenance={
                        "source_url": candidate.image_url,
                        "source_page_url": candidate.page_url,
                        "retrieved_at": candidate.retrieved_at,
                        "title": candidate.title,
                    },
                )
        except FileNotFoundError:
            results.append(
                library.UploadResult(
                    name, "rejected", reason="The downloaded file is gone.", code="gone", http_status=410
                )
            )
            continue
        if result.photo is not None:
            Candidate.objects.filter(pk=candidate.pk).update(saved_photo=result.photo)
            candidate.saved_photo = result.photo
            default_storage.delete(stored)  # the library has it now; the thumbnail stays for the results grid
        results.append(result)
    return results


def recover_stalled() -> tuple[int, int]:
    """Crawls whose worker stopped (no heartbeat for a while): resumed once, then failed. Returns (resumed, failed).

    A crawl queued for long is queued again (its task may have been lost; a second task finds it taken and does
    nothing), and one that never started within a day is failed.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=_config()["STALE_SECONDS"])
    resumed = failed = 0
    waiting = Crawl.objects.filter(status=Crawl.Status.QUEUED, heartbeat__lt=now - QUEUED_GRACE)
    failed += waiting.filter(created_at__lt=now - NEVER_STARTED).update(
        status=Crawl.Status.FAILED, finished_at=now, error="The crawl never started: no background worker took it."
    )
    for crawl in waiting:
        if Crawl.objects.filter(pk=crawl.pk, status=Crawl.Status.QUEUED).update(heartbeat=now):
            enqueue(crawl)
            resumed += 1
    for crawl in Crawl.objects.filter(status=Crawl.Status.RUNNING, heartbeat__lt=stale):
        if crawl.attempts < MAX_ATTEMPTS:
            if Crawl.objects.filter(pk=crawl.pk, status=Crawl.Status.RUNNING).update(
                status=Crawl.Status.QUEUED, heartbeat=now
            ):
                enqueue(crawl)
                resumed += 1
        elif Crawl.objects.filter(pk=crawl.pk, status=Crawl.Status.RUNNING).update(
            status=Crawl.Status.FAILED,
            finished_at=timezone.now(),
            error="The worker running this crawl stopped twice; start a new crawl.",
        ):
            failed += 1
    return resumed, failed


def remove_orphan_files() -> int:
    """Folders of downloaded images whose crawl no longer exists or was deleted (its owner was deleted, or its worker
    wrote on after the delete). Returns how many."""
    try:
        folders, _ = default_storage.listdir(FILES_ROOT)
    except FileNotFoundError:
        return 0
    kept = Crawl.objects.filter(pk__in=[name for name in folders if _is_uuid(name)], deleted_at__isnull=True)
    ids = {str(pk) for pk in kept.values_list("pk", flat=True)}
    orphans = [name for name in folders if name not in ids]
    for name in orphans:
        _remove_files(f"{FILES_ROOT}/{name}")
    return len(orphans)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
