"""Review: the search without words read as parts (selectors._parts) with filters besides the owner's, a stack and
archived pictures: the results of the one query over visible_to, for every viewer."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from photocloud.library.models import Album, Photo
from photocloud.library.tests.test_api_pagination import _visibility_world
from photocloud.search import selectors


@pytest.fixture
def world(alice, bob, make_user):
    carol = make_user("carol")
    _visibility_world(alice, bob, carol)
    pictures = list(Photo.objects.filter(owner=alice, trashed_at__isnull=True).order_by("pk"))
    Photo.objects.filter(pk=pictures[1].pk).update(stack_cover=pictures[0].pk)  # a RAW behind its JPEG
    Photo.objects.filter(pk__in=[p.pk for p in pictures[2:5]]).update(archived_at=timezone.now(), width=10, height=5)
    return {"alice": alice, "bob": bob, "carol": carol, "visitor": AnonymousUser()}


FILTERS = [
    lambda: {"album": Album.objects.get(title="alice public")},
    lambda: {"album": Album.objects.get(title="alice followers"), "owner": "alice"},
    lambda: {"orientation": "landscape"},
    lambda: {"archived": "only"},
    lambda: {"archived": "hide", "owner": "alice"},
    lambda: {"size": "small", "owner": "bob"},
]


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "visitor"])
@pytest.mark.parametrize("which", range(len(FILTERS)))
def test_results_in_date_order_with_filters_are_those_of_visible_to(world, monkeypatch, who, which):
    monkeypatch.setattr(selectors, "RESULT_LIMIT", 4)
    viewer, filters = world[who], FILTERS[which]()
    whole = selectors.apply_filters(Photo.objects.visible_to(viewer).listed(), viewer, filters)
    expected = list(whole.order_by("-sort_date", "-created_at").values_list("pk", flat=True))
    found = selectors.search(viewer, sort="newest", filters=filters)
    assert found.results.ids == expected[:4] and found.capped == (len(expected) > 4), (who, filters)
