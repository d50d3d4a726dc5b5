"""Search by image end to end: `GET /api/photos/{id}/similar/` against a running `photocloud serve`, with a large
library in PostgreSQL, on the embedded index and on pgvector (DESIGN.md §4: ≤ 50 ms median, recall@10 ≥ 0.95).

Each request is the whole path: HTTP, token authentication, the access check on the picture, its stored vector, the
search with access applied, and loading and serialising the result rows. Two viewers: the owner, who may see every
picture, and a stranger, who may see one public album of `--visible` pictures (the rest are private). Recall@10 is
against an exact scan (numpy, float32) of the pictures the viewer may see, the query picture left out as the API does.

The database is a PostgreSQL 18 with pgvector 0.8 started for the run (tests/pgvector_server.py; or --database-url).
Rows are written with COPY, features are clustered synthetic 1280-dimension vectors (bench/search.py's `Features`).
The embedded index runs on the same database with PHOTOCLOUD_VECTOR_INDEX=embedded (snapshot built first, as
`photocloud build_vector_index` does). Run from the repository root, at low priority:
    nice -n 10 python bench/search.py --end-to-end [--size 1000000] [--visible 1000] [--queries 40]
"""

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS, TARGET_RECALL, K = 50.0, 0.95, 10
ALBUM_SIZE = 1000


def setup(database_url: str | None, data_dir: str):
    if database_url is None:
        from tests import pgvector_server

        database_url = pgvector_server.start(
            "-c shared_buffers=2GB -c maintenance_work_mem=2GB -c max_parallel_maintenance_workers=1"
        )
    os.environ.update(
        DATABASE_URL=database_url,
        PHOTOCLOUD_DATA_DIR=data_dir,
        PHOTOCLOUD_VISION="false",
        PHOTOCLOUD_RATELIMIT="false",
        DJANGO_SETTINGS_MODULE="photocloud.settings",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return database_url


def _copy(model, columns, rows):
    """COPY rows (tuples of Python values in `columns` order) into the model's table."""
    from django.db import connection

    table = model._meta.db_table
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _model_rows(model, objects):
    """Columns and values of unsaved model instances as Django would save them (defaults included)."""
    from django.db import connection

    fields = [field for field in model._meta.concrete_fields if not field.db_returning]  # serial ids: the database's
    columns = [field.column for field in fields]
    return columns, (
        [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields] for obj in objects
    )


def fill(size: int, visible: int, features):
    """Owner `alice` with `size` pictures in albums of 1,000, one of them public with `visible` pictures; stranger
    `bob`. Returns (alice, bob, photo ids in insertion order, float16 features)."""
    from django.db import connection, transaction
    from pgvector import HalfVector
    from pgvector.psycopg import register_vector

    from photocloud.accounts.models import User
    from photocloud.library.models import Album, Photo
    from photocloud.vision import pg_vectors
    from photocloud.vision.index import prepared
    from photocloud.vision.models import PhotoAnalysis, PhotoVector

    alice = User.objects.create_user("alice", password="x" * 12)
    bob = User.objects.create_user("bob", password="x" * 12)
    public = Album.objects.create(owner=alice, title="Public", category="travel", access="public")
    private = [
        Album.objects.create(owner=alice, title=f"Private {i}", category="travel", access="private")
        for i in range(max(1, (size - visible + ALBUM_SIZE - 1) // ALBUM_SIZE))
    ]
    ids = np.array([uuid.uuid4() for _ in range(size)], dtype=object)
    stored = np.empty((size, 1280), dtype=np.float16)
    with connection.cursor() as cursor:  # load first, then build the HNSW graphs once (much faster than insertions)
        for statement in pg_vectors.SCHEMA:
            if " USING hnsw " in statement:
                cursor.execute(f"DROP INDEX IF EXISTS {statement.split()[5]}")
    connection.ensure_connection()
    register_vector(connection.connection)
    chunk = 20_000
    when = datetime(2024, 1, 1, tzinfo=UTC)
    for start in range(0, size, chunk):
        n = min(chunk, size - start)
        stored[start : start + n] = features.chunk(start, n).astype(np.float16)
        photos = [
            Photo(
                id=ids[i],
                owner=alice,
                album=public if i < visible else private[(i - visible) // ALBUM_SIZE],
                sha256=f"{i:064x}",
                format="JPEG",
                mime_type="image/jpeg",
                file_size=1,
                width=10,
                height=10,
                status="ready",
                sort_date=when,
            )
            for i in range(start, start + n)
        ]
        analyses = [
            PhotoAnalysis(photo_id=ids[i], features=stored[i].tobytes(), model_version="bench", updated_at=when)
            for i in range(start, start + n)
        ]
        vectors = prepared(stored[start : start + n].astype(np.float32))
        with transaction.atomic():
            _copy(Photo, *_model_rows(Photo, photos))
            _copy(PhotoAnalysis, *_model_rows(PhotoAnalysis, analyses))
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(
                    f"COPY {PhotoVector._meta.db_table} (photo_id, embedding) FROM STDIN WITH (FORMAT BINARY)"
                ) as copy,
            ):
                copy.set_types(["uuid", "halfvec"])
                for i, vector in zip(range(start, start + n), vectors, strict=True):
                    copy.write_row((ids[i], HalfVector(vector)))
        print(f"  {start + n:,} rows", end="\r", flush=True)
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '2GB'")
        for statement in pg_vectors.SCHEMA:
            if " USING hnsw " in statement:
                cursor.execute(statement)
        cursor.execute("VACUUM ANALYZE")
    print(f"\n  HNSW indexes (L1, cosine) built in {time.perf_counter() - t:.0f} s")
    return alice, bob, ids, stored


def exact(stored: np.ndarray, allowed: np.ndarray, query_row: int) -> list[int]:
    """Rows of the K nearest allowed pictures by Manhattan distance on prepared vectors, the query left out."""
    from photocloud.vision.index import prepared

    rows = allowed[allowed != query_row]
    query = prepared(stored[query_row].astype(np.float32))
    distances = np.empty(len(rows), dtype=np.float32)
    for start in range(0, len(rows), 20_000):
        part = prepared(stored[rows[start : start + 20_000]].astype(np.float32))
        distances[start : start + len(part)] = np.abs(part - query).sum(axis=1)
    return rows[np.argsort(distances, kind="stable")[:K]].tolist()


def serve(port: int, index: str, data_dir: str) -> subprocess.Popen:
    env = {**os.environ, "PHOTOCLOUD_VECTOR_INDEX": index, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "photocloud.cli",
            "serve",
            "--port",
            str(port),
            "--task-workers",
            "0",
            "--web-workers",
            "1",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    for line in server.stdout:
        if line.startswith("Search by image:"):
            print(f"  {index}: {line.strip()}")
            return server
    raise RuntimeError("photocloud serve did not start")


def measure(port, key, query_ids, truth, row_of) -> tuple[float, float, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Token {key}"}

    def get(pk):
        connection.request("GET", f"/api/photos/{pk}/similar/?limit={K}", headers=headers)
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200, (response.status, body[:300])
        return json.loads(body)

    for pk in query_ids[:3]:  # warm-up: the index loaded, pages in the cache
        get(pk)
    latencies, hits = [], 0
    for pk, expected in zip(query_ids, truth, strict=True):
        started = time.perf_counter()
        found = get(pk)
        latencies.append((time.perf_counter() - started) * 1000)
        hits += len({row_of[item["photo"]["id"]] for item in found} & set(expected))
    return statistics.median(latencies), float(np.percentile(latencies, 95)), hits / (K * len(query_ids))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--end-to-end", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--visible", type=int, default=1000, help="pictures the stranger may see")
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--backends", default="embedded,pgvector")
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database with pgvector")
    parser.add_argument("--port", type=int, default=8871)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from bench.search import Features

    data_dir = tempfile.mkdtemp(prefix="photocloud-bench-search-")
    setup(args.database_url, data_dir)
    from django.conf import settings

    from photocloud.accounts.models import ApiToken
    from photocloud.vision import similar

    started = time.perf_counter()
    alice, bob, ids, stored = fill(args.size, args.visible, Features())
    print(f"{args.size:,} analysed pictures in PostgreSQL in {time.perf_counter() - started:.0f} s")
    row_of = {str(pk): row for row, pk in enumerate(ids)}
    rng = np.random.default_rng(5)
    viewers = {
        f"owner (sees {args.size:,})": (alice, np.arange(args.size)),
        f"stranger (sees {args.visible:,})": (bob, np.arange(args.visible)),
    }
    plans = {}
    for name, (user, allowed) in viewers.items():
        rows = rng.choice(allowed, args.queries, replace=False)
        t = time.perf_counter()
        truth = [exact(stored, allowed, row) for row in rows]
        print(f"  exact search for the {name}: {(time.perf_counter() - t) * 1000 / len(rows):.0f} ms per query (numpy)")
        plans[name] = (ApiToken.issue(user, "bench")[1], [str(ids[row]) for row in rows], truth)

    from photocloud.library.models import Photo
    from photocloud.vision import pg_vectors

    for name, (user, allowed) in viewers.items():
        plan = pg_vectors.explain(Photo.objects.visible_to(user), stored[allowed[0]].astype(np.float32))
        plan = re.sub(r"'\[[^]]*\]'", "'[…]'", plan)  # the query vector: 1280 numbers
        print(f"\n  pgvector's plan for the {name}:\n    " + plan.replace("\n", "\n    "))

    results = []
    for backend in args.backends.split(","):
        index = "embedded" if backend == "embedded" else "auto"
        if backend == "embedded":
            settings.PHOTOCLOUD["VECTOR_INDEX"] = "embedded"
            t = time.perf_counter()
            similar.rebuild_snapshot()
            print(f"  embedded snapshot built in {time.perf_counter() - t:.0f} s")
            settings.PHOTOCLOUD["VECTOR_INDEX"] = "auto"
        server = serve(args.port, index, data_dir)
        try:
            for name, (key, query_ids, truth) in plans.items():
                median, p95, recall = measure(args.port, key, query_ids, truth, row_of)
                results.append((backend, name, median, p95, recall))
                print(f"  {backend}, {name}: median {median:.1f} ms, p95 {p95:.1f} ms, recall@10 {recall:.3f}")
        finally:
            server.terminate()
            server.wait(30)

    load = os.getloadavg()[0]
    print(f"\nGET /api/photos/{{id}}/similar/?limit={K}, {args.size:,} pictures, {args.queries} queries per viewer")
    print(f"(load average {load:.1f} on {os.cpu_count()} cores)")
    for backend, name, median, p95, recall in results:
        ok = median <= TARGET_MS and recall >= TARGET_RECALL
        print(
            f"{backend:>9} | {name:<24} | median {median:7.1f} ms (target ≤ {TARGET_MS:.0f}) | p95 {p95:7.1f} ms | "
            f"recall@10 {recall:.3f} (target ≥ {TARGET_RECALL}) [{'met' if ok else 'MISSED'}]"
        )


if __name__ == "__main__":
    main()
