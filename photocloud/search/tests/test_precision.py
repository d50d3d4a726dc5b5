"""Precision (issue 13.2): generic words find every kind of their thing ("cat" every cat breed, "seaside" and "ocean"
the sea, beaches and shores); a faint automatic tag and an album's words rank after what a picture itself shows, and
close meanings do not bring in every picture of an album."""

import pytest

from photocloud.search import selectors
from photocloud.search.models import SearchTerm
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


def test_a_category_the_classifier_only_hints_at_is_a_weak_match(alice):
    shelf = album(alice, title="Camera roll", category="misc")
    sure = photo(shelf, analysis={"category": "food", "confidence": 0.8})
    hinted = photo(shelf, analysis={"category": "food", "confidence": 0.4})  # shown as "maybe food"
    found = selectors.search(alice, q="food")
    assert list(found.results.ids) == [sure.pk, hinted.pk] and found.strong_count == 1


@pytest.mark.parametrize(
    "query, expected",
    [
        ("drink", {"espresso", "wine"}),  # the families of automatic tags, by a generic word
        ("vehicle", {"taxi", "moped"}),
        ("motorbike", {"moped"}),
        ("building", {"palace", "church"}),
        ("饮料", {"espresso", "wine"}),
        ("交通工具", {"taxi", "moped"}),
    ],
)
def test_generic_words_name_families_of_tags(alice, query, expected):
    shelf = album(alice, title="Camera roll", category="misc")
    pictures = {
        name: photo(shelf, analysis={"category": category, "labels": [[name if name != "taxi" else "taxicab", 0.7]]})
        for name, category in [
            ("espresso", "food"),
            ("taxi", ""),
            ("moped", ""),
            ("palace", "architecture"),
            ("church", "architecture"),
            ("daisy", "food"),
        ]
    }
    pictures["wine"] = photo(shelf, analysis={"category": "food", "labels": [["red wine", 0.7]]})
    assert set(_keys(pictures, _ranked(alice, query))) == expected


def test_a_mostly_blue_landscape_may_show_the_sea_and_a_green_photograph_plants(alice):
    shelf = album(alice, title="Camera roll", category="misc")
    sea = photo(shelf, analysis={"category": "landscape", "labels": [["airplane wing", 0.3]]}, dominant_color="blue")
    field = photo(shelf, analysis={"category": "landscape"}, dominant_color="green")
    drawing = photo(shelf, analysis={"category": "illustration"}, dominant_color="green")  # not a photograph
    beach = photo(shelf, analysis={"category": "landscape", "labels": [["beach", 0.8]]}, dominant_color="yellow")
    found = selectors.search(alice, q="sea")
    assert list(found.results.ids) == [beach.pk, sea.pk] and found.strong_count == 1  # a guess: less likely
    assert set(selectors.search(alice, q="海边").results.ids) == {beach.pk, sea.pk}
    assert list(selectors.search(alice, q="grass").results.ids) == [field.pk]
    assert drawing.pk not in selectors.search(alice, q="leaves").results.ids
    # A guess is no label: "sky" and "grass" are not offered as spellings or close meanings.
    assert not SearchTerm.objects.filter(name__in=["sky", "grass", "leaves"]).exists()


def test_a_phrase_no_picture_holds_falls_back_to_its_words_as_less_likely(alice):
    shelf = album(alice, title="Scans", category="misc")
    ticket = photo(shelf, analysis={"category": "document", "text": "RAILWAY TICKET\nBrussels to Leuven"})
    found = selectors.search(alice, q="train ticket")
    assert list(found.results.ids) == [ticket.pk] and found.strong_count == 0
    assert selectors.search(alice, q="railway ticket").strong_count == 1  # held whole: no fallback
    assert not selectors.search(alice, q="zqnothing zqneither").results.ids


def test_a_real_word_is_not_read_as_a_slip_for_a_label_spelt_alike(alice):
    shelf = album(alice, title="Camera roll", category="misc")
    baboon = photo(shelf, analysis={"category": "animal", "labels": [["monkey", 0.7]]})
    lake = photo(shelf, analysis={"category": "landscape", "labels": [["lake", 0.7]]})
    for query in ("money", "cake"):  # words of the dictionary, one letter from "monkey" and "lake"
        found = selectors.search(alice, q=query)
        assert found.parsed.suggestion == "" and not set(found.results.ids) & {baboon.pk, lake.pk}, query
    assert selectors.search(alice, q="monkye").parsed.suggestion == "monkey"  # a slip still is


def test_a_colour_is_not_widened_to_the_colours_next_to_it(alice):
    shelf = album(alice, title="Camera roll", category="misc")
    lemon = photo(shelf, analysis={"category": "food", "labels": [["lemon", 0.7]]}, dominant_color="yellow")
    orange = photo(shelf, analysis={"category": "food", "labels": [["orange", 0.8]]}, dominant_color="orange")
    assert list(selectors.search(alice, q="yellow").results.ids) == [lemon.pk]
    assert orange.pk in selectors.search(alice, q="citrus").results.ids  # meanings still work for other words


def test_a_close_meaning_that_swaps_one_of_the_words_typed_is_a_sibling_not_a_match(alice):
    shelf = album(alice, title="Walks", category="misc")
    sign = photo(shelf, analysis={"category": "architecture", "labels": [["street sign", 0.7]]})
    hotel = photo(shelf, analysis={"category": "architecture", "text": "GRAND HOTEL\nreception"})
    found = selectors.search(alice, q="hotel sign")
    assert "street sign" not in [e.term for e in found.parsed.expansions]
    assert hotel.pk in found.results.ids and found.strong_count == 0  # each holds one of the words: less likely
    assert sign.pk in selectors.search(alice, q="road sign").results.ids  # a meaning for both words together
