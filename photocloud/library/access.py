"""The one place that decides who may see which album and picture.

Every page, API endpoint, thumbnail and original goes through `visible_to()`; a picture follows its albums' access
levels: it is visible when its home album (Photo.album) or any album it is placed in (AlbumPlacement) is, and always
to its owner (a picture in no album lives only in its owner's library). Write views so that the object is looked
up *through* these querysets: then a forgotten check is a 404, not a leak. Pictures and albums in the Trash are left
out of `visible_to()` and `owned_by()` alike, so no listing, count, search or feed can show them: only
`in_trash_of()` (the owner's Trash) reaches them.
"""

import functools

from django.db import models
from django.db.models import DateTimeField, Exists, F, Lookup, OuterRef, Q, Value

PUBLIC, FOLLOWERS, PRIVATE = "public", "followers", "private"


class _Conditions(dict):
    """A user's access conditions built so far (`_per_user`); left behind when the user is pickled (a cached object
    that holds the user would otherwise carry their querysets, which pickling runs)."""

    def __reduce__(self):
        return (_Conditions, ())


def _per_user(build):
    """Build a user's condition once per user object (a request's user is one object): a condition is SQL still to
    run, the same each time for the same user, and Django copies it wherever it is used. Search by image built
    visible_to() twice a request (the query picture, the candidates) and the albums' rule three times, ~1.5 ms of the
    web server's CPU in 25 (bench/search_e2e.py --in-process)."""

    @functools.wraps(build)
    def built(user, *args, **kwargs):
        if user is None:
            return build(user, *args, **kwargs)
        known = getattr(user, "_access_conditions", None)
        if known is None:
            known = user._access_conditions = _Conditions()
        key = (build.__name__, args, tuple(sorted(kwargs.items())))
        if key not in known:
            known[key] = build(user, *args, **kwargs)
        return known[key]

    return built


def _follows(user, owner_ref: str):
    from photocloud.accounts.models import Follow

    return Exists(Follow.objects.filter(follower=user, followee=OuterRef(owner_ref)))


@_per_user
def _visibility(user, prefix: str, owner: str | None = None) -> Q:
    """Q for rows whose album (reached through `prefix`) `user` may see; `owner` names the owner field when it is
    not the album's (a picture's own owner, so that a picture in no album is its owner's)."""
    access = f"{prefix}access"
    owner = owner or f"{prefix}owner"
    if user is None or not user.is_authenticated:
        return Q(**{access: PUBLIC})
    return Q(**{owner: user}) | Q(**{access: PUBLIC}) | (Q(**{access: FOLLOWERS}) & Q(_follows(user, owner)))


class _InSubquery(Lookup):
    """`column IN (subquery)`; on PostgreSQL `column = ANY(ARRAY(subquery))`, which runs the subquery once and keeps
    the condition an index condition, so that an OR of several becomes a BitmapOr of index scans. `IN (subquery)`
    in an OR is a hashed filter on every row: a viewer who may see 1,000 of 1,000,000 pictures cost a scan of all of
    them (470 ms; 3 ms with the arrays)."""

    lookup_name = "in_subquery"

    def __init__(self, lhs, rhs):
        super().__init__(lhs, rhs.order_by())  # a set: the models' default order would only add a sort

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} IN {rhs}", [*lhs_params, *rhs_params]

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", [*lhs_params, *rhs_params]


def any_of(field: str, subquery) -> Q:
    """`field` among the values of `subquery`, the subquery run once (see _InSubquery): for matching a large table
    against the few rows a viewer may see (the ids of a stranger's 1,000 pictures among 1,000,000 analyses: 6 ms
    instead of a scan of the whole table, 90 ms)."""
    return Q(_InSubquery(F(field), subquery))


def _albums_seen(user, others: bool = False):
    """_visibility's rule for the albums whose home pictures `user` may see, for `_through_albums` and
    `visible_parts`: (the albums, of other owners only with `others`; the condition on them besides being public, for
    the albums for followers, None for a visitor)."""
    from .models import Album

    albums = Album.objects.exclude(owner=user) if others else Album.objects.all()
    if user is None or not user.is_authenticated:
        return albums, None
    # The albums for followers of the owners `user` follows (a home album is its picture's owner's): the rule decided
    # on the albums, not a follow looked up for each picture of every such album. The pictures of albums for
    # followers of owners they do not follow were read to be discarded (333,000 for a user with no follows beside a
    # library of 1,000,000, bench/pages.py).
    return albums, Q(_follows(user, "owner")) & Q(access=FOLLOWERS)


@_per_user
def _through_albums(user, others: bool = False) -> Q:
    """Pictures whose home album, or an album they are placed in, `user` may see (`others`: of other owners only).

    The albums as lists the database builds once, not a join and a correlated look-up per picture: the count of a
    paginated list then reads 100,000 pictures in 70 ms instead of 420 ms on SQLite (bench/pages.py)."""
    from .models import AlbumPlacement

    albums, shared = _albums_seen(user, others)
    placed = AlbumPlacement.objects.filter(album__in=albums.visible_to(user)).values("photo")
    seen = Q(_InSubquery(F("album"), albums.filter(access=PUBLIC).values("pk")))
    if shared is not None:
        seen |= Q(_InSubquery(F("album"), albums.filter(shared).values("pk")))
    return seen | Q(_InSubquery(F("pk"), placed))


class OwnedQuerySet(models.QuerySet):
    """Rows with an `owner`: also what the owner alone sees, such as their automatic albums of look-alikes."""

    def owned_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)


class TrashableQuerySet(OwnedQuerySet):
    """Albums and pictures, which the Trash holds for a while before they are deleted for good."""

    def live(self):
        """Outside the Trash. Only for rows already reached through an access check (an album's pictures)."""
        return self.filter(trashed_at__isnull=True)

    def owned_by(self, user):
        return super().owned_by(user).live()

    def in_trash_of(self, user):
        return super().owned_by(user).filter(trashed_at__isnull=False)


class AlbumQuerySet(TrashableQuerySet):
    def visible_to(self, user):
        return self.live().filter(_visibility(user, ""))


class PhotoQuerySet(TrashableQuerySet):
    def visible_to(self, user):
        """Live pictures whose home album, or an album they are placed in, `user` may see; all of the owner's own."""
        if user is None or not user.is_authenticated:
            return self.live().filter(_through_albums(user))
        # The owner's own first: a row that is theirs is then decided by one comparison, not by searching the lists
        # of albums (PostgreSQL compares an array from a subquery element by element, for every row).
        return self.live().filter(Q(owner=user) | _through_albums(user))

    def shared_with(self, user):
        """The live pictures of other owners that `user` may see: `visible_to(user)` without their own, found from the
        other owners' albums alone, so that a listing of them never reads the user's own library (a picture is in
        its owner's albums only)."""
        if user is None or not user.is_authenticated:
            return self.visible_to(user)
        return self.live().exclude(owner=user).filter(_through_albums(user, others=True))

    def visible_parts(self, user, owner=None) -> list:
        """`visible_to(user)` as querysets that hold its pictures between them, none in two: the user's own, the
        others' whose home album they may see, and the others' placed in an album they may see whose home album they
        may not. Each is one join with the albums (or none), which the database estimates from its statistics and
        can read in date order from an index, cut at a page (core.pagination reads them so). In the one OR of
        `visible_to`, PostgreSQL takes each list of albums for ten and compares a picture with the list of placed
        pictures element by element: a follower's count of 1,001 of an owner's pictures gathered all 667,000 they may
        see first, and a user's list beside a large public library compared 350,000 pictures with 16,500 placed ones
        (bench/pages.py, 1,000,000 pictures). `owner` (a user's key): of that owner's pictures alone, the albums
        too narrowed to theirs (SQLite, given every album a follower may see, counted a small library's pictures by
        reading those of every album of a large one)."""
        from .models import AlbumPlacement

        visitor = user is None or not user.is_authenticated
        if not visitor and owner == user.pk:
            return [self.owned_by(user)]
        others = self.live() if visitor else self.live().exclude(owner=user)
        own = [self.owned_by(user)] if owner is None and not visitor else []
        albums, shared = _albums_seen(user, others=not visitor)
        if owner is not None:
            others, albums = others.filter(owner=owner), albums.filter(owner=owner)
        seen = albums.filter(Q(access=PUBLIC) | (shared or Q()))  # as in _through_albums: the home album, live or not
        home, placed = seen.values("pk"), AlbumPlacement.objects.filter(album__in=seen.live()).values("photo")
        return [*own, others.filter(album__in=home), others.filter(pk__in=placed).exclude(album__in=home)]

    def visible_among(self, user, ids):
        """Those of these pictures (a few, by key: a search's results) that `user` may see, as `visible_to(user)`
        decides, with the placements looked up for these pictures alone. visible_to builds the list of every picture
        placed in an album the user may see before checking one (33,500 of them, compared element by element with
        each, for a follower's 1,000 search results at 1,000,000 pictures: half of a 100 ms page, bench/pages.py)."""
        from .models import AlbumPlacement

        ids = list(ids)
        visitor = user is None or not user.is_authenticated
        albums, shared = _albums_seen(user, others=not visitor)
        seen = albums.filter(Q(access=PUBLIC) | (shared or Q()))  # as in _through_albums: the home album, live or not
        placed = AlbumPlacement.objects.filter(photo__in=ids, album__in=seen.live()).values("photo")
        found = Q(album__in=seen.values("pk")) | Q(pk__in=placed)
        return self.live().filter(pk__in=ids).filter(found if visitor else Q(owner=user) | found)

    def listed(self):
        """What a listing shows (grids, counts, search results, date albums): a stack once, by its cover. Its other
        members (a RAW beside its JPEG) stay reachable through the cover's page, with the same access rules."""
        return self.filter(stack_cover__isnull=True)

    def stack_of(self, photo):
        """The other pictures of `photo`'s stack (its members, or its cover and the cover's other members)."""
        cover = photo.stack_cover_id or photo.pk
        return self.filter(Q(pk=cover) | Q(stack_cover=cover)).exclude(pk=photo.pk)

    def in_album(self, album):
        """The pictures of an album: those whose home it is and those placed in it (the one definition)."""
        from .models import AlbumPlacement

        placed = AlbumPlacement.objects.filter(album=album)
        if not placed.exists():  # most albums: a range of the (album, trashed_at, sort_date) index, never a sort
            return self.filter(album=album)
        # The placed pictures as a list built once (_InSubquery): `pk IN (subquery)` in an OR was a filter on every
        # picture of every owner (PostgreSQL read all 1,000,000 for an album of 500, 316 ms; bench/pages.py).
        return self.filter(Q(album=album) | Q(_InSubquery(F("pk"), placed.values("photo"))))


def visible_albums(user, photo_ids) -> dict:
    """{picture id: [ids of the albums holding it that `user` may see]}, the home album first, then the others in the
    order they were placed; one query for any number of pictures. A picture seen through one album must not reveal
    the others (the API's `album` and `albums`)."""
    from .models import Album, AlbumPlacement, Photo

    ids = list(photo_ids)
    found: dict = {pk: [] for pk in ids}
    if not ids:
        return found
    albums = Album.objects.visible_to(user)
    home = Photo.objects.filter(pk__in=ids, album__in=albums).annotate(placed=Value(None, DateTimeField()))
    placed = AlbumPlacement.objects.filter(photo__in=ids, album__in=albums)
    rows = (
        home.order_by()
        .values_list("pk", "album_id", "placed")
        .union(placed.order_by().values_list("photo_id", "album_id", "added_at"), all=True)
    )
    for pk, album_id, _added in sorted(rows, key=lambda row: (row[2] is not None, row[2] or 0)):
        if album_id not in found[pk]:
            found[pk].append(album_id)
    return found


def holds(album, photo) -> bool:
    """Whether `photo` is a picture of `album` (its home or placed in it)."""
    from .models import AlbumPlacement

    return photo.album_id == album.pk or AlbumPlacement.objects.filter(album=album, photo=photo).exists()


def shown_cover(album):
    """The album's cover, only while it is a picture of that album outside the Trash: whoever may see the album may
    then see it. A cover left pointing at a picture moved to another (maybe private) album or trashed shows nothing."""
    cover = album.cover if album.cover_id else None
    return cover if cover is not None and cover.trashed_at is None and holds(album, cover) else None


def can_edit(user, obj) -> bool:
    """Only owners change or delete their albums and pictures."""
    return user.is_authenticated and obj.owner_id == user.pk


def can_see_location(user, photo) -> bool:
    """GPS is private to the owner unless the owner chose to share it."""
    return can_edit(user, photo) or photo.owner.share_location


def location_visible(user) -> Q:
    """The same rule as can_see_location, as a filter on pictures."""
    shared = Q(owner__share_location=True)
    return shared | Q(owner=user) if user.is_authenticated else shared
