"""The resumable upload API on the real database (SQLite, PostgreSQL, MariaDB through DATABASE_URL)."""

import hashlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from photocloud.library.models import Photo
from photocloud.library.services import create_album
from photocloud.sync import services
from photocloud.sync.models import UploadSession
from tests import images

pytestmark = pytest.mark.django_db


def start(api, data, **extra):
    body = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "name": "dir/cat.jpg", **extra}
    return api.post("/api/uploads/", body, format="json")


def put(api, upload_id, offset, chunk):
    return api.put(f"/api/uploads/{upload_id}/?offset={offset}", data=chunk, content_type="application/octet-stream")


def send_all(api, upload_id, data, offset=0, chunk=20_000):
    while offset < len(data):
        response = put(api, upload_id, offset, data[offset : offset + chunk])
        assert response.status_code == 200, response.content
        offset = response.json()["offset"]
    return offset


def test_chunked_upload_is_stored_once_complete(api, alice):
    data = images.unique_jpeg("cat")
    started = start(api, data)
    assert started.status_code == 201 and started.json()["offset"] == 0
    upload_id = started.json()["id"]
    assert send_all(api, upload_id, data) == len(data)
    assert not Photo.objects.filter(owner=alice).exists()  # nothing in the library until completed
    done = api.post(f"/api/uploads/{upload_id}/complete/")
    assert done.status_code == 201, done.content
    body = done.json()
    assert body["status"] == "stored" and body["name"] == "cat.jpg"
    photo = Photo.objects.get(owner=alice)
    assert photo.sha256 == hashlib.sha256(data).hexdigest() and photo.album.title == "Uploads"
    assert not UploadSession.objects.exists() and not list(services.uploads_dir().glob("*.part"))
    # The same bytes again: the server says so before any byte is sent.
    again = start(api, data)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert again.json()["photo"] == str(photo.pk)


def test_a_restarted_client_resumes_at_the_committed_offset(api):
    data = images.unique_jpeg("coffee")
    first = start(api, data).json()
    assert put(api, first["id"], 0, data[:10_000]).json() == {"offset": 10_000}
    resumed = start(api, data)  # the client was killed and asks again
    assert resumed.status_code == 200 and resumed.json()["id"] == first["id"] and resumed.json()["offset"] == 10_000
    assert api.get(f"/api/uploads/{first['id']}/").json()["offset"] == 10_000
    # A chunk sent twice (its answer was lost) or from the wrong place is refused with the offset to use.
    wrong = put(api, first["id"], 0, data[:10_000])
    assert wrong.status_code == 409 and wrong.json()["offset"] == 10_000
    send_all(api, first["id"], data, offset=10_000)
    assert api.post(f"/api/uploads/{first['id']}/complete/").json()["status"] == "stored"


def test_bytes_that_do_not_match_the_hash_are_refused(api, alice):
    data = images.unique_jpeg("rocket")
    upload_id = start(api, data).json()["id"]
    damaged = data[:-10] + b"\0" * 10
    send_all(api, upload_id, damaged)
    response = api.post(f"/api/uploads/{upload_id}/complete/")
    assert response.status_code == 409 and response.json()["code"] == "hash_mismatch"
    assert not Photo.objects.filter(owner=alice).exists() and not UploadSession.objects.exists()


def test_a_file_that_is_not_a_picture_is_rejected_with_the_reason(api):
    data = images.truncated_jpeg()
    upload_id = start(api, data).json()["id"]
    send_all(api, upload_id, data)
    response = api.post(f"/api/uploads/{upload_id}/complete/")
    assert 400 <= response.status_code < 500
    assert response.json()["status"] == "rejected" and response.json()["reason"]
    assert not UploadSession.objects.exists()


def test_bad_requests_get_clear_errors(api, settings):
    data = images.unique_jpeg("cat")
    assert api.post("/api/uploads/", {"sha256": "xyz", "size": 3}, format="json").status_code == 400
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "MAX_UPLOAD_BYTES": 1000}
    too_big = start(api, data)
    assert too_big.status_code == 413 and "larger than" in too_big.json()["detail"]
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "MAX_UPLOAD_BYTES": 10_000_000}
    upload_id = start(api, data).json()["id"]
    beyond = put(api, upload_id, 0, data + b"more")
    assert beyond.status_code == 400 and "size" in beyond.json()["detail"]
    assert (
        api.put(f"/api/uploads/{upload_id}/?offset=x", data=b"1", content_type="application/octet-stream").status_code
        == 400
    )
    assert put(api, upload_id, 0, b"").status_code == 400
    early = api.post(f"/api/uploads/{upload_id}/complete/")
    assert early.status_code == 409 and early.json()["offset"] == 0
    assert api.delete(f"/api/uploads/{upload_id}/").status_code == 204
    assert api.get(f"/api/uploads/{upload_id}/").status_code == 404


def test_uploads_are_private_to_their_owner(api, bob):
    data = images.unique_jpeg("cat")
    upload_id = start(api, data).json()["id"]
    from photocloud.accounts.models import ApiToken

    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {ApiToken.issue(bob, 't')[1]}")
    assert other.get(f"/api/uploads/{upload_id}/").status_code == 404
    assert put(other, upload_id, 0, data).status_code == 404
    assert other.post(f"/api/uploads/{upload_id}/complete/").status_code == 404
    bobs_album = create_album(bob, title="Bob's", category="x", access="public")
    assert start(api, data, album=str(bobs_album.pk)).status_code == 400
    assert APIClient().post("/api/uploads/", {}, format="json").status_code == 401


def test_upload_into_a_named_album(api, alice):
    album = create_album(alice, title="Trip", category="trip", access="private")
    data = images.large_png(3 * 1024 * 1024)  # in one chunk larger than what Django reads into memory
    upload_id = start(api, data, album=str(album.pk)).json()["id"]
    send_all(api, upload_id, data, chunk=len(data))
    assert api.post(f"/api/uploads/{upload_id}/complete/").status_code == 201
    assert Photo.objects.get(owner=alice).album == album


def test_completing_hashes_the_file_once(api, alice, monkeypatch):
    """Ingest is given the hash the server has just checked, so a large file is not read twice for it."""
    data = images.large_png(3 * 1024 * 1024)
    expected = hashlib.sha256(data).hexdigest()
    upload_id = start(api, data).json()["id"]
    send_all(api, upload_id, data, chunk=len(data))
    started, real_sha256 = [], hashlib.sha256

    def counted_sha256(*args, **kwargs):
        started.append(real_sha256(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(hashlib, "sha256", counted_sha256)
    assert api.post(f"/api/uploads/{upload_id}/complete/").status_code == 201
    assert [digest.hexdigest() for digest in started].count(expected) == 1
    assert Photo.objects.get(owner=alice).sha256 == expected


def test_abandoned_uploads_are_removed(api):
    data = images.unique_jpeg("cat")
    upload_id = start(api, data).json()["id"]
    put(api, upload_id, 0, data[:1000])
    UploadSession.objects.filter(pk=upload_id).update(updated_at=timezone.now() - timedelta(days=8))
    assert apps.get_app_config("sync").recover_interrupted_work() == "Removed 1 abandoned upload(s)."  # run by serve
    assert not UploadSession.objects.exists() and not list(services.uploads_dir().glob("*.part"))
    assert services.remove_stale_uploads() == 0


def test_one_request_at_a_time_completes_an_upload(api, alice):
    data = images.unique_jpeg("coffee")
    upload_id = start(api, data).json()["id"]
    send_all(api, upload_id, data)
    UploadSession.objects.filter(pk=upload_id).update(completing_since=timezone.now())  # another request is at it
    busy = api.post(f"/api/uploads/{upload_id}/complete/")
    assert busy.status_code == 409 and busy.json()["code"] == "completing"
    # A completing request refreshes its claim while it works: one not refreshed for a little while died (a killed
    # web worker), and the client's retry, which waits 30 s, finishes the upload.
    lapsed = timezone.now() - services.claim_lapsed() - timedelta(seconds=1)
    UploadSession.objects.filter(pk=upload_id).update(completing_since=lapsed)
    assert api.post(f"/api/uploads/{upload_id}/complete/").status_code == 201
    assert Photo.objects.filter(owner=alice).count() == 1


def test_the_upload_endpoints_are_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert {
        "/api/uploads/",
        "/api/uploads/{id}/",
        "/api/uploads/{id}/complete/",
        "/api/photos/lookup/",
        "/api/albums/",
    } <= set(schema["paths"])


def test_a_user_keeps_a_bounded_number_of_unfinished_uploads(api, alice, monkeypatch):
    monkeypatch.setattr(services, "MAX_OPEN_UPLOADS", 2)
    ids = []
    for token in "abc":
        data = images.unique_jpeg("cat", token=token)
        ids.append(start(api, data).json()["id"])
        put(api, ids[-1], 0, data[:100])
    assert set(map(str, UploadSession.objects.values_list("pk", flat=True))) == set(ids[1:])
    assert len(list(services.uploads_dir().glob("*.part"))) == 2


def test_an_upload_being_completed_is_neither_evicted_nor_given_up(api, alice, monkeypatch):
    """Its part file is being read by the ingest: starting other uploads or DELETE must not remove it."""
    monkeypatch.setattr(services, "MAX_OPEN_UPLOADS", 1)
    data = images.unique_jpeg("cat")
    upload_id = start(api, data).json()["id"]
    send_all(api, upload_id, data)
    UploadSession.objects.filter(pk=upload_id).update(completing_since=timezone.now())  # a request is at it
    other = images.unique_jpeg("coffee")
    start(api, other)  # the least recently used upload would go
    assert UploadSession.objects.filter(pk=upload_id).exists()
    busy = api.delete(f"/api/uploads/{upload_id}/")
    assert busy.status_code == 409 and busy.json()["code"] == "completing"
    UploadSession.objects.filter(pk=upload_id).update(updated_at=timezone.now() - timedelta(days=8))
    services.remove_stale_uploads()
    assert services.part_path(UploadSession.objects.get(pk=upload_id)).stat().st_size == len(data)
    UploadSession.objects.filter(pk=upload_id).update(completing_since=None)  # that request is done (it failed)
    assert api.post(f"/api/uploads/{upload_id}/complete/").status_code == 201
    assert Photo.objects.get(owner=alice).sha256 == hashlib.sha256(data).hexdigest()


def test_starting_and_completing_count_against_the_upload_rate(api, alice, monkeypatch):
    """The `upload` scope, as for /api/photos/upload/: each completion decodes and stores a picture. Chunks do not
    count."""
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "upload", "3/min")
    data = images.unique_jpeg("rocket")
    upload_id = start(api, data).json()["id"]  # 1
    send_all(api, upload_id, data, chunk=5_000)  # many requests, none counted
    assert api.post(f"/api/uploads/{upload_id}/complete/").status_code == 201  # 2
    assert start(api, images.unique_jpeg("coffee")).status_code == 201  # 3
    throttled = start(api, images.unique_jpeg("cat"))
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    assert api.post(f"/api/uploads/{upload_id}/complete/").status_code == 429
