"""The timeline's pages: month jumps (the date scrubber), its counts, day sections, and pictures' alternative text."""

from datetime import UTC, datetime

import pytest

from photocloud.library import selectors
from photocloud.library.templatetags.photos import aspect, photo_alt
from tests import factories

pytestmark = pytest.mark.django_db

TAKEN = [datetime(2024, 5, 18, 9), datetime(2024, 5, 18, 11), datetime(2024, 5, 3), datetime(2024, 3, 9)]
TAKEN += [datetime(2023, 12, 24, 10), datetime(2023, 12, 24, 11), datetime(2021, 1, 1)]


@pytest.fixture
def library(alice):
    album = factories.album(alice, access="private")
    return [factories.photo(album, taken=when.replace(tzinfo=UTC)) for when in TAKEN]


def test_month_counts_list_each_non_empty_month_newest_first(alice, bob, library):
    counts = selectors.month_counts(alice)
    assert [(year["year"], year["count"]) for year in counts] == [(2024, 4), (2023, 2), (2021, 1)]
    assert [(m["month"], m["count"]) for m in counts[0]["months"]] == [(5, 3), (3, 1)]
    assert selectors.month_counts(bob) == []


def test_the_scrubber_jumps_to_a_month_and_pages_on_from_there(client, alice, library):
    client.force_login(alice)
    response = client.get("/library/?from=2024-03")
    assert response.status_code == 200
    shown = [photo.pk for photo in response.context["page"]]
    assert shown == [library[i].pk for i in (3, 5, 4, 6)]  # 9 March 2024 and older, newest first
    assert [day.day.isoformat() for day in response.context["days"]] == ["2024-03-09", "2023-12-24", "2021-01-01"]
    assert [day.new_month for day in response.context["days"]] == [True, True, True]
    assert b"?from=2024-04" in response.content  # "Newer pictures"
    scrubber = client.get("/library/scrubber/?from=2024-03")
    assert scrubber.status_code == 200 and b'href="?from=2024-03"' in scrubber.content
    assert b'aria-current="true">Mar' in scrubber.content


@pytest.mark.parametrize("value", ["2024-13", "2024-00", "0001-01", "yesterday", "2024-5", "2024-05-01"])
def test_a_malformed_month_is_a_404_with_a_message(client, alice, library, value):
    client.force_login(alice)
    assert client.get("/library/", {"from": value}).status_code == 404
    assert client.get("/library/scrubber/", {"from": value}).status_code == 404


def test_the_scrubber_needs_a_signed_in_user(client):
    assert client.get("/library/scrubber/").status_code == 302


def test_days_of_a_page_group_pictures_by_day_under_months(library):
    days = selectors.days_of(library[:4])
    assert [(day.day.isoformat(), len(day.photos), day.new_month) for day in days] == [
        ("2024-05-18", 2, True),
        ("2024-05-03", 1, False),
        ("2024-03-09", 1, True),
    ]


def test_alt_text_is_the_title_else_what_is_seen_else_the_day(alice):
    album = factories.album(alice)
    titled = factories.photo(album, title="Grandma's garden")
    assert photo_alt(titled) == "Grandma's garden"
    named = factories.photo(
        album, title="IMG_0042", original_name="IMG_0042.JPG", taken=datetime(2024, 5, 18, tzinfo=UTC)
    )
    assert photo_alt(named) == "Photo taken on 18 May 2024"  # a file name says nothing
    seen = factories.photo(
        album,
        title="DSC1",
        original_name="DSC1.jpg",
        analysis={"category": "food", "labels": ["espresso", "cup", "saucer", "table"]},
    )
    assert photo_alt(seen) == "Food: espresso, cup, saucer"
    listed = {photo.pk: photo for photo in selectors.album_photos(album)}  # the analysis comes with the grid's query
    assert photo_alt(listed[seen.pk]) == "Food: espresso, cup, saucer"


def test_aspect_is_width_over_height_bounded(alice):
    album = factories.album(alice)
    assert aspect(factories.photo(album, width=400, height=300)) == "1.3333"
    assert aspect(factories.photo(album, width=10_000, height=100)) == "4.0000"
    assert aspect(factories.photo(album, width=None, height=None)) == "1"


def test_the_timeline_scrolls_on_without_counting_the_library(client, alice, library, settings):
    """A timeline page reads one key past its end to know whether another follows: the library is counted only for
    a page asked past the end, which shows the last page as before."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.PHOTOCLOUD = {**settings.PHOTOCLOUD, "PAGE_SIZE": 3}
    client.force_login(alice)
    pages = []
    for number in (1, 2, 3):
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/library/", {"page": number}, headers={"HX-Request": "true"})
        assert not [
            query for query in queries if query["sql"].startswith('SELECT COUNT(*) AS "__count" FROM "library_photo"')
        ]
        pages.append([photo.pk for photo in response.context["page"]])
        assert (b"Load more" in response.content) == (number < 3)
    newest_first = [photo.pk for photo in sorted(library, key=lambda photo: photo.sort_date, reverse=True)]
    assert pages == [newest_first[i : i + 3] for i in (0, 3, 6)]
    past = client.get("/library/", {"page": 9})
    assert [photo.pk for photo in past.context["page"]] == pages[-1]
    assert client.get("/library/", {"page": "x"}).context["page"].number == 1


@pytest.mark.parametrize("page", ["abc", "-1", "0", "", "99999999999999999999999"])
def test_any_page_number_is_a_page_of_the_grid(client, alice, library, page):
    """A grid that scrolls without counting (core/pagination.scroll_page): a page number that is no number or past
    any end shows a page; one past what a 64-bit OFFSET holds was a server error."""
    client.force_login(alice)
    response = client.get("/library/", {"page": page})
    assert response.status_code == 200 and "/photos/" in response.content.decode()
