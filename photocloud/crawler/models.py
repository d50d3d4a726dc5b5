import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse

from photocloud.library.models import Photo

FILES_ROOT = "crawler"  # the default storage's folder of downloaded candidates, one subfolder per crawl


class CrawlSource(models.Model):
    """A seed configured by an administrator: a site's search page with `{query}` where the keywords go, or a page
    to start from as it is."""

    name = models.CharField(max_length=100)
    url_template = models.CharField(
        max_length=2000, help_text="http(s) URL; {query} is replaced by the crawl's keywords, URL-encoded."
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Crawl(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="crawls")
    target = models.ForeignKey(Photo, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    keywords = models.CharField(max_length=200, blank=True)
    seed_urls = models.JSONField(default=list, help_text="The user's own start pages.")
    use_sources = models.BooleanField(default=True, help_text="Also start from the configured sources.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    error = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=300, blank=True, help_text="Why the crawl ended.")
    # What happened along the way that the user should know (refused addresses, robots.txt, budgets): short lines.
    notes = models.JSONField(default=list)
    ranked_by_similarity = models.BooleanField(default=False)

    max_depth = models.PositiveSmallIntegerField()
    max_pages = models.PositiveIntegerField()
    max_bytes = models.BigIntegerField()
    max_seconds = models.PositiveIntegerField()

    pages_fetched = models.PositiveIntegerField(default=0)
    bytes_fetched = models.BigIntegerField(default=0)
    images_found = models.PositiveIntegerField(default=0)
    images_kept = models.PositiveIntegerField(default=0)
    seconds_used = models.FloatField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of the worker running it.")
    # A deleted crawl loses its images but keeps its row (and counters) until it leaves the daily budget's window,
    # so deleting never gives the budget back.
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"]), models.Index(fields=["status", "heartbeat"])]

    def __str__(self):
        return self.keywords or str(self.pk)

    def get_absolute_url(self):
        return reverse("crawler:detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def label(self) -> str:
        if self.keywords:
            return self.keywords
        if self.target_id:
            # Annotated by selectors.crawls_of only while the owner may still see the picture.
            title = getattr(self, "target_title", None)
            return f"Like “{title}”" if title else "Like a picture"
        return "Web crawl"

    @property
    def files_prefix(self) -> str:
        """Downloaded candidates wait in this folder of the default storage (shared by every machine, an S3 bucket
        too) until they are saved or the crawl is deleted."""
        return f"{FILES_ROOT}/{self.pk}"


class Candidate(models.Model):
    """One image found by a crawl, validated and kept (bytes in the crawl's folder) until the user decides."""

    crawl = models.ForeignKey(Crawl, on_delete=models.CASCADE, related_name="candidates")
    image_url = models.URLField(max_length=2000)
    page_url = models.URLField(max_length=2000)
    page_title = models.CharField(max_length=300, blank=True)
    alt = models.CharField(max_length=500, blank=True)
    caption = models.CharField(max_length=500, blank=True)
    format = models.CharField(max_length=10)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    dhash = models.CharField(max_length=16, blank=True, help_text="Difference hash: the same picture at other sizes.")
    similarity = models.FloatField(null=True, blank=True, help_text="Cosine similarity of CNN features to the target.")
    keyword_score = models.FloatField(default=0)
    score = models.FloatField(default=0, db_index=True)
    retrieved_at = models.DateTimeField()
    saved_photo = models.ForeignKey(Photo, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-score", "pk"]
        constraints = [models.UniqueConstraint(fields=["crawl", "sha256"], name="unique_candidate_per_crawl")]

    def __str__(self):
        return self.image_url

    @property
    def extension(self) -> str:
        from photocloud.library.imaging import extension_of

        return extension_of(self.format)

    @property
    def original_name(self) -> str:
        """The downloaded bytes, in the default storage."""
        return f"{self.crawl.files_prefix}/{self.sha256}.{self.extension}"

    @property
    def thumbnail_name(self) -> str:
        return f"{self.crawl.files_prefix}/{self.sha256}.s.jpg"

    @property
    def title(self) -> str:
        """What the page called the picture, else its file name."""
        name = self.image_url.rsplit("/", 1)[-1].split("?", 1)[0]
        return (self.alt or self.caption or name or self.page_title)[:255]

    @property
    def similarity_percent(self) -> int | None:
        return None if self.similarity is None else round(max(self.similarity, 0) * 100)

    @property
    def keyword_percent(self) -> int:
        return round(self.keyword_score * 100)
