"""The search index: one denormalised document per picture and per album, full-text indexed natively by each
database (see backends.py), plus the vocabulary that meaning and spelling tolerance work with."""

import numpy as np
from django.db import models

from photocloud.library.models import Album, Photo


class SearchDocument(models.Model):
    """What a keyword can match for one picture (or one album), in columns of falling weight.

    The integer key is the full-text index's row id (SQLite FTS5 needs one). `terms` keeps the labels as
    [kind, value] pairs so a result can say why it matched without reading the picture's relations again.
    """

    photo = models.OneToOneField(Photo, null=True, blank=True, on_delete=models.CASCADE, related_name="search_doc")
    album = models.OneToOneField(Album, null=True, blank=True, on_delete=models.CASCADE, related_name="search_doc")
    labels = models.TextField(blank=True, help_text="Tags, categories (user's and system's), automatic tags")
    names = models.TextField(blank=True, help_text="Title, file name, album title")
    body = models.TextField(blank=True, help_text="Descriptions")
    text = models.TextField(blank=True, help_text="Text found in the picture")
    terms = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(photo__isnull=False, album__isnull=True)
                | models.Q(photo__isnull=True, album__isnull=False),
                name="search_document_is_photo_or_album",
            )
        ]

    def __str__(self):
        return f"document {self.pk}"


class SearchTerm(models.Model):
    """A distinct label (tag, category, automatic tag) and its sentence embedding, for "similar meaning" matches."""

    name = models.CharField(max_length=100, unique=True)
    vector = models.BinaryField(null=True, blank=True, help_text="float32 unit vector, filled lazily")

    def __str__(self):
        return self.name

    @property
    def array(self) -> np.ndarray:
        return np.frombuffer(bytes(self.vector), dtype=np.float32)
