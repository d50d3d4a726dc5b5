"""Where the system category shows: as a fact when confident, as a "maybe" hint when not, in themes only when
confident and when neither the picture nor its album has a category; and how automatic groups are named."""

from collections import Counter

from photocloud.library import selectors, tallies
from photocloud.vision import lookalikes
from tests.factories import album as make_album
from tests.factories import ids
from tests.factories import photo as make_photo


def _seen(album, system, confidence, **fields):
    return make_photo(album, analysis={"category": system, "confidence": confidence}, **fields)


def test_themes_take_the_confident_system_category_of_pictures_without_one(alice):
    plain, holidays = make_album(alice, category=""), make_album(alice, category="landscape")
    sure = _seen(plain, "food", 0.92)
    unsure = _seen(plain, "food", 0.45)  # a hint only
    _seen(plain, "", 0.2)  # none of the seven
    own = _seen(plain, "food", 0.95, category="portrait")  # the user's category wins
    inherited = _seen(holidays, "animal", 0.99)  # so does the album's

    assert {row["theme"]: row["count"] for row in selectors.themes(alice)} == {
        "food": 1,
        "portrait": 1,
        "landscape": 1,
    }
    assert ids(selectors.theme_photos(alice, "food")) == {sure.pk}
    assert ids(selectors.theme_photos(alice, "landscape")) == {inherited.pk}
    assert ids(selectors.theme_photos(alice, "portrait")) == {own.pk}
    assert unsure.pk not in ids(selectors.theme_photos(alice, "food"))


def test_the_picture_page_shows_a_low_confidence_category_as_a_hint(client, alice):
    album = make_album(alice, category="")
    sure, unsure, none = _seen(album, "food", 0.9), _seen(album, "food", 0.45), _seen(album, "", 0.2)
    client.force_login(alice)
    page = client.get(sure.get_absolute_url()).content.decode()
    assert "Food</span> <small>90% sure" in page and "Maybe" not in page
    page = client.get(unsure.get_absolute_url()).content.decode()
    assert "Maybe <span" in page and "food</span> <small>45% sure" in page
    assert "None of the usual categories" in client.get(none.get_absolute_url()).content.decode()


def _group(size, tags, categories=()):
    return lookalikes._Group(members=list(range(size)), tags=Counter(tags), categories=Counter(categories))


def test_automatic_groups_read_naturally():
    portraits = _group(10, {"windsor tie": 3.0, "suit": 2.5}, {"portrait": 9})
    dogs = _group(10, {"beagle": 2.0, "basset": 1.5, "golden retriever": 1.5}, {"animal": 10})
    cups = _group(10, {"espresso": 6.0}, {"food": 10})
    mixed = _group(10, {"monitor": 1.0, "desk": 0.8}, {"architecture": 7})
    unknown = _group(10, {"monitor": 1.0, "desk": 0.8})
    assert lookalikes._names([portraits, dogs, cups, mixed, unknown]) == [
        "Portrait",
        "dog",
        "espresso",
        "Architecture",
        "monitor",
    ]


def test_the_api_says_whether_the_system_category_is_confident(alice, api):
    album = make_album(alice, category="")
    sure, unsure = _seen(album, "food", 0.9), _seen(album, "food", 0.45)
    assert api.get(f"/api/photos/{sure.pk}/").json()["analysis"]["confident"] is True
    body = api.get(f"/api/photos/{unsure.pk}/").json()["analysis"]
    assert body["category"] == "food" and body["confident"] is False


def test_pictures_outside_any_album_count_and_show_in_themes_alike(alice):
    from photocloud.library.models import AlbumPlacement, Photo

    plain = make_album(alice, category="")
    own, seen = make_photo(plain, category="portrait"), _seen(plain, "food", 0.92)
    AlbumPlacement.objects.filter(photo__in=[own, seen]).delete()
    with tallies.changing([own.pk, seen.pk]):
        Photo.objects.filter(pk__in=[own.pk, seen.pk]).update(album=None)  # uploaded into the library, no album

    assert {row["theme"]: row["count"] for row in selectors.themes(alice)} == {"portrait": 1, "food": 1}
    assert ids(selectors.theme_photos(alice, "portrait")) == {own.pk}
    assert ids(selectors.theme_photos(alice, "food")) == {seen.pk}
