"""The search index: one denormalised document per picture and per album, its words as postings in one B-tree
(see backends.py), plus the vocabulary that meaning and spelling tolerance work with."""

import numpy as np
from django.db import models

from photocloud.library.models import Album, Photo


class SearchDocument(models.Model):
    """What a keyword can match for one picture (or one album), in columns of falling weight.

    Its words are indexed as postings (SearchPosting, below). `terms` keeps the labels as
    [kind, value] pairs so a result can say why it matched without reading the picture's relations again.
    """

    photo = models.OneToOneField(Photo, null=True, blank=True, on_delete=models.CASCADE, related_name="search_doc")
    album = models.OneToOneField(Album, null=True, blank=True, on_delete=models.CASCADE, related_name="search_doc")
    labels = models.TextField(blank=True, help_text="Tags, categories (user's and system's), automatic tags")
    names = models.TextField(blank=True, help_text="Title, file name, album title")
    body = models.TextField(blank=True, help_text="Descriptions")
    text = models.TextField(blank=True, help_text="Text found in the picture")
    context = models.TextField(
        blank=True, help_text="What only the album says, and the classifier's faint guesses: weak matches"
    )
    terms = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # At most one of the two, not exactly one: on MySQL and MariaDB, Django deletes a document that has
            # postings by first setting its picture or album to NULL (they cannot defer foreign-key checks).
            models.CheckConstraint(
                condition=~models.Q(photo__isnull=False, album__isnull=False), name="search_document_photo_or_album"
            ),
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


class TermField(models.CharField):
    """A word compared byte by byte on every database, so that the words starting with a prefix are one range of the
    index whatever the database's default collation."""

    BINARY_COLLATIONS = {"postgresql": "C", "mysql": "utf8mb4_bin"}  # SQLite compares bytes already

    def db_parameters(self, connection):
        parameters = super().db_parameters(connection)
        parameters["collation"] = self.BINARY_COLLATIONS.get(connection.vendor)
        return parameters


class SearchPosting(models.Model):
    """One word of one search document, with the columns that hold it (bits, see backends.COLUMN_BITS).

    Written with the document (services.py) and read only through backends.py. The picture's or album's id is
    copied here so that a query is answered from this table's index alone.
    """

    document = models.ForeignKey(SearchDocument, on_delete=models.CASCADE, related_name="postings")
    is_album = models.BooleanField()
    object_id = models.UUIDField(help_text="The picture's or the album's id")
    term = TermField(max_length=60)
    columns = models.PositiveSmallIntegerField()
    album = models.UUIDField(
        null=True,
        blank=True,
        help_text="Set on a picture's word that comes from one of its albums (its title, description, tags): the word "
        "finds the picture only for viewers who may see that album",
    )

    class Meta:
        # The strongest columns first within a word, so that ranking reads a word's best postings as a bounded prefix
        # (backends._Word._capped_sql); the album last, so that the viewer's check of it is read from the index alone.
        indexes = [
            models.Index(fields=["is_album", "term", "-columns", "object_id", "album"], name="search_posting_lookup")
        ]

    def __str__(self):
        return self.term


class SearchIndexState(models.Model):
    """One row: the format the stored documents and postings were written in, and whether a rebuild into the
    current format (services.INDEX_FORMAT) has been claimed by a process, so that it is queued once however many
    processes start (services.claim_format_rebuild)."""

    format = models.PositiveIntegerField(default=0, help_text="services.INDEX_FORMAT the index was last built with")
    rebuild_format = models.PositiveIntegerField(null=True, blank=True, help_text="The format being rebuilt into")
    rebuild_queued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"search index format {self.format}"
