"""A GET never writes to the database: the main pages and API reads of a library with pictures, searched by words
and by meaning, run without one INSERT, UPDATE or DELETE.

Two writes on reads are deliberate, and the only ones:
- opening someone else's picture page records the view (social.services.record_view): recommendations learn from it;
- a request with an API token notes when the token was last used, at most once a minute (accounts/authentication.py),
  for the tokens page. The API reads below log in by session, as the browser does, so they do not touch it.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from photocloud.library import services
from photocloud.library.models import Photo
from photocloud.search.models import SearchTerm
from tests import images

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
RECORDED_VIEW = "social_photoview"


def writes(queries) -> list[str]:
    return [query["sql"][:200] for query in queries if WRITE.match(query["sql"])]


@pytest.fixture
def library(alice, bob, api, upload, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        album = services.create_album(alice, title="Harbour", category="landscape", access="public", tags=["boats"])
    upload(api, [("a.jpg", images.jpeg("coffee")), ("b.jpg", images.jpeg("rocket"))], album)
    first = Photo.objects.order_by("created_at").first()
    with django_capture_on_commit_callbacks(execute=True):
        services.update_photo(first, tags=["espresso", "morning cup"], description="A cup at the harbour")
    # A label whose embedding the index stage has not done yet: a search leaves it out rather than embed it.
    SearchTerm.objects.filter(name="espresso").update(vector=None)
    return album, first


def test_pages_and_api_reads_write_nothing(client, alice, bob, library):
    album, photo = library
    client.force_login(alice)
    pages = [
        "/",
        "/library/",
        "/library/?from=2024-05",
        "/library/scrubber/",
        "/library/dates/",
        "/library/themes/",
        "/albums/",
        f"/albums/{album.pk}/",
        f"/photos/{photo.pk}/",  # the owner's own picture: no view recorded
        f"/photos/{photo.pk}/similar/",
        "/search/?q=harbour",
        "/search/?q=coffee+mug",  # close meanings, from the embedded vocabulary
        "/search/?q=zzzz",
        "/feed/",
        "/for-you/",
        "/notifications/",
        "/collected/",
        "/library/teach/",
        "/library/duplicates/",
        "/crawls/",
        "/sync/",
        "/u/alice/",
        "/accounts/profile/",
        "/accounts/tokens/",
    ]
    api = APIClient()
    api.force_login(alice)
    reads = [
        "/api/albums/",
        f"/api/albums/{album.pk}/",
        "/api/photos/",
        f"/api/photos/{photo.pk}/",
        "/api/library/years/",
        "/api/library/themes/",
        "/api/search/?q=harbour",
        "/api/search/?q=coffee+mug",
        "/api/me/",
    ]
    for url in pages:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        assert writes(queries.captured_queries) == [], url
    for url in reads:
        with CaptureQueriesContext(connection) as queries:
            response = api.get(url)
        assert response.status_code == 200, url
        assert writes(queries.captured_queries) == [], url


def test_opening_someone_elses_picture_records_the_view_and_nothing_else(client, bob, library):
    _, photo = library
    client.force_login(bob)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/photos/{photo.pk}/").status_code == 200
    written = writes(queries.captured_queries)
    assert written and all(RECORDED_VIEW in sql for sql in written), written
