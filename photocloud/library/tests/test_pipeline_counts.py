"""What one upload and one edit cost: database queries in the request, and search index passes in the background
(library/pipeline.py). Before the pipeline was stated in one place, an upload was indexed 2 to 4 times (on create,
after processing, after analysis, after the taught suggestions) and one edited field cost 11 queries in the request,
the index pass included."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from photocloud.library import services
from photocloud.library.models import Photo
from tests import images


def index_passes(queries) -> int:
    """An index pass reads the existing documents of the pictures it indexes, once."""
    return sum(
        1
        for query in queries
        if query["sql"].startswith("SELECT")
        and "search_searchdocument" in query["sql"]
        and "photo_id" in query["sql"].split("WHERE")[-1]
    )


@pytest.fixture
def album(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.create_album(alice, title="Holidays", category="landscape", access="public")


def measure(django_capture_on_commit_callbacks, action):
    """(queries in the request, queries in the background work it queued, index passes)."""
    with (
        CaptureQueriesContext(connection) as everything,
        django_capture_on_commit_callbacks(execute=True),
        CaptureQueriesContext(connection) as request,
    ):
        action()
    background = everything.captured_queries[len(request) :]
    return len(request), len(background), index_passes(everything.captured_queries)


def test_one_upload_is_indexed_once(api, album, django_capture_on_commit_callbacks):
    def upload():
        file = SimpleUploadedFile("a.jpg", images.jpeg())
        response = api.post("/api/photos/upload/", {"file": [file], "album": str(album.pk)}, format="multipart")
        assert response.status_code == 201

    request, background, passes = measure(django_capture_on_commit_callbacks, upload)
    assert Photo.objects.get().status == Photo.Status.READY and Photo.objects.get().search_doc
    assert passes == 1
    # token, user, album, duplicate and trash checks, savepoints, insert, cover, throttle, the albums it names; the
    # tallies (library/tallies.py): an UPDATE of its month's row and of its album's, here the first picture of both,
    # so each row is made first (UPDATE, INSERT, UPDATE)
    assert request <= 22
    # processing (with the dominant colour), the stack check and one index pass (with the albums it is in); the
    # tallies when the date read from the file moves the picture to another month: its row locked, its keys read
    # before and after, the old month's row lowered and deleted (empty now), the new one's made (UPDATE, INSERT, UPDATE)
    assert background <= 23


def test_one_field_edit_is_one_update_and_one_background_pass(api, upload, album, django_capture_on_commit_callbacks):
    upload(api, [("a.jpg", images.jpeg())], album)
    photo = Photo.objects.get()
    request, _, passes = measure(
        django_capture_on_commit_callbacks, lambda: services.update_photo(photo, title="Sunset")
    )
    assert request == 3  # SAVEPOINT, UPDATE, RELEASE
    assert passes == 1
    assert Photo.objects.get().search_doc.names.startswith("Sunset")


def test_many_changes_in_one_transaction_are_indexed_in_one_pass(
    api, upload, album, django_capture_on_commit_callbacks
):
    upload(api, [("a.jpg", images.variant(seed=1)), ("b.jpg", images.variant(seed=2))], album)
    first, second = Photo.objects.order_by("created_at")

    def edits():
        with transaction.atomic():
            services.update_photo(first, title="One")
            services.update_photo(second, title="Two", tags=["harbour"])
            services.update_photo(first, description="Again")
            services.set_category(album.owner, [first, second], "boats")

    _, _, passes = measure(django_capture_on_commit_callbacks, edits)
    assert passes == 1
