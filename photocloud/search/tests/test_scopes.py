"""Scopes: "my library", "everything I may see", and "the internet" once the crawler provides its page."""

import pytest
from django.urls import NoReverseMatch, reverse

from tests.factories import album, photo

pytestmark = pytest.mark.usefixtures("no_meaning")


def _crawler_exists() -> bool:
    try:
        reverse("crawler:new")
    except NoReverseMatch:
        return False
    return True


def test_internet_scope_only_when_the_crawler_exists(alice, client):
    client.force_login(alice)
    page = client.get(reverse("search:results"), {"q": "cups"}).content.decode()
    assert ('value="web"' in page) == _crawler_exists()
    assert 'value="mine"' in page and 'value="all"' in page


def test_anonymous_visitors_search_everything_public(alice, client):
    picture = photo(album(alice, access="public"), tags=["cups"])
    response = client.get(reverse("search:results"), {"q": "cups"})
    assert 'value="mine"' not in response.content.decode()
    assert [p.pk for p, _ in response.context["tiles"]] == [picture.pk]


@pytest.mark.urls("photocloud.search.tests.crawler_urls")
def test_internet_scope_hands_the_query_to_the_crawler(alice, client):
    picture = photo(album(alice), tags=["cups"])
    client.force_login(alice)
    page = client.get(reverse("search:results"), {"q": "cups"}).content.decode()
    assert 'value="web"' in page
    response = client.get(reverse("search:results"), {"q": "tea cups", "scope": "web", "similar_to": picture.pk})
    assert response.status_code == 302
    assert response["Location"] == f"/crawl-stand-in/new/?q=tea+cups&photo={picture.pk}"
