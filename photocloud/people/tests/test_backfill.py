"""Pictures analysed before People existed get their faces found and grouped by background work that starts by
itself (PeopleConfig.recover_interrupted_work, which `photocloud serve` calls at start and every few minutes), and
the People page says how many pictures are still being looked at. Real photographs, real models."""

from pathlib import Path

import pytest
from django.apps import apps

from photocloud.library import services as library
from photocloud.library.models import Photo
from photocloud.people import selectors
from photocloud.people.models import Face, Person
from photocloud.vision.models import PhotoAnalysis

pytestmark = [pytest.mark.vision, pytest.mark.usefixtures("vision_on")]
DATA = Path(__file__).parent / "data"


def test_faces_of_pictures_analysed_before_people_are_found_by_themselves(alice, bob, api, upload, client):
    album = library.create_album(alice, title="Press", category="people", access="public")
    files = [(f"{n}.jpg", (DATA / f"{n}.jpg").read_bytes()) for n in ("obama-1", "obama-2", "obama-3", "biden")]
    assert upload(api, files, album).status_code in (200, 201)
    photos = {Path(p.original_name).stem: p for p in Photo.objects.filter(owner=alice)}
    # As a library analysed before People: two pictures analysed before face identities were stored, two with
    # identities but no Face rows (the people app came later); no people.
    Person.objects.all().delete()
    Face.objects.all().delete()
    PhotoAnalysis.objects.filter(photo__in=[photos["obama-1"], photos["biden"]]).update(face_identities=None)
    assert selectors.faces_to_find(alice.pk) == 4 and selectors.faces_to_find(bob.pk) == 0
    assert selectors.faces_to_find(alice.pk, at_most=2) == 3  # counting stopped: "more than 2"
    assert selectors.faces_to_find(alice.pk, at_most=4) == 4

    client.force_login(alice)
    page = client.get("/people/").content.decode()
    assert "Finding faces in 4 pictures" in page and "No people yet" in page

    report = apps.get_app_config("people").recover_interrupted_work()  # the immediate task backend runs it now
    assert report == "Queued finding faces in 4 picture(s) analysed before People."

    assert selectors.faces_to_find(alice.pk) == 0
    assert Face.objects.filter(owner=alice).count() == 4
    (person,) = Person.objects.filter(owner=alice)
    assert set(person.faces.values_list("photo_id", flat=True)) == {
        photos[n].pk for n in ("obama-1", "obama-2", "obama-3")
    }
    assert Face.objects.get(photo=photos["biden"]).person_id is None
    page = client.get("/people/").content.decode()
    assert "Finding faces" not in page and person.get_absolute_url() in page

    assert apps.get_app_config("people").recover_interrupted_work() is None  # nothing left: nothing queued


def test_nothing_is_queued_while_vision_is_off(alice, settings):
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "VISION": False}
    assert apps.get_app_config("people").recover_interrupted_work() is None


def test_a_backfill_under_way_is_not_queued_twice(alice, settings):
    """With the database task backend, the recovery every few minutes must not pile up backfills behind one that
    is queued or running: the work is one chain of batches."""
    from django.utils import timezone
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from photocloud.people.tasks import find_faces
    from tests import factories

    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "VISION": True}
    photo = factories.photo(factories.album(alice))
    PhotoAnalysis.objects.create(photo=photo, features=b"", faces=[], face_identities=None, model_version="old")
    assert selectors.faces_to_find(alice.pk) == 1
    DBTaskResult.objects.create(
        status=TaskResultStatus.RUNNING,
        args_kwargs={"args": [], "kwargs": {}},
        task_path=find_faces.module_path,
        backend_name="default",
        queue_name="default",
        run_after=timezone.now(),
        exception_class_path="",
        traceback="",
    )
    assert apps.get_app_config("people").recover_interrupted_work() is None
    assert selectors.faces_to_find(alice.pk) == 1  # left to the backfill under way


def test_a_picture_that_cannot_be_analysed_again_does_not_stall_the_backfill(alice, settings):
    """Its stored file is gone: it is left without faces (and logged), and the backfill ends instead of coming back
    to it every few minutes."""
    from tests import factories

    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "VISION": True}
    photo = factories.photo(factories.album(alice), analysis={"faces": [[10, 10, 50, 60, 0.9]]})  # no file stored
    PhotoAnalysis.objects.filter(photo=photo).update(face_identities=None)
    assert selectors.faces_to_find(alice.pk) == 1

    assert apps.get_app_config("people").recover_interrupted_work().startswith("Queued finding faces in 1 picture")
    assert selectors.faces_to_find(alice.pk) == 0
    analysis = PhotoAnalysis.objects.get(photo=photo)
    assert analysis.faces == [] and bytes(analysis.face_identities) == b""
    assert not Face.objects.exists()


def test_a_picture_whose_faces_give_no_face_row_does_not_make_the_backfill_loop(alice, settings):
    """Boxes without identities (an analysis written half by an old version) give no Face row, so the picture stays
    in the backlog: the batch reports no progress and the task stops queuing itself, while a picture it can handle
    in the same batch still counts as progress."""
    from photocloud.people import services
    from tests import factories

    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "VISION": True}
    stuck = factories.photo(factories.album(alice), analysis={"faces": [[10, 10, 50, 60, 0.9]]})
    PhotoAnalysis.objects.filter(photo=stuck).update(face_identities=b"")
    assert selectors.faces_to_find(alice.pk) == 1
    assert services.find_faces_batch() is False
    assert selectors.faces_to_find(alice.pk) == 1

    gone = factories.photo(factories.album(alice), analysis={"faces": [[10, 10, 50, 60, 0.9]]})  # no file stored
    PhotoAnalysis.objects.filter(photo=gone).update(face_identities=None)
    assert selectors.faces_to_find(alice.pk) == 2
    assert services.find_faces_batch() is True  # progress (gone left the backlog) and a picture remains: again
    assert selectors.faces_to_find(alice.pk) == 1
    assert services.find_faces_batch() is False  # only the stuck picture: no progress, the chain ends
