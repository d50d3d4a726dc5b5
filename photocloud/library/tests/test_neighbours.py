"""A picture page's previous and next pictures are those of the album page it belongs to, read from that album."""

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from photocloud.library import selectors
from photocloud.library.models import Photo
from photocloud.library.tests.test_api_pagination import _visibility_world

ORDER = ("-sort_date", "-created_at")


def test_neighbours_are_the_album_pages_and_never_rebuild_the_access_rules(alice, bob, make_user):
    """For every viewer and every picture they may see in an album: the pictures beside it on the album page (which
    are those of visible_to in that album), found without the viewer's access rules (no look-up of follows, no list
    of every picture placed in an album they may see: 250 ms for a picture beside 1,000,000 public ones)."""
    carol = make_user("carol")
    _visibility_world(alice, bob, carol)
    checked = 0
    for viewer in (alice, bob, carol, AnonymousUser()):
        for photo in Photo.objects.visible_to(viewer).listed():
            album = selectors.shown_album(photo, viewer)
            if album is None:
                continue
            shown = list(selectors.album_photos(album).listed().order_by(*ORDER).values_list("pk", flat=True))
            seen = Photo.objects.visible_to(viewer).in_album(album).listed().order_by(*ORDER)
            assert shown == list(seen.values_list("pk", flat=True))
            at = shown.index(photo.pk)
            with CaptureQueriesContext(connection) as queries:
                newer, older = selectors.neighbours(photo, viewer, album)
            assert getattr(newer, "pk", None) == (shown[at - 1] if at else None)
            assert getattr(older, "pk", None) == (shown[at + 1] if at + 1 < len(shown) else None)
            assert not any("social_follow" in query["sql"] for query in queries.captured_queries)
            checked += 1
    assert checked > 30
