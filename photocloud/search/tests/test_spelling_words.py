"""Spelling help over every word of the viewer's pictures, not only the labels: a slip in a word that only text read
from a picture, a title or an album holds ("recipt" for a receipt that reads "Receipt") still finds it, and the
correction is looked for in the other language too. A word only someone else's private picture holds is never
proposed."""

import pytest
from rest_framework.test import APIClient

from photocloud.search import backends, selectors
from photocloud.search.query import one_slip_away, parse
from tests.factories import album, photo


def _search(user, q: str) -> dict:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client.get("/api/search/", {"q": q}).json()


def _titles(body: dict) -> set[str]:
    return {result["photo"]["title"] for result in body["results"]}


def test_one_slip_away_drops_adds_changes_and_swaps_a_letter():
    slips = one_slip_away("recipt")
    assert {"receipt", "recipe", "recpit", "recip"} <= set(slips)
    assert "recipt" not in slips and "receipts" not in slips
    assert len(slips) == len(set(slips))


@pytest.mark.django_db
def test_present_terms_probes_the_index_for_each_word(alice):
    photo(album(alice, "private"), analysis={"text": "GREEN MARKET Receipt 88213"})
    many = one_slip_away("recipt") + one_slip_away("marker")  # more than one statement's share
    assert len(many) > backends.PRESENT_TERMS_PER_QUERY
    assert sorted(backends.present_terms(many)) == ["market", "receipt"]
    assert backends.present_terms(["nothing", "recipt"]) == []


@pytest.mark.django_db
def test_a_slip_in_a_word_of_the_text_read_from_a_picture_finds_it_in_both_languages(alice):
    mine = album(alice, "private")
    photo(mine, title="shop", analysis={"text": "GREEN MARKET SUPERSTORE Receipt 88213 total 12.50"})
    photo(mine, title="supermarket", analysis={"text": "华联超市 购物小票 牛奶 8.50"})
    photo(mine, title="other", analysis={"text": "Meeting notice: room 3"})
    body = _search(alice, "recipt")
    assert body["suggestion"] == "receipt"
    assert _titles(body) == {"shop", "supermarket"}  # 小票 is the glossary's Chinese for receipt


@pytest.mark.django_db
def test_the_word_most_pictures_hold_is_the_correction(alice):
    mine = album(alice, "private")
    for n in range(3):
        photo(mine, title=f"till {n}", analysis={"text": "Receipt no. 4"})
    photo(mine, title="cookbook", description="A recipe for soup")
    assert _search(alice, "recipt")["suggestion"] == "receipt"  # "recipe" is one slip away as well


@pytest.mark.django_db
def test_a_word_the_pictures_hold_is_not_corrected(alice):
    photo(album(alice, "private"), title="label", analysis={"text": "Fosters lager"})
    photo(album(alice, "private"), tags=["foster"])  # a label one letter off: not a correction of a held word
    body = _search(alice, "fosters")
    assert body["suggestion"] == ""
    assert "label" in _titles(body)


@pytest.mark.django_db
def test_album_words_are_spelt_for_the_viewers_of_the_album(alice, bob):
    shots = album(alice, "public", title="Screenshots of my phone")
    photo(shots, title="home screen")
    assert _search(bob, "screnshots")["suggestion"] == "screenshots"
    assert _titles(_search(bob, "screnshots")) == {"home screen"}


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["stranger", "anonymous"])
def test_a_word_only_a_private_picture_holds_is_never_proposed(alice, bob, who):
    photo(album(alice, "private"), title="diagnosis", analysis={"text": "Oncology report, confidential"})
    viewer = bob if who == "stranger" else None
    body = _search(viewer, "oncolgy")
    assert body["suggestion"] == "" and body["results"] == []
    assert _search(alice, "oncolgy")["suggestion"] == "oncology"


@pytest.mark.django_db
def test_held_words_counts_only_what_the_viewer_may_see(alice, bob):
    photo(album(alice, "private"), analysis={"text": "receipt"})
    photo(album(alice, "public"), analysis={"text": "receipt"})
    assert selectors.held_words(alice)(["receipt", "recipe"]) == {"receipt": 2}
    assert selectors.held_words(bob)(["receipt"]) == {"receipt": 1}
    assert parse("recipt").suggestion == ""  # without `held`, only labels are spelt
