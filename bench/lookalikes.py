"""Look-alikes benchmark: time and peak memory of grouping one user's library into look-alike albums, and the
themes page that shows them, at 100,000 pictures against 1,000 (the baseline).

Fills a throw-away SQLite database (or DATABASE_URL) with one user's pictures whose features come from 40 synthetic
looks (float16, as stored) and tags named after them; filling is not timed. Grouping must stay bounded as the library
grows: k-means learns from a sample, then every picture is read once, a chunk at a time. Run from the repository
root:  python bench/lookalikes.py [--sizes 1000,100000]
"""

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LOOKS = 40


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000", help="library sizes, the first is the baseline")
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="photocloud-bench-lookalikes-")
    os.environ.update(
        PHOTOCLOUD_DATA_DIR=data,
        PHOTOCLOUD_VISION="false",
        PHOTOCLOUD_RATELIMIT="false",
        PHOTOCLOUD_ALLOWED_HOSTS="testserver",
        DJANGO_SETTINGS_MODULE="photocloud.settings",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from photocloud.vision import lookalikes

    call_command("migrate", verbosity=0)
    for size in (int(size) for size in args.sizes.split(",")):
        owner = fill(size)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        found = lookalikes.group(owner)
        seconds = time.perf_counter() - started
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        client = Client()
        client.force_login(owner)
        client.get("/library/themes/")
        started = time.perf_counter()
        for _ in range(10):
            client.get("/library/themes/")
        page_ms = (time.perf_counter() - started) * 100
        print(
            f"{size:>7} pictures: grouped into {len(found)} albums in {seconds:.1f} s "
            f"(peak memory +{grown:.0f} MB); themes page {page_ms:.0f} ms"
        )


def fill(size: int):
    import numpy as np
    from django.contrib.auth import get_user_model

    from photocloud.library import services as library
    from photocloud.library.models import Photo
    from photocloud.vision.models import PhotoAnalysis

    owner = get_user_model().objects.create_user(username=f"owner{size}", password="x")
    album = library.create_album(owner, title="All", category="misc", access="private")
    rng = np.random.default_rng(size)
    centres = rng.random((LOOKS, 1280)).astype(np.float32) * 4
    for start in range(0, size, 5000):
        count = min(5000, size - start)
        photos = Photo.objects.bulk_create(
            Photo(
                owner=owner,
                album=album,
                sha256=f"{size:016x}{start + i:048x}",
                format="JPEG",
                mime_type="image/jpeg",
                file_size=1,
                width=10,
                height=10,
                status="ready",
                sort_date="2024-01-01T00:00:00Z",
            )
            for i in range(count)
        )
        looks = rng.integers(0, LOOKS, count)
        vectors = (centres[looks] + rng.normal(0, 1.0, (count, 1280))).astype(np.float16)
        PhotoAnalysis.objects.bulk_create(
            PhotoAnalysis(photo=photo, features=vector.tobytes(), labels=[[f"look {look}", 0.8]], model_version="bench")
            for photo, vector, look in zip(photos, vectors, looks, strict=True)
        )
    return owner


if __name__ == "__main__":
    main()
