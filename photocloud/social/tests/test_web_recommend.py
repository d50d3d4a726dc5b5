"""Recommendations from the web: "For you" starts a crawl for more of what the user likes, against the crawler's real
local test site, and shows its best unsaved finds."""

import numpy as np
import pytest

from photocloud.crawler.models import Crawl, CrawlSource
from photocloud.crawler.tests.conftest import crawler_settings  # noqa: F401 (a fixture)
from photocloud.crawler.tests.site import site  # noqa: F401 (a fixture)
from photocloud.social import services
from photocloud.vision.models import PhotoAnalysis
from tests.factories import album as make_album
from tests.factories import photo as make_photo

# Transactional: crawls are queued on commit, and the test task backend then runs them at once.
pytestmark = [pytest.mark.usefixtures("crawler_settings"), pytest.mark.django_db(transaction=True)]

BUTTON = "Find more like what I like on the web"


@pytest.fixture
def source(site):  # noqa: F811 (the fixture imported above)
    return CrawlSource.objects.create(name="Test site", url_template=f"{site.url}/cats.html")


def labelled(album, title, labels):
    photo = make_photo(album, title)
    PhotoAnalysis.objects.create(
        photo=photo,
        features=np.zeros(4, np.float16).tobytes(),
        model_version="test",
        labels=[[label, 0.9] for label in labels],
    )
    return photo


def test_the_button_crawls_for_the_liked_picture_and_its_finds_show_up(client, alice, bob, source, site):  # noqa: F811
    make_photo(make_album(alice, title="Mine"))
    liked = labelled(make_album(bob), "Bob's cat", ["tabby", "cat"])
    services.like(alice, liked)
    client.force_login(alice)
    page = client.get("/for-you/").content.decode()
    assert BUTTON in page and "From the web" in page

    response = client.post("/for-you/web/")
    crawl = Crawl.objects.get()
    assert response.status_code == 302 and response["Location"] == crawl.get_absolute_url()
    assert crawl.owner == alice and crawl.target == liked and crawl.keywords == "tabby cat"
    assert crawl.status == Crawl.Status.DONE and "/cats.html" in site.paths()

    page = client.get("/for-you/").content.decode()
    best = crawl.candidates.order_by("-score", "-width", "pk").first()
    assert best.image_url.endswith("/img/cat.jpg")  # "A tabby cat" matches the labels best
    thumbnail = f"/crawls/{crawl.pk}/candidates/{best.pk}.jpg"
    assert thumbnail in page and crawl.get_absolute_url() in page
    assert client.get(thumbnail)["Content-Type"] == "image/jpeg"
    best.saved_photo = liked
    best.save()
    assert thumbnail not in client.get("/for-you/").content.decode()  # saved already: not offered again
    second = crawl.candidates.exclude(pk=best.pk).order_by("-score", "-width", "pk").first()
    also = f"/crawls/{crawl.pk}/candidates/{second.pk}.jpg"
    assert also in client.get("/for-you/").content.decode()
    make_photo(make_album(alice, title="Synced"), sha256=second.sha256)  # the same file, uploaded another way
    assert also not in client.get("/for-you/").content.decode()  # already in her library: not offered


def test_a_liked_picture_that_became_private_is_never_the_target(client, alice, bob, source):
    visible = make_photo(make_album(bob, title="Still public"), "Harbour")
    hidden_album = make_album(bob, title="Soon private")
    hidden = make_photo(hidden_album, "Secret")
    services.like(alice, visible)
    services.like(alice, hidden)  # the most recent like, but bob then hides the album
    hidden_album.access = "private"
    hidden_album.save()
    client.force_login(alice)
    client.post("/for-you/web/")
    assert Crawl.objects.get().target == visible

    Crawl.objects.all().delete()
    services.unlike(alice, visible)
    own = make_photo(make_album(alice, title="Mine"), "My cup")
    client.post("/for-you/web/")  # nothing liked that alice may see: her own newest picture
    assert Crawl.objects.get().target == own


def test_without_sources_the_section_explains_instead_of_crawling(client, alice, bob):
    services.like(alice, make_photo(make_album(bob)))
    client.force_login(alice)
    page = client.get("/for-you/").content.decode()
    assert BUTTON not in page and "an administrator must configure them first" in page
    response = client.post("/for-you/web/", follow=True)
    assert "An administrator must configure crawl sources first." in response.content.decode()
    assert not Crawl.objects.exists()


def test_nothing_to_go_on_is_a_message(client, alice, source):
    client.force_login(alice)
    response = client.post("/for-you/web/", follow=True)
    assert "Like or upload a picture first" in response.content.decode() and not Crawl.objects.exists()


def test_anonymous_users_are_sent_to_log_in(client, source):
    for response in (client.get("/for-you/"), client.post("/for-you/web/")):
        assert response.status_code == 302 and "/login" in response["Location"]
    assert not Crawl.objects.exists()


def test_the_same_through_the_api(api, alice, bob, site):  # noqa: F811
    services.like(alice, labelled(make_album(bob), "Bob's cat", ["tabby", "cat"]))
    empty = api.get("/api/recommendations/web/").json()
    assert empty == {"sources": False, "running": None, "crawl": None, "results": []}
    refused = api.post("/api/recommendations/web/")
    assert refused.status_code == 400 and "configure crawl sources" in refused.json()["detail"]

    CrawlSource.objects.create(name="Test site", url_template=f"{site.url}/cats.html")
    started = api.post("/api/recommendations/web/")
    assert started.status_code == 201 and started.json()["keywords"] == "tabby cat"
    body = api.get("/api/recommendations/web/").json()
    assert body["crawl"]["id"] == started.json()["id"] and body["results"][0]["image_url"].endswith("/img/cat.jpg")
    assert body["results"][0]["thumbnail"].startswith(f"/crawls/{body['crawl']['id']}/candidates/")
    assert "/api/recommendations/web/" in api.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
