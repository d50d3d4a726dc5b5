"""A crawl's downloads in S3-compatible object storage (a real moto server), as with separate worker and web nodes:
nothing is written to a local folder, so the node that serves and saves the results need not be the one that crawled.
"""

import hashlib
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from photocloud.crawler import services
from photocloud.crawler.models import FILES_ROOT
from photocloud.library import services as library
from photocloud.library.storage import original_name
from photocloud.library.tests.test_s3_storage import bucket, s3_endpoint  # noqa: F401 (fixtures)

from .test_crawl import crawl

pytestmark = pytest.mark.usefixtures("crawler_settings")


def _crawler_keys(bucket_) -> set[str]:
    listed = bucket_.keys()  # every key of the bucket, with its ETag
    return {key for key in listed if key.startswith(f"pictures/{FILES_ROOT}/")}


def test_a_crawl_kept_in_the_bucket_is_shown_saved_and_deleted_from_it(
    bucket,  # noqa: F811
    alice,
    site,
    django_capture_on_commit_callbacks,
):
    done = crawl(alice, keywords="cat", start_pages=[f"{site.url}/cats.html"], max_depth=0)
    assert done.status == "done" and done.images_kept > 0, (done.error, done.notes)
    cat = done.candidates.get(image_url=f"{site.url}/img/cat.jpg")
    downloaded = bucket.read(cat.original_name)
    assert hashlib.sha256(downloaded).hexdigest() == cat.sha256 and bucket.has(cat.thumbnail_name)
    for folder in (Path(django_settings.MEDIA_ROOT), Path(django_settings.DATA_DIR)):
        assert not (folder / done.files_prefix).exists()  # no local copy that only this machine could serve

    client = Client()
    client.force_login(alice)
    response = client.get(f"/crawls/{done.pk}/candidates/{cat.pk}.jpg")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == bucket.read(cat.thumbnail_name)

    album = library.create_album(alice, title="Found", category="animal", access="private")
    with django_capture_on_commit_callbacks(execute=True):
        [result] = services.save_candidates(alice, done, [cat], album)
    assert result.status == "stored", result.reason
    photo = result.photo
    assert photo.sha256 == cat.sha256 and bucket.read(original_name(photo.sha256, cat.extension)) == downloaded
    assert not bucket.has(cat.original_name) and bucket.has(cat.thumbnail_name)  # the grid still shows it

    default_storage.save(f"{FILES_ROOT}/0b5e2d1c-1111-4aaa-8bbb-123456789abc/x.jpg", ContentFile(b"x"))
    assert services.remove_orphan_files() == 1
    assert _crawler_keys(bucket) and all(str(done.pk) in key for key in _crawler_keys(bucket))

    with django_capture_on_commit_callbacks(execute=True):
        services.delete_crawl(done)
    assert not _crawler_keys(bucket)
    assert bucket.has(original_name(photo.sha256, cat.extension))  # the saved picture stays in the library
    gone = client.get(f"/crawls/{done.pk}/candidates/{cat.pk}.jpg")
    assert gone.status_code == 404
