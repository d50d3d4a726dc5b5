"""Per-owner counts of the timeline by month and by theme (MonthTally, ThemeTally), kept in step with the pictures.

The date scrubber, the date albums and the themes page show counts over a whole library: counted from the pictures,
they cost a read of every index entry (a library of 1,000,000 pictures: over 300 ms each, bench/pages.py). These
small tables hold the counts instead. There are no signals (DESIGN.md): every service that adds, removes, re-dates,
archives, stacks, moves or re-categorises pictures wraps its write in `changing(ids)`, which counts the pictures'
keys before and after the write in the same transaction and adds the difference; `added(ids)` after creating them.
A write that bypassed the services (the admin, a hand-made SQL fix) is repaired by `manage.py recount_library`.
"""

from collections import Counter
from contextlib import contextmanager
from datetime import UTC, date

from django.db import transaction
from django.db.models import F, Sum

from .models import CONFIDENT_SYSTEM_CATEGORY, MonthTally, Photo, ThemeTally

# What MonthTally.zone says of the rows cut by the one date rule (sort_date's month read in UTC, Photo.sort_date).
# Rows of another were cut in the server's zone by an older version, and are recounted when read.
ZONE = "UTC"
CHUNK = 2000  # ids per query: well under every database's limit of parameters
# The fields of a picture the tallies depend on (besides its analysis): a write that changes none of them changes no
# count, and need not be wrapped (a title edit stays one UPDATE).
TALLIED = {"owner", "sort_date", "category", "album", "trashed_at", "archived_at", "stack_cover"}
FIELDS = ("owner_id", "sort_date", "category", "album_id", "analysis__category", "analysis__confidence")


def _counted(photos):
    """The pictures the tallies count, as selectors._timeline does: live, not archived, a stack once."""
    return photos.filter(trashed_at__isnull=True, archived_at__isnull=True, stack_cover__isnull=True)


def month_of(moment) -> date:
    """The first day of the month of a sort_date: the camera's month (in UTC, as the selectors' periods)."""
    local = moment.astimezone(UTC)
    return date(local.year, local.month, 1)


def theme_key(category: str, album_id, seen: str, confidence) -> tuple[str, str, str]:
    """(own category, album key, confident system category): a picture's own category decides alone."""
    if category:
        return category, "", ""
    confident = seen if seen and (confidence or 0) >= CONFIDENT_SYSTEM_CATEGORY else ""
    return "", str(album_id) if album_id else "", confident


def _keys(rows) -> tuple[Counter, Counter]:
    """({(owner, month): n}, {(owner, category, album, seen): n}) of rows of FIELDS."""
    months: Counter = Counter()
    themes: Counter = Counter()
    for owner_id, sort_date, category, album_id, seen, confidence in rows:
        months[owner_id, month_of(sort_date)] += 1
        themes[(owner_id, *theme_key(category, album_id, seen or "", confidence))] += 1
    return months, themes


def _tally(ids) -> tuple[Counter, Counter]:
    ids = list(ids)
    months: Counter = Counter()
    themes: Counter = Counter()
    for start in range(0, len(ids), CHUNK):
        found = _keys(_counted(Photo.objects.filter(pk__in=ids[start : start + CHUNK])).values_list(*FIELDS))
        months.update(found[0])
        themes.update(found[1])
    return months, themes


@contextmanager
def changing(photo_ids):
    """Wrap a write to these pictures (all of those it may change, e.g. a stack whole): the tallies follow it in the
    same transaction. Pictures deleted by the write count as gone."""
    ids = sorted(dict.fromkeys(photo_ids), key=str)
    with transaction.atomic(savepoint=False):  # the caller's transaction, else one of its own
        _lock(ids)
        before = _tally(ids)
        yield
        after = _tally(ids)
        _apply(after[0], before[0], after[1], before[1])


def _lock(ids: list) -> None:
    """Lock the pictures' rows (in one order: two writers cannot deadlock on them) before reading their keys: a
    concurrent write of the same picture then waits until this transaction ends and reads the keys it left. Without
    it both would read the same "before" and take the picture's old count away twice."""
    for start in range(0, len(ids), CHUNK):
        list(Photo.objects.select_for_update().filter(pk__in=ids[start : start + CHUNK]).order_by("pk").values("pk"))


def added(photo_ids) -> None:
    """Count pictures just created (in the creating transaction)."""
    with transaction.atomic(savepoint=False):
        months, themes = _tally(photo_ids)
        _apply(months, Counter(), themes, Counter())


def created(photo: Photo) -> None:
    """Count an upload just created, not analysed yet: its keys from the object itself, no query to read them."""
    if photo.trashed_at is None and photo.archived_at is None and photo.stack_cover_id is None:
        months, themes = _keys([(photo.owner_id, photo.sort_date, photo.category, photo.album_id, "", 0)])
        with transaction.atomic(savepoint=False):
            _apply(months, Counter(), themes, Counter())


def _apply(months_after, months_before, themes_after, themes_before) -> None:
    zone = ZONE
    for (owner_id, month), change in _difference(months_after, months_before).items():
        _add(MonthTally, {"owner_id": owner_id, "zone": zone, "month": month}, change)
    for (owner_id, category, album, seen), change in _difference(themes_after, themes_before).items():
        _add(ThemeTally, {"owner_id": owner_id, "category": category, "album": album, "seen": seen}, change)


def _difference(after: Counter, before: Counter) -> dict:
    """The changes, in the order of their keys: writers update shared rows in one order, so they cannot deadlock."""
    keys = sorted(after.keys() | before.keys(), key=str)
    return {key: after[key] - before[key] for key in keys if after[key] != before[key]}


def _add(model, key: dict, change: int) -> None:
    """Add `change` to a row's count (an UPDATE, so concurrent writers add up), making the row when it is missing;
    a row that reaches 0 goes."""
    rows = model.objects.filter(**key)
    if not rows.update(count=F("count") + change) and change > 0:
        # Made with no count, unless another writer made it meanwhile (no error, so no savepoint), then added to.
        model.objects.bulk_create([model(**key, count=0)], ignore_conflicts=True)
        rows.update(count=F("count") + change)
    if change < 0:
        rows.filter(count__lte=0).delete()


def rebuild(owner_ids=None, *, models=(Photo, MonthTally, ThemeTally)) -> int:
    """Count the tallies again from the pictures (all owners', or these owners'); returns how many pictures counted.
    One read of the timeline, a row at a time (a library of 1,000,000 pictures: seconds). `models`: a migration's."""
    photo_model, month_model, theme_model = models
    with transaction.atomic():
        months, themes = month_model.objects.all(), theme_model.objects.all()
        photos = _counted(photo_model.objects.all())
        if owner_ids is not None:
            owner_ids = list(owner_ids)
            months, themes = months.filter(owner_id__in=owner_ids), themes.filter(owner_id__in=owner_ids)
            photos = photos.filter(owner_id__in=owner_ids)
        months.delete()
        themes.delete()
        found = _keys(photos.order_by().values_list(*FIELDS).iterator(chunk_size=10_000))
        zone = ZONE
        month_model.objects.bulk_create(
            (month_model(owner_id=owner, zone=zone, month=month, count=n) for (owner, month), n in found[0].items()),
            batch_size=1000,
        )
        theme_model.objects.bulk_create(
            (
                theme_model(owner_id=owner, category=category, album=album, seen=seen, count=n)
                for (owner, category, album, seen), n in found[1].items()
            ),
            batch_size=1000,
        )
    return sum(found[1].values())


def differences() -> list[str]:
    """What the stored tallies say that a count from the pictures does not, a line per row (none: they agree)."""
    months, themes = _keys(_counted(Photo.objects.all()).order_by().values_list(*FIELDS).iterator(chunk_size=10_000))
    zone = ZONE
    stored_months = Counter(
        {(o, m): n for o, z, m, n in MonthTally.objects.values_list("owner_id", "zone", "month", "count") if z == zone}
    )
    stored_themes = Counter(
        {
            (o, c, a, s): n
            for o, c, a, s, n in ThemeTally.objects.values_list("owner_id", "category", "album", "seen", "count")
        }
    )
    lines = [
        f"month {key}: stored {stored_months[key]}, counted {months[key]}"
        for key in sorted(months.keys() | stored_months.keys(), key=str)
        if months[key] != stored_months[key]
    ]
    return lines + [
        f"theme {key}: stored {stored_themes[key]}, counted {themes[key]}"
        for key in sorted(themes.keys() | stored_themes.keys(), key=str)
        if themes[key] != stored_themes[key]
    ]


def months_of(user) -> dict[date, int]:
    """{first day of a month: count} of the user's timeline (recounted first if the tallies were cut in a server's
    zone by an older version)."""
    zone = ZONE
    if MonthTally.objects.filter(owner=user).exclude(zone=zone).exists():
        rebuild([user.pk])
    rows = MonthTally.objects.filter(owner=user, zone=zone, count__gt=0).values_list("month", "count")
    return dict(rows)


def themes_of(user) -> list[tuple[str, str, int]]:
    """[(own category, album key, count)] of the user's timeline: a row per category, and per album for pictures
    without one (summed in the database: a library of 2,000 albums holds 14,000 rows)."""
    rows = ThemeTally.objects.filter(owner=user, count__gt=0).values("category", "album").order_by()
    return list(rows.annotate(n=Sum("count")).values_list("category", "album", "n"))


def seen_in(user, albums) -> dict[str, int]:
    """{confident system category: count} of the user's pictures without a category of their own in these albums
    (album keys; "" for no album)."""
    rows = ThemeTally.objects.filter(owner=user, count__gt=0, category="", album__in=list(albums)).exclude(seen="")
    return dict(rows.values("seen").order_by().annotate(n=Sum("count")).values_list("seen", "n"))
