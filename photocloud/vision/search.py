"""Search by image: the nearest pictures to a feature vector, among those the viewer may see.

Each process keeps one vector index (vision/index.py) and brings it up to date from the database before every search
(rows whose analysis changed since the last sync: an `updated_at` watermark). Access is applied through the index's
`allowed` filter with ids taken from `visible_to()`, so a deleted or hidden picture can never come back, even while
the index still holds its vector; the ranking is computed among the allowed pictures only.
"""

import json
import os
import threading
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db.models import Q

from photocloud.library.models import Photo

from .index import build_index, load_index
from .models import PhotoAnalysis

METRICS = {"l1": "Manhattan", "cosine": "Cosine"}
SCOPES = {"mine": "My library", "all": "Everything I may see"}
SYNC_OVERLAP = timedelta(seconds=5)  # re-read rows committed around the watermark by slower transactions
SAVE_EVERY = 1000  # vectors added since the last snapshot before a new one is written


class _ProcessIndex:
    def __init__(self):
        self._lock = threading.Lock()
        self._index = None
        self._synced_until: datetime | None = None
        self._unsaved = 0

    @property
    def directory(self):
        return settings.DATA_DIR / "vector-index"

    def current(self):
        with self._lock:
            if self._index is None:
                self._open()
            self._sync()
            return self._index

    def reset(self) -> None:
        with self._lock:
            self._index, self._synced_until, self._unsaved = None, None, 0

    def _open(self):
        watermark = self.directory / "synced_until.json"
        try:
            self._index = load_index(self.directory)
            self._synced_until = datetime.fromisoformat(json.loads(watermark.read_text())["synced_until"])
        except (FileNotFoundError, KeyError, ValueError):
            self._index = build_index(PhotoAnalysis.objects.count(), self.directory)
            self._synced_until = None

    def _sync(self):
        rows = PhotoAnalysis.objects.order_by("updated_at", "id")
        if self._synced_until is not None:
            rows = rows.filter(updated_at__gte=self._synced_until - SYNC_OVERLAP)
        batch_ids, batch_vectors = [], []
        for pk, features, updated_at in rows.values_list("id", "features", "updated_at").iterator(chunk_size=2000):
            batch_ids.append(pk)
            batch_vectors.append(np.frombuffer(bytes(features), dtype=np.float16))
            self._synced_until = updated_at
            if len(batch_ids) == 2000:
                self._add(batch_ids, batch_vectors)
                batch_ids, batch_vectors = [], []
        if batch_ids:
            self._add(batch_ids, batch_vectors)
        if self._unsaved >= SAVE_EVERY:
            self._save()

    def _add(self, ids, vectors):
        self._index.add(np.asarray(ids, dtype=np.int64), np.vstack(vectors).astype(np.float32))
        self._unsaved += len(ids)

    def _save(self):
        self._index.save(self.directory)
        watermark = self.directory / "synced_until.json"
        tmp = watermark.with_suffix(".tmp")
        tmp.write_text(json.dumps({"synced_until": self._synced_until.isoformat()}))
        os.replace(tmp, watermark)
        self._unsaved = 0


_process_index = _ProcessIndex()


def reset_index() -> None:
    """Forget the in-memory index (tests, or after restoring a database)."""
    _process_index.reset()


def similar_photos(viewer, vector: np.ndarray, *, metric="l1", scope="all", limit=24, exclude: Photo | None = None):
    """[(photo, distance)] nearest first, among the pictures `viewer` may see (scope "all") or owns ("mine")."""
    if metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}; use one of {', '.join(METRICS)}.")
    photos = Photo.objects.owned_by(viewer) if scope == "mine" else Photo.objects.visible_to(viewer)
    candidates = PhotoAnalysis.objects.filter(photo__in=photos)
    if exclude is not None:
        candidates = candidates.filter(~Q(photo=exclude))
    allowed = np.fromiter(candidates.values_list("id", flat=True), dtype=np.int64)
    if not len(allowed):
        return []
    hits = _process_index.current().search(vector.astype(np.float32), limit, metric=metric, allowed=allowed)
    analyses = PhotoAnalysis.objects.select_related("photo__album", "photo__owner").in_bulk([pk for pk, _ in hits])
    return [(analyses[pk].photo, distance) for pk, distance in hits if pk in analyses]
