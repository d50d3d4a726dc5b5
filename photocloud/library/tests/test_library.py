"""Albums, pictures and automatic albums, through the API and the pages."""

import hashlib
import re
from datetime import datetime

import pytest
from django.core.files.storage import default_storage

from photocloud.library import selectors, services
from photocloud.library.models import Album, Photo
from photocloud.library.storage import original_name, rendition_name
from tests import images


@pytest.fixture
def album(alice):
    return services.create_album(alice, title="Holidays", category="landscape", access="public")


def stored(api, upload, album, *files):
    response = upload(api, list(files), album)
    assert response.status_code == 201, response.json()
    return [Photo.objects.get(pk=r["photo"]["id"]) for r in response.json()["results"]]


def test_album_crud_through_the_api(api):
    created = api.post(
        "/api/albums/",
        {
            "title": "Cups",
            "category": "Food",
            "tags": ["Mug", " porcelain ", "mug"],
            "access": "followers",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["owner"] == "alice" and body["category"] == "food" and body["tags"] == ["mug", "porcelain"]
    album_id = body["id"]

    assert api.patch(f"/api/albums/{album_id}/", {"tags": "blue, cup"}, format="json").json()["tags"] == ["blue", "cup"]
    missing_category = api.patch(f"/api/albums/{album_id}/", {"category": "  "}, format="json")
    assert missing_category.status_code == 400 and "category" in missing_category.json()

    assert api.delete(f"/api/albums/{album_id}/").status_code == 204
    assert not Album.objects.filter(pk=album_id).exists()


def test_album_needs_title_and_category(api):
    response = api.post("/api/albums/", {"title": ""}, format="json")
    assert response.status_code == 400
    assert set(response.json()) >= {"title", "category"}


def test_upload_without_album_goes_to_a_private_uploads_album(api, upload):
    response = upload(api, [("a.jpg", images.jpeg())])
    assert response.status_code == 201
    photo = Photo.objects.get()
    assert photo.album.title == "Uploads" and photo.album.access == "private"
    assert photo.status == "ready"


def test_uploads_have_their_own_rate_limit(api, upload, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "upload", "2/min")
    assert upload(api, [("a.jpg", images.jpeg("cat"))]).status_code == 201
    assert upload(api, [("b.jpg", images.jpeg("coffee"))]).status_code == 201
    refused = upload(api, [("c.jpg", images.jpeg("rocket"))])
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert Photo.objects.count() == 2


def test_first_upload_becomes_the_cover_and_cover_can_change(api, upload, album):
    first, second = stored(api, upload, album, ("a.jpg", images.variant(seed=1)), ("b.jpg", images.variant(seed=2)))
    album.refresh_from_db()
    assert album.cover == first
    assert api.patch(f"/api/albums/{album.pk}/", {"cover": str(second.pk)}, format="json").status_code == 200
    album.refresh_from_db()
    assert album.cover == second


def test_cover_must_belong_to_the_album(api, upload, album, alice):
    other = services.create_album(alice, title="Other", category="food", access="private")
    (photo,) = stored(api, upload, other, ("a.jpg", images.jpeg()))
    response = api.patch(f"/api/albums/{album.pk}/", {"cover": str(photo.pk)}, format="json")
    assert response.status_code == 400


def test_original_is_kept_byte_exact_and_content_addressed(api, upload, album):
    data = images.jpeg("coffee")
    (photo,) = stored(api, upload, album, ("coffee.jpg", data))
    assert photo.sha256 == hashlib.sha256(data).hexdigest()
    with default_storage.open(original_name(photo.sha256, "jpg")) as handle:
        assert handle.read() == data
    download = api.get(f"/photos/{photo.pk}/original?download=1")
    assert b"".join(download.streaming_content) == data
    assert 'attachment; filename="coffee.jpg"' in download["Content-Disposition"]


def test_upload_name_is_never_a_path(api, upload, album):
    (photo,) = stored(api, upload, album, ("../../etc/passwd<script>.jpg", images.jpeg()))
    assert photo.title == "passwd<script>"
    assert default_storage.exists(original_name(photo.sha256, "jpg"))
    page = api.get(f"/photos/{photo.pk}/").content.decode()
    assert "passwd&lt;script&gt;" in page and "<script>" not in page.split("</head>")[1]


def test_edit_picture_tags_and_category_and_move_it(api, upload, album, alice, bob):
    (photo,) = stored(api, upload, album, ("a.jpg", images.jpeg()))
    target = services.create_album(alice, title="Best", category="animal", access="private")
    response = api.patch(
        f"/api/photos/{photo.pk}/",
        {
            "title": "Chelsea",
            "tags": ["cat", "Tabby"],
            "category": "Animal",
            "album": str(target.pk),
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["tags"] == ["cat", "tabby"] and body["category"] == "animal" and body["album"] == str(target.pk)
    refused = api.patch(f"/api/photos/{photo.pk}/", {"sha256": "0" * 64, "status": "failed"}, format="json")
    assert refused.status_code == 400 and set(refused.json()) == {"sha256", "status"}  # read-only: refused
    assert api.get(f"/api/photos/{photo.pk}/").json()["status"] == "ready"
    bobs = services.create_album(bob, title="Bob's", category="food", access="public")
    moved = api.patch(f"/api/photos/{photo.pk}/", {"album": str(bobs.pk)}, format="json")
    assert moved.status_code == 400


def test_category_follows_the_album_unless_set(api, upload, album):
    (photo,) = stored(api, upload, album, ("a.jpg", images.jpeg()))
    assert api.get(f"/api/photos/{photo.pk}/").json()["effective_category"] == "landscape"


def test_delete_picture_goes_to_the_trash_and_delete_forever_removes_its_files(
    api, upload, album, django_capture_on_commit_callbacks
):
    (photo,) = stored(api, upload, album, ("a.jpg", images.jpeg()))
    names = [original_name(photo.sha256, "jpg"), rendition_name(photo.sha256, "s")]
    assert all(default_storage.exists(name) for name in names)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/photos/{photo.pk}/").status_code == 204
    assert Photo.objects.get(pk=photo.pk).trashed_at is not None
    assert all(default_storage.exists(name) for name in names)  # the Trash keeps the files
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/trash/delete/", {"photos": [str(photo.pk)]}, format="json")
    assert response.json() == {"count": 1}
    assert not Photo.objects.filter(pk=photo.pk).exists()
    assert not any(default_storage.exists(name) for name in names)


def test_delete_album_moves_or_deletes_its_pictures(api, upload, album, alice, django_capture_on_commit_callbacks):
    photos = stored(api, upload, album, ("a.jpg", images.variant(seed=3)), ("b.jpg", images.variant(seed=4)))
    keep = services.create_album(alice, title="Keep", category="misc", access="private")
    assert api.delete(f"/api/albums/{album.pk}/?move_to={keep.pk}").status_code == 204
    assert set(keep.photos.all()) == set(photos)

    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/albums/{keep.pk}/").status_code == 204
    assert not Photo.objects.visible_to(alice).exists() and not Album.objects.visible_to(alice).exists()
    assert set(Photo.objects.in_trash_of(alice)) == set(photos)  # with the album: restorable
    assert default_storage.exists(original_name(photos[0].sha256, "jpg"))
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/trash/empty/").json() == {"count": 2}
    assert not Photo.objects.exists() and not Album.objects.filter(pk=keep.pk).exists()
    assert not default_storage.exists(original_name(photos[0].sha256, "jpg"))


@pytest.mark.django_db(transaction=True)  # MariaDB's full-text index only sees committed rows
def test_delete_album_reindexes_only_the_pictures_it_moved(api, upload, album, alice, settings, monkeypatch):
    from photocloud.search import selectors as search
    from photocloud.search import services as search_services

    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "SEARCH": {"MEANING": False}}  # keywords only: no model to load
    harbour = services.create_album(alice, title="Harbour", category="misc", access="private")
    mountains = services.create_album(alice, title="Mountains", category="misc", access="private")
    moved = stored(api, upload, album, ("a.jpg", images.variant(seed=5)), ("b.jpg", images.variant(seed=6)))
    resident = stored(api, upload, harbour, ("c.jpg", images.variant(seed=7)))
    stored(api, upload, mountains, ("d.jpg", images.variant(seed=8)))
    indexed = []
    index_photos = search_services.index_photos

    def spy(photo_ids):
        photo_ids = list(photo_ids)
        indexed.extend(photo_ids)
        return index_photos(photo_ids)

    monkeypatch.setattr(search_services, "index_photos", spy)
    services.delete_album(album, move_to=harbour)
    assert sorted(indexed) == sorted(str(photo.pk) for photo in moved + resident)  # not the pictures in Mountains
    assert set(search.search(alice, q="harbour").results.ids) == {photo.pk for photo in moved + resident}


def test_delete_album_page_says_what_happens(client, alice, api, upload, album):
    stored(api, upload, album, ("a.jpg", images.jpeg()))
    client.force_login(alice)
    page = client.get(f"/albums/{album.pk}/delete/").content.decode()
    assert "1 picture" in page and "Move the pictures to the Trash too" in page and "another album" not in page
    services.create_album(alice, title="Elsewhere", category="misc", access="private")
    page = client.get(f"/albums/{album.pk}/delete/").content.decode()
    assert "another album" in page and re.search(r'value="move"[^>]* checked', page)  # the safe default
    assert Album.objects.filter(pk=album.pk).exists()  # a GET deletes nothing
    response = client.post(f"/albums/{album.pk}/delete/", {"pictures": "move"})
    assert response.status_code == 200 and "Choose the album" in response.content.decode()
    response = client.post(f"/albums/{album.pk}/delete/", {"pictures": "delete"})
    assert response.status_code == 302
    assert Album.objects.in_trash_of(alice).get() == album and Photo.objects.in_trash_of(alice).count() == 1


def test_album_form_creates_and_edits(client, alice):
    client.force_login(alice)
    response = client.post(
        "/albums/new/",
        {"title": "Street", "category": "Architecture", "tags": "city, Night", "description": "x", "access": "public"},
    )
    album = Album.objects.get(title="Street")
    assert response["Location"] == f"/albums/{album.pk}/"
    assert album.owner == alice and album.category == "architecture"
    assert sorted(t.name for t in album.tags.all()) == ["city", "night"]
    edit = client.get(f"/albums/{album.pk}/edit/").content.decode()
    assert 'value="city, night"' in edit
    client.post(
        f"/albums/{album.pk}/edit/", {"title": "Streets", "category": "my own", "tags": "", "access": "private"}
    )
    album.refresh_from_db()
    assert (album.title, album.category, album.access, album.tags.count()) == ("Streets", "my own", "private", 0)


def test_album_form_requires_category(client, alice):
    client.force_login(alice)
    response = client.post("/albums/new/", {"title": "No category", "access": "public"})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert not Album.objects.exists()


def test_lookup_by_hash_for_clients(api, upload, album):
    (photo,) = stored(api, upload, album, ("a.jpg", images.jpeg()))
    unknown = "f" * 64
    response = api.post("/api/photos/lookup/", {"sha256": [photo.sha256, unknown]}, format="json")
    assert response.json() == {"present": {photo.sha256: str(photo.pk)}, "missing": [unknown], "trashed": {}}
    assert api.post("/api/photos/lookup/", {"sha256": ["nothex"]}, format="json").status_code == 400


def test_photo_list_filters(api, upload, album, alice):
    other = services.create_album(alice, title="Other", category="food", access="private")
    stored(api, upload, album, ("a.jpg", images.variant(seed=5)))
    stored(api, upload, other, ("b.jpg", images.variant(seed=6)))
    assert api.get(f"/api/photos/?album={album.pk}").json()["count"] == 1
    assert api.get("/api/photos/?mine=true&status=ready").json()["count"] == 2
    assert api.get("/api/photos/?album=not-a-uuid").status_code == 400


# --- automatic albums ---------------------------------------------------------------------------------------------


def test_dates_months_and_events(api, upload, album, alice, client, settings):
    taken = [
        datetime(2023, 12, 31, 22, 0),
        datetime(2024, 5, 17, 9, 0),
        datetime(2024, 5, 17, 10, 30),  # same event: 1.5 h later
        datetime(2024, 5, 17, 18, 0),  # a new event: 7.5 h later
        datetime(2024, 7, 1, 12, 0),
    ]
    for seed, when in enumerate(taken):
        image = images.encode(images.photo("cat").crop((seed, 0, 440, 290)), "JPEG", images.exif_for(taken=when))
        stored(api, upload, album, (f"{seed}.jpg", image))

    assert [(y["year"], y["count"]) for y in selectors.years(alice)] == [(2024, 4), (2023, 1)]
    assert [(m["month"], m["count"]) for m in selectors.months(alice, 2024)] == [(7, 1), (5, 3)]
    events = selectors.events(alice, 2024, 5)
    assert [e.count for e in events] == [1, 2]  # newest event first
    assert events[1].start.hour == 9 and events[1].end.hour == 10

    # Shown a page at a time: an event cut by a page break goes on, marked "continued", on the next page.
    page, shown = selectors.events_page(alice, 2024, 5, 1, per_page=2)
    assert [(e.count, len(e.photos), e.continued) for e in shown] == [(1, 1, False), (2, 1, False)]
    page, shown = selectors.events_page(alice, 2024, 5, 2, per_page=2)
    assert [(e.count, len(e.photos), e.continued) for e in shown] == [(2, 1, True)]
    assert [p.sort_date.hour for p in shown[0].photos] == [10] and not page.has_next()
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "PAGE_SIZE": 1}  # the month page shows twice that
    client.force_login(alice)
    second = client.get("/library/dates/2024/5/?page=2").content.decode()
    assert "2 pictures · continued" in second and "Page 2 of 2" in second
    assert "<h1>May 2024</h1>" in second and "<title>May 2024" in second  # the page is a month, not "Events"

    assert api.get("/api/library/years/").json()[0]["year"] == 2024
    assert [e["count"] for e in api.get("/api/library/years/2024/5/").json()] == [1, 2]


def test_timeline_groups_by_day_and_scrolls(client, alice, api, upload, album, settings):
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "PAGE_SIZE": 2}
    for seed in range(3):
        image = images.encode(
            images.photo("coffee").crop((seed, 0, 590, 390)),
            "JPEG",
            images.exif_for(taken=datetime(2024, 1, 1 + seed, 12)),
        )
        stored(api, upload, album, (f"{seed}.jpg", image))
    client.force_login(alice)
    page = client.get("/library/").content.decode()
    assert "Wednesday 3 January 2024" in page and "Tuesday 2 January 2024" in page
    assert 'hx-get="?page=2"' in page
    more = client.get("/library/?page=2", HTTP_HX_REQUEST="true").content.decode()
    assert "Monday 1 January 2024" in more and "<html" not in more


def test_themes_follow_categories(client, alice, api, upload, album):
    food = services.create_album(alice, title="Dinner", category="food", access="private")
    (dish,) = stored(api, upload, food, ("d.jpg", images.jpeg("coffee")))
    stored(api, upload, album, ("l.jpg", images.jpeg("rocket")))
    services.update_photo(dish, category="illustration")
    assert {t["theme"]: t["count"] for t in selectors.themes(alice)} == {"illustration": 1, "landscape": 1}
    client.force_login(alice)
    assert "Anime / illustration" in client.get("/library/themes/").content.decode()
    assert client.get("/library/themes/landscape/").status_code == 200


def test_empty_states(client, alice):
    client.force_login(alice)
    assert "Your library is empty" in client.get("/library/").content.decode()
    assert "no albums yet" in client.get("/albums/").content.decode()
    assert "No pictures yet" in client.get("/library/dates/").content.decode()
    assert "Nobody has shared" in client.get("/").content.decode()


def test_picture_page_shows_metadata_and_neighbours(client, alice, api, upload, album):
    older, newer = stored(
        api,
        upload,
        album,
        ("old.jpg", images.encode(images.photo("cat"), "JPEG", images.exif_for(taken=datetime(2020, 1, 1)))),
        ("new.jpg", images.jpeg("coffee", make="FUJIFILM", model="X-T5")),
    )
    client.force_login(alice)
    page = client.get(f"/photos/{newer.pk}/").content.decode()
    assert "FUJIFILM X-T5" in page and "1/250 s" in page and "ISO 400" in page and "17 May 2024" in page
    assert f'href="/photos/{older.pk}/" rel="next"' in page
    assert f'href="/photos/{newer.pk}/" rel="prev"' in client.get(f"/photos/{older.pk}/").content.decode()


def test_openapi_schema_lists_the_endpoints(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in [
        "/api/albums/",
        "/api/photos/upload/",
        "/api/photos/lookup/",
        "/api/tokens/",
        "/api/me/",
        "/api/users/{username}/follow/",
        "/api/library/themes/",
    ]:
        assert path in schema["paths"], path
    assert client.get("/api/docs/").status_code == 200


def test_pictures_left_processing_by_a_dead_worker_are_queued_again(
    api, upload, album, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    (photo,) = stored(api, upload, album, ("a.jpg", images.jpeg()))
    Photo.objects.filter(pk=photo.pk).update(status="processing", updated_at=timezone.now() - timedelta(hours=1))
    fresh = stored(api, upload, album, ("b.jpg", images.variant(seed=9)))[0]
    Photo.objects.filter(pk=fresh.pk).update(status="processing", updated_at=timezone.now())

    assert services.requeue_stalled() == 1  # the immediate backend processes it again at once
    photo.refresh_from_db()
    fresh.refresh_from_db()
    assert photo.status == "ready" and fresh.status == "processing"


def test_processing_tiles_poll_until_ready(client, alice, album, api, upload):
    (photo,) = stored(api, upload, album, ("a.jpg", images.jpeg()))
    client.force_login(alice)
    Photo.objects.filter(pk=photo.pk).update(status="processing")
    tile = client.get(f"/photos/{photo.pk}/tile/").content.decode()
    assert "Processing…" in tile and 'hx-trigger="every 2s"' in tile
    Photo.objects.filter(pk=photo.pk).update(status="ready")
    tile = client.get(f"/photos/{photo.pk}/tile/").content.decode()
    assert f"/photos/{photo.pk}/s" in tile and "hx-trigger" not in tile


@pytest.mark.parametrize("fmt", ["JPEG", "HEIF"])
def test_originals_lose_their_gps_for_viewers_without_permission(api, upload, album, alice, client, bob, fmt):
    import io

    from PIL import Image

    exif = images.exif_for(gps=(48.8584, 2.2945))
    data = images.encode(images.photo("cat"), fmt, exif)
    (photo,) = stored(api, upload, album, (f"tower.{fmt.lower()}", data))

    def gps_of(payload: bytes):
        return dict(Image.open(io.BytesIO(payload)).getexif().get_ifd(0x8825))

    owner_copy = b"".join(api.get(f"/photos/{photo.pk}/original").streaming_content)
    assert owner_copy == data and gps_of(owner_copy)

    client.force_login(bob)
    response = client.get(f"/photos/{photo.pk}/original?download=1")
    other_copy = response.content
    assert response.status_code == 200 and gps_of(other_copy) == {}
    assert Image.open(io.BytesIO(other_copy)).size == Image.open(io.BytesIO(data)).size
    if fmt == "JPEG":  # same pixels, same camera data: only the position is gone
        assert Image.open(io.BytesIO(other_copy)).getexif()[0x010F] == "Canon"
        assert other_copy[other_copy.index(b"\xff\xda") :] == data[data.index(b"\xff\xda") :]
    else:
        assert response["Content-Disposition"].endswith('tower.jpg"')

    alice.share_location = True
    alice.save()
    assert client.get(f"/photos/{photo.pk}/original").getvalue() == data


def test_picture_list_costs_the_same_queries_for_any_page_size(api, upload, album, django_assert_max_num_queries):
    upload(api, [(f"{i}.jpg", images.variant(seed=20 + i)) for i in range(6)], album)
    with django_assert_max_num_queries(6):  # token, count, page ids, page rows (album, owner, analysis), tags, albums
        assert api.get("/api/photos/").json()["count"] == 6
