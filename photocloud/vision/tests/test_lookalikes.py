"""Look-alikes: automatic albums of pictures that look like each other, grouped from synthetic features (and once
from the real models)."""

from collections import Counter

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from photocloud.library import services as library
from photocloud.library.models import Photo
from photocloud.vision import lookalikes
from photocloud.vision.models import ClusteringState, PhotoAnalysis, PhotoCluster
from tests import images
from tests.factories import album as make_album
from tests.factories import photo as make_photo

GROUPS = {"golden retriever": 0, "espresso": 1, "seashore": 2}


def _pictures(owner, tag: str, count: int, seed: int = 0) -> list:
    """`count` analysed pictures of one look: features around the tag's own centre, tagged with it first."""
    rng = np.random.default_rng(seed)
    centre = np.random.default_rng(100 + GROUPS[tag]).random(1280) * 4
    album = make_album(owner, access="private")
    made = []
    for _ in range(count):
        picture = make_photo(album, features=centre + rng.normal(0, 0.3, 1280))
        labels = [[tag, 0.7], ["other thing", 0.3 * float(rng.random())]]
        PhotoAnalysis.objects.filter(photo=picture).update(labels=labels, category="animal")
        made.append(picture)
    return made


def _grouped(owner) -> dict[str, set]:
    return {
        cluster.name: {photo.pk for photo in lookalikes.photos(owner, cluster)} for cluster in lookalikes.albums(owner)
    }


def test_three_looks_become_three_albums_named_by_their_tag(alice):
    made = {tag: _pictures(alice, tag, 10, seed) for seed, tag in enumerate(GROUPS)}
    created = lookalikes.group(alice)
    assert _grouped(alice) == {tag: {photo.pk for photo in pictures} for tag, pictures in made.items()}
    for cluster in created:
        assert cluster.cover_id in {photo.pk for photo in made[cluster.name]}
    assert [cluster.photo_count for cluster in lookalikes.albums(alice)] == [10, 10, 10]

    # Regrouping replaces the albums; a deleted picture leaves its album at once.
    made["espresso"][0].delete()
    lookalikes.group(alice)
    assert PhotoCluster.objects.filter(owner=alice).count() == 3
    assert {c.name: c.photo_count for c in lookalikes.albums(alice)}["espresso"] == 9


def test_an_album_keeps_its_link_across_regroupings(client, alice):
    made = {tag: _pictures(alice, tag, 10, seed) for seed, tag in enumerate(GROUPS)}
    before = {cluster.name: cluster.pk for cluster in lookalikes.group(alice)}
    assert set(before) == set(GROUPS)
    # More pictures of one look arrive, one of another goes, and a third look goes entirely.
    _pictures(alice, "golden retriever", 4, seed=7)
    made["espresso"][0].delete()
    Photo.objects.filter(pk__in=[photo.pk for photo in made["seashore"]]).delete()
    after = {cluster.name: cluster.pk for cluster in lookalikes.group(alice)}
    assert after == {tag: before[tag] for tag in ("golden retriever", "espresso")}
    client.force_login(alice)
    page = client.get(f"/library/themes/lookalikes/{before['golden retriever']}/")
    assert page.status_code == 200 and len(page.context["page"]) == 14
    # The look that is gone took its album with it: its link answers 404.
    assert not PhotoCluster.objects.filter(pk=before["seashore"]).exists()
    assert client.get(f"/library/themes/lookalikes/{before['seashore']}/").status_code == 404


def test_a_look_too_small_is_left_out_and_names_do_not_repeat(alice):
    _pictures(alice, "golden retriever", 12)
    _pictures(alice, "espresso", 2, seed=1)
    assert list(_grouped(alice)) == []  # nothing grouped yet
    lookalikes.group(alice)
    assert list(_grouped(alice)) == ["golden retriever"]
    assert lookalikes._names([lookalikes._Group(tags=Counter(cup=1)), lookalikes._Group(tags=Counter(cup=2))]) == [
        "cup",
        "cup (2)",
    ]


def test_nobody_sees_another_users_lookalikes(client, alice, bob):
    _pictures(alice, "espresso", 8)
    bobs = _pictures(bob, "seashore", 8, seed=1)
    lookalikes.group(alice)
    (theirs,) = lookalikes.group(bob)
    assert list(_grouped(alice)) == ["espresso"]
    assert _grouped(bob) == {"seashore": {photo.pk for photo in bobs}}

    client.force_login(alice)
    page = client.get("/library/themes/").content.decode()
    assert "Espresso" in page and "Seashore" not in page
    assert client.get(f"/library/themes/lookalikes/{theirs.pk}/").status_code == 404
    assert lookalikes.photos(alice, theirs).count() == 0
    client.logout()
    assert client.get(f"/library/themes/lookalikes/{theirs.pk}/").status_code == 302  # to the log-in page


def test_the_album_page_is_paginated(client, alice, settings):
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "PAGE_SIZE": 4}
    pictures = _pictures(alice, "seashore", 9)
    (cluster,) = lookalikes.group(alice)
    client.force_login(alice)
    url = f"/library/themes/lookalikes/{cluster.pk}/"
    pages = [client.get(url, {"page": number}) for number in (1, 2, 3)]
    assert [len(response.context["page"]) for response in pages] == [4, 4, 1]
    shown = [photo.pk for response in pages for photo in response.context["page"]]
    assert sorted(shown) == sorted(photo.pk for photo in pictures)
    assert "Seashore" in pages[0].content.decode()
    more = client.get(url, {"page": 2}, headers={"HX-Request": "true"})  # infinite scroll: grid items only
    assert "<h1>" not in more.content.decode()


def test_empty_state(client, alice):
    make_photo(make_album(alice))  # not analysed
    assert lookalikes.group(alice) == []
    client.force_login(alice)
    assert "No look-alikes yet" in client.get("/library/themes/").content.decode()


def test_new_pictures_regroup_once_enough_arrived(alice, django_capture_on_commit_callbacks):
    _pictures(alice, "golden retriever", 10)
    with django_capture_on_commit_callbacks(execute=True):
        assert lookalikes.queue_if_stale(alice)  # the first 10: grouped in the background (inline in tests)
    assert list(_grouped(alice)) == ["golden retriever"]
    assert ClusteringState.objects.get(owner=alice).queued_at is None

    _pictures(alice, "espresso", lookalikes.MIN_PICTURES - 1, seed=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert not lookalikes.queue_if_stale(alice)  # not enough new pictures to be worth it
    assert list(_grouped(alice)) == ["golden retriever"]

    _pictures(alice, "espresso", 1, seed=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert lookalikes.queue_if_stale(alice)
    assert sorted(_grouped(alice)) == ["espresso", "golden retriever"]


def test_a_burst_queues_one_deferred_regrouping(alice, settings, django_capture_on_commit_callbacks):
    from django_tasks import default_task_backend

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    default_task_backend.clear()
    _pictures(alice, "espresso", 10)
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert lookalikes.queue_if_stale(alice)
        assert not lookalikes.queue_if_stale(alice)  # the next batch of the burst finds one already waiting
    (queued,) = default_task_backend.results
    assert queued.task.run_after >= before + lookalikes.DEBOUNCE
    assert queued.args == [alice.pk]
    assert not PhotoCluster.objects.exists()  # nothing ran yet

    # A regrouping lost with a dead worker does not block the next one forever.
    ClusteringState.objects.filter(owner=alice).update(queued_at=before - lookalikes.QUEUED_FOR)
    with django_capture_on_commit_callbacks(execute=True):
        assert lookalikes.queue_if_stale(alice)


def test_command_groups_every_library(alice, bob):
    from io import StringIO

    _pictures(alice, "espresso", 8)
    _pictures(bob, "seashore", 8)
    output = StringIO()
    call_command("group_lookalikes", stdout=output)
    assert output.getvalue().splitlines() == ["alice: 1 look-alike album(s)", "bob: 1 look-alike album(s)"]


@pytest.mark.vision
@pytest.mark.usefixtures("vision_on")
def test_uploads_analysed_by_the_real_models_form_lookalikes(alice, api, upload):
    album = library.create_album(alice, title="Camera roll", category="misc", access="private")
    shots = [(f"{name}{seed}.jpg", images.variant(name, seed)) for name in ("cat", "coffee") for seed in range(4)]
    assert upload(api, shots, album).json()["stored"] == 8
    names = dict(Photo.objects.filter(owner=alice).values_list("pk", "original_name"))
    grouped = {frozenset(names[pk][:-5] for pk in members) for members in _grouped(alice).values()}
    assert grouped == {frozenset({"cat"}), frozenset({"coffee"})}
