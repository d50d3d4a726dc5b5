"""Stored originals are shared by content: deletions racing uploads of the same bytes never lose a file, killed work
leaves no litter for long, and `photocloud check-storage` finds (and repairs what it can of) what went wrong."""

import hashlib
import io
import os
import threading
import time
from functools import partial
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection

from photocloud.library import services, stored_files
from photocloud.library.models import Photo, StoredFile
from photocloud.library.storage import original_name, rendition_name
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


class Racers:
    """Threads that each run one job per round, all released at the same moment; they live across rounds (as a web
    server's threads do: an S3 client per new thread would take longer than the race), each on its own connection."""

    def __init__(self, *jobs):
        self.jobs, self.round = jobs, None
        self.start, self.end = threading.Barrier(len(jobs) + 1), threading.Barrier(len(jobs) + 1)
        self.results: list = [None] * len(jobs)
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._run, args=(index,)) for index in range(len(jobs))]
        for thread in self.threads:
            thread.start()

    def _run(self, index):
        try:
            while True:
                self.start.wait()
                if self.round is None:
                    return
                try:
                    self.results[index] = self.jobs[index](self.round)
                except BaseException as error:
                    self.errors.append(error)
                self.end.wait()
        finally:
            connection.close()

    def run(self, state) -> list:
        self.round = state
        self.start.wait()
        self.end.wait()
        assert self.errors == []
        return list(self.results)

    def stop(self):
        self.round = None
        self.start.wait()
        for thread in self.threads:
            thread.join(timeout=60)


# --- the race -----------------------------------------------------------------------------------------------------


def race_deletes_against_uploads(make_user, seconds=8.0, least=10, most=40) -> None:
    """One user deletes a picture (or its album) while two others upload the same bytes, round after round, in real
    threads on the real database; the deletion's file removal runs at once on commit here (as the worker would run it a
    moment later). At least `least` rounds, then more until `seconds` have passed (a busy machine runs fewer, none are
    skipped). Every picture row must still have its original, byte for byte."""
    users = [make_user(name) for name in ("alice", "bob", "carol")]
    albums = [services.create_album(user, title="Race", category="misc", access="private") for user in users]
    racers = Racers(
        lambda state: state["delete"](),
        lambda state: upload(users[1], albums[1], state["data"]),
        lambda state: upload(users[2], albums[2], state["data"]),
    )
    deadline, rounds = time.monotonic() + seconds, 0
    try:
        while rounds < least or (rounds < most and time.monotonic() < deadline):
            data = small_jpeg(f"race {rounds}")
            victim = upload(users[0], albums[0], data).photo
            if rounds % 2:  # every other round, the picture goes with its album
                victim.album = services.create_album(users[0], title="Doomed", category="misc", access="private")
                services.update_photo(victim, album=victim.album)
                delete = partial(services.delete_album, victim.album)
            else:
                delete = partial(services.delete_photo, victim)
            _, *uploads = racers.run({"data": data, "delete": delete})
            assert [result.status for result in uploads] == ["stored", "stored"]
            rounds += 1
    finally:
        racers.stop()
    assert Photo.objects.count() == 2 * rounds
    assert_every_picture_has_its_bytes()


@pytest.mark.django_db(transaction=True)
def test_deleting_while_two_users_upload_the_same_bytes_never_loses_a_file(make_user):
    """The old code (remove the file once no row refers to it; skip writing a file that exists) lost about half."""
    race_deletes_against_uploads(make_user)


# --- one interleaving at a time ----------------------------------------------------------------------------------


@pytest.fixture
def storage_dir(settings, tmp_path):
    """A storage folder of the test's own: the sweep and the check judge every file in it."""
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(media), "allow_overwrite": True}},
    }
    return media


@pytest.fixture
def album(alice):
    return services.create_album(alice, title="Mine", category="misc", access="private")


def age(path: Path, hours: float = 2) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_an_upload_whose_file_was_removed_before_its_claim_writes_it_again(
    storage_dir, alice, album, monkeypatch, django_capture_on_commit_callbacks
):
    """The deletion's job got the lock between the upload's write and its claim: the claim finds no file, writes it."""
    claim = stored_files.claim

    def removed_first(sha256, *args):
        assert stored_files.purge(sha256)  # no picture refers to the hash yet: the job takes the file and the row
        assert not default_storage.exists(original_name(sha256, "jpg"))
        claim(sha256, *args)

    monkeypatch.setattr(stored_files, "claim", removed_first)
    with django_capture_on_commit_callbacks(execute=True):
        result = upload(alice, album, small_jpeg("claim"))
    assert result.status == "stored"
    assert_every_picture_has_its_bytes()


def test_a_file_goes_only_with_the_last_picture_and_its_record(
    storage_dir, alice, bob, album, django_capture_on_commit_callbacks
):
    data = small_jpeg("shared")
    with django_capture_on_commit_callbacks(execute=True):
        first = upload(alice, album, data).photo
        second = upload(bob, services.default_album(bob), data).photo
    record = StoredFile.objects.get(sha256=first.sha256)
    assert (record.format, record.size) == ("JPEG", len(data))
    names = [original_of(first)] + [rendition_name(first.sha256, size) for size in ("s", "m")]
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_photo(first)
    assert all(default_storage.exists(name) for name in names)
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_album(second.album)
    assert not any(default_storage.exists(name) for name in names)
    assert not StoredFile.objects.exists()


def test_the_migration_records_the_originals_already_stored(alice, album, django_capture_on_commit_callbacks):
    import importlib

    from django.apps import apps

    with django_capture_on_commit_callbacks(execute=True):
        photo = upload(alice, album, small_jpeg("migration")).photo
    StoredFile.objects.all().delete()
    migration = importlib.import_module("photocloud.library.migrations.0004_stored_files")
    migration.record_stored_files(apps, None)
    record = StoredFile.objects.get()
    assert (record.sha256, record.format, record.size) == (photo.sha256, "JPEG", photo.file_size)


# --- litter left by killed work ------------------------------------------------------------------------------------


def test_the_sweep_removes_old_orphans_and_half_written_files_only(
    storage_dir, alice, album, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        kept = upload(alice, album, small_jpeg("kept")).photo
    # What an upload killed between writing the file and inserting its picture leaves, old and recent.
    orphan, recent = small_jpeg("orphan"), small_jpeg("recent")
    for data in (orphan, recent):
        stored_files.save_original(original_name(hashlib.sha256(data).hexdigest(), "jpg"), _spool(storage_dir, data))
    orphan_path = storage_dir / original_name(hashlib.sha256(orphan).hexdigest(), "jpg")
    half_written = orphan_path.parent / ".incoming-abc123"
    half_written.write_bytes(orphan[:100])
    orphan_rendition = storage_dir / rendition_name(hashlib.sha256(orphan).hexdigest(), "s")
    orphan_rendition.parent.mkdir(parents=True)
    orphan_rendition.write_bytes(b"thumbnail")
    for path in (orphan_path, half_written, orphan_rendition, storage_dir / original_of(kept)):
        age(path)
    StoredFile.objects.create(sha256="f" * 64, format="JPEG", size=1)  # a deletion whose job never ran

    assert stored_files.sweep_storage() == 3  # the orphan's hash, the record without a picture, the half-written file
    assert not orphan_path.exists() and not orphan_rendition.exists() and not half_written.exists()
    assert (storage_dir / original_name(hashlib.sha256(recent).hexdigest(), "jpg")).exists()  # may be in flight
    assert list(StoredFile.objects.values_list("sha256", flat=True)) == [kept.sha256]
    assert_every_picture_has_its_bytes()


def _spool(folder: Path, data: bytes) -> str:
    path = folder.parent / f"spool-{hashlib.sha256(data).hexdigest()[:8]}"
    path.write_bytes(data)
    return str(path)


def test_start_up_removes_temporary_files_a_killed_upload_left(storage_dir, settings, alice, album):
    """`photocloud serve` calls the hook at start and every few minutes; the storage sweep runs as a task (at once
    here)."""
    from django.apps import apps

    temporary = Path(settings.FILE_UPLOAD_TEMP_DIR)
    stale, fresh = temporary / "tmpkilled.upload.jpg", temporary / "tmpreceiving.upload.jpg"
    stale.write_bytes(b"half an upload")
    fresh.write_bytes(b"an upload being received")
    age(stale)
    data = small_jpeg("killed")
    name = original_name(hashlib.sha256(data).hexdigest(), "jpg")
    stored_files.save_original(name, _spool(storage_dir, data))
    age(storage_dir / name)

    config = apps.get_app_config("library")
    config.next_sweep = 0.0
    assert config.recover_interrupted_work() == "Removed 1 temporary file(s) left by interrupted work."
    assert not stale.exists() and fresh.exists()
    assert not (storage_dir / name).exists()
    fresh.unlink()


# --- photocloud check-storage --------------------------------------------------------------------------------------


def check_storage(*options) -> tuple[str, str | None]:
    """The command's output, and its error (what makes it exit with status 1) if any."""
    out = io.StringIO()
    try:
        call_command("check_storage", *options, stdout=out, stderr=io.StringIO())
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), None


def test_check_storage_finds_missing_corrupt_and_orphan_files_and_repairs_renditions(
    storage_dir, alice, album, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lost, damaged, thumbless = (upload(alice, album, small_jpeg(token)).photo for token in ("a", "b", "c"))
    out, error = check_storage("--hashes")
    assert error is None and "Checked 3 picture(s) and 3 stored original(s)." in out and "consistent" in out

    (storage_dir / original_of(lost)).unlink()
    (storage_dir / original_of(damaged)).write_bytes(small_jpeg("other bytes"))
    (storage_dir / rendition_name(thumbless.sha256, "m")).unlink()
    orphan = storage_dir / original_name("0" * 64, "png")
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"no picture refers to me")
    age(orphan)

    out, error = check_storage()
    assert error == "3 problem(s) found."  # without --hashes the damaged bytes go unnoticed
    assert f"Pictures whose original is missing: 1\n  {original_of(lost)} (pictures {lost.pk})" in out
    assert f"Files no picture refers to: 1\n  {original_name('0' * 64, 'png')}" in out
    assert f"Missing renditions: 1\n  {thumbless.sha256} (m)" in out

    out, error = check_storage("--hashes", "--repair-renditions", "--remove-orphans")
    assert f"Originals whose bytes do not match their SHA-256: 1\n  {original_of(damaged)}" in out
    assert "Removed 1 orphan(s)" in out and not orphan.exists()
    assert (storage_dir / rendition_name(thumbless.sha256, "m")).exists()
    assert error == "2 problem(s) found."  # the lost and the damaged originals cannot be repaired
