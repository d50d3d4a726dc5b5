"""Ranking with the real vision models: the images most like the target come first, whatever their words say."""

import pytest

from photocloud.crawler import ranking, services
from photocloud.crawler.models import Crawl
from photocloud.library import services as library
from photocloud.library.models import Photo
from tests import images

pytestmark = [pytest.mark.vision, pytest.mark.usefixtures("crawler_settings", "vision_on")]


def test_similar_images_rank_first(alice, api, upload, site):
    album = library.create_album(alice, title="Cats", category="animal", access="private")
    response = upload(api, [("chelsea.jpg", images.jpeg("cat"))], album)
    target = Photo.objects.get(pk=response.json()["results"][0]["photo"]["id"])
    assert hasattr(target, "analysis")  # analysed at ingest, as in production

    # The page words point the other way ("rocket launch" on a rocket, "A cup of coffee"...): similarity decides.
    created = services.start_crawl(alice, target=target, start_pages=[f"{site.url}/"], max_depth=1)
    services.run_crawl(created.pk)
    crawl = Crawl.objects.get(pk=created.pk)
    assert crawl.status == "done" and crawl.ranked_by_similarity
    ranked = list(crawl.candidates.order_by("-score"))
    names = [c.image_url.rsplit("/", 1)[-1] for c in ranked]
    assert set(names[:2]) == {"cat.jpg", "cat-large.webp"}, names
    others = [c.similarity for c in ranked[2:]]
    assert min(ranked[0].similarity, ranked[1].similarity) > 0.8 > max(others)
    assert all(c.score == c.similarity for c in ranked)  # no keywords: similarity alone


def test_keywords_add_to_similarity():
    assert ranking.combined_score(0.9, 1.0, True) == pytest.approx(0.92)
    assert ranking.combined_score(None, 0.5, True) == 0.5
    assert ranking.keyword_score(["tabby", "cat"], alt="A tabby cat") == 1.0
    assert ranking.keyword_score(["cat"], page_title="Cats and a cat") == 0.5
    assert ranking.keyword_score(["cat"], file="cat.jpg") == 0.7
    assert ranking.keyword_score(["dog"], alt="A tabby cat") == 0.0
