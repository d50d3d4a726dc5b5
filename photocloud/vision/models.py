import numpy as np
from django.conf import settings
from django.db import models
from pgvector.django import BitField, HalfVectorField

from photocloud.library.access import OwnedQuerySet
from photocloud.library.models import CONFIDENT_SYSTEM_CATEGORY, Photo, category_label


def encode_features(vector: np.ndarray) -> bytes:
    """How a feature vector is stored (PhotoAnalysis.features): float16 bytes, half the space of float32 and precise
    enough for distances."""
    return np.asarray(vector).astype(np.float16).tobytes()


def decode_features(blobs) -> np.ndarray:
    """Stored feature vectors as a float32 matrix, one row per stored value (the one place that knows the format)."""
    return np.vstack([np.frombuffer(bytes(blob), dtype=np.float16) for blob in blobs]).astype(np.float32)


class PhotoAnalysis(models.Model):
    """What the system saw in one picture: suggestions that sit beside the user's own data, never over it.

    The integer primary key is also the picture's id in the vector index.
    """

    photo = models.OneToOneField(Photo, on_delete=models.CASCADE, related_name="analysis")
    # EfficientNet-Lite0 features as float16 bytes (2.5 KB): enough precision for ranking, half the space.
    features = models.BinaryField()
    category = models.CharField(max_length=20, blank=True)
    confidence = models.FloatField(default=0)
    labels = models.JSONField(default=list, help_text="[[label, score], …] from the ImageNet classifier")
    text = models.TextField(blank=True, help_text="Text read from the picture")
    faces = models.JSONField(default=list, help_text="[[x, y, width, height, score], …] in original pixels")
    # SFace identities of the upright faces (faces.encode_identities), for the near-duplicates
    # review; null for pictures analysed before they were stored, until `photocloud analyze` catches up.
    face_identities = models.BinaryField(null=True, blank=True)
    # The owner's own classes (TaughtClassifier), suggested beside the category they chose.
    taught_category = models.CharField(max_length=50, blank=True)
    taught_confidence = models.FloatField(default=0)
    model_version = models.CharField(max_length=40)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    # Set by the look-alikes grouping (see vision/lookalikes.py) in queryset updates, which leave updated_at alone.
    cluster = models.ForeignKey(
        "PhotoCluster", on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )

    class Meta:
        indexes = [models.Index(fields=["category"])]

    def __str__(self):
        return f"{self.photo_id}: {self.category} ({self.confidence:.2f})"

    @property
    def vector(self) -> np.ndarray:
        return decode_features([self.features])[0]

    @property
    def category_label(self) -> str:
        return category_label(self.category)

    @property
    def confident(self) -> bool:
        """Whether the system category is shown as a fact (else as a "maybe" hint, or not at all when blank)."""
        return bool(self.category) and self.confidence >= CONFIDENT_SYSTEM_CATEGORY

    @property
    def confidence_percent(self) -> int:
        return round(self.confidence * 100)

    @property
    def taught_percent(self) -> int:
        return round(self.taught_confidence * 100)

    @property
    def label_names(self) -> list[str]:
        return [name for name, _ in self.labels]


class TaughtClassifier(models.Model):
    """A user's own categories, learned few-shot from the pictures they labelled (see vision/taught.py)."""

    owner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="taught_classifier")
    categories = models.JSONField(default=list)
    examples = models.JSONField(default=dict, help_text="{category: number of labelled pictures used}")
    # float32 rows, one per category: softmax weights and bias (1281), unit centroid (1280), similarity gate (1)
    weights = models.BinaryField()
    trained_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.owner}: {', '.join(self.categories)}"

    def matrix(self) -> np.ndarray:
        return np.frombuffer(bytes(self.weights), dtype=np.float32).reshape(len(self.categories), -1)


class DistinctPair(models.Model):
    """Two pictures their owner said are not duplicates: the review screen stops grouping them together.

    Stored once per pair, the smaller id first.
    """

    first = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["first", "second"], name="unique_distinct_pair")]

    def __str__(self):
        return f"{self.first_id} ≠ {self.second_id}"


class PhotoCluster(models.Model):
    """An automatic album of the owner's pictures that look alike (see vision/lookalikes.py); members point to it
    from their PhotoAnalysis."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    cover = models.ForeignKey(Photo, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OwnedQuerySet.as_manager()

    def __str__(self):
        return f"{self.owner}: {self.name}"

    @property
    def shown_cover(self) -> Photo | None:
        """The cover, unless it has gone to the Trash since the grouping."""
        return self.cover if self.cover is not None and self.cover.trashed_at is None else None


class ClusteringState(models.Model):
    """When the owner's look-alikes were last grouped, so new pictures regroup them only once there are enough."""

    owner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    grouped_at = models.DateTimeField(null=True)
    analysed = models.PositiveIntegerField(default=0, help_text="Analysed pictures when last grouped")
    queued_at = models.DateTimeField(null=True, help_text="A regrouping is waiting in the task queue")

    def __str__(self):
        return f"{self.owner}: {self.analysed} pictures at {self.grouped_at}"


class PhotoVector(models.Model):
    """A picture's prepared feature vector inside PostgreSQL, for search by image with pgvector (vision/pg_vectors.py).

    Unmanaged: the table exists only on PostgreSQL with the `vector` extension (migration 0005 creates it there)."""

    photo = models.OneToOneField(
        Photo, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="feature_vector"
    )
    embedding = HalfVectorField(dimensions=1280)
    code = BitField(length=1280, help_text="What the search graph compares (vision/pg_vectors.py `codes`)")

    class Meta:
        managed = False
        db_table = "vision_photovector"

    def __str__(self):
        return f"vector of {self.photo_id}"
