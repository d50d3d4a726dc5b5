"""Precision (issue 13.2): generic words find every kind of their thing ("cat" every cat breed, "seaside" and "ocean"
the sea, beaches and shores); a faint automatic tag and an album's words rank after what a picture itself shows, and
close meanings do not bring in every picture of an album."""

import pytest

from photocloud.search import selectors
from tests.factories import album, photo


@pytest.fixture
def pictures(alice):
    shelf = album(alice, title="Camera roll", category="misc")
    pets = album(alice, title="Pets", category="misc", tags=["pets", "cat"], description="our cat and the garden")
    return {
        "tabby": photo(shelf, analysis={"category": "animal", "labels": [["tabby cat", 0.7]]}),
        "persian": photo(shelf, analysis={"category": "animal", "labels": [["persian cat", 0.5]]}),
        "pug": photo(shelf, analysis={"category": "animal", "labels": [["pug", 0.8], ["tabby cat", 0.12]]}),
        "storm": photo(shelf, analysis={"category": "landscape", "labels": [["promontory", 0.5], ["breakwater", 0.3]]}),
        "beach": photo(shelf, analysis={"category": "landscape", "labels": [["beach", 0.6]]}),
        "lake": photo(shelf, analysis={"category": "landscape", "labels": [["lakeshore", 0.6]]}),
        "mountain": photo(shelf, analysis={"category": "landscape", "labels": [["mountain", 0.6]]}),
        "flower": photo(pets, analysis={"category": "food", "labels": [["daisy", 0.6]]}),
        "siamese": photo(pets, analysis={"category": "animal", "labels": [["siamese cat", 0.6]]}),
    }


def _ranked(viewer, q) -> list:
    return list(selectors.search(viewer, q=q).results.ids)


def _keys(pictures, ranked) -> list:
    by_id = {picture.pk: key for key, picture in pictures.items()}
    return [by_id[pk] for pk in ranked]


def test_a_generic_word_finds_every_kind_and_what_the_picture_shows_ranks_first(alice, pictures):
    found = _keys(pictures, _ranked(alice, "cat"))
    assert set(found[:3]) == {"tabby", "persian", "siamese"}  # what the pictures show
    assert set(found[3:]) == {"pug", "flower"}  # a faint guess, and a picture of an album that says "cat"
    assert _keys(pictures, _ranked(alice, "dog")) == ["pug"]


@pytest.mark.parametrize("query", ["seaside", "ocean", "sea", "coast"])
def test_sea_words_find_the_sea_beaches_and_shores(alice, pictures, query):
    found = set(_keys(pictures, _ranked(alice, query)))
    assert {"storm", "beach"} <= found
    assert not found & {"mountain", "tabby", "pug", "flower"}


def test_close_meanings_look_at_what_pictures_show(alice, pictures):
    found = _keys(pictures, _ranked(alice, "kitten"))  # close in meaning to the labels "cat", "tabby cat"…
    assert {"tabby", "persian", "siamese"} <= set(found)
    assert "flower" not in found and "pug" not in found


def test_the_album_is_an_album_result(alice, pictures):
    assert [a.title for a in selectors.search(alice, q="pets").albums] == ["Pets"]
