"""Meaning and spelling: the real sentence model matches queries to labels close in meaning; the Chinese names of
the default classes work; a threshold keeps weak matches out; near-misspellings are corrected."""

import pytest

from photocloud.search import selectors
from photocloud.search.query import parse
from tests.factories import album, ids, photo


@pytest.fixture
def pictures(alice):
    shelf = album(alice, title="Everything", category="misc")
    return {
        "dog": photo(shelf, analysis={"labels": ["golden retriever"], "category": "animal"}),
        "beach": photo(shelf, tags=["beach"]),
        "document": photo(shelf, analysis={"category": "document", "text": "Invoice 2024"}),
        "portrait": photo(shelf, analysis={"category": "portrait"}),
        "food": photo(shelf, analysis={"category": "food", "labels": ["pizza"]}),
        "tower": photo(shelf, tags=["tower"], analysis={"category": "architecture"}),
        "manga": photo(shelf, analysis={"category": "illustration", "labels": ["comic book"]}),
        "scenery": photo(shelf, analysis={"category": "landscape", "labels": ["valley"]}),
    }


def _found(viewer, q):
    return ids(selectors.search(viewer, q=q).results[0:50])


def test_similar_meanings_find_labels_and_say_so(alice, pictures):
    assert pictures["dog"].pk in _found(alice, "puppy")
    assert _found(alice, "seaside") == {pictures["beach"].pk}
    assert pictures["document"].pk in _found(alice, "paperwork")
    found = selectors.search(alice, q="puppy")
    reasons = found.reasons([pictures["dog"]])[pictures["dog"].pk]
    assert any(reason.startswith("similar meaning") and "golden retriever" in reason for reason in reasons)


def test_weak_matches_stay_out(alice, pictures):
    assert _found(alice, "happiness") == set()
    assert _found(alice, "asdfgh") == set()
    assert pictures["beach"].pk not in _found(alice, "puppy")


@pytest.mark.parametrize(
    "chinese, key",
    [
        ("人像", "portrait"),
        ("风景", "scenery"),
        ("美食", "food"),
        ("文档", "document"),
        ("建筑", "tower"),
        ("动物", "dog"),
        ("动漫", "manga"),
    ],
)
def test_chinese_names_of_the_default_classes(alice, pictures, chinese, key):
    assert pictures[key].pk in _found(alice, chinese)


def test_spelling_mistakes_are_tolerated_and_suggested(alice, pictures, settings):
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "SEARCH": {"MEANING": False}}
    assert parse("beahc").suggestion == "beach"
    assert _found(alice, "beahc") == {pictures["beach"].pk}
    assert parse("beach").suggestion == ""


def test_a_generic_word_does_not_find_its_siblings(alice):
    """ "dog" is close to "cat" (0.66) as a sentence, but a family word's neighbours are other families: a library
    with a cat tagged "cat" and a tabby but no dog finds no cat for "dog" by meaning. Before, both came in as
    "similar meaning: cat" (a user's real walkthrough); "animal", the closest category, may still find it."""
    shelf = album(alice, title="Pets", category="misc")
    tagged = photo(shelf, tags=["cat"])
    tabby = photo(shelf, analysis={"labels": ["tabby cat"]})
    chosen = {e.term for e in parse("dog", visible=lambda words: words in {("cat",), ("tabby", "cat")}).expansions}
    assert "cat" not in chosen
    assert {tagged.pk, tabby.pk}.isdisjoint(_found(alice, "dog"))
    assert {tagged.pk, tabby.pk} <= _found(alice, "cat")
