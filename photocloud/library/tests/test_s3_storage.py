"""Originals and renditions in S3-compatible object storage, against a real S3 server (moto_server) on 127.0.0.1.

The storage is built by photocloud.settings.s3_storage from PHOTOCLOUD_S3_* values, as in production; each test gets
its own bucket. Files only ever leave the bucket through Photocloud's access-checked views.
"""

import io
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from photocloud.library import services, stored_files
from photocloud.library.models import Photo
from photocloud.library.storage import original_name, rendition_name
from photocloud.library.tests.test_stored_files import check_storage, race_deletes_against_uploads
from photocloud.settings import s3_storage
from photocloud.social import services as social
from tests import images

PREFIX = "pictures"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    """A moto S3 server for the whole session; its output goes to a log shown if it does not come up."""
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "server.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not start:\n{log.read_text()}") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


class Bucket:
    """The test's bucket, read directly with boto3 (never through Photocloud)."""

    def __init__(self, endpoint: str):
        self.name = f"photocloud-{uuid.uuid4().hex[:12]}"
        self.client = boto3.client("s3", endpoint_url=endpoint, **CREDENTIALS)
        self.client.create_bucket(Bucket=self.name)

    def keys(self) -> dict[str, str]:
        """Every key with its ETag."""
        listed = self.client.list_objects_v2(Bucket=self.name).get("Contents", [])
        return {item["Key"]: item["ETag"] for item in listed}

    def read(self, name: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=f"{PREFIX}/{name}")["Body"].read()

    def has(self, name: str) -> bool:
        return f"{PREFIX}/{name}" in self.keys()


@pytest.fixture
def bucket(s3_endpoint, settings):
    bucket = Bucket(s3_endpoint)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(
            {
                "PHOTOCLOUD_S3_BUCKET": bucket.name,
                "PHOTOCLOUD_S3_ENDPOINT_URL": s3_endpoint,
                "PHOTOCLOUD_S3_REGION": CREDENTIALS["region_name"],
                "PHOTOCLOUD_S3_ACCESS_KEY": CREDENTIALS["aws_access_key_id"],
                "PHOTOCLOUD_S3_SECRET_KEY": CREDENTIALS["aws_secret_access_key"],
                "PHOTOCLOUD_S3_PREFIX": f"/{PREFIX}/",
            }
        ),
    }
    return bucket


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _upload(upload, user, data: bytes, access="private", name="picture.jpg"):
    album = services.create_album(user, title=f"Album {access}", category="landscape", access=access)
    client = _client(user)
    response = upload(client, [(name, data)], album=album)
    assert response.status_code == 201, response.json()
    return Photo.objects.get(pk=response.json()["results"][0]["photo"]["id"])


def _local_files() -> list[Path]:
    return [p for p in Path(django_settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def test_upload_stores_the_original_byte_exact_and_private(bucket, alice, upload):
    local_before = _local_files()
    data = images.unique_jpeg("coffee")
    photo = _upload(upload, alice, data)
    name = original_name(photo.sha256, "jpg")
    assert bucket.read(name) == data
    assert _local_files() == local_before  # nothing went to the local folder
    acl = bucket.client.get_object_acl(Bucket=bucket.name, Key=f"{PREFIX}/{name}")
    assert [grant["Permission"] for grant in acl["Grants"]] == ["FULL_CONTROL"]  # the owner's, no public grant
    assert all("URI" not in grant["Grantee"] for grant in acl["Grants"])
    assert "X-Amz-Signature=" in default_storage.url(name)  # should a URL ever be made, it is signed


def test_thumbnails_are_made_in_the_bucket_and_served_through_the_view(bucket, alice, upload):
    photo = _upload(upload, alice, images.unique_jpeg("astronaut"))
    assert photo.status == Photo.Status.READY, photo.status_detail
    eager = django_settings.PHOTOCLOUD["EAGER_SIZES"]
    for size in eager:
        assert bucket.has(rendition_name(photo.sha256, size))
    client = _client(alice)
    for size in django_settings.PHOTOCLOUD["THUMBNAIL_SIZES"]:
        response = client.get(f"/photos/{photo.pk}/{size}")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        served = _body(response)
        assert served == bucket.read(rendition_name(photo.sha256, size))  # made on first use when not eager
        with Image.open(io.BytesIO(served)) as image:
            assert max(image.size) <= django_settings.PHOTOCLOUD["THUMBNAIL_SIZES"][size]


def test_originals_owner_byte_exact_others_without_gps(bucket, alice, bob, upload):
    data = images.jpeg("coffee", gps=(48.85, 2.35))
    photo = _upload(upload, alice, data, access="public")
    owned = _body(_client(alice).get(f"/photos/{photo.pk}/original?download=1"))
    assert owned == data
    for viewer in (bob, None):
        response = _client(viewer).get(f"/photos/{photo.pk}/original")
        assert response.status_code == 200
        served = _body(response)
        assert served != data
        with Image.open(io.BytesIO(served)) as image, Image.open(io.BytesIO(data)) as real:
            assert dict(image.getexif().get_ifd(0x8825)) == {}
            assert image.tobytes() == real.tobytes()
    assert bucket.read(original_name(photo.sha256, "jpg")) == data  # the stored original is untouched


def test_private_pictures_answer_404_to_others(bucket, alice, bob, upload):
    photo = _upload(upload, alice, images.unique_jpeg("rocket"))
    for viewer in (bob, None):
        for size in ("original", "s", "m", "l"):
            assert _client(viewer).get(f"/photos/{photo.pk}/{size}").status_code == 404
    assert not bucket.has(rendition_name(photo.sha256, "l"))  # nothing was made for them either


def test_duplicates_store_nothing_new(bucket, alice, bob, upload):
    data = images.unique_jpeg("cat")
    photo = _upload(upload, alice, data)
    stored = bucket.keys()
    response = upload(_client(alice), [("again.jpg", data)], album=photo.album)
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "duplicate"
    assert Photo.objects.filter(sha256=photo.sha256).count() == 1
    _upload(upload, bob, data)  # another user's picture of the same bytes shares the stored files
    assert bucket.keys() == stored


def test_deleting_removes_the_objects_once_no_picture_refers_to_them(
    bucket, alice, bob, upload, django_capture_on_commit_callbacks
):
    data = images.unique_jpeg("cat")
    first, second = _upload(upload, alice, data), _upload(upload, bob, data)
    names = [original_name(first.sha256, "jpg")] + [
        rendition_name(first.sha256, size) for size in django_settings.PHOTOCLOUD["EAGER_SIZES"]
    ]
    for photo, left in ((first, True), (second, False)):
        with django_capture_on_commit_callbacks(execute=True):  # to the Trash, then deleted for good
            response = _client(photo.owner).post(f"/photos/{photo.pk}/delete/")
            assert bucket.has(names[0])
            _client(photo.owner).post("/trash/empty/")
        assert response.status_code == 302
        assert all(bucket.has(name) == left for name in names)
    assert bucket.keys() == {}


def test_a_copy_of_a_public_picture_is_stored_without_gps(
    bucket, alice, bob, upload, django_capture_on_commit_callbacks
):
    photo = _upload(upload, alice, images.jpeg("coffee", gps=(48.85, 2.35)), access="public")
    album = services.create_album(bob, title="Mine", category="landscape", access="private")
    with django_capture_on_commit_callbacks(execute=True):
        result = social.copy_to_album(bob, photo, album, source_page_url="")
    assert result.status == "stored", result.reason
    copied = bucket.read(original_name(result.photo.sha256, "jpg"))
    with Image.open(io.BytesIO(copied)) as image:
        assert dict(image.getexif().get_ifd(0x8825)) == {}


@pytest.mark.django_db(transaction=True)
def test_deleting_while_others_upload_the_same_bytes_never_loses_an_object(bucket, make_user):
    """The race of test_stored_files on the bucket: removals and re-writes serialize on the database lock there too."""
    race_deletes_against_uploads(make_user, seconds=5, least=4, most=15)


def test_check_storage_reads_the_bucket(bucket, alice, upload, django_capture_on_commit_callbacks):
    lost, damaged, thumbless = (_upload(upload, alice, images.unique_jpeg("cat")) for _ in range(3))
    out, error = check_storage("--hashes")
    assert error is None and "Checked 3 picture(s) and 3 stored original(s)." in out

    bucket.client.delete_object(Bucket=bucket.name, Key=f"{PREFIX}/{original_name(lost.sha256, 'jpg')}")
    bucket.client.put_object(
        Bucket=bucket.name, Key=f"{PREFIX}/{original_name(damaged.sha256, 'jpg')}", Body=images.unique_jpeg("cat")
    )
    bucket.client.delete_object(Bucket=bucket.name, Key=f"{PREFIX}/{rendition_name(thumbless.sha256, 's')}")
    orphan = original_name("0" * 64, "png")
    bucket.client.put_object(Bucket=bucket.name, Key=f"{PREFIX}/{orphan}", Body=b"no picture refers to me")
    later = stored_files.inspect_storage(hashes=True, now=timezone.now() + timedelta(hours=2))
    assert list(later.missing_originals) == [original_name(lost.sha256, "jpg")]
    assert later.corrupt_originals == [original_name(damaged.sha256, "jpg")]
    assert later.orphan_lines() == [orphan] and later.missing_renditions == {thumbless.sha256: ["s"]}
    assert stored_files.remove_orphans(later) == (1, 0) and not bucket.has(orphan)

    # A large original whose writer was killed half-way: a multipart upload begun and never completed.
    half = original_name("1" * 64, "tif")
    bucket.client.create_multipart_upload(Bucket=bucket.name, Key=f"{PREFIX}/{half}")
    later = stored_files.inspect_storage(now=timezone.now() + timedelta(hours=2))  # (moto dates every one in 2010)
    assert [name for name, _ in later.temporary] == [half]
    assert stored_files.remove_orphans(later) == (1, 0)
    assert bucket.client.list_multipart_uploads(Bucket=bucket.name).get("Uploads", []) == []

    out, error = check_storage("--hashes", "--repair-renditions")
    assert error == "2 problem(s) found."  # the lost and the damaged originals; the rendition is made again
    assert bucket.has(rendition_name(thumbless.sha256, "s"))
