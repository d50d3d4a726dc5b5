"""Search by image inside PostgreSQL with the pgvector extension: every web server and worker shares one index.

When the database is PostgreSQL and the `vector` extension could be created (migration vision 0005, or
`photocloud build_vector_index` after the extension was installed later), each analysed picture's prepared vector
(vision/index.py `prepared`: what both metrics compare) is stored as a `halfvec(1280)` in `vision_photovector`, with
one HNSW index per metric (L1 for Manhattan, cosine). A search is then one SQL statement: the viewer's pictures
from `Photo.objects.visible_to()` joined to their vectors and ordered by distance, so access is applied by the same
statement that ranks, with iterative index scans (pgvector >= 0.8) to keep going until enough allowed pictures came.

The table is not a Django-managed model (`PhotoVector` is unmanaged): SQLite, MariaDB and PostgreSQL without the
extension never have it. Vectors are written in the analysis's transaction (`store`), and a trigger deletes a
picture's vector with its analysis, in the same transaction; `backfill` catches up with analyses written another way
(restore, older versions).
"""

import functools
import logging
from contextlib import contextmanager

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from pgvector import HalfVector
from pgvector.django import CosineDistance, L1Distance

from .index import prepared

logger = logging.getLogger(__name__)

TABLE = "vision_photovector"
DIMENSIONS = 1280
# Candidates the HNSW graph walk keeps; with iterative scans it walks on until the filter let `limit` rows through.
EF_SEARCH = 200
# How many index tuples an iterative scan may visit before it gives up (pgvector's default is 20,000); a viewer who
# may see few pictures is answered by an exact scan of their pictures instead, as the planner chooses.
MAX_SCAN_TUPLES = 100_000
# Up to this many pictures a viewer may see are ranked exactly, without the HNSW graph (`_ranked`).
EXACT_SCOPE = 5000
# Rows a search asks of the scan per result wanted (`nearest`). On a tuning set (20,000 pictures, a viewer who may see
# 1,000): recall@10 0.92 with 1, 0.97 with 2, 0.99 with 4 at twice the time of 1.
OVERSAMPLE = 2
BACKFILL_CHUNK = 2000

SCHEMA = [
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        photo_id uuid PRIMARY KEY,  -- library_photo.id
        embedding halfvec({DIMENSIONS}) NOT NULL
    )""",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_l1 ON {TABLE} USING hnsw (embedding halfvec_l1_ops)",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_cosine ON {TABLE} USING hnsw (embedding halfvec_cosine_ops)",
    # No foreign key (Django's test flush truncates library_photo without CASCADE): a trigger deletes the vector
    # with the analysis, which Django deletes before the picture.
    f"""CREATE OR REPLACE FUNCTION {TABLE}_forget() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN DELETE FROM {TABLE} WHERE photo_id = OLD.photo_id; RETURN OLD; END $$""",
    f"DROP TRIGGER IF EXISTS {TABLE}_forget ON vision_photoanalysis",
    f"""CREATE TRIGGER {TABLE}_forget AFTER DELETE ON vision_photoanalysis
        FOR EACH ROW EXECUTE FUNCTION {TABLE}_forget()""",
]


def install(cursor) -> bool:
    """Create the extension (when the PostgreSQL server has it and we may) and the table; True when pgvector is
    usable."""
    cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    if cursor.fetchone() is None:
        return False
    try:
        with transaction.atomic():
            cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except Exception as error:  # not allowed to (not a superuser, extension not trusted): stay embedded
        logger.warning("pgvector is installed but the extension could not be created: %s", error)
        return False
    for statement in SCHEMA:
        cursor.execute(statement)
    _table_exists.cache_clear()
    return True


def uninstall(cursor) -> None:
    cursor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_forget ON vision_photoanalysis")
    cursor.execute(f"DROP FUNCTION IF EXISTS {TABLE}_forget()")
    cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
    _table_exists.cache_clear()


@functools.cache
def _table_exists(database: str) -> bool:
    with connection.cursor() as cursor:
        return TABLE in connection.introspection.table_names(cursor)


def present() -> bool:
    """Does this database keep the vectors (PostgreSQL with pgvector)? Then they are written, whichever index reads."""
    return connection.vendor == "postgresql" and _table_exists(connection.settings_dict["NAME"])


def in_use() -> bool:
    """Is search by image answered by PostgreSQL (pgvector) rather than by the embedded index?"""
    return settings.PHOTOCLOUD["VECTOR_INDEX"] != "embedded" and present()


def store(pairs) -> None:
    """Insert or replace the vectors of [(photo id, features)], in the caller's transaction (the analysis's)."""
    from .models import PhotoVector

    pairs = list(pairs)
    if not pairs or not present():
        return
    stored = np.vstack([features for _, features in pairs]).astype(np.float16)  # as PhotoAnalysis keeps them
    rows = prepared(stored.astype(np.float32))
    PhotoVector.objects.bulk_create(
        [PhotoVector(photo_id=pk, embedding=HalfVector(row)) for (pk, _), row in zip(pairs, rows, strict=True)],
        update_conflicts=True,
        unique_fields=["photo"],
        update_fields=["embedding"],
    )


def missing():
    """Analyses without a vector (written before pgvector was installed, restored, or by hand)."""
    from .models import PhotoAnalysis, PhotoVector

    return PhotoAnalysis.objects.exclude(photo_id__in=PhotoVector.objects.values("photo_id"))


def backfill() -> int:
    """Store the vectors of every analysis that has none; returns how many."""
    from .models import decode_features

    done = 0
    while True:
        with transaction.atomic():
            chunk = list(missing().order_by("photo_id").values_list("photo_id", "features")[:BACKFILL_CHUNK])
            if not chunk:
                return done
            vectors = decode_features([features for _, features in chunk])
            store(zip([pk for pk, _ in chunk], vectors, strict=True))
        done += len(chunk)


def _ranked(photos, query: np.ndarray, metric: str, limit: int):
    """The statement. A viewer who may see at most EXACT_SCOPE pictures is ranked exactly: the order is by an
    expression the HNSW index does not match (distance + 0), so PostgreSQL reads their pictures through the access
    conditions' indexes and sorts them. The planner cannot tell on its own: it guessed 14,000 pictures for a
    stranger's 1,000 and walked the graph past 99 % hidden pictures (slower, and recall@10 0.93)."""
    vector = HalfVector(prepared(query))
    cosine = CosineDistance("feature_vector__embedding", vector)
    distance = L1Distance("feature_vector__embedding", vector) if metric == "l1" else cosine
    photos = photos.filter(feature_vector__isnull=False)
    if photos.order_by().values("pk")[: EXACT_SCOPE + 1].count() <= EXACT_SCOPE:
        distance = distance + 0
    return (
        photos.select_related("album", "owner")
        .annotate(distance=distance, cosine_distance=cosine)
        .order_by("distance")[:limit]
    )


@contextmanager
def _scan_settings(limit: int):
    """A transaction whose HNSW scans go on past rows the access filter drops (iterative, relaxed order)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), "
            "set_config('hnsw.ef_search', %s, true), set_config('hnsw.max_scan_tuples', %s, true)",
            [str(max(EF_SEARCH, limit)), str(MAX_SCAN_TUPLES)],
        )
        yield


def nearest(photos, query: np.ndarray, metric: str, limit: int) -> list[tuple]:
    """[(photo, distance, cosine similarity)] of the `limit` pictures of the queryset `photos` nearest to `query`,
    nearest first: one statement, access included (the queryset comes from visible_to/owned_by).

    The statement asks for OVERSAMPLE times as many and the nearest are kept: in relaxed order an iterative scan
    yields the pictures the filter lets through roughly nearest first, so its first `limit` miss some of the true
    nearest when the viewer may see a small share of the pictures near the query."""
    with _scan_settings(limit * OVERSAMPLE):
        found = list(_ranked(photos, query, metric, limit * OVERSAMPLE))
    found.sort(key=lambda photo: (photo.distance, photo.pk))
    return [(photo, float(photo.distance), 1.0 - float(photo.cosine_distance)) for photo in found[:limit]]


def explain(photos, query: np.ndarray, metric: str = "l1", limit: int = 10) -> str:
    """The plan PostgreSQL runs for `nearest`, with timings (bench/search_e2e.py prints it)."""
    with _scan_settings(limit):
        return _ranked(photos, query, metric, limit).explain(analyze=True)
