"""Stored originals are shared by content: deletions racing uploads of the same bytes never lose a file, killed work
leaves no litter for long, and `photocloud check-storage` finds (and repairs what it can of) what went wrong."""

import hashlib
import os
import threading
import time
from functools import partial

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from photocloud.library import services
from photocloud.library.models import Photo, StoredFile
from photocloud.library.storage import original_name
from tests import images

SMALL = images.photo("cat", size=(96, 72))


def small_jpeg(token: str) -> bytes:
    """A small JPEG whose bytes are unique to `token`, so rounds and tests never share a stored file by accident."""
    return images.encode(SMALL, "JPEG", quality=85, comment=f"{token} {os.urandom(8).hex()}".encode())


def upload(user, album, data: bytes, name="picture.jpg") -> services.UploadResult:
    return services.ingest_upload(user, album, ContentFile(data, name=name))


def original_of(photo: Photo) -> str:
    return original_name(photo.sha256, "jpg")


def assert_every_picture_has_its_bytes():
    """The invariant: a picture row never points at a missing file, and every stored file holds its hash's bytes."""
    photos = list(Photo.objects.all())
    lost = [photo for photo in photos if not default_storage.exists(original_of(photo))]
    assert lost == [], f"{len(lost)} of {len(photos)} pictures lost their original"
    for photo in photos:
        with default_storage.open(original_of(photo), "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == photo.sha256
    assert set(StoredFile.objects.values_list("sha256", flat=True)) == {photo.sha256 for photo in photos}


def run_together(*calls) -> list:
    """Run the calls in threads released at the same moment, each on its own database connection; their results."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index):
        try:
            barrier.wait()
            results[index] = calls[index]()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


# --- the race -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_deleting_while_two_users_upload_the_same_bytes_never_loses_a_file(make_user):
    """One user deletes a picture while two others upload the same bytes, many times over, in real threads on the
    real database: the deletion's file removal (run at once on commit here, as the worker would run it later) must
    never take a file that an upload's picture refers to. The old code lost it in about half the rounds."""
    users = [make_user(name) for name in ("alice", "bob", "carol")]
    albums = [services.create_album(user, title="Race", category="misc", access="private") for user in users]
    deadline, rounds = time.monotonic() + 6, 0
    while rounds < 40 and time.monotonic() < deadline:
        data = small_jpeg(f"race {rounds}")
        victim = upload(users[0], albums[0], data).photo
        _, *uploads = run_together(
            partial(services.delete_photo, victim),
            partial(upload, users[1], albums[1], data),
            partial(upload, users[2], albums[2], data),
        )
        assert [result.status for result in uploads] == ["stored", "stored"]
        rounds += 1
    assert rounds >= 10
    assert Photo.objects.count() == 2 * rounds
    assert_every_picture_has_its_bytes()
