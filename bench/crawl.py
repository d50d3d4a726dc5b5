"""Crawler benchmark: how much of a crawl's time is Photocloud's own work, and how much is politeness.

A crawl fetches from other people's servers with a delay between requests to one host (PHOTOCLOUD_CRAWLER_HOST_DELAY,
1 s by default), so the crawler is fast enough when its own work per request (parsing a page; or validating an
image, making its thumbnail and, with vision, its features) costs well under that delay. This runs a real crawl of
a local site (the tests' site plus generated pages of photographs) with no delay, on a throw-away SQLite database,
and prints the time per page and per kept image against the 1000 ms polite gap it has to fit in.
Run from the repository root:  python bench/crawl.py [--pages N] [--vision]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["PHOTOCLOUD_DATA_DIR"] = tempfile.mkdtemp(prefix="photocloud-bench-crawl-")
os.environ["DATABASE_URL"] = f"sqlite:///{os.environ['PHOTOCLOUD_DATA_DIR']}/db.sqlite3"
os.environ["PHOTOCLOUD_TASK_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "photocloud.settings")
os.environ["PHOTOCLOUD_LOG_LEVEL"] = "WARNING"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from photocloud.crawler import services  # noqa: E402
from photocloud.crawler.models import Crawl  # noqa: E402
from photocloud.crawler.tests.site import pictures, serve  # noqa: E402
from tests import images  # noqa: E402

POLITE_GAP_MS = 1000.0  # the default delay between two requests to one host


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--vision", action="store_true", help="rank by similarity with the real model")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    from photocloud.accounts.models import User

    user = User.objects.create_user("bench", password="a-long-Passw0rd!")
    site = serve()
    names = list(images.PHOTOS)
    for index in range(args.pages):
        path = f"/img/gen-{index}.jpg"
        turned = images.photo(names[index % len(names)]).rotate(7 * index + 5, expand=True)  # distinct pictures
        pictures()[path] = (images.encode(turned, "JPEG", quality=88), "image/jpeg")
        site.pages[f"/gen-{index}.html"] = (
            f'<title>Page {index}</title><img src="{path}" alt="photo {index}"><a href="/gen-{index + 1}.html">next</a>'
        ).encode()
    settings.PHOTOCLOUD = {
        **settings.PHOTOCLOUD,
        "VISION": args.vision,
        "CRAWLER": {
            **settings.PHOTOCLOUD["CRAWLER"],
            "ALLOW_NETWORKS": ["127.0.0.1/32"],
            "HOST_DELAY": 0.0,
            "MAX_DEPTH": args.pages,
            "MAX_PAGES": args.pages + 10,
        },
    }
    target = None
    if args.vision:
        from django.core.files.uploadedfile import SimpleUploadedFile

        from photocloud.library import services as library
        from photocloud.vision.services import analyze_photos

        album = library.create_album(user, title="Target", category="animal", access="private")
        target = library.ingest_upload(user, album, SimpleUploadedFile("cat.jpg", images.jpeg("cat"))).photo
        library.process_photo(target.pk)
        analyze_photos([target.pk])  # also loads the model, once per worker: not part of a crawl
        target.refresh_from_db()
    crawl = services.start_crawl(
        user, target=target, keywords="photo", start_pages=[f"{site.url}/gen-0.html"], max_depth=args.pages
    )
    started = time.perf_counter()
    cpu_started = time.process_time()
    services.run_crawl(crawl.pk)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    crawl = Crawl.objects.get(pk=crawl.pk)
    site.stop()
    requests = crawl.pages_fetched + crawl.images_kept
    per_request = 1000 * elapsed / max(requests, 1)
    print(
        f"crawl of {crawl.pages_fetched} pages, {crawl.images_kept} images kept "
        f"({'vision on' if args.vision else 'keywords only'}): {elapsed:.2f} s, CPU {cpu:.2f} s"
    )
    print(
        f"  own work per request: {per_request:.0f} ms wall, {1000 * cpu / max(requests, 1):.0f} ms CPU "
        f"(baseline to beat: the {POLITE_GAP_MS:.0f} ms polite gap between requests to one host)"
    )
    print(f"  {'OK' if per_request < POLITE_GAP_MS else 'TOO SLOW'}: politeness, not Photocloud, sets the pace")


if __name__ == "__main__":
    main()
