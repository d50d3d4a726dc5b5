"""Reads from the library. Every query starts from `visible_to()` or `owned_by()` (see access.py)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import CharField, Count, F, Q, Value
from django.db.models.functions import Coalesce, ExtractMonth, ExtractYear, NullIf

from .models import Album, Photo

DISPLAY_FIELDS = ("album", "owner")


def library_photos(user):
    """The user's own pictures, newest first, with what the grid shows."""
    return Photo.objects.owned_by(user).select_related(*DISPLAY_FIELDS)


def album_photos(album: Album):
    return Photo.objects.filter(album=album).select_related(*DISPLAY_FIELDS)


def albums_for_profile(viewer, owner):
    return (
        Album.objects.visible_to(viewer)
        .filter(owner=owner)
        .select_related("cover", "owner")
        .annotate(photo_count=Count("photos"))
        .order_by("-created_at")
    )


def public_albums():
    """The public home page: recent public albums that have at least one picture."""
    return (
        Album.objects.filter(access="public")
        .select_related("cover", "owner")
        .annotate(photo_count=Count("photos"))
        .filter(photo_count__gt=0)
        .order_by("-updated_at")
    )


def my_albums(user):
    return (
        Album.objects.owned_by(user).select_related("cover").annotate(photo_count=Count("photos")).order_by("-created_at")
    )


def neighbours(photo: Photo, viewer) -> tuple[Photo | None, Photo | None]:
    """Previous (newer) and next (older) picture in the same album, in the album's order."""
    siblings = Photo.objects.visible_to(viewer).filter(album_id=photo.album_id)

    def beyond(lookup: str) -> Q:  # after `photo` in (sort_date, created_at) order, "gt" or "lt"
        return Q(**{f"sort_date__{lookup}": photo.sort_date}) | Q(
            sort_date=photo.sort_date, **{f"created_at__{lookup}": photo.created_at}
        )

    newer = siblings.filter(beyond("gt")).order_by("sort_date", "created_at").first()
    older = siblings.filter(beyond("lt")).order_by("-sort_date", "-created_at").first()
    return newer, older


# --- automatic albums ---------------------------------------------------------------------------------------------


def years(user) -> list[dict]:
    """[{year, count, cover}], newest year first."""
    rows = (
        Photo.objects.owned_by(user)
        .annotate(year=ExtractYear("sort_date"))
        .values("year")
        .annotate(count=Count("id"))
        .order_by("-year")
    )
    return [dict(row, cover=_cover(user, year=row["year"])) for row in rows]


def months(user, year: int) -> list[dict]:
    rows = (
        Photo.objects.owned_by(user)
        .filter(sort_date__year=year)
        .annotate(month=ExtractMonth("sort_date"))
        .values("month")
        .annotate(count=Count("id"))
        .order_by("-month")
    )
    return [dict(row, year=year, cover=_cover(user, year=year, month=row["month"])) for row in rows]


def _cover(user, **when) -> Photo | None:
    filters = {f"sort_date__{key}": value for key, value in when.items()}
    return Photo.objects.owned_by(user).filter(**filters).order_by("-sort_date").first()


@dataclass
class Event:
    """A run of pictures taken close together in time (no gap longer than EVENT_GAP_HOURS)."""

    photos: list[Photo] = field(default_factory=list)

    @property
    def start(self) -> datetime:
        return self.photos[0].sort_date

    @property
    def end(self) -> datetime:
        return self.photos[-1].sort_date


def events(user, year: int, month: int) -> list[Event]:
    """Events within a month, newest first; each event's pictures in the order they were taken."""
    gap = timedelta(hours=settings.PHOTOCLOUD["EVENT_GAP_HOURS"])
    photos = library_photos(user).filter(sort_date__year=year, sort_date__month=month).order_by("sort_date", "pk")
    found: list[Event] = []
    for photo in photos:
        if not found or photo.sort_date - found[-1].end > gap:
            found.append(Event())
        found[-1].photos.append(photo)
    return list(reversed(found))


def _with_theme(queryset):
    """The picture's own category, or its album's when it has none."""
    return queryset.annotate(
        theme=Coalesce(NullIf(F("category"), Value("")), F("album__category"), output_field=CharField())
    )


def themes(user) -> list[dict]:
    """[{theme, count, cover}] for the user's pictures, largest first."""
    rows = _with_theme(Photo.objects.owned_by(user)).values("theme").annotate(count=Count("id")).order_by("-count")
    result = []
    for row in rows:
        cover = theme_photos(user, row["theme"]).first()
        result.append(dict(row, cover=cover))
    return result


def theme_photos(user, theme: str):
    return _with_theme(library_photos(user)).filter(theme=theme)
