"""Search by image: the nearest pictures to a feature vector, among those the viewer may see.

Every process searches two parts and merges them by distance:
- the snapshot: an approximate FAISS index (vision/index.py) of all pictures analysed when it was built, built in
  its own folder by `rebuild_snapshot()` (the one writer: `photocloud build_vector_index`, run by `serve` when the
  tail has grown) and published by one rename of the `CURRENT` pointer; processes only ever read it, mapping its
  files, so the web workers and the task worker of a machine share one copy of its pages;
- the tail: an exact in-memory index of the analyses changed since the snapshot (an `updated_at` watermark),
  brought up to date before every search, private to each process (at most EXACT_LIMIT vectors, 100 MB, before a
  new snapshot is due). Below EXACT_LIMIT pictures there is no snapshot and the tail is all.
Access is applied by checking what the index found against `visible_to()`, or through the index's `allowed` filter
with the ids from `visible_to()` when the viewer may see few of the pictures found (`_nearest_allowed`), so a deleted
or hidden picture can never come back while an index still holds its vector, and the ranking is computed among the
allowed pictures only.

On PostgreSQL with the pgvector extension none of this runs: the vectors live in the database and one SQL statement
ranks the viewer's pictures (vision/pg_vectors.py); no process holds any index.
"""

import json
import logging
import os
import shutil
import threading
import uuid
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.utils import timezone

from photocloud.library import access
from photocloud.library.models import Photo

from . import pg_vectors
from .index import EXACT_LIMIT, ExactIndex, FaissIndex, prepared
from .models import PhotoAnalysis, decode_features

logger = logging.getLogger(__name__)

METRICS = {"l1": "Manhattan distance (default)", "cosine": "Cosine distance"}
SCOPES = {"mine": "My library", "all": "Everything I may see"}
SYNC_OVERLAP = timedelta(seconds=5)  # re-read rows committed around a watermark by slower transactions
CHUNK = 2000
# Nearest pictures asked of the embedded index per result wanted before access is applied (_nearest_allowed).
OVERSAMPLE = 4


def _directory():
    return settings.DATA_DIR / "vector-index"


def _rows_since(since: datetime | None):
    """(analysis ids, features, newest updated_at) in batches of CHUNK, of the analyses changed since `since` (all
    when None)."""
    rows = PhotoAnalysis.objects.order_by("updated_at", "id").values_list("id", "features", "updated_at")
    if since is not None:
        rows = rows.filter(updated_at__gte=since - SYNC_OVERLAP)
        # Before every search: usually a few rows or none, in one round trip (a server-side cursor takes three).
        first = list(rows[:CHUNK])
        if len(first) < CHUNK:
            if first:
                yield _batch(first)
            return
    batch = []
    for row in rows.iterator(chunk_size=CHUNK):
        batch.append(row)
        if len(batch) == CHUNK:
            yield _batch(batch)
            batch = []
    if batch:
        yield _batch(batch)


def _batch(rows: list) -> tuple[np.ndarray, np.ndarray, datetime]:
    ids, features, updated = zip(*rows, strict=True)
    return np.asarray(ids, dtype=np.int64), decode_features(features), updated[-1]


def _current_snapshot() -> str | None:
    try:
        return (_directory() / "CURRENT").read_text().strip() or None
    except FileNotFoundError:
        return None


class _ProcessIndex:
    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self._snapshot, self._snapshot_name = None, None
        self._tail, self._tail_until, self._tail_ids = ExactIndex(), None, set()

    def search(self, query, k, metric, allowed, refresh: bool = True) -> list[tuple[int, float]]:
        """`refresh=False` skips reading the analyses changed since the last search (a second search of the same
        request: one round trip less)."""
        with self._lock:
            if refresh:
                self._refresh()
            hits = self._tail.search(query, k, metric=metric, allowed=allowed)
            if self._snapshot is not None:
                hits += [
                    hit
                    for hit in self._snapshot.search(query, k, metric=metric, allowed=allowed)
                    if hit[0] not in self._tail_ids
                ]  # the tail holds the newer vector of a re-analysed one
        return sorted(hits, key=lambda hit: hit[1])[:k]

    def vectors(self, ids: list[int]) -> dict[int, np.ndarray]:
        """The prepared vector of each of these analyses that the index holds (the tail's, newer, first)."""
        found = {}
        with self._lock:
            for index in (self._tail, self._snapshot):
                wanted = np.array([pk for pk in ids if pk not in found], dtype=np.int64)
                if index is None or not len(wanted):
                    continue
                held, rows = index.vectors(wanted)
                found.update(zip(wanted[held].tolist(), rows, strict=True))
        return found

    def _refresh(self) -> None:
        name = _current_snapshot()
        if name != self._snapshot_name:
            self.reset()
            if name:
                try:
                    self._load(name)
                except FileNotFoundError:  # replaced and removed between reading the pointer and opening it
                    name = _current_snapshot()
                    if name:
                        self._load(name)
            self._snapshot_name = name
        for ids, vectors, newest in _rows_since(self._tail_until):
            self._tail.add(ids, vectors)
            self._tail_ids.update(ids.tolist())
            self._tail_until = newest

    def _load(self, name: str) -> None:
        folder = _directory() / name
        self._snapshot = FaissIndex.load(folder)
        self._tail_until = datetime.fromisoformat(json.loads((folder / "built.json").read_text())["until"])

    def tail_size(self) -> int:
        with self._lock:
            self._refresh()
            return len(self._tail)


_process_index = _ProcessIndex()


def backend() -> str:
    """Which index answers search by image here, in words (said by `photocloud serve` at start)."""
    if pg_vectors.in_use():
        return "pgvector in PostgreSQL (shared by every server)"
    return "embedded FAISS/numpy index (snapshot in the data folder, its pages shared by the processes)"


def load_index() -> None:
    """Read the snapshot and the vectors added since into this process now (see VisionConfig.warm_up)."""
    if not pg_vectors.in_use():
        _process_index.tail_size()


def reset_index() -> None:
    """Forget the in-memory index (tests, or after restoring a database)."""
    with _process_index._lock:
        _process_index.reset()


def snapshot_is_due(min_vectors: int = EXACT_LIMIT) -> bool:
    """A new snapshot pays off once the library is large and the exact tail has grown (10 %, at least 5,000, at most
    EXACT_LIMIT: every process holds the tail as float32, 5 KB a picture, and scans it for every search); with
    pgvector, when analyses lack their vector."""
    if pg_vectors.in_use():
        return pg_vectors.missing().exists()
    total = PhotoAnalysis.objects.count()
    if total < min_vectors:
        return False
    return _process_index.tail_size() > max(5000, min(total // 10, EXACT_LIMIT)) or _current_snapshot() is None


def rebuild_snapshot(min_vectors: int = EXACT_LIMIT) -> str | None:
    """Build an approximate index of every analysed picture in a new folder and publish it; returns its name. With
    pgvector, store the vectors of analyses that have none instead."""
    if pg_vectors.in_use():
        return f"pgvector: {pg_vectors.backfill()} vector(s) added"
    if PhotoAnalysis.objects.count() < min_vectors:
        return None
    started = timezone.now()
    name = f"build-{uuid.uuid4().hex}"
    folder = _directory() / name
    index = FaissIndex(folder, train_at=2**62)  # no IVF while loading: it is learnt once, from all the vectors
    for ids, vectors, _ in _rows_since(None):
        index.add(ids, vectors)
    index.retrain()
    index.train_at = min_vectors
    index.save(folder)
    (folder / "built.json").write_text(json.dumps({"until": started.isoformat(), "vectors": len(index)}))
    pointer = _directory() / f".CURRENT.{name}"
    pointer.write_text(name)
    os.replace(pointer, _directory() / "CURRENT")
    for old in _directory().glob("build-*"):
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)  # processes still reading an old one keep their open files
    logger.info("Vector index snapshot %s: %d pictures", name, len(index))
    return name


def _nearest_allowed(photos, query: np.ndarray, limit: int, metric: str) -> list[tuple[PhotoAnalysis, float]]:
    """The `limit` nearest (analysis with its photo, distance) among the analyses of `photos`, those the viewer may
    see.

    First the index's nearest of all pictures, OVERSAMPLE times as many, read with their photos through the access
    check in one small query: for a viewer who may see most pictures near the query, enough of them come back and
    that is the answer (any nearer allowed picture would have been among them), without reading the ids of
    everything the viewer may see (at a million pictures that read alone took longer than the whole search), and the
    rows are already read. Otherwise (a viewer who may see few) the index searches among the ids of the viewer's
    pictures, read with the subquery run once (access.any_of): PostgreSQL would otherwise scan all the analyses.

    The rows are read without their features: the index holds the vectors (`similar_photos` takes them from it), and
    PostgreSQL keeps 2.5 KB of features out of line (TOAST), more random pages per candidate that a large library does
    not keep in memory. Waiting for those disk reads is time that no process spends on CPU: for the owner's new
    searches at 100,000 pictures, PostgreSQL's cache cold, 34 reads and 25 ms of reading a request, 5 and 2 ms
    without the features (bench/search_e2e.py's queries, load 9)."""
    by_key = PhotoAnalysis.objects.select_related("photo__album", "photo__owner").defer("features", "face_identities")
    rows = by_key.filter(photo__in=photos)
    nearest = _process_index.search(query, limit * OVERSAMPLE, metric, None)
    # The nearest limit + 1 first (the query picture, left out, is usually one): when the viewer may see `limit` of
    # them, they are the answer, read in a quarter of the rows (random pages of a large table, each possibly a disk
    # read, and four model instances a row).
    first = nearest[: limit + 1]
    found = rows.in_bulk([pk for pk, _ in first])
    # The others only when, allowed as often as the first, they could make up `limit`: a viewer who may see few of
    # the nearest (a stranger) goes on to their ids at once, one query fewer (~5 ms of the web server's CPU).
    if len(found) < limit and len(found) * len(nearest) >= limit * len(first):
        found |= rows.in_bulk([pk for pk, _ in nearest[limit + 1 :]])
    if sum(pk in found for pk, _ in nearest) < limit:
        visible = PhotoAnalysis.objects.filter(access.any_of("photo", photos.values("pk")))
        allowed = np.fromiter(visible.values_list("id", flat=True), dtype=np.int64)
        if not len(allowed):
            return []
        nearest = _process_index.search(query, limit, metric, allowed, refresh=False)
        # By key: access was applied by the ids just read (its conditions not compiled and run once more).
        found = by_key.in_bulk([pk for pk, _ in nearest])
    return [(found[pk], distance) for pk, distance in nearest if pk in found][:limit]


def similar_photos(
    viewer, vector: np.ndarray, *, metric="l1", scope="all", limit=24, exclude: Photo | None = None, within=None
):
    """[(photo, distance)] nearest first, among the pictures `viewer` may see (scope "all") or owns ("mine"); each
    photo carries its `similarity` to the query (a Similarity) for display.

    `within`, a Photo queryset, narrows the candidates further (search filters); access is applied regardless.
    """
    if metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}; use one of {', '.join(METRICS)}.")
    photos = Photo.objects.owned_by(viewer) if scope == "mine" else Photo.objects.visible_to(viewer)
    photos = photos.listed()  # a stack once, by its cover
    if within is not None:
        photos = photos.filter(pk__in=within.values("pk"))
    if pg_vectors.in_use():
        found = pg_vectors.nearest(
            photos,
            vector,
            metric,
            limit,
            exclude=exclude.pk if exclude is not None else None,
            viewer=viewer if within is None else None,  # all the viewer may see (or owns), not narrowed
        )
        for photo, _, similarity in found:
            photo.similarity = Similarity(similarity)
        return [(photo, distance) for photo, distance, _ in found]
    if exclude is not None:
        photos = photos.exclude(pk=exclude.pk)
    found = _nearest_allowed(photos, vector.astype(np.float32), limit, metric)
    vectors = _process_index.vectors([analysis.pk for analysis, _ in found])
    if missing := [analysis.pk for analysis, _ in found if analysis.pk not in vectors]:
        # A newer snapshot was loaded in between (another thread of this process): the database has them.
        rows = PhotoAnalysis.objects.filter(pk__in=missing).values_list("pk", "features")
        vectors.update((pk, prepared(decode_features([features])[0])) for pk, features in rows)
    found = [(analysis, distance) for analysis, distance in found if analysis.pk in vectors]
    if not found:
        return []
    similarity = np.vstack([vectors[analysis.pk] for analysis, _ in found]) @ prepared(vector)
    for (analysis, _), value in zip(found, similarity, strict=True):
        analysis.photo.similarity = Similarity(float(value))
    return [(analysis.photo, distance) for analysis, distance in found]


class Similarity(float):
    """Cosine similarity of two pictures' prepared features (vision/index.py), shown to people as a percentage and a
    word whatever the metric that ranked them. On the labelled set of bench/similar_quality.py: edited copies 0.88
    and up (95 %, median 0.97); the 10 nearest of the same kind 0.64-0.85 (middle half), of another kind 0.53-0.64;
    two pictures taken at random 0.33 (median)."""

    WORDS = ((0.88, "Near-identical"), (0.7, "Very similar"), (0.55, "Similar"), (-1.0, "Somewhat alike"))

    @property
    def percent(self) -> int:
        return max(0, round(self * 100))

    @property
    def word(self) -> str:
        return next(word for floor, word in self.WORDS if self >= floor)
