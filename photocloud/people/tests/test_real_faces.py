"""With the real models (YuNet + SFace) on real photographs: the same man on three occasions becomes one person,
two other people stay apart from him, and the face boxes land on the faces."""

from pathlib import Path

import pytest

from photocloud.library import services as library
from photocloud.library.models import Photo
from photocloud.people import selectors
from photocloud.people.models import Face, Person
from tests import images

pytestmark = [pytest.mark.vision, pytest.mark.usefixtures("vision_on")]
DATA = Path(__file__).parent / "data"


def test_the_same_person_in_different_photos_is_one_person_and_others_stay_apart(alice, api, upload):
    album = library.create_album(alice, title="Press", category="people", access="public")
    files = [
        (f"{name}.jpg", (DATA / f"{name}.jpg").read_bytes()) for name in ("obama-1", "obama-2", "obama-3", "biden")
    ]
    files.append(("astronaut.jpg", images.jpeg("astronaut")))
    response = upload(api, files, album)
    assert response.status_code in (200, 201), response.json()
    photos = {Path(p.original_name).stem: p for p in Photo.objects.filter(owner=alice)}

    assert Face.objects.count() == 5  # one face per picture, each with its identity
    (person,) = Person.objects.all()  # only the man seen three times has gathered into a person
    in_person = {face.photo_id for face in person.faces.all()}
    assert in_person == {photos[name].pk for name in ("obama-1", "obama-2", "obama-3")}
    assert Face.objects.get(photo=photos["biden"]).person_id is None
    assert Face.objects.get(photo=photos["astronaut"]).person_id is None

    # The box sits on the face: the astronaut's face is in the upper middle of the 512 x 512 picture.
    face = Face.objects.get(photo=photos["astronaut"])
    assert 150 < face.x + face.width / 2 < 250 and 50 < face.y + face.height / 2 < 180

    response = api.patch(f"/api/people/{person.pk}/", {"name": "巴拉克·奥巴马"}, format="json")
    assert response.status_code == 200
    found = api.get("/api/search/", {"q": "巴拉克·奥巴马"}).json()["results"]
    assert {r["photo"]["id"] for r in found} == {str(pk) for pk in in_person}

    similar = selectors.similar_faces(alice, Face.objects.get(photo=photos["obama-1"]))
    assert {photo.pk for photo, _ in similar[:2]} == {photos["obama-2"].pk, photos["obama-3"].pk}
