"""The date taken, the location and the turn of a picture corrected by hand (issue 14 item 4, issue 16 bulk bar): on
the picture page, on a selection and through the API; renditions stored turned; only the owner may do it."""

import io
from datetime import UTC, datetime

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.http import FileResponse
from PIL import ExifTags, Image
from rest_framework.test import APIClient

from photocloud.library import bulk, selectors, services
from photocloud.library.models import Photo
from photocloud.library.storage import rendition_name
from tests import factories, images

TOKYO_EVENING = {"taken-taken": "2019-08-03T21:15:00", "taken-offset": "+09:00"}


@pytest.fixture
def client(alice):
    client = APIClient()
    client.force_login(alice)
    return client


@pytest.fixture
def two_pictures(alice, client, upload):
    """Two real uploads taken on 17 May 2024, the second a second later, in alice's public album."""
    album = factories.album(alice, access="public", title="Trip")
    first = upload(client, [("a.jpg", images.jpeg("cat", taken=datetime(2024, 5, 17, 14, 30, 5)))], album)
    second = upload(client, [("b.jpg", images.jpeg("coffee", taken=datetime(2024, 5, 17, 14, 30, 6)))], album)
    ids = [r.json()["results"][0]["photo"]["id"] for r in (first, second)]
    return album, [Photo.objects.get(pk=pk) for pk in ids]


def _month_ids(user, year, month) -> set:
    return {str(pk) for event in selectors.events(user, year, month) for pk in event.ids}


def test_editing_the_date_on_the_page_moves_the_picture_in_the_timeline_and_date_albums(alice, client, two_pictures):
    _, (cat, coffee) = two_pictures
    assert [p.pk for p in selectors.library_photos(alice)] == [coffee.pk, cat.pk]

    response = client.post(f"/photos/{coffee.pk}/taken/", TOKYO_EVENING)
    assert response.status_code == 302 and response["Location"] == coffee.get_absolute_url()
    coffee.refresh_from_db()
    assert coffee.taken_local == datetime(2019, 8, 3, 21, 15)
    assert coffee.taken_at == datetime(2019, 8, 3, 12, 15, tzinfo=UTC) and coffee.taken_offset == 540
    assert coffee.sort_date == datetime(2019, 8, 3, 21, 15, tzinfo=UTC)  # the evening in Tokyo, wherever viewed

    assert [p.pk for p in selectors.library_photos(alice)] == [cat.pk, coffee.pk]  # now the older one
    assert [row["year"] for row in selectors.years(alice)] == [2024, 2019]
    assert _month_ids(alice, 2019, 8) == {str(coffee.pk)} and _month_ids(alice, 2024, 5) == {str(cat.pk)}
    assert str(coffee.pk) in client.get("/library/dates/2019/8/").content.decode()
    assert str(coffee.pk) not in client.get("/library/dates/2024/5/").content.decode()
    page = client.get(coffee.get_absolute_url()).content.decode()
    assert "3 August 2019, 21:15" in page and "UTC+09:00" in page

    # Processing the file again keeps the owner's correction.
    services.process_photo(coffee.pk)
    coffee.refresh_from_db()
    assert coffee.taken_local == datetime(2019, 8, 3, 21, 15) and coffee.taken_offset == 540


def test_editing_the_date_through_the_api(alice, client, two_pictures):
    _, (cat, coffee) = two_pictures
    response = client.patch(
        f"/api/photos/{cat.pk}/", {"taken_local": "2031-01-02T03:04:05", "taken_offset": -300}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["taken_local"], body["taken_offset"], body["taken_at"]) == (
        "2031-01-02T03:04:05",
        -300,
        "2031-01-02T08:04:05Z",
    )
    years = client.get("/api/library/years/").json()
    assert [(row["year"], row["count"]) for row in years] == [(2031, 1), (2024, 1)]
    assert [row["cover"]["id"] for row in years] == [str(cat.pk), str(coffee.pk)]
    assert client.get("/api/library/years/2031/1/").json()[0]["photos"] == [str(cat.pk)]

    # The offset alone: the wall-clock time stays, the instant follows.
    body = client.patch(f"/api/photos/{cat.pk}/", {"taken_offset": None}, format="json").json()
    assert (body["taken_local"], body["taken_offset"], body["taken_at"]) == (
        "2031-01-02T03:04:05",
        None,
        "2031-01-02T03:04:05Z",
    )


@pytest.mark.parametrize(
    "body, field",
    [
        ({"taken_local": "2024-05-01T10:00:00+02:00"}, "taken_local"),  # the zone goes in taken_offset
        ({"taken_local": "yesterday"}, "taken_local"),
        ({"taken_local": "1700-01-01T00:00:00"}, "taken_local"),
        ({"taken_local": "2025-13-01T00:00:00"}, "taken_local"),  # well formed, no such month
        ({"taken_local": "2025-02-30T25:61:00"}, "taken_local"),
        ({"taken_local": None}, "taken_local"),
        ({"taken_offset": 2000}, "taken_offset"),
        ({"taken_offset": "60"}, "taken_offset"),
        ({"latitude": 48.8}, "latitude"),  # without its longitude
        ({"latitude": 91, "longitude": 2}, "latitude"),
        ({"latitude": 48.8, "longitude": -181}, "longitude"),
        ({"latitude": True, "longitude": 2}, "latitude"),
    ],
)
def test_wrong_dates_and_places_are_refused_through_the_api(client, two_pictures, body, field):
    photo = two_pictures[1][0]
    before = Photo.objects.filter(pk=photo.pk).values().get()
    response = client.patch(f"/api/photos/{photo.pk}/", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert Photo.objects.filter(pk=photo.pk).values().get() == before


def test_wrong_dates_and_places_are_refused_on_the_page_with_clear_errors(client, two_pictures):
    photo = two_pictures[1][0]
    response = client.post(f"/photos/{photo.pk}/taken/", {"taken-taken": "2019-08-03T21:15", "taken-offset": "+25"})
    assert response.status_code == 400
    assert "Write the offset as +HH:MM or -HH:MM" in response.content.decode()
    response = client.post(f"/photos/{photo.pk}/location/", {"place-latitude": "95", "place-longitude": "x"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "less than or equal to 90" in text and "The longitude is a number of degrees." in text
    photo.refresh_from_db()
    assert photo.taken_local == datetime(2024, 5, 17, 14, 30, 5) and not photo.taken_edited


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _gps_of(data: bytes):
    with Image.open(io.BytesIO(data)) as image:
        return image.getexif().get_ifd(ExifTags.IFD.GPSInfo)


def test_a_new_place_and_remove_location(alice, bob, client, upload):
    alice.share_location = True  # her followers and visitors may see where her pictures were taken
    alice.save()
    album = factories.album(alice, access="public")
    original = images.jpeg("cat", gps=(48.85837, 2.29448))
    photo_id = upload(client, [("eiffel.jpg", original)], album).json()["results"][0]["photo"]["id"]
    visitor = APIClient()
    visitor.force_login(bob)
    assert round(visitor.get(f"/api/photos/{photo_id}/").json()["latitude"], 4) == 48.8584

    # Moved by hand: everyone who may see places sees the new one, and nobody else gets the file's old one.
    assert client.post(f"/photos/{photo_id}/location/", {"place-latitude": "35.6586", "place-longitude": "139.7454"})
    seen = visitor.get(f"/api/photos/{photo_id}/").json()
    assert (seen["latitude"], seen["longitude"]) == (35.6586, 139.7454)
    assert not _gps_of(_body(visitor.get(f"/photos/{photo_id}/original")))

    # Removed: gone from the page, the API and the search by place, for everyone; the owner keeps her file as is.
    response = client.post(f"/photos/{photo_id}/location/", {"remove": "1"})
    assert response.status_code == 302
    for viewer in (client, visitor):
        body = viewer.get(f"/api/photos/{photo_id}/").json()
        assert body["latitude"] is None and body["longitude"] is None
        assert "35.65860" not in viewer.get(f"/photos/{photo_id}/").content.decode()
    assert not _gps_of(_body(visitor.get(f"/photos/{photo_id}/original")))
    assert _body(client.get(f"/photos/{photo_id}/original")) == original  # byte-exact for its owner
    services.process_photo(photo_id)  # processed again: the removal stands
    assert Photo.objects.get(pk=photo_id).latitude is None


def _pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("L"), dtype=np.float32)


def _stored(name: str) -> bytes:
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def _served(client, photo, size) -> bytes:
    response = client.get(f"/photos/{photo.pk}/{size}")
    assert response.status_code == 200
    assert isinstance(response, FileResponse)  # a plain file, turned once when stored, never on each serve
    return b"".join(response.streaming_content)


def test_turning_on_the_page_turns_every_stored_rendition(
    alice, bob, client, upload, django_capture_on_commit_callbacks
):  # noqa: E501
    original = images.jpeg("cat")
    photo = Photo.objects.get(pk=upload(client, [("cat.jpg", original)]).json()["results"][0]["photo"]["id"])
    upright = {size: _served(client, photo, size) for size in django_settings.PHOTOCLOUD["THUMBNAIL_SIZES"]}
    (width, height) = (photo.width, photo.height)
    assert width > height

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/photos/{photo.pk}/rotate/", {"degrees": "90"}).status_code == 302  # "Turn right"
    photo.refresh_from_db()
    assert (photo.rotation, photo.width, photo.height) == (90, height, width)
    for size in django_settings.PHOTOCLOUD["EAGER_SIZES"]:  # made in the background after the turn
        assert default_storage.exists(rendition_name(photo.sha256, size, 90))
    for size, before in upright.items():
        served = _served(client, photo, size)
        assert served == _stored(rendition_name(photo.sha256, size, 90))
        turned, expected = _pixels(served), np.rot90(_pixels(before), k=-1)  # clockwise
        assert turned.shape == expected.shape and turned.shape[0] > turned.shape[1]
        assert np.abs(turned - expected).mean() < 4  # the same picture, turned right
        assert np.abs(turned - np.rot90(_pixels(before), k=1)).mean() > 20  # not turned left
    assert b"".join(client.get(f"/photos/{photo.pk}/original").streaming_content) == original

    # Another owner of the same bytes keeps seeing them upright.
    other = APIClient()
    other.force_login(bob)
    mine = Photo.objects.get(pk=upload(other, [("same.jpg", original)]).json()["results"][0]["photo"]["id"])
    assert _served(other, mine, "m") == upright["m"]

    # Left twice then right once more: back upright, serving the shared renditions; the turns nobody shows are gone.
    with django_capture_on_commit_callbacks(execute=True):
        for degrees in ("270", "270", "90"):
            client.post(f"/photos/{photo.pk}/rotate/", {"degrees": degrees})
    photo.refresh_from_db()
    assert (photo.rotation, photo.width, photo.height) == (0, width, height)
    assert _served(client, photo, "m") == upright["m"]
    assert not any(
        default_storage.exists(rendition_name(photo.sha256, size, turn))
        for size in django_settings.PHOTOCLOUD["THUMBNAIL_SIZES"]
        for turn in (90, 180, 270)
    )
    refused = client.post(f"/photos/{photo.pk}/rotate/", {"degrees": "45"})
    assert refused.status_code == 400 and refused.templates[0].name == "400.html"  # a page, not bare text
    assert "Turn by 90, 180 or 270 degrees." in refused.content.decode()
    nothing = client.post("/photos/download.zip", {"photos": []})
    assert nothing.status_code == 400 and "Choose the pictures to download." in nothing.content.decode()
    assert nothing.templates[0].name == "400.html"


def _bulk(client, action, ids, **params):
    return client.post(
        "/api/photos/bulk/", {"ids": [str(getattr(x, "pk", x)) for x in ids], "action": action, **params}, format="json"
    )


def test_bulk_edit_of_date_and_location_on_a_selection(
    alice, bob, client, monkeypatch, django_capture_on_commit_callbacks
):
    album = factories.album(alice)
    mine = [factories.photo(album, latitude=1.0, longitude=2.0) for _ in range(3)]
    theirs = factories.photo(factories.album(bob), latitude=5.0, longitude=6.0)
    chosen = [*mine[:2], theirs]

    response = _bulk(client, "set_date", chosen, taken_local="2010-07-14T22:00:00", taken_offset=120)
    assert response.status_code == 200, response.json()
    assert [row["ok"] for row in response.json()["results"]] == [True, True, False], response.json()
    assert _month_ids(alice, 2010, 7) == {str(p.pk) for p in mine[:2]}
    assert [p.pk for p in selectors.library_photos(alice)][-2:] == sorted(
        [p.pk for p in mine[:2]], key=lambda pk: Photo.objects.get(pk=pk).created_at, reverse=True
    )
    assert Photo.objects.get(pk=theirs.pk).sort_date.year == 2024  # not alice's to change

    assert _bulk(client, "set_location", chosen, latitude=-33.8568, longitude=151.2153).status_code == 200
    assert {(p.latitude, p.longitude) for p in Photo.objects.filter(pk__in=[p.pk for p in mine[:2]])} == {
        (-33.8568, 151.2153)
    }
    assert _bulk(client, "remove_location", chosen).status_code == 200
    assert not Photo.objects.filter(pk__in=[p.pk for p in mine[:2]], latitude__isnull=False).exists()
    assert Photo.objects.get(pk=mine[2].pk).latitude == 1.0 and Photo.objects.get(pk=theirs.pk).latitude == 5.0

    # Wrong parameters are refused before anything changes.
    for params in (
        {"action": "set_date"},
        {"action": "set_date", "taken_local": "2010-07-14T22:00:00+02:00"},
        {"action": "set_date", "taken_local": "2010-07-14T22:00:00", "taken_offset": 5000},
        {"action": "set_location", "latitude": 10},
        {"action": "set_location", "latitude": 100, "longitude": 10},
    ):
        action = params.pop("action")
        assert _bulk(client, action, mine, **params).status_code == 400, params

    # A large selection runs in the background with progress, as the other bulk actions do.
    monkeypatch.setattr(bulk, "INLINE_LIMIT", 2)
    with django_capture_on_commit_callbacks(execute=True):
        response = _bulk(client, "set_date", mine, taken_local="2001-02-03T04:05:06")
    assert response.status_code == 202
    job = client.get(response.json()["url"]).json()
    assert (job["state"], job["done"], job["failed"]) == ("done", 3, 0)
    assert _month_ids(alice, 2001, 2) == {str(p.pk) for p in mine}


def test_only_the_owner_may_correct_or_turn(alice, bob, two_pictures):
    _, (photo, _) = two_pictures  # in a public album: bob may see it
    visitor = APIClient()
    visitor.force_login(bob)
    assert visitor.get(f"/photos/{photo.pk}/").status_code == 200
    page = visitor.get(f"/photos/{photo.pk}/").content.decode()
    assert "Correct the date" not in page and "Turn left" not in page
    assert visitor.post(f"/photos/{photo.pk}/taken/", TOKYO_EVENING).status_code == 404
    assert visitor.post(f"/photos/{photo.pk}/location/", {"remove": "1"}).status_code == 404
    assert visitor.post(f"/photos/{photo.pk}/rotate/", {"degrees": "90"}).status_code == 404
    response = visitor.patch(f"/api/photos/{photo.pk}/", {"taken_local": "2000-01-01T00:00:00"}, format="json")
    assert response.status_code == 403
    response = visitor.patch(f"/api/photos/{photo.pk}/", {"latitude": None, "longitude": None}, format="json")
    assert response.status_code == 403
    for action, params in (
        ("set_date", {"taken_local": "2000-01-01T00:00:00"}),
        ("remove_location", {}),
        ("rotate", {"degrees": 90}),
    ):
        assert _bulk(visitor, action, [photo.pk], **params).json()["results"][0]["ok"] is False
    anonymous = APIClient()
    assert anonymous.post(f"/photos/{photo.pk}/taken/", TOKYO_EVENING).status_code == 302  # to the sign-in page
    assert anonymous.patch(f"/api/photos/{photo.pk}/", {"taken_offset": 0}, format="json").status_code in (401, 403)
    before = Photo.objects.filter(pk=photo.pk).values().get()
    assert (before["taken_edited"], before["location_edited"], before["rotation"]) == (False, False, 0)


@pytest.mark.vision
@pytest.mark.usefixtures("vision_on")
def test_turning_analyses_the_turned_picture_again(alice, client, upload, django_capture_on_commit_callbacks):
    from photocloud.vision import features
    from photocloud.vision.models import PhotoAnalysis

    photo = Photo.objects.get(pk=upload(client, [("cat.jpg", images.jpeg("cat"))]).json()["results"][0]["photo"]["id"])
    before = PhotoAnalysis.objects.get(photo=photo).vector
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/photos/{photo.pk}/rotate/", {"degrees": "90"})
    after = PhotoAnalysis.objects.get(photo=photo).vector
    with default_storage.open(rendition_name(photo.sha256, "m", 90), "rb") as handle:
        expected = features.analyze([Image.open(handle).convert("RGB")]).features[0]

    def cosine(a, b):
        return float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))

    assert cosine(after, expected) > 0.999  # what the models see now is the turned picture (stored in half floats)
    assert cosine(before, expected) < cosine(after, expected) - 0.01
