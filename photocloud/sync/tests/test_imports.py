"""Watched import folders: the import service, the administrator's form, the watcher command and the page."""

import hashlib
import os
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from photocloud.library import services as library_services
from photocloud.library import trash
from photocloud.library.models import Photo
from photocloud.library.services import create_album, default_album, ingest_upload
from photocloud.sync import services
from photocloud.sync.files import SourceFile
from photocloud.sync.forms import ImportFolderForm
from photocloud.sync.models import ImportEvent, ImportFolder
from tests import images

pytestmark = pytest.mark.django_db


@pytest.fixture
def incoming(tmp_path):
    folder = tmp_path / "incoming"
    (folder / "sub").mkdir(parents=True)
    return folder


def drop(folder, name, data):
    path = folder / name
    path.write_bytes(data)
    return path


def test_copy_mode_imports_once_and_leaves_the_files(alice, incoming):
    album = create_album(alice, title="Scans", category="document", access="private")
    folder = ImportFolder.objects.create(owner=alice, path=str(incoming), album=album)
    picture = drop(incoming, "sub/a.jpg", images.unique_jpeg("cat"))
    drop(incoming, "bad.jpg", images.truncated_jpeg())
    drop(incoming, ".hidden.jpg", images.unique_jpeg("coffee"))
    drop(incoming, "a.jpg.part", images.unique_jpeg("rocket"))

    pending = services.pending_files(folder)
    assert sorted(p.name for p in pending) == ["a.jpg", "bad.jpg"]
    events = {p.name: services.import_file(folder, p) for p in pending}
    assert events["a.jpg"].status == "stored" and events["a.jpg"].photo.album == album
    assert events["bad.jpg"].status == "rejected" and events["bad.jpg"].reason
    assert picture.exists()  # copy mode leaves the source
    assert services.pending_files(folder) == []  # unchanged files are not read again
    assert services.import_file(folder, picture) is None

    picture.write_bytes(images.unique_jpeg("astronaut"))  # a changed file is new content: a new picture
    assert [p.name for p in services.pending_files(folder)] == ["a.jpg"]
    assert services.import_file(folder, picture).status == "stored"
    folder.refresh_from_db()
    assert (folder.imported_count, folder.rejected_count) == (2, 1)
    assert Photo.objects.filter(owner=alice).count() == 2


def test_a_picture_deleted_after_its_import_stays_deleted_when_its_file_is_renamed(alice, incoming):
    folder = ImportFolder.objects.create(owner=alice, path=str(incoming))  # copy mode: the files stay
    picture = drop(incoming, "夜.jpg", images.unique_jpeg("cat"))
    photo = services.import_file(folder, picture).photo
    trash.trash_photos(alice, [photo.pk])

    renamed = picture.rename(incoming / "sub" / "夜景.jpg")
    event = services.import_file(folder, renamed)

    assert event.status == "duplicate" and "Deleted in Photocloud" in event.reason
    assert Photo.objects.in_trash_of(alice).filter(pk=photo.pk).exists()  # not restored
    assert Photo.objects.filter(owner=alice).count() == 1
    other = drop(incoming, "other.jpg", images.unique_jpeg("coffee"))  # other content is imported as usual
    assert services.import_file(folder, other).status == "stored"


def test_move_mode_deletes_only_what_is_safely_stored(alice, incoming):
    folder = ImportFolder.objects.create(owner=alice, path=str(incoming), mode="move")
    data = images.unique_jpeg("coffee")
    stored = drop(incoming, "one.jpg", data)
    again = drop(incoming, "sub/same.jpg", data)
    bad = drop(incoming, "bad.jpg", images.html_as_jpeg())
    call_command("watch_imports", "--once")
    assert not stored.exists() and not again.exists()  # the copy is a duplicate: it is there already
    assert bad.exists()
    assert sorted(ImportEvent.objects.values_list("status", flat=True)) == ["duplicate", "rejected", "stored"]
    photo = Photo.objects.get(owner=alice)
    assert photo.album.title == "Uploads" and photo.original_name == "one.jpg"
    folder.refresh_from_db()
    assert folder.last_scan_at and folder.duplicate_count == 1 and folder.pending_count == 0


def test_an_unreadable_file_is_reported_once_and_retried(alice, incoming):
    folder = ImportFolder.objects.create(owner=alice, path=str(incoming))
    unreadable = incoming / "odd.jpg"
    unreadable.mkdir()  # cannot be opened as a file, even by root
    for _ in range(3):
        event = services.import_file(folder, unreadable)
        assert event.status == "error" and "Could not read" in event.reason
    assert ImportEvent.objects.filter(folder=folder).count() == 1
    unreadable.rmdir()
    drop(incoming, "odd.jpg", images.unique_jpeg("rocket"))
    assert services.import_file(folder, unreadable).status == "stored"
    assert list(ImportEvent.objects.values_list("status", flat=True)) == ["stored"]


def test_the_form_checks_the_folder(alice, bob, incoming, settings):
    def errors(**data):
        form = ImportFolderForm({"owner": alice.pk, "mode": "copy", "enabled": True, **data})
        return form.errors if not form.is_valid() else {}

    assert errors(path=str(incoming)) == {}
    assert "path" in errors(path="relative/folder")
    assert "path" in errors(path=str(incoming / "missing"))
    assert "path" in errors(path=str(settings.DATA_DIR))
    assert "path" in errors(path="/")  # it would contain the data folder
    bobs = create_album(bob, title="Bob's", category="x", access="private")
    assert "album" in errors(path=str(incoming), album=bobs.pk)
    os.chmod(incoming, 0o500)
    try:
        if not os.access(incoming, os.W_OK):  # root may write anywhere
            assert "mode" in errors(path=str(incoming), mode="move")
    finally:
        os.chmod(incoming, 0o700)


def test_the_page_shows_only_my_folders_with_progress(client, alice, bob, incoming):
    mine = ImportFolder.objects.create(owner=alice, path=str(incoming))
    ImportFolder.objects.create(owner=bob, path="/srv/bobs-secret-folder")
    services.import_file(mine, drop(incoming, "<em>x.jpg", images.truncated_jpeg()))
    client.force_login(alice)
    page = client.get(reverse("sync:imports"))
    text = page.content.decode()
    assert page.status_code == 200 and str(incoming) in text and "bobs-secret-folder" not in text
    assert "&lt;em&gt;x.jpg" in text and "<em>x" not in text
    assert reverse("accounts:tokens") in text and "photocloud sync" in text
    status = client.get(reverse("sync:imports_status"))
    assert status.status_code == 200 and "Rejected" in status.content.decode()
    client.force_login(bob)
    assert "No import folder" not in client.get(reverse("sync:imports")).content.decode()
    client.logout()
    assert client.get(reverse("sync:imports")).status_code == 302


def test_an_empty_page_explains_what_to_do(client, alice):
    client.force_login(alice)
    text = client.get(reverse("sync:imports")).content.decode()
    assert "You have no import folder" in text and "Sync &amp; import" in text


def test_staff_set_up_import_folders_in_the_admin(client, make_user, tmp_path):
    admin = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get("/admin/sync/importfolder/add/").status_code == 200
    response = client.post(
        "/admin/sync/importfolder/add/",
        {"owner": admin.pk, "path": str(tmp_path / "nope"), "mode": "copy", "enabled": "on"},
    )
    assert response.status_code == 200 and "No folder exists" in response.content.decode()
    response = client.post(
        "/admin/sync/importfolder/add/", {"owner": admin.pk, "path": str(tmp_path), "mode": "copy", "enabled": "on"}
    )
    assert response.status_code == 302
    assert ImportFolder.objects.get().path == str(tmp_path)
    assert client.get("/admin/sync/importevent/").status_code == 200
    assert client.get("/admin/sync/uploadsession/").status_code == 200


def stored_bytes(photo) -> bytes:
    """The original the library keeps for `photo` (content-addressed, shared by everyone with these bytes)."""
    folder = f"originals/{photo.sha256[:2]}/{photo.sha256[2:4]}"
    name = next(n for n in default_storage.listdir(folder)[1] if n.startswith(photo.sha256))
    with default_storage.open(f"{folder}/{name}") as handle:
        return handle.read()


def test_symbolic_links_in_a_drop_folder_are_not_followed(alice, bob, incoming, tmp_path):
    """Whoever can write to the folder must not pull in pictures the server can read elsewhere (media included)."""
    bobs = ingest_upload(bob, default_album(bob), SimpleUploadedFile("private.jpg", images.unique_jpeg("cat"))).photo
    media = next(Path(settings.MEDIA_ROOT).rglob(f"{bobs.sha256}.*"))
    outside = tmp_path / "outside"
    outside.mkdir()
    drop(outside, "secret.jpg", images.unique_jpeg("coffee"))
    (incoming / "bobs.jpg").symlink_to(media)
    (incoming / "secret.jpg").symlink_to(outside / "secret.jpg")
    (incoming / "linked").symlink_to(outside, target_is_directory=True)
    (incoming / "sub" / "up").symlink_to(outside, target_is_directory=True)
    folder = ImportFolder.objects.create(owner=alice, path=str(incoming))

    assert services.pending_files(folder) == []
    for path in ("bobs.jpg", "secret.jpg", "linked/secret.jpg", "sub/up/secret.jpg"):  # as the watcher may hand them
        event = services.import_file(folder, incoming / path)
        assert event.status == "rejected" and "symbolic link" in event.reason, path
    assert not Photo.objects.filter(owner=alice).exists()
    folder.refresh_from_db()
    assert folder.rejected_count == 4 and folder.imported_count == 0


def test_a_named_pipe_does_not_block_the_watcher(alice, incoming):
    os.mkfifo(incoming / "pipe.jpg")  # opening it for reading would wait for a writer for ever
    folder = ImportFolder.objects.create(owner=alice, path=str(incoming))
    refused = []

    def open_it():
        try:
            SourceFile(incoming, incoming / "pipe.jpg")
        except OSError as error:
            refused.append(error)

    worker = threading.Thread(target=open_it, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive() and refused, "opening a named pipe blocked"
    event = services.import_file(folder, incoming / "pipe.jpg")
    assert event.status == "error" and "not a regular file" in event.reason


@pytest.mark.parametrize("swap", ["renamed over", "rewritten in place"])
@pytest.mark.parametrize("mode", ["copy", "move"])
def test_what_is_stored_is_the_file_that_was_read(alice, incoming, monkeypatch, swap, mode):
    """Another file put at the same name while the import reads it changes neither the stored bytes (which are shared
    by hash across owners) nor, in move mode, gets deleted unread."""
    first, second = images.unique_jpeg("cat"), images.unique_jpeg("rocket")
    path = drop(incoming, "a.jpg", first)
    drop(incoming, ".other", second)
    hash_file = library_services._sha256_of

    def hash_then_swap(uploaded):  # the moment between hashing the bytes and storing them
        digest = hash_file(uploaded)
        if swap == "renamed over":
            os.replace(incoming / ".other", path)
        else:
            path.write_bytes(second)
        return digest

    monkeypatch.setattr(library_services, "_sha256_of", hash_then_swap)
    folder = ImportFolder.objects.create(owner=alice, path=str(incoming), mode=mode)
    event = services.import_file(folder, path)

    assert event.status == "stored" and event.photo.sha256 == hashlib.sha256(first).hexdigest()
    assert stored_bytes(event.photo) == first
    assert path.read_bytes() == second  # not imported yet, so not deleted: the next scan takes it
    monkeypatch.undo()
    assert services.pending_files(folder) == [path]
    assert services.import_file(folder, path).photo.sha256 == hashlib.sha256(second).hexdigest()
    assert path.exists() == (mode == "copy")


def test_of_several_nodes_one_watches_each_folder_and_another_takes_over(alice, incoming, tmp_path, monkeypatch):
    """Every `serve` runs the watcher; a folder is watched (scanned, imported) by the one node holding its lease, a
    node that sees the folder. When that node stops renewing it (it died), another takes the folder over."""
    from photocloud.sync.management.commands import watch_imports

    monkeypatch.setattr(watch_imports, "LEASE_SECONDS", 1)
    monkeypatch.setattr(watch_imports, "close_old_connections", lambda: None)  # it would end the test's transaction
    folder = ImportFolder.objects.create(owner=alice, path=str(incoming))
    nowhere = ImportFolder.objects.create(owner=alice, path=str(tmp_path / "on-another-machine"))
    nodes = [watch_imports.Command(), watch_imports.Command()]
    for node in nodes:
        node.tracker = watch_imports.SettleTracker(quiet=0)
        node.start_watching()
    try:
        first, added = nodes[0]._reload()
        assert set(first) == {folder.pk, nowhere.pk} and {f.pk for f in added} == {folder.pk}
        assert set(nodes[1]._reload()[0]) == {nowhere.pk}  # what no node sees, each may report missing
        picture = drop(incoming, "a.jpg", images.unique_jpeg("cat"))
        nodes[1].tracker.touch(picture, folder.pk)
        nodes[1]._import_ready({folder.pk: folder})  # even told of the file, the node without the lease leaves it
        assert not ImportEvent.objects.exists()
        time.sleep(1.2)  # the first node stopped renewing: its lease ran out
        assert folder.pk in nodes[1]._reload()[0]
        assert folder.pk not in nodes[0]._reload()[0] and folder.pk not in nodes[0].watches
        nodes[1].tracker.touch(picture, folder.pk)
        nodes[1]._import_ready(nodes[1]._reload()[0])
        assert ImportEvent.objects.get().status == "stored"
    finally:
        for node in nodes:
            node.observer.stop()
            node.observer.join()
