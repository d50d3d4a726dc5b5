"""`photocloud backup` then `photocloud restore` onto a wiped installation brings back every picture byte for byte,
visible to the same people and found by the same searches, on whichever database the suite runs on."""

import hashlib
import json
import shutil
import threading

import numpy as np
import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection

from photocloud.accounts.models import ApiToken, User
from photocloud.library import backup, imaging, pipeline, services, tallies
from photocloud.library.models import Access, Album, MonthTally, Photo, StoredFile, ThemeTally
from photocloud.library.storage import original_name, rendition_name
from photocloud.library.tests.test_s3_storage import PREFIX, bucket, s3_endpoint  # noqa: F401 (fixtures)
from photocloud.search.models import SearchDocument, SearchTerm
from photocloud.search.selectors import search
from photocloud.social import services as social
from photocloud.social.models import Comment, Like
from photocloud.vision.models import PhotoAnalysis
from tests import images

pytestmark = pytest.mark.django_db(transaction=True)  # backup and restore run their own transactions


@pytest.fixture(autouse=True)
def _keywords_only(settings):
    """Keyword search is what the rebuilt index answers; matching by meaning would only load its model each search."""
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "SEARCH": {"MEANING": False}}


QUERIES = ["sunset", "harbour", "cat", "coffee", "tabby"]


def small(name: str, fmt: str) -> bytes:
    return images.encode(images.photo(name, size=(96, 72)), fmt)


def original_of(photo: Photo) -> str:
    return original_name(photo.sha256, imaging.FORMATS[photo.format][1])


def fill_library(make_user, capture):
    alice, bob = make_user("alice"), make_user("bob")
    make_user("carol")
    social.follow(bob, alice)
    ApiToken.issue(alice, "laptop")
    public = services.create_album(alice, title="Harbour walk", category="travel", access=Access.PUBLIC, tags=["sea"])
    followers = services.create_album(alice, title="Family", category="people", access=Access.FOLLOWERS)
    private = services.create_album(bob, title="Drafts", category="misc", access=Access.PRIVATE)
    pictures = [
        (alice, public, small("rocket", "JPEG"), ["sunset", "boats"]),
        (alice, public, small("astronaut", "PNG"), ["harbour"]),
        (alice, followers, small("cat", "JPEG"), ["cat"]),
        (bob, private, small("rocket", "JPEG"), ["coffee"]),  # the same bytes as alice's first: one stored file
    ]
    photos = []
    for owner, album, data, tags in pictures:
        with capture(execute=True):
            result = services.ingest_upload(owner, album, ContentFile(data, name="picture.jpg"))
        photo = Photo.objects.get(pk=result.photo.pk)
        services.update_photo(photo, tags=tags, description=f"A {tags[0]} picture")
        photos.append(photo)
    social.add_comment(bob, photos[0], "Lovely light")
    social.like(bob, photos[0])
    PhotoAnalysis.objects.create(
        photo=photos[2], features=bytes(range(256)) * 10, category="animals", labels=[["tabby", 0.9]], model_version="t"
    )
    pipeline.pictures_changed([photos[2].pk], "suggestions")
    # The vocabulary's vectors cost a model run to make: kept by the backup, so the restore does not make them again.
    SearchTerm.objects.update(vector=np.ones(384, np.float32).tobytes())
    return photos


def state():
    """What must survive: each picture's bytes, who sees what, and what each search finds for whom."""
    viewers = [AnonymousUser(), *User.objects.order_by("username")]
    originals = {}
    for photo in Photo.objects.all():
        with default_storage.open(original_of(photo), "rb") as f:
            originals[str(photo.pk)] = hashlib.sha256(f.read()).hexdigest()
    return {
        "originals": originals,
        "visible": {
            str(viewer): sorted(map(str, Photo.objects.visible_to(viewer).values_list("pk", flat=True)))
            for viewer in viewers
        },
        "search": {
            f"{viewer} {q}": sorted(str(pk) for pk in search(viewer, q=q).results.ids)
            for viewer in viewers
            for q in QUERIES
        },
        "rows": {
            "comments": list(Comment.objects.values_list("body", flat=True)),
            "likes": Like.objects.count(),
            "analyses": list(PhotoAnalysis.objects.values_list("photo_id", "labels")),
            "tokens": ApiToken.objects.count(),
            "stored": sorted(StoredFile.objects.values_list("sha256", flat=True)),
            "vocabulary": sorted(
                (name, bytes(vector)) for name, vector in SearchTerm.objects.values_list("name", "vector")
            ),
        },
    }


def wipe(storage=True):
    call_command("flush", interactive=False, verbosity=0)
    if storage:
        shutil.rmtree(default_storage.location, ignore_errors=True)


def test_backup_wipe_restore_round_trip(make_user, django_capture_on_commit_callbacks, tmp_path):
    photos = fill_library(make_user, django_capture_on_commit_callbacks)
    before = state()
    assert len(before["originals"]) == 4 and before["rows"]["likes"] == 1 and len(before["rows"]["stored"]) == 3
    assert before["search"]["bob sunset"] and before["search"]["alice tabby"] and not before["search"]["alice coffee"]

    call_command("backup", tmp_path / "b")
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["counts"]["library.photo"] == 4 and len(manifest["originals"]) == 3
    assert not list((tmp_path / "b").glob("renditions"))  # derivable: made again on restore
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", tmp_path / "b")
    with pytest.raises(CommandError, match="not empty"):
        call_command("backup", tmp_path / "b")

    wipe()
    assert not Photo.objects.exists() and not default_storage.exists(original_of(photos[0]))
    call_command("restore", tmp_path / "b")

    assert state() == before
    assert SearchDocument.objects.filter(photo__isnull=False).count() == 4
    # The timeline's counts are not backed up but counted again from the pictures restored.
    assert "library.monthtally" not in manifest["counts"]
    assert tallies.differences() == [] and MonthTally.objects.exists() and ThemeTally.objects.exists()
    assert all(default_storage.exists(rendition_name(photo.sha256, "s")) for photo in photos)
    User.objects.get(username="alice").check_password("a-long-Passw0rd!")
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", tmp_path / "b")


def test_restore_refuses_a_damaged_original(make_user, django_capture_on_commit_callbacks, tmp_path):
    photos = fill_library(make_user, django_capture_on_commit_callbacks)
    call_command("backup", tmp_path / "b")
    (tmp_path / "b" / original_of(photos[1])).write_bytes(b"not the picture")
    wipe()
    with pytest.raises(CommandError, match="missing or damaged in the backup"):
        call_command("restore", tmp_path / "b")
    assert not Album.objects.exists()  # nothing was written


def test_on_s3_the_backup_lists_the_objects_and_restore_checks_them(
    bucket,  # noqa: F811 (the fixture imported above)
    make_user,
    django_capture_on_commit_callbacks,
    tmp_path,
):
    photos = fill_library(make_user, django_capture_on_commit_callbacks)
    before = state()
    call_command("backup", tmp_path / "b")
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert not manifest["originals_copied"] and not (tmp_path / "b" / "originals").exists()
    assert {item["sha256"] for item in manifest["originals"]} == set(before["rows"]["stored"])
    assert all(item["size"] == len(bucket.read(item["name"])) for item in manifest["originals"])

    wipe(storage=False)  # the bucket keeps the originals; the renditions go, to be made again
    for photo in photos:
        bucket.client.delete_object(Bucket=bucket.name, Key=f"{PREFIX}/{rendition_name(photo.sha256, 's')}")
    call_command("restore", tmp_path / "b")
    assert state() == before
    assert all(bucket.has(rendition_name(photo.sha256, "s")) for photo in photos)

    wipe(storage=False)
    bucket.client.delete_object(Bucket=bucket.name, Key=f"{PREFIX}/{original_of(photos[2])}")
    with pytest.raises(CommandError, match="missing or damaged in the bucket"):
        call_command("restore", tmp_path / "b")


def test_the_backup_reads_one_snapshot_while_others_write(make_user):
    """A user created by another connection during the backup's transaction is not seen by it (PostgreSQL, MariaDB:
    the writer commits meanwhile; SQLite: the writer waits for the snapshot to end)."""
    make_user("alice")

    def create_another():
        make_user("bob")
        connection.close()

    with backup._snapshot():
        seen = User.objects.count()
        writer = threading.Thread(target=create_another)
        writer.start()
        writer.join(timeout=1)
        assert User.objects.count() == seen == 1
    writer.join()
    assert User.objects.count() == 2
