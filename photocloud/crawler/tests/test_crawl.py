"""Crawls against a real local web site: ranking, robots.txt, budgets, limits, retries, cancelling, recovery."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from photocloud.crawler import selectors, services
from photocloud.crawler.apps import CrawlerConfig
from photocloud.crawler.models import FILES_ROOT, Candidate, Crawl, CrawlSource
from photocloud.library import services as library
from photocloud.library.models import Photo
from tests.servers import free_port

from .conftest import configure

pytestmark = pytest.mark.usefixtures("crawler_settings")


def crawl(owner, **options) -> Crawl:
    """Start a crawl; the test task backend runs it at once. Returns it as it ended."""
    created = services.start_crawl(owner, **options)
    services.run_crawl(created.pk)  # a no-op when the task already ran it
    return Crawl.objects.get(pk=created.pk)


def stored(name: str) -> bool:
    return default_storage.exists(name)


def folders() -> list[str]:
    """The crawls with a folder of downloaded files in the default storage."""
    try:
        return default_storage.listdir(FILES_ROOT)[0]
    except FileNotFoundError:
        return []


def names(crawl_: Crawl) -> list[str]:
    return [c.image_url.rsplit("/", 1)[-1] for c in crawl_.candidates.order_by("-score", "-width", "pk")]


def test_crawl_collects_validated_images_and_obeys_robots(alice, site):
    done = crawl(alice, keywords="cat", start_pages=[f"{site.url}/"])
    assert done.status == "done", (done.error, done.notes)
    kept = set(names(done))
    # img src, srcset (the largest), og:image, links to image files, a file served as octet-stream; one copy of
    # the duplicate bytes; no icon, no damaged, disguised, SVG or bomb files.
    assert {"cat.jpg", "cat-large.webp", "rocket.png", "astronaut.gif", "coffee.jpg", "unlabelled"} <= kept
    assert "cat-copy.jpg" not in kept and "cat-small.png" not in kept
    assert not kept & {"icon.png", "truncated.jpg", "page.jpg", "drawing.svg", "bomb.png", "secret-cat.jpg"}
    assert done.images_kept == len(kept) and done.images_found > done.images_kept
    assert done.pages_fetched >= 5 and done.bytes_fetched > 0
    # robots.txt: read first, with the crawler's own user-agent, and /private/ never requested.
    assert site.paths()[0] == "/robots.txt"
    assert all(hit.user_agent.startswith("PhotocloudBot/") for hit in site.hits)
    assert not [path for path in site.paths() if path.startswith("/private/") or "secret" in path]
    assert any("robots.txt does not allow" in note for note in done.notes)
    # Each candidate keeps its page, words and a thumbnail; its bytes wait in the crawl's folder.
    cat = done.candidates.get(image_url=f"{site.url}/img/cat.jpg")
    assert (cat.page_url, cat.alt, cat.caption, cat.page_title) == (
        f"{site.url}/cats.html",
        "A tabby cat",
        "Chelsea the cat",
        "Cats",
    )
    assert stored(cat.original_name) and stored(cat.thumbnail_name)
    assert (cat.width, cat.height) == (451 - 17, 300 - 13)
    # Keyword ranking only (vision is off in these tests): the cat images come first.
    assert not done.ranked_by_similarity and cat.similarity is None
    assert names(done)[:2] == ["cat.jpg", "cat-large.webp"]


def test_the_same_picture_at_two_sizes_is_kept_once_at_the_larger(alice, site):
    done = crawl(alice, keywords="rocket", start_pages=[f"{site.url}/gallery.html"])
    [rocket] = done.candidates.all()
    assert rocket.image_url.endswith("/img/rocket-full.jpg") and (rocket.width, rocket.height) == (640, 427)
    assert rocket.alt == "Launch pad" and rocket.keyword_score == 1.0  # the thumbnail's words ("A rocket") count
    files = default_storage.listdir(done.files_prefix)[1]
    assert stored(rocket.original_name) and len(files) == 2  # the picture, its thumbnail
    assert done.images_kept == 1 and done.images_found == 2
    assert any("the same picture, larger" in note for note in done.notes)


def test_links_no_url_parser_can_read_are_skipped_one_by_one(alice, site):
    """The broken page links to "http://h:abc/", "http://xn--/" and "http://[zz]/": the crawl goes on around them."""
    done = crawl(alice, keywords="cat", start_pages=[f"{site.url}/broken.html"], max_depth=1)
    assert done.status == "done", (done.error, done.notes)
    assert "/cats.html" in site.paths()  # the good link on the same page was followed
    assert {"cat.jpg", "cat-large.webp"} <= set(names(done))
    assert any("Not a valid URL: http://xn--/cat.jpg" in note for note in done.notes), done.notes


def test_robots_txt_that_fails_disallows_everything(alice, site):
    site.robots_status = 503
    done = crawl(alice, keywords="cat", start_pages=[f"{site.url}/cats.html"])
    assert site.paths() == ["/robots.txt"]
    assert done.status == "done" and done.images_kept == 0


def _crawl_while_held(alice, site, settings, path):
    """A crawl of the cats page, one level, while the site holds its answer to `path` past the crawler's timeout."""
    configure(settings, TIMEOUT=0.5)
    release = site.holds[path] = threading.Event()
    try:
        return crawl(alice, keywords="cat", start_pages=[f"{site.url}/cats.html"], max_depth=0)
    finally:
        release.set()


def test_robots_txt_that_does_not_answer_in_time_is_asked_once_more(alice, site, settings):
    """A busy moment of the site (its robots.txt answer later than the timeout) must not leave the crawl empty."""
    done = _crawl_while_held(alice, site, settings, "/robots.txt")
    assert site.paths()[:3] == ["/robots.txt", "/robots.txt", "/cats.html"]
    assert done.status == "done" and "cat.jpg" in names(done)


def test_a_site_whose_robots_txt_cannot_be_read_is_not_crawled_and_the_crawl_says_why(alice):
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there: every connection is refused
    done = crawl(alice, keywords="cat", start_pages=[f"{nobody}/cats.html"])
    assert done.status == "done" and done.pages_fetched == 0 and done.images_kept == 0
    assert any(f"{nobody}/robots.txt could not be read" in note for note in done.notes), done.notes
    assert done.outcome.startswith("Finished without fetching any page"), done.outcome  # not "every page visited"


def test_a_crawl_whose_start_page_gave_no_answer_says_it_fetched_nothing(alice, site, settings):
    """robots.txt answered, the start page did not (too slow): a request was made, but no page was visited."""
    done = _crawl_while_held(alice, site, settings, "/cats.html")
    assert done.status == "done" and done.images_kept == 0
    assert done.outcome.startswith("Finished without fetching any page"), (done.outcome, done.notes)


def test_missing_robots_txt_allows_everything(alice, site):
    site.robots_status = 404
    done = crawl(alice, keywords="cat", start_pages=[f"{site.url}/private/secret.html"])
    assert "secret-cat.jpg" in names(done)


def test_depth_and_page_budget(alice, site, settings):
    shallow = crawl(alice, keywords="cat", start_pages=[f"{site.url}/cats.html"], max_depth=0)
    assert "/deeper.html" not in site.paths()
    assert shallow.pages_fetched == 1
    deep = crawl(alice, keywords="cat", start_pages=[f"{site.url}/cats.html"], max_depth=2)
    assert "/deepest.html" in site.paths()
    limited = crawl(alice, keywords="cat", start_pages=[f"{site.url}/"], max_pages=2)
    assert limited.pages_fetched == 2 and "page budget" in limited.outcome
    assert deep.status == limited.status == "done"


def test_byte_and_time_budgets(alice, site, settings):
    configure(settings, MAX_BYTES=150_000)
    small = crawl(alice, keywords="cat", start_pages=[f"{site.url}/cats.html"])
    assert "download budget" in small.outcome
    assert small.bytes_fetched <= 150_000 + 65_536  # at most one network read past the budget
    configure(settings, MAX_BYTES=100 * 1024 * 1024, MAX_SECONDS=2, TIMEOUT=5)
    started = time.monotonic()
    slow = crawl(alice, keywords="cat", start_pages=[f"{site.url}/slow1", f"{site.url}/slow2", f"{site.url}/"])
    assert time.monotonic() - started < 10
    assert "time budget" in slow.outcome and slow.seconds_used < 4


def test_daily_budget_per_user(alice, bob, site, settings):
    configure(settings, DAILY_PAGES=3)
    first = crawl(alice, keywords="cat", start_pages=[f"{site.url}/"])
    assert first.max_pages == 3 and first.pages_fetched == 3
    with pytest.raises(services.CrawlRefused, match="today's crawling budget"):
        services.start_crawl(alice, keywords="cat", start_pages=[f"{site.url}/"])
    assert crawl(bob, keywords="cat", start_pages=[f"{site.url}/"]).pages_fetched == 3  # bob has his own


def test_deleting_a_crawl_does_not_give_the_budget_back(alice, site, settings, django_capture_on_commit_callbacks):
    configure(settings, DAILY_PAGES=3)
    first = crawl(alice, keywords="cat", start_pages=[f"{site.url}/"])
    assert first.pages_fetched == 3 and first.images_kept > 0
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_crawl(first)
    assert str(first.pk) not in folders() and not Candidate.objects.filter(crawl=first).exists()
    with pytest.raises(services.CrawlRefused, match="today's crawling budget"):
        services.start_crawl(alice, keywords="cat", start_pages=[f"{site.url}/"])
    # Once the daily window has passed, the deleted crawl's row goes too.
    assert services.forget_deleted_crawls() == 0
    Crawl.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(days=1, minutes=1))
    assert services.forget_deleted_crawls() == 1 and not Crawl.objects.filter(pk=first.pk).exists()
    assert services.start_crawl(alice, keywords="cat", start_pages=[f"{site.url}/"]).max_pages == 3


def test_daily_budget_counts_crawls_still_running_in_full(alice, site, settings):
    configure(settings, DAILY_PAGES=50, DAILY_SECONDS=100, MAX_PAGES=30, MAX_SECONDS=60)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    first = services.start_crawl(alice, keywords="cat", start_pages=[f"{site.url}/"])
    second = services.start_crawl(alice, keywords="cat", start_pages=[f"{site.url}/"])
    assert (first.max_pages, first.max_seconds) == (30, 60)
    assert (second.max_pages, second.max_seconds) == (20, 40)  # what the first one may still use is reserved
    services.cancel_crawl(first)
    services.cancel_crawl(second)
    third = services.start_crawl(alice, keywords="cat", start_pages=[f"{site.url}/"])
    assert third.max_pages == 30  # cancelled crawls count what they used: nothing


def test_slow_huge_compressed_and_looping_responses_are_cut_short(alice, site):
    pages = ["/slow", "/huge.html", "/gzip-bomb.html", "/loop", "/gzip-page.html"]
    started = time.monotonic()
    done = crawl(alice, keywords="coffee", start_pages=[site.url + page for page in pages])
    assert time.monotonic() - started < 15
    notes = "\n".join(done.notes)
    assert "/slow: Too slow" in notes or "/slow: Timed out" in notes
    assert "/huge.html: Too large" in notes
    assert "/gzip-bomb.html: Too large" in notes
    assert "/loop: More than 5 redirects" in notes
    assert names(done) == ["coffee.jpg"]  # the well-behaved compressed page works
    assert done.bytes_fetched < 2 * 1024 * 1024


def test_honours_429_and_retry_after(alice, site):
    site.busy_left = 1
    done = crawl(alice, keywords="coffee", start_pages=[f"{site.url}/busy.html"])
    hits = [hit for hit in site.hits if hit.path == "/busy.html"]
    assert len(hits) == 2 and hits[1].at - hits[0].at >= 0.95
    assert names(done) == ["busy-coffee.jpg"]


def test_per_host_delay(alice, site, settings):
    configure(settings, HOST_DELAY=0.3)
    crawl(alice, keywords="cat", start_pages=[f"{site.url}/cats.html"])
    times = [hit.at for hit in site.hits]
    assert len(times) >= 4
    assert min(later - earlier for earlier, later in zip(times, times[1:], strict=False)) >= 0.28


def test_refuses_forbidden_targets(alice, site, other_loopback):
    site.redirects = {
        "/metadata": "http://169.254.169.254/latest/meta-data/",
        "/other-loopback": f"{other_loopback.url}/",
        "/ipv6-loopback": "http://[::1]/",
        "/file": "file:///etc/passwd",
        "/img/sneaky.jpg": f"{other_loopback.url}/img/cat.jpg",
    }
    site.pages = {"/page.html": b'<img src="/img/sneaky.jpg" alt="cat"><img src="http://10.0.0.1/cat.jpg">'}
    done = crawl(alice, keywords="cat", start_pages=[site.url + path for path in [*site.redirects, "/page.html"]])
    assert done.status == "done"
    assert other_loopback.hits == []
    notes = "\n".join(done.notes)
    for refused in (
        "169.254.169.254 is a private",
        "127.0.0.2 is a private",
        "::1 is a private",
        "Only http and https",
        "10.0.0.1 is a private",
    ):
        assert refused in notes, notes
    assert done.images_kept == 0
    # Start pages that are refused before anything is sent.
    for url in (
        "http://127.0.0.2/",
        "ftp://example.org/",
        "http://[::1]:8000/",
        "http://user:pw@example.org/",
        "http://192.168.1.1/",
        "javascript:alert(1)",
    ):
        with pytest.raises(ValueError):
            services.clean_seed_urls([url])


def test_configured_sources_fill_in_the_keywords(alice, site):
    site.pages = {"/search?q=tabby+cat": b'<a href="/cats.html">result</a>'}
    CrawlSource.objects.create(name="Test site", url_template=f"{site.url}/search?q={{query}}")
    CrawlSource.objects.create(name="Off", url_template=f"{site.url}/things.html", enabled=False)
    done = crawl(alice, keywords="tabby cat", max_depth=1)
    assert "/search?q=tabby+cat" in site.paths() and "/things.html" not in site.paths()
    assert names(done)[0] == "cat.jpg"
    without = crawl(alice, keywords="cat", start_pages=[f"{site.url}/things.html"], use_sources=False)
    assert site.paths().count("/search?q=tabby+cat") == 1 and without.images_kept == 2


def test_cannot_start_without_anything_to_look_for_or_anywhere_to_start(alice):
    with pytest.raises(services.CrawlRefused, match="picture to look for"):
        services.start_crawl(alice, start_pages=["http://example.org/"])
    with pytest.raises(services.CrawlRefused, match="start page"):
        services.start_crawl(alice, keywords="cats")


def test_cancel_before_it_runs(alice, site, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    queued = services.start_crawl(alice, keywords="cat", start_pages=[f"{site.url}/"])
    assert services.cancel_crawl(queued)
    services.run_crawl(queued.pk)
    assert Crawl.objects.get(pk=queued.pk).status == "cancelled" and site.hits == []
    assert not services.cancel_crawl(queued)


@pytest.mark.django_db(transaction=True)
def test_cancel_while_running(alice, site, settings):
    """The worker notices the cancel flag between requests and stops, keeping what it found."""
    configure(settings, HOST_DELAY=0.2)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    queued = services.start_crawl(alice, keywords="cat", start_pages=[f"{site.url}/"])

    def cancel_soon():
        while len(site.hits) < 3:
            time.sleep(0.02)
        services.cancel_crawl(queued)
        connection.close()  # this thread's own connection

    canceller = threading.Thread(target=cancel_soon)
    canceller.start()
    services.run_crawl(queued.pk)
    canceller.join()
    ended = Crawl.objects.get(pk=queued.pk)
    assert ended.status == "cancelled" and ended.finished_at is not None
    assert len(site.hits) <= 6


def test_stalled_crawls_resume_once_then_fail(alice, site, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    stalled = services.start_crawl(alice, keywords="cat", start_pages=[f"{site.url}/cats.html"])
    old = timezone.now() - timedelta(hours=1)
    Crawl.objects.filter(pk=stalled.pk).update(status="running", heartbeat=old, attempts=1, pages_fetched=4)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    assert CrawlerConfig.recover_interrupted_work(None) == "Crawls whose worker stopped: 1 resumed, 0 marked failed."
    resumed = Crawl.objects.get(pk=stalled.pk)
    assert resumed.status == "done" and resumed.attempts == 2 and resumed.pages_fetched > 4  # budgets carried on
    Crawl.objects.filter(pk=stalled.pk).update(status="running", heartbeat=old)
    assert services.recover_stalled() == (0, 1)
    assert Crawl.objects.get(pk=stalled.pk).status == "failed"
    assert CrawlerConfig.recover_interrupted_work(None) is None  # a fresh heartbeat is left alone


@pytest.mark.django_db(transaction=True)
def test_a_worker_whose_crawl_was_taken_over_stops_without_writing(alice, site, settings):
    """A worker goes silent (its page request hangs), recovery queues the crawl again and a second worker runs it.
    When the first one wakes up it stops at once and leaves the second one's progress alone."""
    configure(settings, TIMEOUT=10)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    queued = services.start_crawl(alice, keywords="cat", start_pages=[f"{site.url}/cats.html"], max_depth=0)
    release = site.holds["/cats.html"] = threading.Event()

    def first_worker():
        services.run_crawl(queued.pk)
        connection.close()  # this thread's own connection

    worker = threading.Thread(target=first_worker)
    worker.start()
    waited = time.monotonic() + 10
    while "/cats.html" not in site.paths() and time.monotonic() < waited:
        time.sleep(0.02)
    Crawl.objects.filter(pk=queued.pk).update(heartbeat=timezone.now() - timedelta(hours=1))
    assert services.recover_stalled() == (1, 0)
    services.run_crawl(queued.pk)  # the second worker, start to end
    second = Crawl.objects.get(pk=queued.pk)
    assert (second.status, second.attempts, second.images_kept) == ("done", 2, 2)
    release.set()
    worker.join(15)
    after = Crawl.objects.get(pk=queued.pk)
    fields = ("status", "outcome", "pages_fetched", "images_found", "images_kept", "bytes_fetched", "notes")
    assert [getattr(after, name) for name in fields] == [getattr(second, name) for name in fields]
    assert site.paths().count("/img/cat.jpg") == 1  # the first worker fetched nothing more


def test_crawls_queued_for_long_are_queued_again_or_failed(alice, site, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    lost = services.start_crawl(alice, keywords="cat", start_pages=[f"{site.url}/cats.html"])
    forgotten = services.start_crawl(alice, keywords="cat", start_pages=[f"{site.url}/cats.html"])
    Crawl.objects.filter(pk=lost.pk).update(heartbeat=timezone.now() - timedelta(hours=1))
    Crawl.objects.filter(pk=forgotten.pk).update(
        heartbeat=timezone.now() - timedelta(days=2), created_at=timezone.now() - timedelta(days=2)
    )
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    assert services.recover_stalled() == (1, 1)
    assert Crawl.objects.get(pk=lost.pk).status == "done"
    assert Crawl.objects.get(pk=forgotten.pk).status == "failed"


def test_save_into_an_album_records_provenance(alice, bob, site, django_capture_on_commit_callbacks):
    done = crawl(alice, keywords="cat", start_pages=[f"{site.url}/cats.html"])
    album = library.create_album(alice, title="Found", category="animal", access="private")
    cat = done.candidates.get(image_url=f"{site.url}/img/cat.jpg")
    with django_capture_on_commit_callbacks(execute=True):
        [result] = services.save_candidates(alice, done, [cat], album)
    assert result.status == "stored"
    photo = result.photo
    photo.refresh_from_db()
    assert (photo.source_url, photo.source_page_url, photo.retrieved_at) == (
        cat.image_url,
        cat.page_url,
        cat.retrieved_at,
    )
    assert photo.album == album and photo.owner == alice and photo.status == "ready" and photo.title == "A tabby cat"
    assert not stored(cat.original_name) and stored(cat.thumbnail_name)
    assert Candidate.objects.get(pk=cat.pk).saved_photo == photo
    [again] = services.save_candidates(alice, done, [Candidate.objects.get(pk=cat.pk)], album)
    assert again.status == "duplicate"
    with pytest.raises(PermissionError):
        services.save_candidates(bob, done, [cat], library.create_album(bob, title="B", category="x", access="private"))
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_crawl(done)
    assert not stored(cat.thumbnail_name) and str(done.pk) not in folders()
    assert not selectors.crawls_of(alice).filter(pk=done.pk).exists()
    assert not Candidate.objects.filter(crawl=done).exists() and Photo.objects.filter(pk=photo.pk).exists()


def test_files_of_crawls_that_are_gone_are_removed(alice, site, settings):
    kept = crawl(alice, keywords="cat", start_pages=[f"{site.url}/cats.html"], max_depth=0)
    orphan = "0b5e2d1c-1111-4aaa-8bbb-123456789abc"
    default_storage.save(f"{FILES_ROOT}/{orphan}/x.jpg", ContentFile(b"x"))
    assert services.remove_orphan_files() >= 1
    assert orphan not in folders() and str(kept.pk) in folders() and default_storage.listdir(kept.files_prefix)[1]
