"""Faces become people: incremental assignment, new people once enough alike faces wait, the full pass, the owner's
corrections kept, and the Trash."""

import numpy as np
import pytest
from django.core.management import call_command

from photocloud.library import services as library
from photocloud.library import trash
from photocloud.people import clustering, selectors, services
from photocloud.people.models import Face, FaceGrouping, Person
from tests import factories

from .faces import identity, looking_like, picture_of


@pytest.fixture
def album(alice):
    return factories.album(alice, access="public")


def people_by_size(user):
    return [(person.photo_count, person) for person in selectors.people_of(user, hidden=None)]


def test_alike_faces_gather_into_a_person_only_once_enough_of_them_wait(album, alice):
    anna = identity()
    picture_of(album, anna)
    picture_of(album, anna)
    assert not Person.objects.exists()  # two faces: a stranger seen twice stays unnamed
    picture_of(album, anna)
    (person,) = Person.objects.all()
    assert person.faces.count() == 3 and person.cover_id in set(person.faces.values_list("pk", flat=True))
    picture_of(album, anna)  # a later face joins the person directly (nearest centroid)
    assert person.faces.count() == 4


def test_different_people_stay_apart_and_groups_follow_who_is_in_the_picture(album, alice):
    anna, ben = identity(), identity()
    for _ in range(3):
        picture_of(album, anna)
        picture_of(album, ben)
    together = picture_of(album, anna, ben)
    counts = sorted(count for count, _ in people_by_size(alice))
    assert counts == [4, 4]
    assert len({face.person_id for face in Face.objects.filter(photo=together)}) == 2


def test_people_are_per_owner(album, alice, bob):
    anna = identity()
    bobs_album = factories.album(bob)
    for _ in range(3):
        picture_of(album, anna)
        picture_of(bobs_album, anna)
    assert Person.objects.filter(owner=alice).count() == 1 and Person.objects.filter(owner=bob).count() == 1
    assert {f.owner_id for f in Person.objects.get(owner=bob).faces.all()} == {bob.pk}


def test_nothing_is_left_unassigned_as_the_library_grows(album, alice, monkeypatch):
    """The full pass runs after TIDY_EVERY new faces and regroups everything; no index sized in advance."""
    monkeypatch.setattr(services, "TIDY_EVERY", 20)
    people = [identity() for _ in range(12)]
    for _ in range(6):
        for person in people:
            picture_of(album, person)
    assert Face.objects.filter(person__isnull=True).count() == 0
    assert sorted(count for count, _ in people_by_size(alice)) == [6] * 12
    assert FaceGrouping.objects.get(owner=alice).faces_at_tidy >= 40  # the full pass ran on the way


def test_owner_corrections_survive_the_full_pass(album, alice):
    anna, ben = identity(), identity()
    for _ in range(3):
        picture_of(album, anna)
        picture_of(album, ben)
    first, second = (person for _, person in people_by_size(alice))
    services.rename(first, "  Anna   Lee ")
    assert Person.objects.get(pk=first.pk).name == "Anna Lee"
    face = first.faces.first()
    services.move_face(face, None)  # not this person
    services.tidy(alice.pk)
    face.refresh_from_db()
    assert face.person_id is None and face.rejected.filter(pk=first.pk).exists()
    services.move_face(face, second)  # placed by hand on someone else: kept there by the full pass
    services.tidy(alice.pk)
    face.refresh_from_db()
    assert face.person_id == second.pk and face.source == Face.Source.OWNER


def test_merge_and_new_person(album, alice):
    anna = identity()
    for _ in range(3):
        picture_of(album, anna)
    (person,) = Person.objects.all()
    face = person.faces.first()
    other = services.move_face(face, None, new_person=True)
    assert other.faces.count() == 1 and person.faces.count() == 2
    services.rename(other, "张伟")
    merged = services.merge(person, [other])
    assert merged.name == "张伟" and merged.faces.count() == 3 and not Person.objects.filter(pk=other.pk).exists()


def test_trash_takes_faces_out_of_people_and_an_empty_person_disappears(album, alice):
    anna = identity()
    photos = [picture_of(album, anna) for _ in range(3)]
    (person,) = Person.objects.all()
    trash.trash_photos(alice, [photos[0].pk])
    assert selectors.person_of(alice, person.pk).photo_count == 2
    assert photos[0].pk not in {p.pk for p in selectors.photos_of(alice, person)}
    trash.trash_photos(alice, [p.pk for p in photos[1:]])
    assert selectors.person_of(alice, person.pk) is None and not list(selectors.people_of(alice))
    trash.restore(alice, photo_ids=[p.pk for p in photos])
    assert selectors.person_of(alice, person.pk).photo_count == 3
    for photo in photos:
        library.delete_photo(photo)
    services.tidy(alice.pk)
    assert not Person.objects.exists() and not Face.objects.exists()


def test_gather_is_dbscan_on_cosine():
    centres = [identity() for _ in range(5)]
    faces = np.array([looking_like(c) for c in centres for _ in range(4)] + [identity() for _ in range(6)])
    labels = clustering.gather(faces)
    assert len(set(labels[:20])) == 5 and all(len(set(labels[i : i + 4])) == 1 for i in range(0, 20, 4))
    assert (labels[20:] == -1).all()


def test_cluster_faces_command_backfills_pictures_analysed_before_people(album, alice):
    anna = identity()
    for _ in range(3):
        picture_of(album, anna, run=False)  # analysed, but no faces made yet (as after an upgrade)
    assert not Face.objects.exists()
    call_command("cluster_faces")
    assert Face.objects.count() == 3 and Person.objects.get().faces.count() == 3


def test_the_full_pass_groups_a_library_from_nothing_a_chunk_at_a_time(album, alice, monkeypatch):
    """People formed in one chunk take the faces of the next chunks: one person per identity, not one per chunk."""
    monkeypatch.setattr(clustering, "CHUNK", 7)
    people = [identity() for _ in range(4)]
    for _ in range(6):
        for person in people:
            picture_of(album, person, run=False)
    call_command("cluster_faces")
    assert sorted(count for count, _ in people_by_size(alice)) == [6, 6, 6, 6]
