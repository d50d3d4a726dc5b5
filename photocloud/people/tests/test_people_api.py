"""People through the API and the pages: naming in any language, merging, moving a face, hiding, a person's
pictures, similar faces, search by name; and bad input answered with a 4xx."""

import pytest

from photocloud.people.models import Face, Person
from photocloud.people.selectors import names_in_query
from tests import factories

from .faces import identity, picture_of


@pytest.fixture
def two_people(alice, django_capture_on_commit_callbacks):
    """Anna in four pictures (one at the beach), Ben in three (the first tagged beach), indexed for search."""
    album = factories.album(alice, access="public", title="Summer")
    anna, ben = identity(), identity()
    with django_capture_on_commit_callbacks(execute=True):
        photos = {"anna": [picture_of(album, anna, title=f"anna {i}") for i in range(3)]}
        photos["ben"] = [picture_of(album, ben, title=f"ben {i}", tags=["beach"] if i == 0 else ()) for i in range(3)]
        photos["anna"].append(picture_of(album, anna, title="anna at the sea", tags=["beach"]))
    people = {name: Person.objects.get(faces__photo=photos[name][0]) for name in ("anna", "ben")}
    return photos, people


def test_people_list_name_hide_and_pictures(api, two_people):
    photos, people = two_people
    body = api.get("/api/people/").json()
    assert [p["photo_count"] for p in body["results"]] == [4, 3]
    assert body["results"][0]["cover"]["box"] and body["results"][0]["name"] == ""

    response = api.patch(f"/api/people/{people['ben'].pk}/", {"name": " 张伟 "}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "张伟"
    response = api.patch(f"/api/people/{people['anna'].pk}/", {"name": "Anna Lee"}, format="json")
    assert response.json()["name"] == "Anna Lee"

    pictures = api.get(f"/api/people/{people['anna'].pk}/photos/").json()
    # timeline order, newest first
    assert [p["title"] for p in pictures["results"]] == ["anna at the sea", "anna 2", "anna 1", "anna 0"]

    assert api.patch(f"/api/people/{people['ben'].pk}/", {"hidden": True}, format="json").json()["hidden"]
    assert [p["name"] for p in api.get("/api/people/").json()["results"]] == ["Anna Lee"]
    assert [p["name"] for p in api.get("/api/people/?hidden=true").json()["results"]] == ["张伟"]
    assert api.get("/api/people/?hidden=maybe").status_code == 400


def test_merge_and_move_a_face(api, two_people):
    photos, people = two_people
    face = Face.objects.get(photo=photos["anna"][0])
    response = api.patch(f"/api/faces/{face.pk}/", {"person": people["ben"].pk}, format="json")
    assert response.status_code == 200 and response.json()["person"] == people["ben"].pk
    assert api.get(f"/api/people/{people['ben'].pk}/").json()["photo_count"] == 4

    response = api.patch(f"/api/faces/{face.pk}/", {"person": None}, format="json")  # not this person
    assert response.json()["person"] is None and face.rejected.filter(pk=people["ben"].pk).exists()

    response = api.post(f"/api/people/{people['anna'].pk}/merge/", {"people": [people["ben"].pk]}, format="json")
    assert response.status_code == 200 and response.json()["photo_count"] == 6
    assert api.get(f"/api/people/{people['ben'].pk}/").status_code == 404

    faces = api.get(f"/api/photos/{photos['ben'][0].pk}/faces/").json()
    assert faces[0]["person"] == people["anna"].pk and faces[0]["width"] == 200


def test_bad_input_is_a_clear_4xx(api, two_people):
    _, people = two_people
    anna = people["anna"].pk
    assert api.patch(f"/api/people/{anna}/", {"name": "x" * 101}, format="json").status_code == 400
    assert api.patch(f"/api/people/{anna}/", {"hidden": "perhaps"}, format="json").status_code == 400
    assert api.post(f"/api/people/{anna}/merge/", {"people": []}, format="json").status_code == 400
    assert api.post(f"/api/people/{anna}/merge/", {"people": [999999]}, format="json").status_code == 400
    too_large = api.post(f"/api/people/{anna}/merge/", {"people": [2**63]}, format="json")  # not a server error
    assert too_large.status_code == 400 and "people" in too_large.json()
    face = Face.objects.filter(person_id=anna).first()
    assert api.patch(f"/api/faces/{face.pk}/", {"person": 999999}, format="json").status_code == 400
    assert api.patch(f"/api/faces/{face.pk}/", {"person": "x"}, format="json").status_code == 400
    assert api.get("/api/people/99999999999999999/").status_code == 404
    assert api.get("/api/faces/123456789/").status_code == 404


def test_search_by_a_persons_name_with_other_words(api, two_people, client, alice):
    photos, people = two_people
    api.patch(f"/api/people/{people['anna'].pk}/", {"name": "Anna"}, format="json")
    api.patch(f"/api/people/{people['ben'].pk}/", {"name": "张伟"}, format="json")
    titles = lambda q: sorted(r["photo"]["title"] for r in api.get("/api/search/", {"q": q}).json()["results"])  # noqa: E731
    assert titles("Anna") == ["anna 0", "anna 1", "anna 2", "anna at the sea"]
    assert titles("anna beach") == ["anna at the sea"]
    assert titles("张伟") == ["ben 0", "ben 1", "ben 2"]
    assert titles("张伟 beach") == ["ben 0"]
    reasons = api.get("/api/search/", {"q": "Anna beach"}).json()["results"][0]["reasons"]
    assert reasons[0] == "person “Anna”"
    person_filter = api.get("/api/search/", {"person": people["anna"].pk, "q": "beach"}).json()["results"]
    assert [r["photo"]["title"] for r in person_filter] == ["anna at the sea"]
    client.force_login(alice)
    page = client.get("/search/", {"q": "Anna beach"}).content.decode()
    assert "anna at the sea" in page and "ben 0" not in page


def test_similar_faces(api, two_people):
    photos, _ = two_people
    face = Face.objects.get(photo=photos["anna"][0])
    hits = api.get(f"/api/faces/{face.pk}/similar/").json()
    assert {h["photo"]["title"] for h in hits[:3]} <= {"anna 1", "anna 2", "anna at the sea"}
    assert hits[0]["similarity"] > 0.5 > hits[-1]["similarity"]


def test_pages(client, alice, two_people):
    photos, people = two_people
    client.force_login(alice)
    assert "No people yet" not in client.get("/people/").content.decode()
    response = client.post(f"/people/{people['anna'].pk}/edit/", {"name": "Анна"})
    assert response.status_code == 302 and Person.objects.get(pk=people["anna"].pk).name == "Анна"
    page = client.get(f"/people/{people['anna'].pk}/").content.decode()
    assert "Анна" in page and "4 pictures" in page
    client.post(f"/people/{people['anna'].pk}/edit/", {"hidden": "1"})
    assert "Анна" not in client.get("/people/").content.decode()
    assert "Анна" in client.get("/people/?hidden=1").content.decode()
    assert client.post(f"/people/{people['anna'].pk}/merge/", {"other": people["ben"].pk}).status_code == 302
    assert Person.objects.get(pk=people["anna"].pk).faces.count() == 7
    photo_page = client.get(photos["ben"][0].get_absolute_url()).content.decode()
    assert "Анна" in photo_page and "face-box" in photo_page
    face = Face.objects.get(photo=photos["ben"][0])
    assert client.post(f"/people/faces/{face.pk}/move/", {"person": "new"}).status_code == 302
    assert Face.objects.get(pk=face.pk).person_id != people["anna"].pk
    # Bad input: a page with the site's layout that says what is wrong, not a bare line of text.
    for url, data, message in [
        (f"/people/faces/{face.pk}/move/", {"person": "nobody"}, "Choose a person, a new person or nobody."),
        (f"/people/faces/{face.pk}/move/", {"person": "999999"}, "No such person."),
        (f"/people/{people['anna'].pk}/edit/", {"name": "x" * 101}, "Name: Ensure this value has at most 100"),
        (f"/people/{people['anna'].pk}/merge/", {"other": "999999"}, "Choose one of your people to merge with."),
        (f"/people/{people['anna'].pk}/merge/", {"other": people["anna"].pk}, "cannot be merged with itself"),
    ]:
        response = client.post(url, data)
        assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
        assert message in response.content.decode() and 'id="header-q"' in response.content.decode()
    flooded = client.post(f"/people/{people['anna'].pk}/edit/", {f"f{n}": "x" for n in range(1001)})  # Django's 400
    assert flooded.status_code == 400 and "The request could not be read." in flooded.content.decode()
    assert client.get(f"/people/faces/{face.pk}/similar/").status_code == 200


def test_empty_people_page(client, alice):
    client.force_login(alice)
    assert "No people yet" in client.get("/people/").content.decode()


def test_a_person_without_a_cover_shows_their_best_face_outside_the_trash(alice):
    """selectors.shown_cover walks the person's faces best first (index face_person_quality) to the first whose
    picture is outside the Trash."""
    from photocloud.library import trash
    from photocloud.people import selectors
    from photocloud.people.models import Face, Person
    from tests import factories

    album = factories.album(alice, access="private")
    person = Person.objects.create(owner=alice, name="Anna")
    faces = {
        quality: Face.objects.create(
            owner=alice,
            photo=factories.photo(album),
            position=0,
            x=0,
            y=0,
            width=10,
            height=10,
            score=0.9,
            quality=quality,
            embedding=b"\0" * 512,
            person=person,
        )
        for quality in (0.5, 0.9, 0.7)
    }
    assert selectors.shown_cover(person) == faces[0.9]
    trash.trash_photos(alice, [faces[0.9].photo_id])
    assert selectors.shown_cover(person) == faces[0.7]


def test_search_by_one_word_of_a_persons_name(api, two_people, alice):
    """People are named in full ("Anna Lee", "Ben 张伟") and searched for by one word of it; a word two names share
    names neither (choosing one would hide the other's pictures), and a name in full still wins."""
    photos, people = two_people
    titles = lambda q: sorted(r["photo"]["title"] for r in api.get("/api/search/", {"q": q}).json()["results"])  # noqa: E731
    api.patch(f"/api/people/{people['anna'].pk}/", {"name": "Anna Lee"}, format="json")
    api.patch(f"/api/people/{people['ben'].pk}/", {"name": "Ben 张伟"}, format="json")
    anna = ["anna 0", "anna 1", "anna 2", "anna at the sea"]
    assert titles("Anna") == titles("anna lee") == titles("LEE") == anna
    assert titles("anna beach") == ["anna at the sea"]
    assert titles("张伟") == titles("ben") == ["ben 0", "ben 1", "ben 2"]
    assert titles("张伟 beach") == ["ben 0"]
    reasons = api.get("/api/search/", {"q": "Lee beach"}).json()["results"][0]["reasons"]
    assert reasons[0] == "person “Anna Lee”"
    api.patch(f"/api/people/{people['ben'].pk}/", {"name": "Ben Lee"}, format="json")
    assert titles("Ben") == ["ben 0", "ben 1", "ben 2"]
    assert names_in_query(alice, "Lee beach") == ([], "Lee beach")
