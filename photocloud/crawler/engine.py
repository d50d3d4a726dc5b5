"""One crawl, run by a background worker: pages breadth-first from the seeds, images as each page offers them.

Progress (counters, heartbeat) is written to the database after every request, so the crawl's page shows it live and
the recovery hook can tell a crawl whose worker died from one that is still working. A crawl resumed after a restart
keeps its counters (its budgets are never reset) and skips the images it already kept.
"""

import hashlib
import logging
import os
import tempfile
import time
from collections import deque
from contextlib import contextmanager
from urllib.parse import quote_plus

import httpx
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError
from django.utils import timezone

from photocloud.library import imaging
from photocloud.library.imaging import ImageRejected
from photocloud.library.models import Photo

from . import ranking, selectors
from .extract import is_image_link, parse_page
from .fetch import Fetcher, FetchFailed, Refused, TooLarge, parse_networks, retry_after_seconds
from .models import Candidate, Crawl, CrawlSource
from .polite import HostGate, Robots

logger = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
MIN_SIDE = 64  # smaller pictures are icons, spacers and buttons
MAX_NOTES = 60
THUMBNAIL = 320


class Stop(Exception):
    """The crawl ends here: cancelled, or a budget is spent. The message says which, for the user."""


def _config() -> dict:
    return settings.PHOTOCLOUD["CRAWLER"]


def source_query(crawl: Crawl, target: Photo | None) -> str:
    """What fills {query} in a source's search URL: the keywords, else what Photocloud saw in the target (the crawl's
    target as its owner may still see it, see selectors.visible_target)."""
    if crawl.keywords:
        return crawl.keywords
    return picture_words(target) if target is not None else ""


def picture_words(photo: Photo) -> str:
    """Words to look for a picture with on the web: its two best labels, else its title."""
    analysis = getattr(photo, "analysis", None)  # the reverse one-to-one's "does not exist" is an AttributeError
    if analysis is not None and analysis.labels:
        return " ".join(analysis.label_names[:2])
    return photo.title


def all_seeds(crawl: Crawl, target: Photo | None) -> list[str]:
    seeds = list(crawl.seed_urls)
    if crawl.use_sources:
        query = source_query(crawl, target)
        for source in CrawlSource.objects.filter(enabled=True):
            if "{query}" in source.url_template:
                if query:
                    seeds.append(source.url_template.replace("{query}", quote_plus(query)))
            else:
                seeds.append(source.url_template)
    return list(dict.fromkeys(seeds))


def host_of(url: str) -> str | None:
    """The URL's host, or None for a link httpx cannot read ("http://h:abc/", "http://xn--/"): one bad link on a
    page is skipped, it does not end the crawl."""
    try:
        return httpx.URL(url).host or None
    except (httpx.InvalidURL, ValueError):  # IDNAError is a UnicodeError, a ValueError
        return None


class CrawlRun:
    def __init__(self, crawl: Crawl):
        self.crawl = crawl
        self.config = _config()
        self.allow = parse_networks(self.config["ALLOW_NETWORKS"])
        self.started = time.monotonic()
        self.deadline = self.started + max(crawl.max_seconds - crawl.seconds_used, 0)
        self.seconds_before = crawl.seconds_used
        self.keywords = ranking.terms(crawl.keywords)
        self.target = None
        self.seen_pages: set[str] = set()
        self.seen_images = set(crawl.candidates.values_list("image_url", flat=True))
        self.known_hashes = set(crawl.candidates.values_list("sha256", flat=True))
        self.pictures = {
            pk: (int(picture, 16), (width, height))
            for pk, picture, width, height in crawl.candidates.exclude(dhash="").values_list(
                "pk", "dhash", "width", "height"
            )
        }
        self.notes = list(crawl.notes)
        self.pages_answered = 0  # pages a server answered (pages_fetched also counts those that failed on the way)
        self._checked_at = 0.0
        self._cancelled = False
        timeout = self.config["TIMEOUT"]
        self.gate = HostGate(
            self.config["HOST_DELAY"],
            self.config["HOST_CONCURRENCY"],
            hold_seconds=3 * timeout + 5,
            should_stop=self.cancelled,
        )
        self.fetcher = Fetcher(
            allow=self.allow,
            user_agent=self.config["USER_AGENT"],
            timeout=timeout,
            max_redirects=self.config["MAX_REDIRECTS"],
            before_hop=self._hop,
            on_bytes=self._count_bytes,
        )
        self.robots = Robots(self.fetcher, self.config["USER_AGENT"], self.response_deadline)

    # --- bookkeeping ------------------------------------------------------------------------------------------------

    def note(self, text: str) -> None:
        if len(self.notes) < MAX_NOTES:
            self.notes.append(text[:300])

    def _count_bytes(self, count: int) -> None:
        self.crawl.bytes_fetched += count

    def bytes_left(self) -> int:
        return self.crawl.max_bytes - self.crawl.bytes_fetched

    def asked_to_wait(self, fetched) -> float:
        """429 or 503: pause the host for its Retry-After (bounded); returns the pause, 0 for other answers."""
        if fetched.status not in (429, 503):
            return 0.0
        wait = min(retry_after_seconds(fetched.headers, 5.0), self.config["MAX_RETRY_AFTER"])
        self.gate.pause(httpx.URL(fetched.url).host, wait)
        return max(wait, 0.001)

    def limit(self, per_response: int) -> int:
        return max(min(per_response, self.bytes_left()), 0)

    def skipped(self, what: str, problem: Exception, per_response: int) -> None:
        """Note why; a response cut short by the crawl's byte budget (not by its own limit) ends the crawl."""
        if isinstance(problem, TooLarge) and self.bytes_left() < per_response:
            self.crawl.bytes_fetched = max(self.crawl.bytes_fetched, self.crawl.max_bytes)
            self.check_budgets()
        self.note(f"Skipped {what}: {problem}")

    def response_deadline(self) -> float:
        return min(time.monotonic() + 3 * self.config["TIMEOUT"], self.deadline)

    def mine(self):
        """The crawl as long as this worker's attempt holds it. A worker that went silent may find its crawl queued
        again and claimed by another worker (with the next attempt number): then it must stop, not write."""
        return Crawl.objects.filter(pk=self.crawl.pk, attempts=self.crawl.attempts)

    def cancelled(self) -> bool:
        """Read the cancel flag (at most twice a second) and leave a heartbeat while at it."""
        now = time.monotonic()
        if not self._cancelled and now - self._checked_at > 0.5:
            self._checked_at = now
            self._cancelled = not self.mine().filter(status=Crawl.Status.RUNNING).exists()
            self.save_progress()
        return self._cancelled

    def save_progress(self) -> None:
        """Counters and heartbeat; also once cancelled (what was used counts for the daily budget), never once the
        crawl is queued again or another worker's."""
        crawl = self.crawl
        crawl.seconds_used = self.seconds_before + time.monotonic() - self.started
        crawl.heartbeat = timezone.now()
        saved = (
            self.mine()
            .exclude(status=Crawl.Status.QUEUED)
            .update(
                pages_fetched=crawl.pages_fetched,
                bytes_fetched=crawl.bytes_fetched,
                images_found=crawl.images_found,
                images_kept=crawl.images_kept,
                seconds_used=crawl.seconds_used,
                heartbeat=crawl.heartbeat,
                notes=self.notes,
            )
        )
        if not saved:
            self._cancelled = True  # the next budget check stops this worker

    def check_budgets(self, page: bool = False) -> None:
        crawl = self.crawl
        if self.cancelled():
            raise Stop("")
        if time.monotonic() >= self.deadline:
            raise Stop(f"Stopped at the time budget ({crawl.max_seconds} s).")
        if self.bytes_left() <= 0:
            raise Stop(f"Stopped at the download budget ({crawl.max_bytes // (1024 * 1024)} MB).")
        if crawl.images_kept >= self.config["MAX_CANDIDATES"]:
            raise Stop(f"Stopped after keeping {crawl.images_kept} images, the most one crawl keeps.")
        if page and crawl.pages_fetched >= crawl.max_pages:
            raise Stop(f"Stopped at the page budget ({crawl.max_pages} pages).")

    @contextmanager
    def _hop(self, url: httpx.URL):
        """Before every request, redirects included: robots.txt must allow it, then wait for the host's turn."""
        if not self.robots.busy and not self.robots.allowed(url):
            if why := self.robots.unreadable.get(self.robots.origin_of(url)):
                raise Refused(
                    f"{self.robots.origin_of(url)}/robots.txt could not be read ({why}), so nothing there is fetched"
                )
            raise Refused(f"robots.txt does not allow {url}")
        extra = 0.0 if self.robots.busy else self.robots.crawl_delay(url)
        with self.gate.turn(url, extra):
            yield

    # --- the crawl --------------------------------------------------------------------------------------------------

    def run(self) -> str:
        """Crawl until the frontier is empty or a budget stops it; returns why it ended ("" when cancelled)."""
        crawl = self.crawl
        target = selectors.visible_target(crawl, crawl.owner)  # its owner may have hidden it since
        if crawl.target_id and target is None:
            self.note("The target picture is no longer visible to you: ranked by keywords only.")
        elif target is not None and ranking.vision_enabled():
            self.target = ranking.target_vector(target)
            if self.target is None:
                self.note("The target picture is not processed yet: ranked by keywords only.")
        crawl.ranked_by_similarity = self.target is not None
        self.mine().update(ranked_by_similarity=crawl.ranked_by_similarity)
        seeds = all_seeds(crawl, target)
        if not seeds:
            return "Nothing to crawl: no start pages and no configured sources."
        hosts = {host_of(url) for url in seeds} - {None}
        frontier = deque((url, 0, 0) for url in seeds)
        self.seen_pages.update(seeds)
        try:
            with self.fetcher:
                while frontier:
                    url, depth, retries = frontier.popleft()
                    self.check_budgets(page=True)
                    for link in self.visit(url, depth, retries, frontier):
                        if depth < crawl.max_depth and link not in self.seen_pages and host_of(link) in hosts:
                            self.seen_pages.add(link)
                            frontier.append((link, depth + 1, 0))
        except Stop as stop:
            return str(stop)
        finally:
            self.save_progress()
        if self.pages_answered == 0:  # a start page that timed out or refused the connection is no page visited
            return "Finished without fetching any page: no start page could be reached or was allowed (see the notes)."
        return "Finished: every page within reach was visited."

    def visit(self, url: str, depth: int, retries: int, frontier: deque) -> list[str]:
        """Fetch one page and the images it offers; returns the links it has."""
        crawl = self.crawl
        try:
            fetched = self.fetcher.get(
                url,
                max_bytes=self.limit(self.config["MAX_PAGE_BYTES"]),
                deadline=self.response_deadline(),
                accept="text/html,application/xhtml+xml",
                wanted=lambda kind: kind.startswith(HTML_TYPES),
            )
        except Refused as refusal:  # nothing was sent: not a page fetched
            self.note(f"Skipped {url}: {refusal}")
            return []
        except FetchFailed as problem:
            crawl.pages_fetched += 1
            self.skipped(url, problem, self.config["MAX_PAGE_BYTES"])
            return []
        crawl.pages_fetched += 1
        self.pages_answered += 1
        self.save_progress()
        if wait := self.asked_to_wait(fetched):
            if retries < 2 and time.monotonic() + wait < self.deadline:
                frontier.append((url, depth, retries + 1))
                self.note(f"{httpx.URL(url).host} asked to wait {wait:.0f} s ({fetched.status}); will retry {url}")
            return []
        if fetched.status != 200 or not fetched.content:
            if fetched.status != 200:
                self.note(f"Skipped {url}: HTTP {fetched.status}")
            return []
        if fetched.url != url and fetched.url in self.seen_pages:
            return []  # a redirect to a page already visited or queued
        self.seen_pages.add(fetched.url)
        charset = httpx.Response(200, headers=fetched.headers).charset_encoding or "utf-8"
        try:
            html = fetched.content.decode(charset, "replace")
        except LookupError:
            html = fetched.content.decode("utf-8", "replace")
        try:
            page = parse_page(html, fetched.url)
        except Exception:  # one page the parser chokes on must not end the crawl
            logger.exception("Could not parse %s", fetched.url)
            self.note(f"Skipped {url}: the page could not be read.")
            return []
        for image in page.images:
            if image.url in self.seen_images:
                continue
            self.seen_images.add(image.url)
            crawl.images_found += 1
            self.check_budgets()
            self.take_image(image, fetched.url, page.title)
        if page.nofollow:
            return []
        return [link for link in page.links if not is_image_link(link)]

    def take_image(self, image, page_url: str, page_title: str) -> None:
        try:
            fetched = self.fetcher.get(
                image.url,
                max_bytes=self.limit(self.config["MAX_IMAGE_BYTES"]),
                deadline=self.response_deadline(),
                accept="image/*",
                wanted=lambda kind: kind.startswith(("image/", "application/octet-stream")) or not kind,
            )
        except (Refused, FetchFailed) as problem:
            self.skipped(f"image {image.url}", problem, self.config["MAX_IMAGE_BYTES"])
            return
        finally:
            self.save_progress()
        if self.asked_to_wait(fetched) or fetched.status != 200 or not fetched.content:
            return
        try:
            kept = self.keep(fetched.content, image, fetched.url, page_url, page_title)
        except Exception:  # a decoder or model failing on one odd file must not end the crawl
            logger.exception("Could not keep %s", fetched.url)
            self.note(f"Not kept {image.url}: the image could not be processed.")
            return
        if kept:
            self.crawl.images_kept += 1
            self.save_progress()

    def keep(self, data: bytes, image, image_url: str, page_url: str, page_title: str) -> bool:
        """Validate the bytes like an upload, drop duplicates and tiny images, rank, and keep the file. The same
        picture at another size is kept once, at the larger size. True when a new candidate was kept."""
        sha256 = hashlib.sha256(data).hexdigest()
        if sha256 in self.known_hashes:
            return False
        self.known_hashes.add(sha256)
        # Checked in this machine's upload temporary folder (swept of what a killed worker leaves), then stored.
        fd, temporary = tempfile.mkstemp(dir=settings.FILE_UPLOAD_TEMP_DIR, prefix="crawl-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            info = imaging.probe(temporary)
            if min(info.width, info.height) < MIN_SIDE:
                return False
            imaging.verify(temporary, info)
            thumbnail = imaging.render_renditions(temporary, info, {"s": THUMBNAIL})["s"]
            picture = ranking.dhash(thumbnail)
            twin = self.twin_of(picture, (info.width, info.height))
            if twin is not None and (twin.saved_photo_id or twin.width * twin.height >= info.width * info.height):
                self.note(f"Not kept {image_url}: the same picture as {twin.image_url}, at a smaller size.")
                return False
            similarity = ranking.similarity(self.target, thumbnail) if self.target is not None else None
            keyword = ranking.keyword_score(
                self.keywords,
                alt=image.alt,
                caption=image.caption,
                file=image_url.rsplit("/", 1)[-1],
                page_title=page_title,
            )
            candidate = twin or Candidate(crawl=self.crawl)
            if twin is not None:
                self.note(f"Kept {image_url} instead of {twin.image_url}: the same picture, larger.")
                default_storage.delete(twin.original_name)
                default_storage.delete(twin.thumbnail_name)
                keyword = max(keyword, twin.keyword_score)
            candidate.image_url, candidate.page_url = image_url[:2000], page_url[:2000]
            candidate.page_title = page_title
            candidate.alt = (image.alt or candidate.alt)[:500]
            candidate.caption = (image.caption or candidate.caption)[:500]
            candidate.format, candidate.width, candidate.height = info.format, info.width, info.height
            candidate.bytes, candidate.sha256, candidate.dhash = len(data), sha256, f"{picture:016x}"
            candidate.similarity, candidate.keyword_score = similarity, keyword
            candidate.score = ranking.combined_score(similarity, keyword, bool(self.keywords))
            candidate.retrieved_at = timezone.now()
            default_storage.save(candidate.thumbnail_name, ContentFile(thumbnail))
            with open(temporary, "rb") as handle:
                default_storage.save(candidate.original_name, File(handle))
            candidate.save()
            self.pictures[candidate.pk] = (picture, (info.width, info.height))
            return twin is None
        except ImageRejected as rejection:
            self.note(f"Not kept {image_url}: {rejection.message}")
            return False
        except IntegrityError:
            return False
        finally:
            if temporary:
                os.unlink(temporary)

    def twin_of(self, picture: int, size: tuple[int, int]) -> Candidate | None:
        for pk, (other, other_size) in self.pictures.items():
            if ranking.same_picture(picture, size, other, other_size):
                return Candidate.objects.filter(pk=pk).first()
        return None
