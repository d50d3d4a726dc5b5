"""Search by image inside PostgreSQL with the pgvector extension: every web server and worker shares one index.

When the database is PostgreSQL and the `vector` extension could be created (migration vision 0005, or
`photocloud build_vector_index` after the extension was installed later), each analysed picture's prepared vector
(vision/index.py `prepared`: what both metrics compare) is stored as a `halfvec(1280)` in `vision_photovector`,
beside a 1280-bit code (`codes`): a THERMOMETER code of the vector centred and rotated onto principal axes. Each
bit tells whether one principal coordinate is past one cut; the cuts lie one common step apart, out to 0.75 standard
deviations either side on every axis, so an axis gets bits in proportion to its spread (483 of the 1280 get some,
the first axis 22), and the Hamming distance between two codes counts the steps between their coordinates: an L1
distance on the principal axes, clipped. Projection and cuts are fixed data learnt once from the real CNN features
of data/evaluation_set.npz (data/vector_code.npz, data/vector_code_thresholds.npz; data/DATA.md). ONE HNSW index,
on the codes by Hamming distance, serves both metrics: it proposes CANDIDATES pictures, whose exact L1 or cosine
distances are computed from their full vectors in the same statement, which keeps the nearest. Access is in that
statement too, the conditions of `Photo.objects.visible_to()` (or `owned_by()`), in one of two ways:
- filtered (`_statement`): the viewer's pictures joined to their vectors, with iterative index scans (pgvector >=
  0.8) that keep going until CANDIDATES allowed pictures came; every candidate's picture row is read to check it;
- unfiltered (`_unfiltered_statement`), for a viewer who owns nearly every picture (PostgreSQL's statistics of
  library_photo.owner_id): the candidates from the vector table alone, ranked exactly, and access checked one
  candidate at a time in that order until enough pass, so ~10 picture rows are read, not 1,000. At a million
  pictures that check of 1,000 random picture rows was 275 ms of the owner's 325 ms statement (cold cache); warm,
  the owner's search went 35 -> 20 ms (L1, in process), 79 -> 64 CPU ms a request end to end (bench/README.md).
  When it refuses too many on the way (statistics out of date, trashed pictures), the filtered one answers instead.

Why (issue 17): the former design kept two HNSW graphs of the full halfvec(1280), L1 and cosine, ~3.9 GB each at a
million pictures, built at ~18,000 pictures a minute. The graph of 160-byte codes is ~0.5 GB at a million. The
first codes were the SIGNS of the centred principal coordinates: fine on isotropic synthetic features (bench/search.py
`IsotropicFeatures`: recall@10 0.977 / 0.987 L1 / cosine with 1,000 exact candidates at a million, 0.900 / 0.912
end to end through the graph), but on features shaped like the real ones (`RealisticFeatures`: the real features'
spectrum and neighbour distances) the owner's recall@10 at a million fell to 0.823 end to end, and the EXACT
nearest sign codes gave about the same (0.853 with 1,000 candidates): the code's fault, not the graph's. Real
features carry most of their variance on few principal axes (32 of 1280 carry half); 1280 signs weigh every axis
alike, so the many axes where a picture's own variation dominates drown the few that tell neighbours apart. The
thermometer code weighs them by their spread. Chosen (the reach, 0.75 standard deviations) on the real set and on
tuning queries, never on the bench's reported ones; recall@10 by L1 of the exact nearest codes, re-ranked exactly:
- the 2,111 real pictures, each against the others, with 20 / 50 / 100 candidates: signs 0.284 / 0.341 / 0.401;
  thermometer out to each axis's extremes 0.657 / 0.750 / 0.796, to 1.5 / 1 / 0.75 / 0.5 / 0.25 standard
  deviations 0.625 / 0.779 / 0.842 / 0.834 / 0.790 at 20 (0.75: 0.920 / 0.952 at 50 / 100);
- 200,000 realistic pictures, 100 tuning queries, 400 / 1,000 candidates: signs 0.892 / 0.977; thermometer to
  the extremes 0.855 / 0.941, to 3 / 2 / 1 / 0.75 / 0.5 / 0.25 standard deviations 0.909 / 0.970, 0.958 / 0.990,
  0.981 / 0.999, 0.979 / 0.997, 0.974 / 0.995, 0.956 / 0.991; by cosine, signs 0.903 / 0.980, thermometer (0.75)
  0.983 / 0.998.
At a million realistic pictures, migration vision 0007 computed the codes of 1,000,000 stored vectors again in 9
minutes and built the graph in 17 (load 6-9); built in that same transaction, the graph also held the rows' former
versions (885 MB), hence `install` commits the codes first; rebuilt without them, 443 MB (506 MB with the primary
key; sign codes 481). End to end (bench/README.md, 40 reported queries, load ~2): the owner's recall@10 0.958 L1 /
0.970 cosine (sign codes 0.823 L1), median 92 / 72 ms, 107 / 77 CPU ms a request (sign codes 243); the stranger's
1.000, 42 / 44 ms. The graph is built with ef_construction 128 since (GRAPH): more neighbours weighed per insertion.
A unit-length vector's small angle is a small L1 distance too, so one candidate list serves both metrics. The
vectors are centred first: prepared vectors are non-negative, the signs of their raw coordinates (pgvector's
binary_quantize) would say little. CANDIDATES stays 1,000, pgvector's largest hnsw.ef_search.

The table is not a Django-managed model (`PhotoVector` is unmanaged): SQLite, MariaDB and PostgreSQL without the
extension never have it. Vectors are written in the analysis's transaction (`store`), and a trigger deletes a
picture's vector with its analysis, in the same transaction; `backfill` catches up with analyses written another way
(restore, older versions). `install` also brings an older table up to date, once (migrations vision 0006 and 0007):
the code column's comment names the codes it holds (CODE_VERSION); a table of the former design (no codes) loses
its two graphs, a table of other codes (the sign codes had no comment) its code graph, every code is computed again
from the stored vectors, then the one graph is built.
"""

import functools
import logging
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Value
from django.db.models.expressions import RawSQL
from pgvector import HalfVector
from pgvector.django import CosineDistance, HammingDistance, L1Distance

from .index import prepared

logger = logging.getLogger(__name__)

TABLE = "vision_photovector"
DIMENSIONS = 1280
CODE_BITS = 1280
PROJECTION = Path(__file__).parent / "data" / "vector_code.npz"
THRESHOLDS = Path(__file__).parent / "data" / "vector_code_thresholds.npz"
# Which codes a table holds, kept as the code column's comment: `install` computes them again when it differs (the
# sign codes of the first design had no comment).
CODE_VERSION = "thermometer 1"
# Pictures the code graph proposes, ranked exactly on their full vectors (more when more results are asked).
CANDIDATES = 1000
# How many index tuples an iterative scan may visit before it gives up (pgvector's default is 20,000); a viewer who
# may see few pictures is answered by an exact scan of their pictures instead.
MAX_SCAN_TUPLES = 100_000
# Up to this many pictures a viewer may see are ranked exactly, without the HNSW graph (`_ranked`).
EXACT_SCOPE = 5000
# A viewer who owns at least this share of the pictures (PostgreSQL's statistics) is answered by the unfiltered
# statement (`_unfiltered_statement`): the candidates from the vector table alone, access checked in order.
UNFILTERED_SHARE = 0.9
# ... unless it refused more than this many pictures per result wanted before it found them (`_refused_too_many`).
MAX_REFUSED = 0.25
CHUNK = 2000
# The former design's graphs, dropped by `install` when it finds them.
FORMER_INDEXES = (f"{TABLE}_l1", f"{TABLE}_cosine")

# The code graph's build settings. pgvector's defaults (m = 16, ef_construction = 64) gave the owner's L1 recall@10
# 0.969 on 200 tuning queries at a million realistic pictures; ef_construction 128: 0.977, 200: 0.978, same 443 MB,
# no slower search (bench/README.md "Graph build settings"). `install` rebuilds a graph built with others (0008).
GRAPH = {"m": 16, "ef_construction": 128}


def _graph_statement(name: str) -> str:
    settings = ", ".join(f"{option} = {value}" for option, value in GRAPH.items())
    return f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} USING hnsw (code bit_hamming_ops) WITH ({settings})"


SCHEMA = [
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        photo_id uuid PRIMARY KEY,  -- library_photo.id
        embedding halfvec({DIMENSIONS}) NOT NULL,
        code bit({CODE_BITS}) NOT NULL  -- `codes`: what the graph compares
    )""",
    _graph_statement(f"{TABLE}_code"),
    # No foreign key (Django's test flush truncates library_photo without CASCADE): a trigger deletes the vector
    # with the analysis, which Django deletes before the picture.
    f"""CREATE OR REPLACE FUNCTION {TABLE}_forget() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN DELETE FROM {TABLE} WHERE photo_id = OLD.photo_id; RETURN OLD; END $$""",
    f"DROP TRIGGER IF EXISTS {TABLE}_forget ON vision_photoanalysis",
    f"""CREATE TRIGGER {TABLE}_forget AFTER DELETE ON vision_photoanalysis
        FOR EACH ROW EXECUTE FUNCTION {TABLE}_forget()""",
]


@functools.cache
def _projection() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The mean, the principal axes that get bits, and per bit its axis (among those) and threshold."""
    with np.load(PROJECTION) as data, np.load(THRESHOLDS) as cuts:
        mean, axes = data["mean"].astype(np.float32), data["axes"].astype(np.float32).T
        used, axis = np.unique(cuts["axis"], return_inverse=True)
        return mean, np.ascontiguousarray(axes[:, used]), axis, cuts["threshold"].astype(np.float32)


def codes(rows: np.ndarray) -> list[str]:
    """The codes of prepared vectors, as bit strings: a thermometer code of their centred principal coordinates
    (one bit per THRESHOLDS cut: is the coordinate past it). Computed from the vectors as stored (halfvec), so a
    code computed again from the table (`_upgrade`) is the same."""
    mean, axes, axis, threshold = _projection()
    coordinates = (np.atleast_2d(rows).astype(np.float16).astype(np.float32) - mean) @ axes
    bits = coordinates[:, axis] > threshold
    return ["".join(row) for row in np.where(bits, "1", "0")]


def thresholds(coordinates: np.ndarray, bits: int = CODE_BITS, reach: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
    """The cuts of the thermometer code (how data/vector_code_thresholds.npz was made from the principal coordinates
    of the real features, centred): every axis cut at the odd multiples of half one common step, out to `reach`
    standard deviations of that axis either side, the step the smallest that gives at most `bits` cuts. An axis
    gets cuts in proportion to its spread (axes spread less than about half a step get none), and the Hamming
    distance between two codes counts the steps between their coordinates, clipped. Returns (axis, threshold) per
    bit, axes in order."""
    limits = reach * coordinates.std(axis=0)

    def cuts(step: float) -> tuple[np.ndarray, np.ndarray]:
        each = np.floor(limits / step + 0.5).astype(int)  # cuts either side of 0
        half = np.concatenate([np.arange(n) + 0.5 for n in each]) * step
        sides = np.concatenate([np.concatenate([-h[::-1], h]) for h in np.split(half, np.cumsum(each)[:-1])])
        return np.repeat(np.arange(len(limits)), 2 * each).astype(np.int16), sides.astype(np.float32)

    fewer, more = float(2 * limits.max()) + 1, 1e-9  # steps giving at most / more than `bits` cuts
    for _ in range(100):
        step = (fewer + more) / 2
        if len(cuts(step)[0]) > bits:
            more = step
        else:
            fewer = step
    axis, threshold = cuts(fewer)
    unused = bits - len(axis)  # when no step gives exactly `bits` cuts: bits never set
    return np.append(axis, np.zeros(unused, np.int16)), np.append(threshold, np.full(unused, np.inf, np.float32))


def install(cursor) -> bool:
    """Create the extension (when the PostgreSQL server has it and we may) and the table, or bring a table of the
    former design up to date; True when pgvector is usable."""
    cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    if cursor.fetchone() is None:
        return False
    try:
        with transaction.atomic():
            cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except Exception as error:  # not allowed to (not a superuser, extension not trusted): stay embedded
        logger.warning("pgvector is installed but the extension could not be created: %s", error)
        return False
    table, graph, *rest = SCHEMA
    # Committed before the graph is built when the caller is in autocommit (migration vision 0007): a graph built in
    # the transaction that computed the codes again would also hold every row's former version (PostgreSQL indexes
    # the rows its own transaction deleted), twice the graph, half of it dead.
    with transaction.atomic():
        cursor.execute(table)
        # Vectors kept in the row rather than in the TOAST table (2.5 KB, past its 2 KB threshold): re-ranking the
        # candidates reads one heap tuple each instead of a TOAST index lookup and two chunks more.
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN embedding SET STORAGE PLAIN")
        _upgrade(cursor)
    _rebuild_outdated_graph(cursor)
    cursor.execute(graph)  # built once over the filled table: much faster than row by row
    for statement in rest:
        cursor.execute(statement)
    _table_exists.cache_clear()
    return True


def _upgrade(cursor) -> None:
    """Bring the table's codes to CODE_VERSION, once: a table of the former design (two graphs of the full vectors,
    no codes) loses its graphs and gets the column; a table whose codes are of another version (the sign codes of
    the first code design) loses its code graph. Then every code is computed again from the stored vectors, and the
    column's comment records the version (`install` builds the graph afterwards). Nothing to do on a current table."""
    for name in FORMER_INDEXES:
        cursor.execute(f"DROP INDEX IF EXISTS {name}")
    cursor.execute(
        "SELECT col_description(attrelid, attnum) FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'code'",
        [TABLE],
    )
    column = cursor.fetchone()
    if column is not None and column[0] == CODE_VERSION:
        return
    cursor.execute(f"DROP INDEX IF EXISTS {TABLE}_code")  # a graph of other codes; rebuilt once over the new ones
    cursor.execute(f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS code bit({CODE_BITS})")
    done, last = 0, "00000000-0000-0000-0000-000000000000"
    while True:
        # halfvec_send: the vector's binary form (2 bytes of dimensions, 2 unused, big-endian float16s)
        cursor.execute(
            f"SELECT photo_id, halfvec_send(embedding) FROM {TABLE} WHERE photo_id > %s"
            f" ORDER BY photo_id LIMIT {CHUNK}",
            [last],
        )
        rows = cursor.fetchall()
        if not rows:
            break
        vectors = np.vstack([np.frombuffer(bytes(blob), dtype=">f2", offset=4) for _, blob in rows])
        cursor.execute(
            f"UPDATE {TABLE} SET code = new.code::bit({CODE_BITS}) FROM unnest(%s::uuid[], %s::text[]) AS new(id, code)"
            f" WHERE photo_id = new.id",
            [[pk for pk, _ in rows], codes(vectors)],
        )
        done, last = done + len(rows), rows[-1][0]
    if done:
        logger.info("pgvector: codes (%s) computed for %d stored vectors", CODE_VERSION, done)
    cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN code SET NOT NULL")
    cursor.execute(f"COMMENT ON COLUMN {TABLE}.code IS '{CODE_VERSION}'")  # a constant: no quoting needed


def graph_settings(cursor) -> dict[str, int] | None:
    """The code graph's build settings as PostgreSQL keeps them (pgvector's defaults are not written), None without
    a graph."""
    cursor.execute("SELECT reloptions FROM pg_class WHERE oid = to_regclass(%s)", [f"{TABLE}_code"])
    row = cursor.fetchone()
    if row is None:
        return None
    return {name: int(value) for name, value in (option.split("=", 1) for option in row[0] or [])}


def _rebuild_outdated_graph(cursor) -> None:
    """A graph built with other settings than GRAPH (migration vision 0008) is rebuilt beside the old one, which
    answers searches meanwhile, then takes its place."""
    found = graph_settings(cursor)
    if found is None or found == GRAPH:
        return
    logger.info("pgvector: code graph built with %s, rebuilding it with %s", found or "the defaults", GRAPH)
    cursor.execute(f"DROP INDEX IF EXISTS {TABLE}_code_rebuilt")  # left by an interrupted rebuild
    cursor.execute(_graph_statement(f"{TABLE}_code_rebuilt"))
    with transaction.atomic():
        cursor.execute(f"DROP INDEX {TABLE}_code")
        cursor.execute(f"ALTER INDEX {TABLE}_code_rebuilt RENAME TO {TABLE}_code")


def downgrade(cursor) -> None:
    """Back to the former design (migration vision 0006 reversed): the codes go, the two graphs come back."""
    cursor.execute(f"DROP INDEX IF EXISTS {TABLE}_code")
    cursor.execute(f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS code")
    for name, ops in zip(FORMER_INDEXES, ("halfvec_l1_ops", "halfvec_cosine_ops"), strict=True):
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} USING hnsw (embedding {ops})")


def where_installed(schema_editor, change) -> None:
    """Run `change(cursor)` where the table exists (PostgreSQL where migration 0005 could create it): how the
    migrations after 0005 change the unmanaged table."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [TABLE])
        if cursor.fetchone()[0]:
            change(cursor)


def forget_code_version(cursor) -> None:
    """The codes' version forgotten (migration vision 0007 reversed): `install` computes every code again."""
    cursor.execute(f"COMMENT ON COLUMN {TABLE}.code IS NULL")


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


def store(pairs) -> int:
    """Insert or replace the vectors of [(photo id, features)], in the caller's transaction (the analysis's);
    returns how many were stored."""
    from .models import PhotoVector

    pairs = list(pairs)
    if not pairs or not present():
        return 0
    stored = np.vstack([features for _, features in pairs]).astype(np.float16)  # as PhotoAnalysis keeps them
    finite = np.isfinite(stored).all(axis=1)
    if not finite.all():  # damaged (a restored backup, written by hand): not findable by image, the rest still are
        logger.warning("pgvector: %d vector(s) with NaN or infinity left out", int((~finite).sum()))
        pairs, stored = [pair for pair, ok in zip(pairs, finite, strict=True) if ok], stored[finite]
        if not pairs:
            return 0
    rows = prepared(stored.astype(np.float32))
    PhotoVector.objects.bulk_create(
        [
            PhotoVector(photo_id=pk, embedding=HalfVector(row), code=code)
            for (pk, _), row, code in zip(pairs, rows, codes(rows), strict=True)
        ],
        update_conflicts=True,
        unique_fields=["photo"],
        update_fields=["embedding", "code"],
    )
    return len(pairs)


def missing():
    """Analyses without a vector (written before pgvector was installed, restored, or by hand)."""
    from .models import PhotoAnalysis, PhotoVector

    return PhotoAnalysis.objects.exclude(photo_id__in=PhotoVector.objects.values("photo_id"))


def backfill() -> int:
    """Store the vectors of every analysis that has none; returns how many."""
    from .models import decode_features

    done, after = 0, None
    while True:
        with transaction.atomic():
            rows = missing().order_by("photo_id")
            if after is not None:  # onwards: a damaged vector left out stays missing and must not be read again
                rows = rows.filter(photo_id__gt=after)
            chunk = list(rows.values_list("photo_id", "features")[:CHUNK])
            if not chunk:
                return done
            vectors = decode_features([features for _, features in chunk])
            done += store(zip([pk for pk, _ in chunk], vectors, strict=True))
        after = chunk[-1][0]


def _candidates(limit: int) -> int:
    return max(CANDIDATES, 2 * limit)


def _settings_and_scope(cursor, photos, limit: int, viewer) -> tuple[bool, float]:
    """Set this transaction's scan settings and tell, in one round trip, whether the viewer may see at most
    EXACT_SCOPE pictures and what share of all pictures they own and a listing shows, by PostgreSQL's statistics
    (`_OWNED_SHARE`, `_LISTED_SHARE`). HNSW
    scans go on past rows the access filter drops (iterative, relaxed order: the candidates are ranked again
    anyway). Joins are nested loops: the planner guesses the pictures a viewer may see from the access conditions
    alone (14,000 for a stranger's 1,000 of 100,000) and would hash-join them with the whole vector table (a
    sequential read of 2.7 GB at a million pictures) instead of fetching their vectors by key.

    The count of the viewer's pictures (at most EXACT_SCOPE + 1 of them, each looked up in the vector table) is
    skipped when the statistics say they own over twice EXACT_SCOPE of the vectors and at least UNFILTERED_SHARE:
    for the owner of a large library it read 5,001 picture rows and as many vector keys, ~30 ms at 20,000 pictures."""
    scope, params = photos.order_by().values("pk")[: EXACT_SCOPE + 1].query.sql_with_params()
    cursor.execute(
        "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', %s, true),"
        " set_config('hnsw.max_scan_tuples', %s, true), set_config('enable_hashjoin', 'off', true),"
        " set_config('enable_mergejoin', 'off', true), owned.share,"
        " CASE WHEN owned.share >= %s AND owned.share * owned.vectors > %s THEN NULL"  # a CASE runs the count only
        f" ELSE (SELECT count(*) FROM ({scope}) AS scope) END"  # when needed
        f" FROM (SELECT {_OWNED_SHARE} * {_LISTED_SHARE} AS share,"
        " (SELECT reltuples FROM pg_class WHERE oid = %s::regclass) AS vectors)"
        " AS owned",
        [
            str(min(_candidates(limit), 1000)),  # 1,000: pgvector's most
            str(MAX_SCAN_TUPLES),
            UNFILTERED_SHARE,
            2 * EXACT_SCOPE,
            *params,
            getattr(viewer, "pk", None),
            TABLE,
        ],
    )
    *_, share, count = cursor.fetchone()
    return count is not None and count <= EXACT_SCOPE, float(share)


# The share of library_photo's rows whose owner is the viewer, from PostgreSQL's statistics (the most common values
# of owner_id and their frequencies, kept by ANALYZE and autovacuum): one catalog row, whatever the library's size.
# 0 when the viewer is not among them or there are no statistics yet (then the filtered scan answers, as before).
_OWNED_SHARE = """coalesce((
    SELECT common.share FROM pg_stats AS stats,
        unnest(stats.most_common_vals::text::bigint[], stats.most_common_freqs) AS common(owner, share)
    WHERE stats.schemaname = current_schema() AND stats.tablename = 'library_photo' AND stats.attname = 'owner_id'
        AND common.owner = %s
), 0)"""
# The share of library_photo's rows a listing shows (not a stack's other members, `listed()`), from the same
# statistics: a designer who keeps each RAW beside its JPEG owns every picture, but half of the nearest candidates are
# stack members that the search refuses, so the unfiltered statement would be run and thrown away every time.
_LISTED_SHARE = """coalesce((
    SELECT stats.null_frac FROM pg_stats AS stats
    WHERE stats.schemaname = current_schema() AND stats.tablename = 'library_photo'
        AND stats.attname = 'stack_cover_id'
), 1)"""


def _distances(query: np.ndarray, metric: str, prefix: str = ""):
    """(the query's code, the metric's distance, the cosine distance) as expressions on the vector table's columns
    (`prefix`: the path from the queried model)."""
    prepared_query = prepared(query)
    vector = Value(HalfVector(prepared_query).to_text())  # 1280 numbers written once, not once per distance
    cosine = CosineDistance(f"{prefix}embedding", vector)
    distance = L1Distance(f"{prefix}embedding", vector) if metric == "l1" else cosine
    return HammingDistance(f"{prefix}code", codes(prepared_query)[0]), distance, cosine


def _statement(photos, query: np.ndarray, metric: str, limit: int, few: bool) -> tuple[str, list]:
    """The filtered statement: (photo id, distance, cosine distance) of the nearest, nearest first.

    A viewer who may see at most EXACT_SCOPE pictures is ranked exactly: the order is by an expression no index
    matches (distance + 0), so PostgreSQL reads their pictures through the access conditions' indexes and sorts them
    (the planner cannot tell on its own: it walked the graph past 99 % hidden pictures). Otherwise the code graph
    proposes the nearest allowed pictures by Hamming distance (the access conditions checked on each picture's row
    as the graph proposes it, an iterative scan), their exact distances computed from the same rows, and the outer
    query keeps the nearest by those."""
    photos = photos.filter(feature_vector__isnull=False)
    code, distance, cosine = _distances(query, metric, "feature_vector__")
    if few:
        ranked = photos.annotate(distance=distance + 0, cosine_distance=cosine).order_by("distance", "pk")
        return ranked.values_list("pk", "distance", "cosine_distance")[:limit].query.sql_with_params()
    candidates = photos.annotate(code_distance=code, distance=distance, cosine_distance=cosine).order_by(
        "code_distance"
    )
    sql, params = candidates.values_list("pk", "distance", "cosine_distance")[
        : _candidates(limit)
    ].query.sql_with_params()
    return f"SELECT * FROM ({sql}) AS candidates ORDER BY 2, 1 LIMIT %s", [*params, limit]


def _unfiltered_statement(photos, query: np.ndarray, metric: str, limit: int, exclude, candidates: int):
    """The statement for a viewer who may see (nearly) every picture: (photo id, distance, cosine distance, rank
    among the candidates) of the nearest allowed, nearest first.

    The code graph proposes `candidates` pictures from the vector table alone, with no access check; they are ranked
    by their exact distances, and the viewer's access (the same `photos` queryset, from visible_to/owned_by) is
    checked one candidate at a time in that order, each a look-up of its picture's row by key (a LATERAL subquery,
    LIMIT 1: never turned into a join of all the candidates), until `limit` pass. For the owner of every picture that
    reads `limit` picture rows instead of the filtered statement's `candidates` (1,000 random rows of a large table,
    most of that statement's time when they are not in memory), and finds the same candidates in the same order. The
    rank tells how many were refused on the way (`nearest` falls back when too many)."""
    from .models import PhotoVector

    code, distance, cosine = _distances(query, metric)
    vectors = PhotoVector.objects.annotate(code_distance=code, distance=distance, cosine_distance=cosine)
    if exclude is not None:  # the query's own picture: left out before the graph's candidates are counted, as above
        vectors = vectors.exclude(photo_id=exclude)
    vectors = vectors.order_by("code_distance").values_list("photo_id", "distance", "cosine_distance")[:candidates]
    candidates_sql, candidates_params = vectors.query.sql_with_params()
    allowed = photos.filter(pk=RawSQL("ranked.photo_id", ())).order_by().values("pk")[:1]
    allowed_sql, allowed_params = allowed.query.sql_with_params()
    return (
        "SELECT ranked.photo_id, ranked.distance, ranked.cosine_distance, ranked.position FROM ("
        " SELECT candidates.*, row_number() OVER (ORDER BY distance, photo_id) AS position"
        f" FROM ({candidates_sql}) AS candidates ORDER BY distance, photo_id"
        f") AS ranked CROSS JOIN LATERAL ({allowed_sql}) AS allowed ORDER BY ranked.distance, ranked.photo_id LIMIT %s",
        [*candidates_params, *allowed_params, limit],
    )


def _unfiltered(share: float, limit: int) -> int:
    """How many candidates the unfiltered statement takes, or 0 for the filtered one: a viewer who owns at least
    UNFILTERED_SHARE of the pictures, as a listing shows them, by the statistics. As many more candidates as the
    share says are not theirs, so that their allowed candidates are about as many as the filtered scan's (the same
    1,000 for the owner of everything)."""
    if share < UNFILTERED_SHARE:
        return 0
    return int(np.ceil(_candidates(limit) / min(max(share, 0.5), 1.0)))  # at most twice as many


def _refused_too_many(ranked: list, limit: int) -> bool:
    """Did the unfiltered statement meet too many pictures the viewer may not see (statistics out of date, a viewer
    who owns most pictures but may not see some of them)? Then its few allowed candidates could miss nearer allowed
    pictures that the filtered scan would propose: it answers instead."""
    if len(ranked) < limit:
        return True
    return ranked[-1][-1] - len(ranked) > MAX_REFUSED * limit


def nearest(photos, query: np.ndarray, metric: str, limit: int, *, exclude=None, viewer=None) -> list[tuple]:
    """[(photo, distance, cosine similarity)] of the `limit` pictures of the queryset `photos` nearest to `query`,
    nearest first: one statement ranks and applies access (the queryset comes from visible_to/owned_by), two when the
    unfiltered one met too many pictures the viewer may not see; the rows of the pictures found are read after it,
    by key. `exclude`: a picture's key left out (the query's own); `viewer`: given when `photos` is all the viewer may
    see or owns, not narrowed further (then the unfiltered statement may answer, `_unfiltered`)."""
    from photocloud.library.models import Photo

    if exclude is not None:
        photos = photos.exclude(pk=exclude)
    with transaction.atomic(), connection.cursor() as cursor:
        few, share = _settings_and_scope(cursor, photos.filter(feature_vector__isnull=False), limit, viewer)
        candidates = 0 if few or viewer is None else _unfiltered(share, limit)
        ranked = None
        if candidates:
            cursor.execute(*_unfiltered_statement(photos, query, metric, limit, exclude, candidates))
            ranked = cursor.fetchall()
            if _refused_too_many(ranked, limit):
                ranked = None
        if ranked is None:
            cursor.execute(*_statement(photos, query, metric, limit, few))
            ranked = cursor.fetchall()
    # By key alone: the statement applied access (its conditions are not compiled and evaluated a third time).
    rows = Photo.objects.select_related("album", "owner").in_bulk([pk for pk, *_ in ranked])
    return [(rows[pk], float(distance), 1.0 - float(cosine)) for pk, distance, cosine, *_ in ranked if pk in rows]


def explain(photos, query: np.ndarray, metric: str = "l1", limit: int = 10, viewer=None) -> str:
    """The plan PostgreSQL runs for `nearest`'s first statement, with timings (bench/search_e2e.py prints it)."""
    with transaction.atomic(), connection.cursor() as cursor:
        few, share = _settings_and_scope(cursor, photos.filter(feature_vector__isnull=False), limit, viewer)
        candidates = 0 if few or viewer is None else _unfiltered(share, limit)
        if candidates:
            sql, params = _unfiltered_statement(photos, query, metric, limit, None, candidates)
        else:
            sql, params = _statement(photos, query, metric, limit, few)
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return "\n".join(line for (line,) in cursor.fetchall())


def index_bytes() -> int:
    """The size of the table's indexes (the code graph and the primary key): what PostgreSQL keeps in memory to
    search fast (bench/search_e2e.py)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(pg_relation_size(indexrelid)), 0) FROM pg_index WHERE indrelid = %s::regclass",
            [TABLE],
        )
        return int(cursor.fetchone()[0])
