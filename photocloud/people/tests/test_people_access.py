"""People are private to the owner of the pictures: the access matrix over every route.

alice's pictures are public, so every viewer may see them; her people, their names and the face boxes must still
reach nobody but her: not a follower (bob), another user (carol) or an anonymous visitor, by page, API or search.
"""

import pytest
from rest_framework.test import APIClient

from photocloud.people.models import Face, Person
from photocloud.social import services as social
from tests import factories

from .faces import identity, picture_of

NAME = "Zephyrine"  # a word nowhere else in the pictures: finding it means the name leaked
VIEWERS = ["owner", "follower", "other", "anonymous"]


@pytest.fixture
def world(alice, bob, make_user, django_capture_on_commit_callbacks):
    carol = make_user("carol")
    social.follow(bob, alice)
    album = factories.album(alice, access="public", title="Open album")
    anna = identity()
    with django_capture_on_commit_callbacks(execute=True):
        photos = [picture_of(album, anna, title=f"open {index}") for index in range(3)]
    person = Person.objects.get()
    person.name = NAME
    person.save()
    return {"owner": alice, "follower": bob, "other": carol, "anonymous": None}, photos, person


def client_of(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("viewer", VIEWERS)
def test_people_and_faces_reach_only_the_owner(world, viewer):
    users, photos, person = world
    client = client_of(users[viewer])
    face = Face.objects.filter(person=person).first()
    owner = viewer == "owner"
    denied = 401 if viewer == "anonymous" else 404  # others' people and faces do not exist for them
    api_reads = [
        f"/api/people/{person.pk}/",
        f"/api/people/{person.pk}/photos/",
        f"/api/faces/{face.pk}/",
        f"/api/faces/{face.pk}/similar/",
        f"/api/photos/{photos[0].pk}/faces/",
    ]
    for url in api_reads:
        response = client.get(url)
        assert response.status_code == (200 if owner else denied), url
        assert owner or NAME not in response.content.decode()
    listed = client.get("/api/people/")
    assert listed.status_code == (200 if viewer != "anonymous" else 401)
    assert (NAME in listed.content.decode()) is owner
    if not owner:
        for method, url, body in [
            ("patch", f"/api/people/{person.pk}/", {"name": "Taken"}),
            ("post", f"/api/people/{person.pk}/merge/", {"people": [person.pk]}),
            ("patch", f"/api/faces/{face.pk}/", {"person": None}),
        ]:
            assert getattr(client, method)(url, body, format="json").status_code == denied
        for url, body in [
            (f"/people/{person.pk}/edit/", {"name": "Taken"}),
            (f"/people/{person.pk}/merge/", {"other": person.pk}),
            (f"/people/faces/{face.pk}/move/", {"person": "none"}),
        ]:
            assert client.post(url, body).status_code in (302, 404) if viewer == "anonymous" else 404
        person.refresh_from_db()
        assert person.name == NAME and Face.objects.get(pk=face.pk).person_id == person.pk

    pages = [f"/people/{person.pk}/", "/people/", f"/people/faces/{face.pk}/similar/"]
    for url in pages:
        response = client.get(url)
        if owner:
            assert response.status_code == 200 and (NAME in response.content.decode() or "similar" in url)
        elif viewer == "anonymous":
            assert response.status_code == 302  # to the log-in page
        else:
            assert response.status_code in (200, 404) and NAME not in response.content.decode()

    picture = client.get(photos[0].get_absolute_url()).content.decode()
    assert (NAME in picture) is owner and ("face-box" in picture) is owner
    assert NAME not in client.get(f"/api/photos/{photos[0].pk}/").content.decode()


@pytest.mark.parametrize("viewer", VIEWERS)
def test_search_never_matches_someone_elses_person(world, viewer):
    users, photos, person = world
    client = client_of(users[viewer])
    found = client.get("/api/search/", {"q": NAME}).json()
    assert len(found["results"]) == (3 if viewer == "owner" else 0)
    assert NAME.lower() not in str(found["facets"]).lower() and NAME not in str(found.get("suggestion"))
    by_id = client.get("/api/search/", {"person": person.pk}).json()
    assert len(by_id["results"]) == (3 if viewer == "owner" else 0)
    # Only the owner's pictures hold both words; for anyone else they may come up by "open" alone, as less likely.
    page = client.get("/search/", {"q": f"{NAME} open"}).content.decode()
    strong = page.split('data-testid="less-likely"')[0]
    assert ("open 0" in strong) is (viewer == "owner")
