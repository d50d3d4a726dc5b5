import uuid

from django.conf import settings
from django.db import models


class UploadSession(models.Model):
    """One resumable upload: bytes arrive in chunks into a file named after the session, never after the client's name.

    There is at most one per owner and content hash, so a restarted client that asks again gets the same session
    back and goes on from `received`.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="upload_sessions")
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    name = models.CharField(max_length=255, blank=True, help_text="For display only; never used as a path.")
    album = models.ForeignKey("library.Album", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received = models.BigIntegerField(default=0)
    # Set while one request assembles and ingests the file, so a second "complete" does not ingest it twice.
    completing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "sha256"], name="unique_upload_per_owner_hash")]
        indexes = [models.Index(fields=["updated_at"])]

    def __str__(self):
        return f"{self.name or self.sha256[:12]} ({self.received}/{self.size})"


class ImportFolder(models.Model):
    """A folder on the server whose pictures are imported into one user's library (set up by an administrator)."""

    class Mode(models.TextChoices):
        COPY = "copy", "Copy (leave the files in the folder)"
        MOVE = "move", "Move (delete each file once it is safely stored)"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_folders")
    path = models.CharField(max_length=1000, help_text="An absolute path to a folder on the server.")
    album = models.ForeignKey(
        "library.Album",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="One of the owner's albums; empty means their “Uploads” album.",
    )
    mode = models.CharField(max_length=4, choices=Mode.choices, default=Mode.COPY)
    enabled = models.BooleanField(default=True)
    imported_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    pending_count = models.PositiveIntegerField(default=0, help_text="Pictures seen and not imported yet.")
    last_scan_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["path"]

    def __str__(self):
        return self.path


class ImportEvent(models.Model):
    """What happened to one file of an import folder; also how an unchanged file is known to be done already."""

    class Status(models.TextChoices):
        STORED = "stored", "Imported"
        DUPLICATE = "duplicate", "Already there"
        REJECTED = "rejected", "Rejected"
        ERROR = "error", "Error (will retry)"

    folder = models.ForeignKey(ImportFolder, on_delete=models.CASCADE, related_name="events")
    relative_path = models.CharField(max_length=1000)
    path_key = models.CharField(max_length=64, help_text="SHA-256 of the relative path, for an index of any length.")
    size = models.BigIntegerField()
    mtime_ns = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices)
    reason = models.CharField(max_length=500, blank=True)
    photo = models.ForeignKey("library.Photo", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["folder", "path_key"]), models.Index(fields=["folder", "-created_at"])]

    def __str__(self):
        return f"{self.relative_path}: {self.status}"
