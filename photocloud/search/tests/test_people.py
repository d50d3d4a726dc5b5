"""People words (issue 13.3): "person", "woman", "selfie", 人物, 合影… find the pictures with detected faces and the
portrait category, closest faces first, and combine with the other words of the query."""

import pytest

from photocloud.search import selectors
from tests.factories import album, photo


def _faces(*shares, width=400, height=300):
    """Face boxes covering these shares of a 400×300 picture."""
    return [[0, 0, width * share, height, 0.9] for share in shares]


@pytest.fixture
def pictures(alice):
    shelf = album(alice, title="Holidays", category="misc")
    return {
        "selfie": photo(shelf, analysis={"category": "portrait", "faces": _faces(0.35)}),
        "half": photo(shelf, analysis={"category": "landscape", "faces": _faces(0.08)}, tags=["beach"]),
        "group": photo(shelf, analysis={"category": "landscape", "faces": _faces(0.01, 0.01, 0.01)}),
        "far": photo(shelf, analysis={"category": "architecture", "faces": _faces(0.01)}),
        "portrait": photo(shelf, analysis={"category": "portrait"}),  # the classifier saw a person, no face box
        "dog": photo(shelf, analysis={"category": "animal", "labels": ["pug"]}, tags=["beach"]),
        "mango": photo(shelf, title="Mango"),  # "man" must not bring every word that begins with it first
    }


def _ranked(viewer, q) -> list:
    return list(selectors.search(viewer, q=q).results.ids)


PEOPLE = {"selfie", "half", "group", "far", "portrait"}


@pytest.mark.parametrize(
    "query",
    [
        "person",
        "people",
        "man",
        "woman",
        "child",
        "face",
        "selfie",
        "portrait",
        "photographer",  # nor a photographer or a player from anyone else
        "players",
        "人",
        "人物",
        "男人",
        "女人",
        "孩子",
        "自拍",
        "学生",
    ],
)
def test_people_words_find_faces_and_portraits_closest_first(alice, pictures, query):
    ranked = _ranked(alice, query)
    found = {key for key, picture in pictures.items() if picture.pk in ranked}
    assert found >= PEOPLE and "dog" not in found
    order = [ranked.index(pictures[key].pk) for key in ("selfie", "half", "far")]
    assert order == sorted(order)  # by the faces' share of the picture
    assert ranked.index(pictures["selfie"].pk) == 0


@pytest.mark.parametrize("query", ["group", "合影", "crowd", "team", "family"])
def test_group_words_find_several_faces(alice, pictures, query):
    assert set(_ranked(alice, query)) == {pictures["group"].pk}


def test_people_words_combine_with_other_words(alice, pictures):
    assert set(_ranked(alice, "woman beach")) == {pictures["half"].pk}
    assert set(_ranked(alice, "beach 人")) == {pictures["half"].pk}
    assert set(_ranked(alice, "pug beach")) == {pictures["dog"].pk}


def test_the_reason_says_faces(alice, pictures):
    found = selectors.search(alice, q="person")
    reasons = found.reasons(found.results[0:10])
    assert "faces in the picture" in reasons[pictures["selfie"].pk]
    assert reasons[pictures["portrait"].pk] == ["system category “Portrait”"]
