"""The per-owner tallies by month and by theme (library/tallies.py), which the date scrubber, the date albums and the
themes page read instead of counting a whole library: after every write path the stored rows equal a count of the
pictures, they count only the owner's own timeline, and the pages show them."""

import importlib
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from photocloud.library import selectors, services, stacks, tallies, trash
from photocloud.library.models import MonthTally, Photo, ThemeTally
from tests import images
from tests.factories import album as make_album
from tests.factories import photo as make_photo

MAY, JUNE = datetime(2023, 5, 10, 12, tzinfo=UTC), datetime(2024, 6, 2, 9, tzinfo=UTC)


def agree():
    """The stored tallies equal a count from the pictures, and are not empty (a test of nothing would pass)."""
    assert tallies.differences() == []
    assert MonthTally.objects.exists() and ThemeTally.objects.exists()


def scrubber(user) -> dict:
    return {(month["first"]): month["count"] for year in selectors.month_counts(user) for month in year["months"]}


def themes(user) -> dict:
    return {row["theme"]: row["count"] for row in selectors.themes(user)}


@pytest.fixture
def library(alice):
    """Alice's pictures in two months, in a portrait album, an album of no category and no album, one with her own
    category and one that vision saw as food, confidently."""
    portraits = make_album(alice, category="portrait", access="public")
    plain = make_album(alice, category="", access="private")
    photos = [make_photo(portraits, taken=MAY + timedelta(hours=i)) for i in range(3)]
    photos.append(make_photo(plain, taken=JUNE, analysis={"category": "food", "confidence": 0.9}))
    photos.append(make_photo(plain, taken=JUNE, category="landscape"))
    return portraits, plain, photos


def test_the_tallies_follow_every_write_path(alice, library):
    portraits, plain, photos = library
    agree()
    assert scrubber(alice) == {date(2024, 6, 1): 2, date(2023, 5, 1): 3}
    assert themes(alice) == {"portrait": 3, "food": 1, "landscape": 1}

    trash.trash_photos(alice, [photos[0].pk])
    agree()
    assert scrubber(alice)[date(2023, 5, 1)] == 2
    trash.restore(alice, photo_ids=[photos[0].pk])
    agree()
    services.set_taken(alice, [photos[1].pk], datetime(2020, 2, 29, 8), 60)  # date edit
    agree()
    assert scrubber(alice)[date(2020, 2, 1)] == 1
    services.set_category(alice, [photos[2]], "animal")
    agree()
    services.update_photo(photos[3], category="document")
    agree()
    services.update_photo(Photo.objects.get(pk=photos[4].pk), album=portraits)  # moved: its own category stays
    agree()
    services.move_to_album(alice, plain, [photos[0].pk])  # into an album that lends no category: in no theme
    agree()
    services.move_to_album(alice, None, [photos[2].pk])
    agree()
    services.add_to_album(alice, portraits, [photos[2].pk])  # a picture in no album gets a home
    agree()
    services.remove_from_album(alice, portraits, [photos[2].pk])
    agree()
    services.set_marks(alice, [photos[3].pk], archived=True)
    agree()
    assert sum(scrubber(alice).values()) == 4
    services.set_marks(alice, [photos[3].pk], archived=False)
    agree()
    services.update_album(plain, category="food")  # the album's category is read when shown: no row changes
    agree()
    assert themes(alice)["food"] == 1  # the one picture of no category of its own there
    trash.trash_album(portraits)
    agree()
    trash.restore(alice, album_ids=[portraits.pk])
    agree()
    trash.trash_photos(alice, [photos[4].pk])
    trash.delete_forever(alice)  # the purge
    agree()
    trash.trash_photos(alice, [photos[3].pk])
    trash.purge_expired(now=datetime.now(UTC) + timedelta(days=400))
    agree()
    other = make_album(alice, category="architecture")
    services.delete_album(plain, move_to=other)
    agree()
    services.delete_album(other)  # with its pictures
    agree()
    assert sum(scrubber(alice).values()) == Photo.objects.owned_by(alice).listed().count() > 0


def test_an_upload_its_date_and_a_stack_are_counted(alice, api, upload):
    album = services.create_album(alice, title="Shoot", category="portrait", access="private")
    taken = datetime(2019, 8, 17, 14, 30, 5)
    for name, data in [
        ("IMG_0042.DNG", images.dng("cat", taken=taken)),
        ("img_0042.jpg", images.jpeg("cat", taken=taken)),
    ]:
        assert upload(api, [(name, data)], album=album).status_code == 201
    agree()  # uploaded, processed (the date from the file), stacked: counted once
    assert scrubber(alice) == {date(2019, 8, 1): 1}
    cover = Photo.objects.get(owner=alice, format="JPEG")
    stacks.unstack(alice, cover.pk)
    agree()
    assert scrubber(alice) == {date(2019, 8, 1): 2}
    services.delete_photo(Photo.objects.get(pk=cover.pk))
    agree()


def test_only_the_owners_own_timeline_is_counted(alice, bob, library):
    """Counts come from the viewer's own pictures: nothing of another owner's, public or followed, nor the owner's
    archived or trashed ones; and the pages show each user only theirs."""
    from photocloud.accounts.models import Follow

    Follow.objects.create(follower=bob, followee=alice)
    theirs = make_album(bob, category="food", access="public")
    make_photo(theirs, taken=datetime(2010, 1, 1, tzinfo=UTC))
    assert scrubber(bob) == {date(2010, 1, 1): 1}
    assert themes(bob) == {"food": 1}
    assert date(2010, 1, 1) not in scrubber(alice) and themes(alice)["food"] == 1
    client = Client()
    client.force_login(bob)
    page = client.get("/library/scrubber/", headers={"HX-Request": "true"}).content.decode()
    assert "2010" in page and "2023" not in page and "2024" not in page
    assert [row["year"] for row in selectors.years(bob)] == [2010]


def test_the_months_are_the_cameras_in_any_server_zone_and_rows_cut_in_one_are_recounted(alice, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    album = make_album(alice)
    make_photo(album, taken=datetime(2024, 3, 31, 23, 30, tzinfo=UTC))  # 23:30 on the camera: March, even in Berlin
    assert scrubber(alice) == {date(2024, 3, 1): 1}
    MonthTally.objects.update(zone="Europe/Berlin", month=date(2024, 4, 1))  # as an older version cut it
    assert scrubber(alice) == {date(2024, 3, 1): 1}
    assert tallies.differences() == []


def test_the_command_rebuilds_and_checks(alice, library):
    Photo.objects.filter(pk=library[2][0].pk).update(sort_date=datetime(2001, 1, 1, tzinfo=UTC))  # past the services
    with pytest.raises(CommandError):
        call_command("recount_library", "--check")
    call_command("recount_library")
    call_command("recount_library", "--check")
    agree()


def test_a_page_far_down_the_timeline_skips_whole_months_and_shows_the_same_pictures(alice, settings):
    """The timeline's deep pages start from the month the tallies place them in (selectors.timeline_skip), and show
    exactly what reading every picture before them would: with a jump to a month, pictures dated past the years the
    tallies keep, and a picture of a month added, trashed and re-dated meanwhile."""
    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "PAGE_SIZE": 4}
    album = make_album(alice)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    photos = [make_photo(album, taken=start + timedelta(days=9 * i)) for i in range(40)]  # a year, 3 or 4 a month
    make_photo(album, taken=datetime(9999, 6, 1, tzinfo=UTC))  # in no month the tallies keep
    trash.trash_photos(alice, [photos[5].pk])
    services.set_taken(alice, [photos[7].pk], datetime(2020, 6, 15, 8), None)
    client = Client()
    client.force_login(alice)

    def shown(query: str) -> list:
        response = client.get(f"/library/?{query}", headers={"HX-Request": "true"})
        return [pk for pk in Photo.objects.owned_by(alice).values_list("pk", flat=True) if str(pk) in response.text]

    def expected(queryset, number: int) -> set:
        return set(queryset.values_list("pk", flat=True)[(number - 1) * 4 : number * 4])

    for jump, listing in [
        (None, selectors.library_photos(alice)),
        ((2020, 8), selectors.timeline_before(alice, 2020, 8)),
    ]:
        prefix = f"from={jump[0]}-{jump[1]:02d}&" if jump else ""
        for number in range(2, (listing.count() + 3) // 4 + 1):  # to the last page
            assert set(shown(f"{prefix}page={number}")) == expected(listing, number), (jump, number)
    later, skipped = selectors.timeline_skip(alice, selectors.library_photos(alice), 30)
    assert 0 < skipped <= 30 and later.count() == selectors.library_photos(alice).count() - skipped  # it did skip


@pytest.mark.vision
@pytest.mark.usefixtures("vision_on")
def test_the_analysis_lends_its_confident_category_to_the_themes(alice, api, upload):
    """The real models: an analysed picture in an album that lends no category counts under what vision saw."""
    album = services.create_album(alice, title="Unsorted", category="", access="private")
    assert upload(api, [("cat.jpg", images.jpeg("cat"))], album=album).status_code == 201
    analysis = Photo.objects.get(owner=alice).analysis
    agree()
    assert analysis.confident and themes(alice) == {"animal": 1}


def test_edits_and_deletions_in_the_admin_keep_the_tallies(alice, library, rf):
    """The admin writes past the services: its saves and deletions are wrapped like theirs."""
    from django.contrib import admin

    from photocloud.library.models import Album

    portraits, plain, photos = library
    request = rf.post("/admin/")
    pictures, albums = admin.site._registry[Photo], admin.site._registry[Album]
    moved = Photo.objects.get(pk=photos[0].pk)
    moved.sort_date, moved.album = datetime(2001, 1, 1, tzinfo=UTC), plain
    pictures.save_model(request, moved, form=None, change=True)
    agree()
    assert scrubber(alice)[date(2001, 1, 1)] == 1
    pictures.delete_model(request, Photo.objects.get(pk=photos[1].pk))
    agree()
    pictures.delete_queryset(request, Photo.objects.filter(pk=photos[3].pk))
    agree()
    albums.delete_model(request, Album.objects.get(pk=portraits.pk))  # its last picture goes with it
    agree()
    assert scrubber(alice) == {date(2024, 6, 1): 1, date(2001, 1, 1): 1}


@pytest.mark.django_db(transaction=True)
def test_two_writers_moving_one_picture_at_once_keep_the_tallies(alice):
    """The second writer waits for the first and counts from what it left (without the lock both took the picture's
    old album away, and the first's new album kept a picture it no longer holds)."""
    import threading

    from django.db import connection, transaction

    if connection.vendor == "sqlite":
        pytest.skip("SQLite lets one writer in at a time")
    first, second, third = (make_album(alice, category="") for _ in range(3))
    picture = make_photo(first, taken=MAY)
    inside, release = threading.Event(), threading.Event()

    def move(target, hold: bool) -> None:
        try:
            with transaction.atomic(), tallies.changing([picture.pk]):
                Photo.objects.filter(pk=picture.pk).update(album=target)
                if hold:
                    inside.set()
                    release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=move, args=(second, True))
    holder.start()
    assert inside.wait(10)
    waiter = threading.Thread(target=move, args=(third, False))
    waiter.start()
    waiter.join(0.5)
    assert waiter.is_alive()  # waiting for the first writer's lock
    release.set()
    holder.join(10)
    waiter.join(10)
    assert tallies.differences() == []
    assert list(ThemeTally.objects.values_list("album", "count")) == [(str(third.pk), 1)]


def test_deleting_a_stack_cover_or_its_album_in_the_admin_counts_the_files_left_listed(alice, rf):
    """A stack's other files are listed on their own once its cover goes (stack_cover SET_NULL), whichever album
    they live in."""
    from django.contrib import admin

    from photocloud.library.models import Album

    home, elsewhere = make_album(alice), make_album(alice)
    for delete in ("picture", "album"):
        cover = make_photo(home, taken=MAY)
        member = make_photo(elsewhere, taken=JUNE)
        with tallies.changing([member.pk]):
            Photo.objects.filter(pk=member.pk).update(stack_cover=cover.pk)
        agree()
        if delete == "picture":
            admin.site._registry[Photo].delete_model(rf.post("/admin/"), Photo.objects.get(pk=cover.pk))
        else:
            admin.site._registry[Album].delete_model(rf.post("/admin/"), Album.objects.get(pk=home.pk))
        assert Photo.objects.get(pk=member.pk).stack_cover_id is None
        agree()


def test_the_migration_puts_pictures_with_no_date_on_the_servers_wall_clock(alice, settings):
    from django.apps import apps

    migration = importlib.import_module("photocloud.library.migrations.0015_undated_wall_clock")
    settings.TIME_ZONE = "Asia/Shanghai"
    album = make_album(alice)
    uploaded = datetime(2023, 12, 31, 20, tzinfo=UTC)  # as an older version placed an upload: 04:00 in Shanghai
    undated = make_photo(album, taken=uploaded)
    dated = make_photo(album, taken=uploaded, taken_at=uploaded)
    migration.undated_on_the_wall_clock(apps, None)
    undated.refresh_from_db()
    dated.refresh_from_db()
    assert (undated.sort_date, dated.sort_date) == (datetime(2024, 1, 1, 4, tzinfo=UTC), uploaded)
    assert scrubber(alice) == {date(2024, 1, 1): 1, date(2023, 12, 1): 1}
    assert tallies.differences() == []
