"""People: the faces found in a user's pictures, grouped into people that user alone sees, names and corrects."""

import numpy as np
from django.conf import settings
from django.db import models

from photocloud.library.access import OwnedQuerySet
from photocloud.library.models import Photo

EMBEDDING_SIZE = 128


def encode_embedding(vector: np.ndarray) -> bytes:
    """How an embedding is stored (Face.embedding, Person.centroid): float16, 256 bytes."""
    return np.asarray(vector, dtype=np.float16).reshape(EMBEDDING_SIZE).tobytes()


def decode_embeddings(blobs) -> np.ndarray:
    """(n, 128) float32 matrix of stored embeddings (the one place that knows the format)."""
    blobs = [bytes(blob) for blob in blobs]
    if not blobs:
        return np.zeros((0, EMBEDDING_SIZE), np.float32)
    return np.frombuffer(b"".join(blobs), dtype=np.float16).reshape(-1, EMBEDDING_SIZE).astype(np.float32)


class Person(models.Model):
    """Someone who appears in the owner's pictures: a group of faces, named (in any language) or not yet.

    `centroid` is the unit mean of the member faces' embeddings, what a new face is compared with; the people
    services keep it up to date whenever faces join or leave.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="people")
    name = models.CharField(max_length=100, blank=True)
    hidden = models.BooleanField(default=False, help_text="Left out of the People page and of search.")
    cover = models.ForeignKey("Face", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    centroid = models.BinaryField(default=b"")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["owner", "name"])]

    def __str__(self):
        return self.name or f"person {self.pk}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("persons:person", args=[self.pk])


class FaceQuerySet(OwnedQuerySet):
    def live(self):
        """Faces of pictures outside the Trash: a trashed picture's faces leave its people until it is restored."""
        return self.filter(photo__trashed_at__isnull=True)


class Face(models.Model):
    """One face found in one picture: where it is (in the original's pixels), who it looks like (SFace embedding)
    and whom it belongs to. `position` is its place in the picture's analysis (largest first)."""

    class Source(models.TextChoices):
        AUTOMATIC = "auto", "Grouped automatically"
        OWNER = "owner", "Placed by the owner"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="faces")
    position = models.PositiveSmallIntegerField()
    x = models.IntegerField()
    y = models.IntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    score = models.FloatField(help_text="The detector's confidence")
    quality = models.FloatField(help_text="0-1: confidence and size; faces below clustering.MIN_QUALITY wait alone")
    embedding = models.BinaryField()
    person = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="faces")
    source = models.CharField(max_length=5, choices=Source.choices, default=Source.AUTOMATIC)
    # "Not this person": the owner took the face away from these people; it never joins them again.
    rejected = models.ManyToManyField(Person, blank=True, related_name="rejected_faces")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FaceQuerySet.as_manager()

    class Meta:
        ordering = ["photo", "position"]
        constraints = [models.UniqueConstraint(fields=["photo", "position"], name="unique_face_position")]
        indexes = [
            models.Index(fields=["owner", "person"], name="face_owner_person"),
            # A person's best face first (their cover when they have none, selectors.shown_cover): walked in order
            # until a face outside the Trash, not every face joined to its picture and sorted. Without it PostgreSQL
            # read all the pictures to join them (100 ms per person at 100,000 pictures, bench/pages.py).
            models.Index(fields=["person", "-quality", "id"], name="face_person_quality"),
            # A person's pictures counted from the index alone (selectors.people_of), not from the faces' rows.
            models.Index(fields=["person", "photo"], name="face_person_photo"),
        ]

    def __str__(self):
        return f"face {self.position} of {self.photo_id}"

    @property
    def vector(self) -> np.ndarray:
        return decode_embeddings([self.embedding])[0]


class FaceGrouping(models.Model):
    """Per owner: how many faces there were at the last full pass of the grouping (services.tidy), so the next one
    runs once enough new faces came."""

    owner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    faces_at_tidy = models.PositiveIntegerField(default=0)
    new_faces = models.PositiveIntegerField(default=0, help_text="Faces added since the last full pass")
    tidied_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.owner_id}: {self.faces_at_tidy} faces"
