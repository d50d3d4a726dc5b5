"""Crawl pages and API: start, progress, results, save, cancel, delete; privacy, bad input, escaping, schema."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from photocloud.accounts.models import ApiToken
from photocloud.crawler import services
from photocloud.crawler.models import Crawl, CrawlSource
from photocloud.library import services as library
from photocloud.library.models import Album, Photo

from .conftest import configure

# Transactional: crawls are queued on commit, and the test task backend then runs them at once.
pytestmark = [pytest.mark.usefixtures("crawler_settings"), pytest.mark.django_db(transaction=True)]


@pytest.fixture
def target(alice, api, upload, sample_jpeg):
    album = library.create_album(alice, title="Mine", category="animal", access="private")
    response = upload(api, [("chelsea.jpg", sample_jpeg)], album)
    return Photo.objects.get(pk=response.json()["results"][0]["photo"]["id"])


@pytest.fixture
def bob_api(bob):
    _, key = ApiToken.issue(bob, "tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_api_crawl_lifecycle(api, alice, site, target):
    response = api.post(
        "/api/crawls/",
        {"photo": str(target.pk), "keywords": "tabby cat", "start_pages": [f"{site.url}/cats.html"], "max_depth": 0},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "done" and body["target"] == str(target.pk) and body["pages_fetched"] == 1
    assert body["images_kept"] == 2 and body["ranked_by_similarity"] is False  # vision is off in these tests
    crawl_id = body["id"]
    assert api.get(f"/api/crawls/{crawl_id}/").json()["images_found"] == 4
    assert [c["id"] for c in api.get("/api/crawls/").json()["results"]] == [crawl_id]

    candidates = api.get(f"/api/crawls/{crawl_id}/candidates/").json()["results"]
    assert candidates[0]["image_url"].endswith("/img/cat.jpg") and candidates[0]["alt"] == "A tabby cat"
    assert candidates[0]["score"] >= candidates[1]["score"] and candidates[0]["similarity"] is None
    assert candidates[0]["thumbnail"] == f"/crawls/{crawl_id}/candidates/{candidates[0]['id']}.jpg"

    album = library.create_album(alice, title="Web finds", category="animal", access="private")
    saved = api.post(
        f"/api/crawls/{crawl_id}/save/", {"candidates": [candidates[0]["id"]], "album": str(album.pk)}, format="json"
    )
    assert saved.status_code == 200, saved.json()
    assert saved.json()["stored"] == 1
    photo = Photo.objects.get(pk=saved.json()["results"][0]["photo"]["id"])
    assert photo.album == album and photo.source_url == candidates[0]["image_url"]
    assert photo.source_page_url == f"{site.url}/cats.html" and photo.retrieved_at is not None

    assert api.post(f"/api/crawls/{crawl_id}/cancel/").json()["status"] == "done"  # it had already ended
    assert api.delete(f"/api/crawls/{crawl_id}/").status_code == 204
    assert api.get(f"/api/crawls/{crawl_id}/").status_code == 404 and api.get("/api/crawls/").json()["results"] == []
    assert Photo.objects.filter(pk=photo.pk).exists()  # saved pictures stay


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "non_field"),
        ({"keywords": "cat"}, "non_field"),  # nowhere to start: no start pages, no configured sources
        ({"keywords": "cat", "start_pages": ["ftp://example.org/"]}, "start_pages"),
        ({"keywords": "cat", "start_pages": ["http://192.168.1.1/"]}, "start_pages"),
        ({"keywords": "cat", "start_pages": "http://example.org/"}, "start_pages"),
        (
            {"keywords": "cat", "start_pages": ["http://example.org/"] * 1 + [f"http://e{i}.org/" for i in range(25)]},
            "start_pages",
        ),
        ({"photo": "5b3f8a2e-0000-4000-8000-000000000000", "start_pages": ["http://example.org/"]}, "photo"),
        ({"photo": "not-a-uuid"}, "photo"),
        ({"keywords": "cat", "start_pages": ["http://example.org/"], "max_pages": 0}, "max_pages"),
    ],
)
def test_api_refuses_bad_requests_with_a_message(api, payload, field):
    response = api.post("/api/crawls/", payload, format="json")
    assert response.status_code == 400, response.json()
    body = response.json()
    assert field in body or "detail" in body
    assert not Crawl.objects.exists()


def test_crawls_are_private(api, bob_api, bob, site):
    crawl_id = api.post(
        "/api/crawls/", {"keywords": "cat", "start_pages": [f"{site.url}/cats.html"], "max_depth": 0}, format="json"
    ).json()["id"]
    candidate = api.get(f"/api/crawls/{crawl_id}/candidates/").json()["results"][0]["id"]
    bob_album = library.create_album(bob, title="Bob's", category="x", access="private")
    for method, url, data in [
        ("get", f"/api/crawls/{crawl_id}/", None),
        ("get", f"/api/crawls/{crawl_id}/candidates/", None),
        ("post", f"/api/crawls/{crawl_id}/cancel/", None),
        ("post", f"/api/crawls/{crawl_id}/save/", {"candidates": [candidate], "album": str(bob_album.pk)}),
        ("delete", f"/api/crawls/{crawl_id}/", None),
    ]:
        assert getattr(bob_api, method)(url, data, format="json").status_code == 404, url
    assert bob_api.get("/api/crawls/").json()["results"] == []
    assert APIClient().get("/api/crawls/").status_code in (401, 403)
    # alice cannot save into bob's album either
    response = api.post(
        f"/api/crawls/{crawl_id}/save/", {"candidates": [candidate], "album": str(bob_album.pk)}, format="json"
    )
    assert response.status_code == 404


def test_too_many_active_crawls_is_429(api, site, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    payload = {"keywords": "cat", "start_pages": [f"{site.url}/"]}
    assert api.post("/api/crawls/", payload, format="json").status_code == 201
    assert api.post("/api/crawls/", payload, format="json").status_code == 201
    refused = api.post("/api/crawls/", payload, format="json")
    assert refused.status_code == 429 and "already have 2 crawls" in refused.json()["detail"]


def test_schema_lists_the_crawl_endpoints(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in (
        "/api/crawls/",
        "/api/crawls/{id}/",
        "/api/crawls/{id}/cancel/",
        "/api/crawls/{id}/candidates/",
        "/api/crawls/{id}/save/",
    ):
        assert path in schema, path


def test_new_crawl_form_is_prefilled_from_links(client, alice, target):
    client.force_login(alice)
    page = client.get(f"/crawls/new/?q=red+cups&photo={target.pk}").content.decode()
    assert 'value="red cups"' in page and f'value="{target.pk}"' in page
    assert f"/photos/{target.pk}/s" in page  # the target is shown
    assert client.get("/crawls/new/?photo=nonsense").status_code == 200
    detail = client.get(f"/photos/{target.pk}/").content.decode()
    assert f'href="/crawls/new/?photo={target.pk}"' in detail  # "Find similar on the web"


def test_start_watch_save_and_delete_in_the_pages(client, alice, bob, site, target):
    client.force_login(alice)
    assert "No crawls yet" in client.get("/crawls/").content.decode()
    form = {
        "photo": str(target.pk),
        "keywords": "cat",
        "start_pages": f"{site.url}/cats.html\n",
        "max_depth": "0",
        "max_pages": "5",
    }
    response = client.post("/crawls/new/", form)
    crawl = Crawl.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/crawls/{crawl.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Done" in page and 'data-testid="images-kept">2<' in page
    assert "Ranked by keyword match only: image similarity is turned off on this server." in page
    candidate = crawl.candidates.order_by("-score").first()
    image = client.get(f"/crawls/{crawl.pk}/candidates/{candidate.pk}.jpg")
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    # Cached as the library's files: asked again each time, 304 after the access check (404 for bob, below).
    assert image["Cache-Control"] == "private, no-cache" and image["ETag"].startswith('"')
    again = client.get(f"/crawls/{crawl.pk}/candidates/{candidate.pk}.jpg", HTTP_IF_NONE_MATCH=image["ETag"])
    assert again.status_code == 304 and again["Cache-Control"] == "private, no-cache"

    progress = client.get(f"/crawls/{crawl.pk}/progress/", HTTP_HX_REQUEST="true")
    assert progress["HX-Refresh"] == "true" and 'data-testid="pages-fetched">1<' in progress.content.decode()

    album = library.create_album(alice, title="Web finds", category="animal", access="private")
    response = client.post(
        f"/crawls/{crawl.pk}/save/", {"candidates": [candidate.pk], "album": str(album.pk)}, follow=True
    )
    assert "Saved 1 image(s) into “Web finds”." in response.content.decode()
    assert Photo.objects.filter(album=album, source_url=candidate.image_url).exists()
    response = client.post(f"/crawls/{crawl.pk}/save/", {"album": str(album.pk)}, follow=True)
    assert "Select at least one image." in response.content.decode()
    client.post("/crawls/new/", form)  # the same page again: the saved image is shown as already there
    again = Crawl.objects.exclude(pk=crawl.pk).get()
    page = client.get(again.get_absolute_url()).content.decode()
    assert page.count("In your library</span>") == 1 and page.count('type="checkbox"') == 1
    client.post(f"/crawls/{again.pk}/delete/")

    # Another user sees none of it.
    client.force_login(bob)
    for url in (
        f"/crawls/{crawl.pk}/",
        f"/crawls/{crawl.pk}/progress/",
        f"/crawls/{crawl.pk}/delete/",
        f"/crawls/{crawl.pk}/candidates/{candidate.pk}.jpg",
    ):
        assert client.get(url, HTTP_IF_NONE_MATCH=image["ETag"]).status_code == 404, url
    assert client.post(f"/crawls/{crawl.pk}/cancel/").status_code == 404
    client.force_login(alice)

    assert "Delete this crawl?" in client.get(f"/crawls/{crawl.pk}/delete/").content.decode()
    response = client.post(f"/crawls/{crawl.pk}/delete/", follow=True)
    assert "Crawl deleted." in response.content.decode() and "No crawls yet" in response.content.decode()


def test_form_errors_are_shown(client, alice):
    client.force_login(alice)
    page = client.post("/crawls/new/", {"keywords": "", "start_pages": "", "max_depth": "1", "max_pages": "5"})
    assert "Give a picture to look for, keywords, or both." in page.content.decode()
    page = client.post(
        "/crawls/new/",
        {"keywords": "cat", "start_pages": "http://169.254.169.254/\n", "max_depth": "1", "max_pages": "5"},
    )
    assert "private, local or reserved" in page.content.decode()
    page = client.post("/crawls/new/", {"keywords": "cat", "start_pages": "", "max_depth": "9", "max_pages": "5"})
    assert "less than or equal to 2" in page.content.decode()
    assert not Crawl.objects.exists()


def test_configured_sources_are_offered_in_the_form(client, alice, site):
    client.force_login(alice)
    assert "configured sources" not in client.get("/crawls/new/").content.decode()
    CrawlSource.objects.create(name="Site", url_template=f"{site.url}/cats.html")
    assert "configured sources" in client.get("/crawls/new/").content.decode()
    response = client.post("/crawls/new/", {"keywords": "cat", "use_sources": "on", "max_depth": "0", "max_pages": "3"})
    assert response.status_code == 302 and Crawl.objects.get().images_kept == 2


def test_words_from_crawled_pages_are_escaped(client, alice, site):
    site.pages = {
        "/evil.html": b'<title>&lt;script&gt;alert("t")&lt;/script&gt;</title>'
        b'<img src="/img/coffee.jpg" alt="<img src=x onerror=alert(1)>">'
    }
    client.force_login(alice)
    client.post(
        "/crawls/new/",
        {"keywords": "coffee", "start_pages": f"{site.url}/evil.html", "max_depth": "0", "max_pages": "2"},
    )
    page = client.get(Crawl.objects.get().get_absolute_url()).content.decode()
    assert "<img src=x onerror" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert '<script>alert("t")' not in page and "&lt;script&gt;alert(&quot;t&quot;)" in page


def test_results_show_live_while_running_and_become_selectable_at_the_end(client, alice, site):
    client.force_login(alice)
    client.post(
        "/crawls/new/", {"keywords": "cat", "start_pages": f"{site.url}/cats.html", "max_depth": "0", "max_pages": "2"}
    )
    crawl = Crawl.objects.get()
    Crawl.objects.filter(pk=crawl.pk).update(status="running")
    page = client.get(crawl.get_absolute_url()).content.decode()
    assert 'id="live-results"' in page and 'hx-trigger="every 2s"' in page and 'type="checkbox"' not in page
    assert page.count('<li class="candidate') == 2 and "Cancel crawl" in page
    assert "HX-Refresh" not in client.get(f"/crawls/{crawl.pk}/progress/", HTTP_HX_REQUEST="true")
    Crawl.objects.filter(pk=crawl.pk).update(status="done")
    page = client.get(crawl.get_absolute_url()).content.decode()
    assert 'id="live-results"' not in page and page.count('type="checkbox"') == 2


def test_notes_do_not_reveal_internal_addresses(api, client, alice, site, settings, caplog):
    configure(settings, ALLOW_NETWORKS=[])  # the test site's 127.0.0.1 is now internal, reached by a name
    response = api.post(
        "/api/crawls/", {"keywords": "cat", "start_pages": [f"http://localhost:{site.port}/"]}, format="json"
    )
    assert response.status_code == 201, response.json()
    notes = "\n".join(response.json()["notes"])
    assert "localhost resolves to a private or reserved address" in notes and "127.0.0.1" not in notes
    client.force_login(alice)
    page = client.get(response.json()["url"]).content.decode()
    assert "localhost resolves to a private or reserved address" in page and "127.0.0.1" not in page
    assert "Refused localhost: it resolves to 127.0.0.1" in caplog.text and site.hits == []


def test_a_bad_picture_id_in_the_form_is_reported(client, alice):
    client.force_login(alice)
    page = client.post(
        "/crawls/new/",
        {"photo": "not-a-uuid", "keywords": "cat", "start_pages": "", "max_depth": "1", "max_pages": "5"},
    ).content.decode()
    assert "Enter a valid UUID." in page and not Crawl.objects.exists()


def test_saving_refuses_huge_ids_and_too_many_at_once(api, client, alice, site, monkeypatch):
    crawl_id = api.post(
        "/api/crawls/", {"keywords": "cat", "start_pages": [f"{site.url}/cats.html"], "max_depth": 0}, format="json"
    ).json()["id"]
    candidate = api.get(f"/api/crawls/{crawl_id}/candidates/").json()["results"][0]["id"]
    album = str(library.create_album(alice, title="Web finds", category="animal", access="private").pk)
    url = f"/api/crawls/{crawl_id}/save/"
    huge = api.post(url, {"candidates": [2**70], "album": album}, format="json")
    assert huge.status_code == 400 and "less than or equal to" in str(huge.json()["candidates"])
    too_many = api.post(url, {"candidates": list(range(1, 52)), "album": album}, format="json")
    assert too_many.status_code == 400 and "no more than 50" in str(too_many.json()["candidates"])
    client.force_login(alice)
    page = client.post(f"/crawls/{crawl_id}/save/", {"candidates": [str(2**70)], "album": album})
    assert page.status_code == 400 and f"“{2**70}” is not a valid value." in page.content.decode()
    page = client.post(f"/crawls/{crawl_id}/save/", {"candidates": [str(n) for n in range(1, 52)], "album": album})
    assert page.status_code == 400 and "Select at most 50 images at a time." in page.content.decode()
    assert not Photo.objects.filter(album_id=album).exists()
    # Saving ingests: it has the upload throttle.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {**ScopedRateThrottle.THROTTLE_RATES, "upload": "1/min"})
    cache.clear()
    assert api.post(url, {"candidates": [candidate], "album": album}, format="json").status_code == 200
    assert api.post(url, {"candidates": [candidate], "album": album}, format="json").status_code == 429


def test_a_target_made_private_is_no_longer_shown_or_used(
    client, alice, bob, bob_api, upload, sample_jpeg, site, settings
):
    """Alice crawls for Bob's public picture; Bob then makes it private: its title leaves Alice's pages, and a crawl
    that runs afterwards neither ranks against it nor searches the sources for its words."""
    album = library.create_album(bob, title="Bob's", category="animal", access="public")
    response = upload(bob_api, [("secret-plans.jpg", sample_jpeg)], album)
    photo = Photo.objects.get(pk=response.json()["results"][0]["photo"]["id"])
    Photo.objects.filter(pk=photo.pk).update(title="Secret plans")
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    CrawlSource.objects.create(name="Search", url_template=f"{site.url}/search?q={{query}}")
    client.force_login(alice)
    client.post(
        "/crawls/new/",
        {
            "photo": str(photo.pk),
            "start_pages": f"{site.url}/things.html",
            "use_sources": "on",
            "max_depth": "0",
            "max_pages": "3",
        },
    )
    crawl = Crawl.objects.get()
    assert "Like “Secret plans”" in client.get("/crawls/").content.decode()

    Album.objects.filter(pk=album.pk).update(access="private")
    services.run_crawl(crawl.pk)
    done = Crawl.objects.get(pk=crawl.pk)
    assert done.status == "done" and not done.ranked_by_similarity
    assert "The target picture is no longer visible to you: ranked by keywords only." in done.notes
    assert not [path for path in site.paths() if path.startswith("/search")]  # its words were not searched for
    for url in ("/crawls/", crawl.get_absolute_url(), f"/crawls/{crawl.pk}/delete/"):
        page = client.get(url).content.decode()
        assert "Secret plans" not in page and str(photo.pk) not in page, url
    assert "Like a picture" in client.get("/crawls/").content.decode()
    assert "The target picture is no longer visible to you." in client.get(crawl.get_absolute_url()).content.decode()
