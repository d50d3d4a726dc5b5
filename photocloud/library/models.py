import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce, NullIf
from django.urls import reverse
from django.utils import timezone

from .access import AlbumQuerySet, OwnedQuerySet, PhotoQuerySet, shown_cover

DEFAULT_CATEGORIES = [
    ("portrait", "Portrait"),
    ("landscape", "Landscape"),
    ("food", "Food"),
    ("document", "Document"),
    ("architecture", "Architecture"),
    ("animal", "Animal"),
    ("illustration", "Anime / illustration"),
]


def wall_clock(moment: datetime) -> datetime:
    """`moment` as the server's wall-clock time (settings.TIME_ZONE) stored as if UTC, as Photo.sort_date holds a
    camera's: what a picture with no date taken is placed by (its upload), so one reading of sort_date serves all."""
    return timezone.localtime(moment, timezone.get_default_timezone()).replace(tzinfo=UTC)


# The system category (PhotoAnalysis, from vision/classifier.py) is a calibrated probability; from this one on it is
# shown as a fact and lends a picture without a category of its own (or its album's) to a theme; below, a hint.
CONFIDENT_SYSTEM_CATEGORY = 0.6


def effective_category_sql():
    """`Photo.effective_category` as a database expression (for facets and annotations)."""
    return Coalesce(NullIf("category", models.Value("")), "album__category")


def in_category(category: str) -> models.Q:
    """Pictures whose effective category is `category` (see `Photo.effective_category`)."""
    return models.Q(category=category) | models.Q(category="", album__in=_albums_of_category(category))


def without_category() -> models.Q:
    """Pictures with no effective category (see `Photo.effective_category`): neither their own nor their album's."""
    return models.Q(category="") & (models.Q(album__isnull=True) | models.Q(album__in=_albums_of_category("")))


def _albums_of_category(category: str):
    """The albums of a category, as a list the database builds once: no join with the albums for every picture, so
    counting a theme reads the (owner, category, album) index alone (bench/pages.py)."""
    return Album.objects.filter(category=category).values("pk")


def category_key(text: str) -> str:
    """A category as typed, as it is stored and compared: "  Sea   View " -> "sea view", and a default's label to its
    key ("Anime / illustration" -> "illustration"), so that what the pages show can be typed back."""
    value = " ".join(text.split()).lower()
    return {label.lower(): key for key, label in DEFAULT_CATEGORIES}.get(value, value)


def category_label(key: str) -> str:
    """ "illustration" -> "Anime / illustration"; the user's own categories read as they were written."""
    return dict(DEFAULT_CATEGORIES).get(key, key)


class Access(models.TextChoices):
    PUBLIC = "public", "Everyone"
    FOLLOWERS = "followers", "My followers"
    PRIVATE = "private", "Only me"


class Tag(models.Model):
    """A user tag; names are stored normalised (trimmed, lower case) so "Beach" and "beach " are one tag."""

    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Album(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="albums")
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=50, help_text="One category, chosen by you.")
    tags = models.ManyToManyField(Tag, blank=True, related_name="albums")
    description = models.TextField(max_length=5000, blank=True)
    access = models.CharField(max_length=10, choices=Access.choices, default=Access.PRIVATE)
    cover = models.ForeignKey("Photo", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when the album was deleted with its pictures: it waits in the Trash with them, so restoring brings it back.
    trashed_at = models.DateTimeField(null=True, blank=True)

    objects = AlbumQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"]), models.Index(fields=["access", "-created_at"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("library:album", args=[self.pk])

    @property
    def category_label(self) -> str:
        return category_label(self.category)

    @property
    def shown_cover(self):
        return shown_cover(self)


class StoredFile(models.Model):
    """One original as stored, shared by every picture of the same bytes, whoever uploaded them.

    Its row lock is what storing and removing the file serialize on (stored_files.py): an upload claims the row, and
    writes the file again if it is gone, in the transaction that inserts its Photo; the file is removed only by a job
    that holds the same lock and finds no Photo of the hash left.
    """

    sha256 = models.CharField(max_length=64, primary_key=True)
    format = models.CharField(max_length=10, blank=True, help_text="As Photo.format; it names the file's extension.")
    size = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.sha256


class Photo(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="photos")
    # The picture's home album (deleting or trashing it takes the picture along); None for a picture that lives only
    # in its owner's library. It may be placed in more of the owner's albums too (AlbumPlacement), without a copy.
    album = models.ForeignKey(Album, null=True, blank=True, on_delete=models.CASCADE, related_name="photos")
    placed_in = models.ManyToManyField(Album, through="AlbumPlacement", related_name="placed_photos", blank=True)
    title = models.CharField(max_length=255, blank=True)
    description = models.TextField(max_length=5000, blank=True)
    # The user's own category; blank means "the album's". The system's suggestion will live in its own field.
    category = models.CharField(max_length=50, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="photos")

    # The original, content-addressed: the same bytes are stored once, whoever uploads them.
    sha256 = models.CharField(max_length=64)
    original_name = models.CharField(max_length=255, blank=True, help_text="For display only; never used as a path.")
    format = models.CharField(max_length=10)
    mime_type = models.CharField(max_length=40)
    file_size = models.BigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True, help_text="As displayed, orientation applied.")
    height = models.PositiveIntegerField(null=True, blank=True)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    status_detail = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    # When the photo was taken: the UTC instant when the camera recorded its time zone (taken_offset), else the
    # camera's wall-clock time stored as if it were UTC.
    taken_at = models.DateTimeField(null=True, blank=True)
    taken_offset = models.SmallIntegerField(
        null=True, blank=True, help_text="Minutes east of UTC of the camera's clock, when the file records it."
    )
    # The local wall-clock time taken (as if UTC) when known, else the server's wall-clock time of the upload (as if
    # UTC too, `wall_clock`): what the timeline sorts and groups by, so a photo taken at 23:30 in Tokyo sorts and
    # groups into that evening wherever it is viewed. Its calendar (year, month, day) is always read in UTC, never in
    # the server's zone: the one date rule of the timeline, the date albums, search's year words, facet and filters.
    sort_date = models.DateTimeField()
    camera_make = models.CharField(max_length=100, blank=True)
    camera_model = models.CharField(max_length=100, blank=True)
    lens = models.CharField(max_length=150, blank=True)
    exposure_time = models.CharField(max_length=20, blank=True)
    f_number = models.FloatField(null=True, blank=True)
    iso = models.PositiveIntegerField(null=True, blank=True)
    focal_length = models.FloatField(null=True, blank=True)
    orientation = models.PositiveSmallIntegerField(default=1)
    # The owner's turn of the picture, clockwise degrees (0, 90, 180, 270), on top of the camera's orientation:
    # applied to the renditions as they are served; the original and its shared renditions stay as they are.
    rotation = models.PositiveSmallIntegerField(default=0)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    # Set when the owner corrected the date or the location by hand (services.set_taken, set_location): processing
    # the file again keeps the correction, and an edited location withholds the original's own GPS from everyone but
    # the owner (downloads.original_for), since it no longer speaks for the picture, or was removed on purpose.
    taken_edited = models.BooleanField(default=False)
    location_edited = models.BooleanField(default=False)

    # Dominant colour as a palette name ("red", "blue", "black"...), for the colour filter in search.
    dominant_color = models.CharField(max_length=12, blank=True, db_index=True)

    # Provenance, for pictures that did not come from the owner's own camera: saved from a web crawl (source and page
    # URLs, retrieval time) or copied from another user's picture (credited author and the picture it came from).
    source_url = models.URLField(max_length=2000, blank=True)
    source_page_url = models.URLField(max_length=2000, blank=True)
    retrieved_at = models.DateTimeField(null=True, blank=True)
    credited_author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    credit = models.CharField(max_length=200, blank=True, help_text="The author's name as shown, kept if they leave.")
    copied_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies")
    # A stack: a RAW file and a JPEG (or HEIC) of the same shot show as one picture, the JPEG (the cover). The RAW
    # points at its cover; covers and lone pictures have None. Listings show only the None ones (access.listed).
    # No index of its own: photo_stack_members (partial) finds a stack's members. A whole index, nearly all None,
    # made SQLite read "stack_cover IS NULL" through it once a library had a few stacks (2.6 s for the explore
    # page's counts at 100,000 pictures, bench/pages.py).
    stack_cover = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="stack_members", db_index=False
    )
    # The base name without extension, NFC-normalised and case-folded (stacks.shot_name), set at upload: the other
    # file of a shot is found by it through an index, on every database alike (SQLite's LOWER folds ASCII only).
    shot_name = models.CharField(max_length=255, blank=True, default="", editable=False)
    # Set on every file of a stack the owner separated: processing one of them again (retry, requeue) must not
    # stack them again, nor stack it with another file.
    unstacked = models.BooleanField(default=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set while the picture is in its owner's Trash (see access.py and trash.py); everything else about it is kept.
    trashed_at = models.DateTimeField(null=True, blank=True)
    # The owner's own marks, set when given: archived pictures stay in their albums and in search but leave the
    # timeline and the automatic albums; favourites have a view of their own. Nobody else sees either mark. Moments
    # rather than booleans: "IS NULL" is an equality an index range keeps, where Django writes "= false" as "NOT x".
    archived_at = models.DateTimeField(null=True, blank=True)
    favourite_at = models.DateTimeField(null=True, blank=True)

    objects = PhotoQuerySet.as_manager()

    class Meta:
        ordering = ["-sort_date", "-created_at"]
        constraints = [models.UniqueConstraint(fields=["owner", "sha256"], name="unique_photo_per_owner")]
        # Each listing's order in full (sort_date then created_at), so a page is an index range, never a sort; and
        # the category ones for the theme counts. Every listing asks for "trashed_at IS NULL", an equality that keeps
        # the range; the Trash and its purge read the same indexes with trashed_at set. The timeline and automatic
        # albums ask for "archived_at IS NULL" too.
        # stack_cover ends the owner's and the album's: listings and their counts leave stack members out
        # (access.listed), and read it from the index too.
        indexes = [
            models.Index(
                fields=["owner", "trashed_at", "archived_at", "-sort_date", "-created_at", "stack_cover"],
                name="photo_owner_order",
            ),
            models.Index(fields=["owner", "trashed_at", "favourite_at"], name="photo_owner_favourites"),
            models.Index(
                fields=["album", "trashed_at", "-sort_date", "-created_at", "stack_cover"], name="photo_album_order"
            ),
            models.Index(fields=["trashed_at", "-sort_date", "-created_at"], name="photo_order"),
            models.Index(
                fields=["owner", "trashed_at", "archived_at", "category", "album", "stack_cover"],
                name="photo_owner_category",
            ),
            models.Index(fields=["sha256"]),
            # Finding the other file of a shot by name when a picture's metadata is read (stacks.py): case-folded.
            models.Index(fields=["owner", "shot_name"], name="photo_owner_shot"),
            # The listings again as partial indexes (a stack's members and the Trash left out), for PostgreSQL: its
            # planner takes "trashed_at IS NULL" for a filter, not an equality, so the indexes above never give it the
            # date order, and every page of a timeline or album read and sorted all of its rows (160 ms at 100,000
            # pictures, 720 ms at 1,000,000: bench/pages.py). archived_at ends the owner's, so that the timeline's
            # counts read the index alone.
            models.Index(
                fields=["owner", "-sort_date", "-created_at", "archived_at"],
                condition=models.Q(trashed_at__isnull=True, stack_cover__isnull=True),
                name="photo_owner_listed",
            ),
            models.Index(
                fields=["album", "-sort_date", "-created_at"],
                condition=models.Q(trashed_at__isnull=True, stack_cover__isnull=True),
                name="photo_album_listed",
            ),
            # And over every owner's pictures, for the lists of what a user may see of others (access.visible_parts):
            # each part a join with the albums, whose share of the library the planner knows, it walks this in date
            # order when they are many and the albums' own index when they are few. (With the lists of albums as
            # arrays, which it takes for ten albums, it walked this for one viewer's few pictures through everyone
            # else's: 1.9 s at 1,000,000 pictures, so it was left out; without it, the list of a user beside a large
            # public library read and sorted all of it: 35,000 pictures at 100,000, bench/pages.py.)
            models.Index(
                fields=["-sort_date", "-created_at"],
                condition=models.Q(trashed_at__isnull=True, stack_cover__isnull=True),
                name="photo_listed",
            ),
            # A stack's live members (stacks.with_stack_size, a count per row shown). Partial: nearly every picture
            # has no stack, and with them in the index SQLite's statistics call it useless and it counts each stack
            # by reading the whole library (minutes for the theme covers at 100,000 pictures).
            models.Index(
                fields=["stack_cover", "trashed_at"],
                condition=models.Q(stack_cover__isnull=False),
                name="photo_stack_members",
            ),
        ]

    def __str__(self):
        return self.title or str(self.pk)

    def get_absolute_url(self):
        return reverse("library:photo", args=[self.pk])

    @property
    def effective_category(self) -> str:
        """The picture's own category, else its home album's: the one rule, also as SQL in `effective_category_sql`,
        `in_category` and `without_category`."""
        return self.category or (self.album.category if self.album_id else "")

    @property
    def category_label(self) -> str:
        return category_label(self.effective_category)

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    @property
    def favourite(self) -> bool:
        return self.favourite_at is not None

    @property
    def taken_local(self) -> datetime | None:
        """The wall-clock time on the camera when the photo was taken (naive: shown as is, in no viewer's zone)."""
        if self.taken_at is None:
            return None
        return (self.taken_at + timedelta(minutes=self.taken_offset or 0)).replace(tzinfo=None)

    @property
    def wall_clock(self) -> datetime:
        """sort_date as the naive wall-clock time it holds, to show (a template would move an aware one)."""
        return self.sort_date.astimezone(UTC).replace(tzinfo=None)

    @property
    def taken_zone(self) -> str:
        """ "UTC+02:00" when the file recorded the camera's time zone, else ""."""
        if self.taken_at is None or self.taken_offset is None:
            return ""
        hours, minutes = divmod(abs(self.taken_offset), 60)
        return f"UTC{'-' if self.taken_offset < 0 else '+'}{hours:02d}:{minutes:02d}"

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None


class AlbumPlacement(models.Model):
    """A picture shown in one more of its owner's albums besides its home album (Photo.album): no copy of the file.
    Whoever may see the album may see the picture (access.py); removing the placement never deletes the picture."""

    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="placements")
    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="placements")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["album", "photo"], name="unique_album_placement")]
        indexes = [models.Index(fields=["photo", "album"], name="placement_photo")]

    def __str__(self):
        return f"{self.photo_id} in {self.album_id}"


class BulkJob(models.Model):
    """A bulk action on many pictures run in the background (library/bulk.py): its progress, polled by the client."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bulk_jobs")
    action = models.CharField(max_length=30)
    params = models.JSONField(default=dict)
    ids = models.JSONField(default=list)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    results = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = OwnedQuerySet.as_manager()

    def __str__(self):
        return f"{self.action} of {self.total}"


class MonthTally(models.Model):
    """How many pictures of an owner's timeline (live, not archived, a stack once: selectors._timeline) fall in each
    local month, kept by library/tallies.py in the transaction of every write that adds, removes, re-dates or hides
    pictures: the date scrubber and the date albums read a row per month instead of counting a range of the date
    index per month (a library of 1,000,000 pictures: 315 ms, bench/pages.py). `zone` is the time zone the months
    were cut in: tallies.ZONE, sort_date's month read in UTC (the camera's month); rows an older version cut in the
    server's zone are recounted when read."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    zone = models.CharField(max_length=64)
    month = models.DateField(help_text="The first day of the month.")
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "zone", "month"], name="unique_month_tally")]

    def __str__(self):
        return f"{self.owner_id} {self.month:%Y-%m}: {self.count}"


class ThemeTally(models.Model):
    """How many pictures of an owner's timeline have each (own category, home album, confident system category):
    what the themes page groups by (selectors.themes), kept by library/tallies.py like MonthTally. The album's own
    category is read when shown, so relabelling an album changes no row. `album` is the album's key, or "" for a
    picture in no album, and is "" for a picture with its own category, as `seen` is (neither decides its theme)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=50, blank=True)
    album = models.CharField(max_length=36, blank=True)
    seen = models.CharField(max_length=20, blank=True)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "category", "album", "seen"], name="unique_theme_tally")
        ]

    def __str__(self):
        return f"{self.owner_id} {self.category or self.album or self.seen}: {self.count}"
