"""The index rebuilds itself when its format changes (services.INDEX_FORMAT): the first process to start claims the
rebuild, the others leave it, and the rebuild rewrites every document in place."""

import threading
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from photocloud.search import selectors, services
from photocloud.search.backends import COLUMN_BITS
from photocloud.search.models import SearchIndexState, SearchPosting
from tests.factories import album, photo

pytestmark = pytest.mark.usefixtures("no_meaning")


def _old_format(picture):
    """The index as an older version wrote it: the album's words in the body column, format 1."""
    SearchPosting.objects.filter(object_id=picture.pk, term="lisbon").update(columns=COLUMN_BITS["body"])
    SearchIndexState.objects.update_or_create(pk=1, defaults={"format": 1, "rebuild_format": None})


def test_a_start_finds_an_old_format_and_queues_one_rebuild(alice):
    picture = photo(album(alice, title="Lisbon"), tags=["tram"])
    _old_format(picture)
    config = apps.get_app_config("search")
    assert "rebuild of the search index" in config.recover_interrupted_work()  # tasks run in-process in the tests
    assert SearchIndexState.objects.get().format == services.INDEX_FORMAT
    assert SearchPosting.objects.get(object_id=picture.pk, term="lisbon").columns == COLUMN_BITS["context"]
    assert config.recover_interrupted_work() is None  # nothing more to do
    assert selectors.search(alice, q="tram").results.ids == [picture.pk]


def test_only_one_of_several_processes_claims_the_rebuild(alice):
    _old_format(photo(album(alice, title="Lisbon")))
    results, barrier = [], threading.Barrier(4)

    def start():
        barrier.wait()
        try:
            results.append(services.claim_format_rebuild())
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    assert SearchIndexState.objects.get().format == 1  # claimed, not done: the task would do it


def test_a_claim_whose_worker_died_is_taken_again(alice):
    _old_format(photo(album(alice, title="Lisbon")))
    assert services.claim_format_rebuild() and not services.claim_format_rebuild()
    SearchIndexState.objects.update(rebuild_queued_at=timezone.now() - timedelta(hours=2))
    assert services.claim_format_rebuild()


def test_an_empty_index_needs_no_rebuild(alice):
    assert not services.claim_format_rebuild()
    assert SearchIndexState.objects.get().format == services.INDEX_FORMAT
