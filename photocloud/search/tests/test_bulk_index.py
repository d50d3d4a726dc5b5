"""Rebuilding the index in bulk (services.rebuild: chunks of pictures, postings written by COPY or one prepared
INSERT) stores the same documents and postings as indexing each picture and album on its own."""

from collections import Counter

import pytest

from photocloud.library import services as library
from photocloud.library.models import Album, Photo
from photocloud.search import services
from photocloud.search.models import SearchDocument, SearchPosting
from tests.factories import album, photo

pytestmark = pytest.mark.usefixtures("no_meaning")


def _stored() -> tuple[Counter, dict]:
    """Every posting (as a multiset: a row written twice would show) and every document, by what they index rather
    than by their keys (a rebuild numbers the documents anew)."""
    postings = Counter(
        SearchPosting.objects.values_list(
            "document__photo_id", "document__album_id", "is_album", "object_id", "term", "columns", "album"
        )
    )
    documents = {
        (doc.photo_id, doc.album_id): (doc.labels, doc.names, doc.body, doc.text, doc.context, doc.terms)
        for doc in SearchDocument.objects.all()
    }
    return postings, documents


def _one_by_one() -> tuple[Counter, dict]:
    SearchPosting.objects.all().delete()
    SearchDocument.objects.all().delete()
    for pk in Album.objects.values_list("pk", flat=True):
        services.index_albums([pk])
    for pk in Photo.objects.values_list("pk", flat=True):
        services.index_photos([pk])
    return _stored()


def test_a_bulk_rebuild_stores_the_same_postings_as_indexing_one_by_one(alice, bob):
    trip = album(alice, title="Lisbon 里斯本", description="tiles and trams", tags=["holiday", "tram"])
    secret = album(alice, access="private", title="Surprise party", tags=["birthday"])
    other = album(bob, access="followers", title="ハイキング", category="landscape", description="山と湖")
    pictures = [
        photo(trip, title="Tram 28", tags=["tram", "yellow"], description="O elétrico amarelo, Alfama"),
        photo(
            trip,
            description="会议通知请各部门负责人准时参加",
            analysis={
                "category": "document",
                "labels": [["envelope", 0.7], ["menu", 0.2], ["web site", 0.05]],
                "text": "INVOICE No. 42 发票 total 12,50 €",
            },
        ),
        photo(
            trip, analysis={"category": "food", "confidence": 0.4, "labels": [["tabby", 0.5], ["Egyptian cat", 0.2]]}
        ),
        photo(secret, title="Cake", category="food", tags=["cake", "蛋糕"]),
        photo(other, title="山頂", analysis={"labels": [["alp", 0.9], ["valley", 0.35]], "text": "ようこそ"}),
    ]
    library.add_to_album(alice, secret, [pictures[0].pk, pictures[1].pk])  # placed in a second, private album

    one_by_one = _one_by_one()
    assert sum(one_by_one[0].values()) > 100 and len(one_by_one[1]) == len(pictures) + 3
    assert any(album_id is not None for *_, album_id in one_by_one[0])  # words from albums, marked with them

    counts = services.rebuild()
    assert counts == {"albums": 3, "photos": len(pictures)}
    assert _stored() == one_by_one

    services.rebuild_format()  # in place, over the existing documents
    assert _stored() == one_by_one
