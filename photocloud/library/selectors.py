"""Reads from the library. Every query starts from `visible_to()` or `owned_by()` (see access.py)."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from . import tallies
from .models import CONFIDENT_SYSTEM_CATEGORY, Album, AlbumPlacement, Photo, in_category, without_category
from .stacks import with_stack_size

DISPLAY_FIELDS = ("album", "owner")
# What a grid tile's alternative text reads of the analysis (templatetags/photos.py), joined in the same query; the
# large columns stay behind.
ANALYSIS_UNSHOWN = ("analysis__features", "analysis__text", "analysis__faces", "analysis__face_identities")


def serialized(photos):
    """Pictures as the API's PhotoSerializer reads them: owner, album and the vision app's analysis joined, not a
    query per picture, the analysis without the vectors it never shows (2.5 KB a picture); the tags in one query."""
    return (
        photos.select_related(*DISPLAY_FIELDS, "analysis")
        .defer("analysis__features", "analysis__face_identities")
        .prefetch_related("tags")
    )


def displayed(photos):
    """Pictures as a grid shows them: a stack once, by its cover, with its size (the badge); album, owner and the
    automatic category and labels of the alt text."""
    photos = with_stack_size(photos.listed())
    return photos.select_related(*DISPLAY_FIELDS, "analysis").defer(*ANALYSIS_UNSHOWN)


def _timeline(user):
    """The user's own pictures that the timeline and the automatic albums show (and count): all but the archived ones,
    a stack once."""
    return Photo.objects.owned_by(user).filter(archived_at__isnull=True).listed()


def library_photos(user):
    """The user's timeline, newest first, with what the grid shows."""
    return displayed(_timeline(user))


def archived_photos(user):
    return displayed(Photo.objects.owned_by(user).filter(archived_at__isnull=False))


def favourite_photos(user):
    """The user's favourites, archived ones included, the most recently marked first: the order of the favourites
    index, so a few favourites among a large library are found without walking it."""
    favourites = Photo.objects.owned_by(user).filter(favourite_at__isnull=False)
    return displayed(favourites).order_by("-favourite_at", "-sort_date", "pk")


def album_photos(album: Album):
    """The pictures of an album the caller has already looked up through access.py."""
    return displayed(Photo.objects.live().in_album(album))


def shown_album(photo: Photo, viewer) -> Album | None:
    """The album a picture is shown in for `viewer`: its home album when the viewer may see it, else the first album
    it is placed in that they may see (never naming an album they may not see), else None."""
    visible = Album.objects.visible_to(viewer)
    mine = getattr(viewer, "pk", None) == photo.owner_id
    if photo.album_id and (mine or visible.filter(pk=photo.album_id).exists()):
        return photo.album
    return visible.filter(placements__photo=photo).order_by("placements__added_at", "pk").first()


def albums_holding(photo: Photo):
    """The owner's live albums that hold the picture (home first), for its page and the bulk bar."""
    placed = Album.objects.live().filter(placements__photo=photo).order_by("title")
    home = [photo.album] if photo.album_id and photo.album.trashed_at is None else []
    return home + list(placed)


def with_photo_count(albums):
    """Annotate `photo_count` by a correlated count per album row (an index range each), not a GROUP BY join: with
    100,000 pictures the join sorts them all, while this only counts the albums of the page shown. COUNT(*), not of
    the uuid key, so that the album index alone answers (it ends with stack_cover). Pictures in the Trash are not
    counted; pictures placed in an album (AlbumPlacement) count there too; a stack counts once, as its album page
    shows it (access.listed)."""
    live = Photo.objects.live().listed().filter(album=OuterRef("pk"))
    count = live.order_by().values("album").annotate(n=Count("*")).values("n")
    placed = AlbumPlacement.objects.filter(
        album=OuterRef("pk"), photo__trashed_at__isnull=True, photo__stack_cover__isnull=True
    )
    placed = placed.order_by().values("album").annotate(n=Count("*")).values("n")
    return albums.annotate(
        photo_count=Coalesce(Subquery(count, output_field=IntegerField()), 0)
        + Coalesce(Subquery(placed, output_field=IntegerField()), 0)
    )


def albums_for_profile(viewer, owner):
    albums = Album.objects.visible_to(viewer).filter(owner=owner).select_related("cover", "owner")
    return with_photo_count(albums).order_by("-created_at")


def public_albums():
    """The public home page: recent public albums that have at least one picture."""
    placed = AlbumPlacement.objects.filter(album=OuterRef("pk"), photo__trashed_at__isnull=True)
    albums = Album.objects.visible_to(None).filter(
        Exists(Photo.objects.live().filter(album=OuterRef("pk"))) | Exists(placed)
    )
    return with_photo_count(albums.select_related("cover", "owner")).order_by("-updated_at")


def album_choices(user):
    """The owner's albums by title, for choosing one (upload target, the bulk bar)."""
    return Album.objects.owned_by(user).order_by("title", "pk").only("pk", "title")


def my_albums(user):
    return with_photo_count(Album.objects.owned_by(user).select_related("cover")).order_by("-created_at")


def neighbours(photo: Photo, viewer, album: Album | None) -> tuple[Photo | None, Photo | None]:
    """Previous (newer) and next (older) picture in the album it is shown in (its owner's library when none).

    `album` is the one `shown_album` chose, which the viewer may see: its pictures are then theirs to see, the album
    page's (`album_photos`), read from the album alone. Through visible_to, a picture beside a large library of
    public albums was compared with every picture placed in them (16,550 for the 1,000-picture owner's picture page
    beside 1,000,000 pictures: 250 ms, bench/pages.py)."""
    if album is None:
        siblings = _timeline(viewer) if viewer == photo.owner else Photo.objects.none()
    else:
        siblings = Photo.objects.live().in_album(album).listed()

    def beyond(lookup: str) -> Q:  # after `photo` in (sort_date, created_at) order, "gt" or "lt"
        return Q(**{f"sort_date__{lookup}": photo.sort_date}) | Q(
            sort_date=photo.sort_date, **{f"created_at__{lookup}": photo.created_at}
        )

    newer = siblings.filter(beyond("gt")).order_by("sort_date", "created_at").first()
    older = siblings.filter(beyond("lt")).order_by("-sort_date", "-created_at").first()
    return newer, older


# --- automatic albums ---------------------------------------------------------------------------------------------

YEARS = range(2, 9999)
"""The years of the date albums: a month's bounds stay within what a datetime holds."""
MONTHS = range(1, 13)


def _month_periods(year: int) -> dict:
    """{month: (start, end)} of one year, December first."""
    return {month: (_local(year, month), month_end(year, month)) for month in range(12, 0, -1)}


def _tallied_months(user) -> dict[date, int]:
    """{first day of a month: count} of the user's timeline, newest first, within YEARS: read from the per-month
    tally (library/tallies.py), not counted: a count per month of a range of the date index read every picture (a
    library of 1,000,000 pictures: 315 ms for the scrubber, bench/pages.py)."""
    found = tallies.months_of(user)
    return {month: found[month] for month in sorted(found, reverse=True) if month.year in YEARS}


def years(user) -> list[dict]:
    """[{year, count, cover}], newest year first."""
    counts: Counter = Counter()
    for month, n in _tallied_months(user).items():
        counts[month.year] += n
    periods = {year: (_local(year, 1), _local(year + 1, 1)) for year in counts}
    return [{"year": year, "count": count, "cover": cover} for year, count, cover in _periods(user, periods, counts)]


def months(user, year: int) -> list[dict]:
    counts = {month.month: n for month, n in _tallied_months(user).items() if month.year == year}
    periods = {month: bounds for month, bounds in _month_periods(year).items() if month in counts}
    return [
        {"year": year, "month": month, "count": count, "cover": cover}
        for month, count, cover in _periods(user, periods, counts)
    ]


def month_counts(user) -> list[dict]:
    """[{year, count, months: [{month, count, first}]}], newest first, non-empty only: the timeline's date scrubber
    (a year's count is its months' sum)."""
    found: dict[int, list] = {}
    for month, n in _tallied_months(user).items():
        found.setdefault(month.year, []).append({"month": month.month, "count": n, "first": month})
    return [{"year": year, "count": sum(m["count"] for m in shown), "months": shown} for year, shown in found.items()]


def timeline_before(user, year: int, month: int):
    """The user's timeline from the end of `month` back: where the date scrubber jumps to."""
    return library_photos(user).filter(sort_date__lt=month_end(year, month))


def timeline_skip(user, photos, first_row: int, jump: tuple[int, int] | None = None) -> tuple:
    """(photos from a month on, how many of the timeline's pictures that leaves out before it, at most `first_row`):
    the whole months newer than the page's first picture, counted by the tallies, so that a page far down the timeline
    (`photos`: library_photos or timeline_before for `jump`) reads its own month's pictures rather than every picture
    before it (an OFFSET: 275 ms of CPU for the last page of 1,000,000 pictures on PostgreSQL, bench/pages.py)."""
    end = month_end(*jump) if jump else None
    after_years = _local(YEARS[-1] + 1, 1)  # pictures dated past the years the tallies keep come first, uncounted
    beyond = _timeline(user).filter(sort_date__gte=after_years).order_by().values_list("pk")[: first_row + 1]
    skipped = 0 if end is not None and end <= after_years else len(beyond)  # none, or a few
    start = None
    for month, n in _tallied_months(user).items():  # newest first
        first = _local(month.year, month.month)
        if end is not None and first >= end:
            continue
        if skipped + n > first_row:
            break
        skipped, start = skipped + n, first
    return (photos, 0) if start is None else (photos.filter(sort_date__lt=start), skipped)


def _local(year: int, month: int) -> datetime:
    """The first moment of a month of the camera's calendar: sort_date holds wall-clock times as if UTC, so a month
    is a range of it in UTC whatever the server's zone (Photo.sort_date), an index range as the search filters."""
    return datetime(year, month, 1, tzinfo=UTC)


def month_end(year: int, month: int) -> datetime:
    """The first moment after `month` (the camera's calendar, as `_local`)."""
    return _local(year + month // 12, month % 12 + 1)


def _periods(user, periods: dict, counts: dict) -> list[tuple]:
    """[(key, count, newest picture)] for each {key: (start, end)} period of the user's pictures, with its count."""
    rows = []
    for key, (start, end) in periods.items():
        within = _timeline(user).filter(sort_date__gte=start, sort_date__lt=end)
        rows.append((key, counts[key], within.order_by("-sort_date", "-created_at").first()))
    return rows


@dataclass
class Event:
    """A run of pictures taken close together in time (no gap longer than EVENT_GAP_HOURS), in the order taken;
    `start` and `end` are the camera's wall-clock times (naive, as Photo.wall_clock).

    `ids` is the whole run; `photos` holds the pictures loaded for display, which may be only part of it when the
    month is shown a page at a time (`continued`: the run began on an earlier page).
    """

    start: datetime
    end: datetime
    ids: list = field(default_factory=list)
    photos: list[Photo] = field(default_factory=list)
    continued: bool = False

    @property
    def count(self) -> int:
        return len(self.ids)


def events(user, year: int, month: int) -> list[Event]:
    """Events within a month, newest first, found from dates alone (one light query, no pictures loaded)."""
    gap = timedelta(hours=settings.PHOTOCLOUD["EVENT_GAP_HOURS"])
    start, end = _local(year, month), _local(year + month // 12, month % 12 + 1)
    rows = (
        _timeline(user)
        .filter(sort_date__gte=start, sort_date__lt=end)
        .order_by("sort_date", "pk")
        .values_list("pk", "sort_date")
    )
    found: list[Event] = []
    for pk, sort_date in rows:
        taken = sort_date.astimezone(UTC).replace(tzinfo=None)  # the camera's wall-clock time, shown as it is
        if not found or taken - found[-1].end > gap:
            found.append(Event(start=taken, end=taken))
        found[-1].ids.append(pk)
        found[-1].end = taken
    return list(reversed(found))


def events_page(user, year: int, month: int, page_number, per_page: int) -> tuple:
    """(page, events): a month's pictures `per_page` at a time in event order, regrouped into their events, so a
    month of thousands of pictures is never one page of thousands of tiles."""
    runs = events(user, year, month)
    page = Paginator([(index, pk) for index, run in enumerate(runs) for pk in run.ids], per_page).get_page(page_number)
    loaded = library_photos(user).in_bulk([pk for _, pk in page])
    shown: list[Event] = []
    for index, pk in page:
        run = runs[index]
        if not shown or shown[-1].ids is not run.ids:
            shown.append(Event(start=run.start, end=run.end, ids=run.ids, continued=pk != run.ids[0]))
        if pk in loaded:
            shown[-1].photos.append(loaded[pk])
    return page, shown


def themes(user) -> list[dict]:
    """[{theme, count, cover}] for the user's pictures, largest first.

    Counted from the per-owner tally of (own category, album, confident system category) (library/tallies.py), not
    from the pictures: one grouping of the library read every picture (a library of 1,000,000: 326 ms, bench/
    pages.py). A picture's own category counts under it, the rest under their album's, which lends its category;
    pictures with no effective category (`models.without_category`), those left in albums that lend none or in no
    album, count under their confident system category, if any. The albums' categories are read now, so relabelling
    an album is seen at once.
    """
    counts: Counter = Counter()
    inherited: dict[str, int] = {}  # {album key or "": pictures without their own category}
    for category, album, n in tallies.themes_of(user):
        if category:
            counts[category] += n
        else:
            inherited[album] = n
    # A picture's home album is its owner's: their albums that lend a category, read at once, not by a list of keys.
    lent = dict(Album.objects.filter(owner=user).exclude(category="").order_by().values_list("pk", "category"))
    lent = {str(pk): category for pk, category in lent.items() if str(pk) in inherited}
    for album, category in lent.items():
        counts[category] += inherited[album]
    bare = [album for album in inherited if album not in lent]  # albums that lend no category, or none
    if bare:
        counts.update(tallies.seen_in(user, bare))
    return [
        {"theme": theme, "count": count, "cover": _first(theme_photos(user, theme))}
        for theme, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def _first(photos):
    """The first of these pictures, its key found first (an index walk) and then its row with the joins: asked at
    once, SQLite sorts the whole theme to find it (190 ms per theme at 100,000 pictures)."""
    pk = photos.values_list("pk", flat=True).first()
    return None if pk is None else photos.filter(pk=pk).first()


def trash_photos(owner):
    """The owner's Trash, most recently deleted first."""
    return Photo.objects.in_trash_of(owner).select_related("album").order_by("-trashed_at", "-sort_date", "pk")


def trash_albums(owner):
    """Albums deleted with their pictures, which restoring brings back."""
    return Album.objects.in_trash_of(owner).order_by("-trashed_at", "pk")


def theme_photos(user, theme: str):
    """The user's pictures in a theme: their effective category (own, else album's), or the system's confident one
    when they have no effective category."""
    seen = _confidently_seen(Photo.objects.filter(pk=OuterRef("pk"), analysis__category=theme))
    return library_photos(user).filter(in_category(theme) | without_category() & Exists(seen))


def _confidently_seen(photos):
    """Those of these pictures whose system category is confident (never a hint)."""
    return photos.exclude(analysis__category="").filter(analysis__confidence__gte=CONFIDENT_SYSTEM_CATEGORY)


@dataclass
class Day:
    """One day's run of pictures on a timeline page; `new_month` when it starts a month on that page."""

    day: date
    new_month: bool
    photos: list = field(default_factory=list)


def days_of(photos) -> list[Day]:
    """A timeline page's pictures (newest first) grouped by the camera's day, for its day and month headers."""
    days: list[Day] = []
    for photo in photos:
        day = photo.wall_clock.date()
        if not days or days[-1].day != day:
            new_month = not days or (days[-1].day.year, days[-1].day.month) != (day.year, day.month)
            days.append(Day(day, new_month))
        days[-1].photos.append(photo)
    return days
