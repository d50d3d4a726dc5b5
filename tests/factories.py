"""Albums and ready pictures made directly in the database, for tests about what search, social and vision do with
them (their bytes play no part there; the tests of the pipeline upload real files, see tests/images.py).

The rows skip the upload pipeline, so they are announced to it as new (library/pipeline.py), which indexes them.
"""

import hashlib
import itertools
from datetime import UTC, datetime, timedelta

import numpy as np

from photocloud.library import pipeline, tallies
from photocloud.library import services as library
from photocloud.library.models import Photo
from photocloud.vision import pg_vectors
from photocloud.vision.models import PhotoAnalysis, encode_features

_serial = itertools.count()


def album(owner, access="public", title=None, category="travel", tags=(), description=""):
    return library.create_album(
        owner,
        title=title or f"{owner.username} {access}",
        category=category,
        access=access,
        tags=tags,
        description=description,
    )


def photo(
    album, title="", tags=(), description="", category="", taken=None, analysis=None, features=None, **fields
) -> Photo:
    """A ready picture, taken in 2024 one second after the one made before unless `taken` says otherwise.
    `analysis` = dict(category=…, confidence=…, labels=[name or [name, score], …], text=…, faces=[…],
    features=vector) adds what vision saw (confidence 0.9 unless given); `features` alone adds an analysis with only
    those."""
    n = next(_serial)
    row = Photo.objects.create(
        owner=album.owner,
        album=album,
        title=title or f"picture {n}",
        description=description,
        category=category,
        format="JPEG",
        mime_type="image/jpeg",
        file_size=1000,
        status=Photo.Status.READY,
        sort_date=taken or datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
        **{"width": 400, "height": 300, "sha256": hashlib.sha256(f"factory-{n}".encode()).hexdigest(), **fields},
    )
    if tags:
        library.set_tags(row, list(tags))
    if analysis is None and features is not None:
        analysis = {"features": features}
    if analysis is not None:
        vector = analysis.get("features")
        vector = np.zeros(1280) if vector is None else vector
        PhotoAnalysis.objects.create(
            photo=row,
            category=analysis.get("category", ""),
            confidence=analysis.get("confidence", 0.9),
            labels=[label if isinstance(label, list) else [label, 0.5] for label in analysis.get("labels", [])],
            text=analysis.get("text", ""),
            faces=analysis.get("faces", []),
            features=encode_features(vector),
            model_version="test",
        )
        pg_vectors.store([(row.pk, vector)])  # as vision's analysis does (a no-op without pgvector)
    tallies.added([row.pk])  # as an upload and vision's analysis do
    pipeline.pictures_changed([row.pk], "created")
    return row


def ids(photos) -> set:
    return {p.pk for p in photos}
