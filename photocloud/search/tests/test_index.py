"""The index follows every change (library/pipeline.py), computes dominant colours from real renditions, and can be
rebuilt."""

import io

import pytest
from django.core.management import call_command
from PIL import Image

from photocloud.library import colors, pipeline
from photocloud.library import services as library
from photocloud.library.models import Photo
from photocloud.search import selectors
from photocloud.search.models import SearchDocument
from photocloud.vision.models import PhotoAnalysis
from tests import images
from tests.factories import album, ids, photo

pytestmark = pytest.mark.usefixtures("no_meaning")


def _found(viewer, q="", **filters):
    return ids(selectors.search(viewer, q=q, filters=filters).results[0:50])


@pytest.mark.parametrize(
    "rgb, name",
    [
        ((220, 30, 30), "red"),
        ((240, 140, 20), "orange"),
        ((240, 220, 30), "yellow"),
        ((40, 160, 40), "green"),
        ((20, 160, 160), "teal"),
        ((30, 60, 200), "blue"),
        ((120, 40, 160), "purple"),
        ((240, 110, 180), "pink"),
        ((110, 65, 30), "brown"),
        ((10, 10, 10), "black"),
        ((250, 250, 250), "white"),
        ((128, 128, 128), "gray"),
    ],
)
def test_palette(rgb, name):
    assert colors.dominant_color(Image.new("RGB", (64, 64), rgb)) == name


def test_real_photographs_get_a_sensible_colour():
    assert colors.dominant_color(images.photo("rocket")) in {"blue", "teal", "gray", "white"}
    assert colors.dominant_color(images.photo("coffee")) in {"brown", "orange", "red", "white", "gray"}


def test_an_upload_is_coloured_and_indexed(api, upload, alice):
    blue = images.encode(Image.new("RGB", (300, 200), (30, 60, 200)), "JPEG", images.exif_for(make="Nikon"))
    response = upload(api, [("harbour-evening.jpg", blue)])
    assert response.status_code == 201, response.content
    picture = Photo.objects.get(owner=alice)
    assert picture.status == Photo.Status.READY and picture.dominant_color == "blue"
    assert _found(alice, "harbour") == {picture.pk}
    assert _found(alice, "harbour", color="blue", make="nikon") == {picture.pk}
    assert _found(alice, "harbour", color="red") == set()


def test_changes_are_followed(alice):
    trips = album(alice, title="Trips", category="travel")
    picture = photo(trips, tags=["beach"])
    library.update_photo(picture, tags=["lagoon"], description="calm water")
    assert _found(alice, "beach") == set()
    assert _found(alice, "lagoon") == _found(alice, "calm") == {picture.pk}

    library.update_album(trips, title="Atolls", tags=["pacific"])
    assert _found(alice, "atolls") == _found(alice, "pacific") == {picture.pk}
    assert _found(alice, "trips") == set()

    PhotoAnalysis.objects.create(
        photo=picture, features=b"\0" * 2560, labels=[["coral reef", 0.8]], text="NO FISHING", model_version="test"
    )
    pipeline.stage_done("analysis", [picture.pk])  # as vision.services.analyze_photos reports it
    assert _found(alice, "coral reef") == _found(alice, "fishing") == {picture.pk}

    library.set_category(alice, [picture], "snorkelling")  # a queryset update, announced by the service
    assert _found(alice, "snorkelling") == {picture.pk}

    elsewhere = album(alice, title="Elsewhere")
    library.delete_album(trips, move_to=elsewhere)  # pictures moved by a queryset update
    assert _found(alice, "atolls") == set() and _found(alice, "elsewhere") == {picture.pk}

    picture_id = picture.pk
    library.delete_photo(picture)
    assert _found(alice, "lagoon") == set()
    assert not SearchDocument.objects.filter(photo_id=picture_id).exists()


def test_rebuild_command_restores_the_index_and_colours(api, upload, alice):
    upload(api, [("red-door.jpg", images.encode(Image.new("RGB", (200, 200), (220, 30, 30)), "JPEG"))])
    picture = Photo.objects.get(owner=alice)
    Photo.objects.filter(pk=picture.pk).update(dominant_color="")
    SearchDocument.objects.all().delete()
    assert _found(alice, "door") == set()
    call_command("rebuild_search_index", stdout=io.StringIO())
    assert _found(alice, "door", color="red") == {picture.pk}


def test_serve_indexes_what_is_missing(alice):
    from django.apps import apps

    picture = photo(album(alice, title="Forgotten"), tags=["attic"])
    SearchDocument.objects.all().delete()
    config = apps.get_app_config("search")
    assert "1 picture(s) and 1 album(s)" in config.recover_interrupted_work()
    assert _found(alice, "attic") == {picture.pk}
    assert config.recover_interrupted_work() is None
