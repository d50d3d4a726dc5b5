"""Search by image end to end: `GET /api/photos/{id}/similar/` against a running `photocloud serve`, with a large
library in PostgreSQL, on the embedded index and on pgvector (DESIGN.md §4: ≤ 50 ms median, recall@10 ≥ 0.95).

Each request is the whole path: HTTP, token authentication, the access check on the picture, its stored vector, the
search with access applied, and loading and serialising the result rows. Two viewers: the owner, who may see every
picture, and a stranger, who may see one public album of `--visible` pictures (the rest are private). Recall@10 is
against an exact scan (FAISS brute force, float32) of the pictures the viewer may see, the query picture left out
as the API does.

The database is a PostgreSQL 18 with pgvector 0.8 started for the run (tests/pgvector_server.py; or --database-url).
Rows are written with COPY, features are synthetic 1280-dimension vectors (bench/search.py's `RealisticFeatures`, or
`--features isotropic`).
The embedded index runs on the same database with PHOTOCLOUD_VECTOR_INDEX=embedded (snapshot built first, as
`photocloud build_vector_index` does). Run from the repository root, at low priority:
    nice -n 10 python bench/search.py --end-to-end [--size 1000000] [--visible 1000] [--queries 40]
`--tune` sweeps the indexes' parameters on other pictures than the reported queries (in process) and stops.
`--in-process` times the same requests through Django's test client in this process instead (no HTTP server): wall
and CPU ms per request (time.process_time, so the Django and DRF work of a request, told from the database's),
and pages of `GET /api/photos/` and `GET /api/search/` per viewer, which use the same picture serializer;
`--profile` prints cProfile's top functions (CPU time) of each. For a quick profile of the web server's CPU:
    nice -n 5 python bench/search.py --end-to-end --in-process --size 20000 --queries 30 [--profile]
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
# The former pgvector design's graph per picture and metric (L1 and cosine on halfvec(1280)): 3.9 GB at 1M.
FORMER_GRAPH_BYTES = 3900


def _cpu_ms(roots: list[int]) -> float:
    """CPU time used so far by the processes `roots` and their descendants (Linux /proc): the web server's and the
    database server's, so a request's cost can be told from the machine's load."""
    processes = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        processes[int(stat.parent.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    tree, grown = set(roots), True
    while grown:
        size = len(tree)
        tree |= {pid for pid, (parent, _) in processes.items() if parent in tree}
        grown = len(tree) > size
    return sum(processes[pid][1] for pid in tree if pid in processes) * 1000 / os.sysconf("SC_CLK_TCK")


def _postmaster(database_url: str) -> list[int]:
    """The PostgreSQL server behind the URL, when it runs on this machine ([] otherwise)."""
    port = re.search(r":(\d+)/", database_url)
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if port and argv[0].endswith(b"postgres") and f"-p {port[1]}".encode() in b" ".join(argv):
            return [int(cmdline.parent.name)]
    return []


def setup(database_url: str | None, data_dir: str):
    if database_url is None:
        from tests import pgvector_server

        database_url = pgvector_server.start(
            "-c shared_buffers=2GB -c maintenance_work_mem=4GB -c max_parallel_maintenance_workers=1"
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


def _model_rows(template, varying: dict):
    """Columns and rows of copies of the unsaved model instance `template` as Django would save it (defaults
    included), prepared once; `varying` maps field names to one database value per row (Django's field preparation
    per row and picture was most of the time of a fill)."""
    from django.db import connection

    fields = [field for field in type(template)._meta.concrete_fields if not field.db_returning]  # serial ids: the DB's
    base = [field.get_db_prep_save(field.pre_save(template, True), connection) for field in fields]
    positions = {name: next(i for i, f in enumerate(fields) if name in (f.name, f.attname)) for name in varying}

    def rows():
        for values in zip(*varying.values(), strict=True):
            row = list(base)
            for position, value in zip(positions.values(), values, strict=True):
                row[position] = value
            yield row

    return [field.column for field in fields], rows()


def fill(size: int, visible: int, features, graphs: list[str]):
    """Owner `alice` with `size` pictures in albums of 1,000, one of them public with `visible` pictures; stranger
    `bob`; the HNSW graphs of `graphs` (metrics) built after loading. Returns (alice, bob, photo ids in insertion
    order, float16 features)."""
    from django.db import connection, transaction
    from pgvector import Bit, HalfVector
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
    chunk, started = 20_000, time.perf_counter()
    when = datetime(2024, 1, 1, tzinfo=UTC)
    photo = Photo(
        owner=alice,
        album=public,
        format="JPEG",
        mime_type="image/jpeg",
        file_size=1,
        width=10,
        height=10,
        status="ready",
        sort_date=when,
    )
    analysis = PhotoAnalysis(photo=photo, features=b"", model_version="bench", updated_at=when)
    for start in range(0, size, chunk):
        n = min(chunk, size - start)
        stored[start : start + n] = features.chunk(start, n).astype(np.float16)
        rows = range(start, start + n)
        photos = {
            "id": ids[start : start + n],
            "album": [public.pk if i < visible else private[(i - visible) // ALBUM_SIZE].pk for i in rows],
            "sha256": [f"{i:064x}" for i in rows],
        }
        analyses = {"photo": ids[start : start + n], "features": [stored[i].tobytes() for i in rows]}
        vectors = prepared(stored[start : start + n].astype(np.float32))
        with transaction.atomic():
            _copy(Photo, *_model_rows(photo, photos))
            _copy(PhotoAnalysis, *_model_rows(analysis, analyses))
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(
                    f"COPY {PhotoVector._meta.db_table} (photo_id, embedding, code) FROM STDIN WITH (FORMAT BINARY)"
                ) as copy,
            ):
                copy.set_types(["uuid", "halfvec", "bit"])
                codes = pg_vectors.codes(vectors)
                for i, vector, code in zip(range(start, start + n), vectors, codes, strict=True):
                    copy.write_row((ids[i], HalfVector(vector), Bit(code)))
        print(f"  {start + n:,} rows", end="\r", flush=True)
    print(f"\n  rows written in {time.perf_counter() - started:.0f} s")
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '4GB'")
        for statement in pg_vectors.SCHEMA:
            if " USING hnsw " in statement and statement.split()[5].rsplit("_", 1)[1] in graphs:
                cursor.execute(statement)
        cursor.execute("VACUUM ANALYZE")
    print(
        f"  HNSW indexes ({', '.join(graphs)}) built in {time.perf_counter() - t:.0f} s (load {os.getloadavg()[0]:.1f})"
    )
    return alice, bob, ids, stored


def reload(size: int):
    """The library a previous run left in the database (--reuse): (alice, bob, photo ids in insertion order, float16
    features), without filling again."""
    from photocloud.accounts.models import User
    from photocloud.vision.models import PhotoAnalysis

    rows = PhotoAnalysis.objects.order_by("photo__sha256").values_list("photo_id", "features")
    ids = np.empty(size, dtype=object)
    stored = np.empty((size, 1280), dtype=np.float16)
    for row, (pk, features) in enumerate(rows.iterator(chunk_size=20_000)):
        ids[row], stored[row] = pk, np.frombuffer(features, dtype=np.float16)
    if row + 1 != size:
        raise SystemExit(f"the database holds {row + 1:,} analysed pictures, not {size:,}")
    return User.objects.get(username="alice"), User.objects.get(username="bob"), ids, stored


def exact(stored: np.ndarray, allowed: np.ndarray, query_rows: np.ndarray, metric: str = "l1") -> list[list[int]]:
    """Per query row, the rows of the K nearest allowed pictures by Manhattan (or cosine) distance on prepared
    vectors, the query left out as the API does: FAISS brute force (float32) over the allowed rows in chunks, all
    queries at once."""
    import faiss

    from photocloud.vision.index import prepared

    queries = prepared(stored[query_rows].astype(np.float32))
    best_d = np.full((len(query_rows), K + 1), np.inf, dtype=np.float32)
    best_i = np.zeros((len(query_rows), K + 1), dtype=np.int64)
    for start in range(0, len(allowed), 50_000):
        rows = allowed[start : start + 50_000]
        rows_prepared = prepared(stored[rows].astype(np.float32))
        if metric == "l1":
            distances, found = faiss.knn(queries, rows_prepared, K + 1, metric=faiss.METRIC_L1)
        else:
            similarities, found = faiss.knn(queries, rows_prepared, K + 1, metric=faiss.METRIC_INNER_PRODUCT)
            distances = 1 - similarities
        all_d, all_i = np.hstack([best_d, distances]), np.hstack([best_i, rows[found]])
        order = np.argsort(all_d, axis=1, kind="stable")[:, : K + 1]
        best_d, best_i = np.take_along_axis(all_d, order, 1), np.take_along_axis(all_i, order, 1)
    return [
        [row for row in found if row != query][:K] for query, found in zip(query_rows, best_i.tolist(), strict=True)
    ]


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
            break
    else:
        raise RuntimeError("photocloud serve did not start")
    # `serve` says its setup before it starts gunicorn, whose workers fork once the index is loaded: wait for an
    # answer, so that the first viewer's CPU figure is its requests', not the web server's start-up (it was 158 CPU
    # ms a request for the owner, 77 for the stranger measured next, at 100,000 pictures).
    deadline = time.monotonic() + 600
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            connection.request("GET", "/api/")
            connection.getresponse().read()
            connection.close()
            return server
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("photocloud serve did not answer") from None
            time.sleep(0.5)


def measure(port, key, query_ids, truth, row_of, metric="l1") -> tuple[float, float, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Authorization": f"Token {key}"}

    def get(pk):
        connection.request("GET", f"/api/photos/{pk}/similar/?limit={K}&metric={metric}", headers=headers)
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


def measure_in_process(path: str, key: str, paths: list[str], profile: bool) -> tuple[float, float]:
    """(median wall ms, median CPU ms of this process) per request of `paths` through Django's test client, after
    three warm-up requests; with `profile`, cProfile's top functions by cumulative time over the measured requests."""
    import cProfile
    import pstats

    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {key}")  # as `serve` answers
    for warm in paths[:3]:
        assert client.get(warm).status_code == 200
    walls, cpus = [], []
    profiler = cProfile.Profile(time.process_time) if profile else None  # CPU, not waits on the database
    for url in paths:
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        response = client.get(url)
        if profiler:
            profiler.disable()
        cpus.append((time.process_time() - cpu) * 1000)
        walls.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (response.status_code, response.content[:300])
    if profiler:
        print(f"\n  cProfile of {path}:")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(35)
    return statistics.median(walls), statistics.median(cpus)


def in_process(plans: dict, args) -> None:
    """Each backend's similar requests of every viewer, and pages of the picture list and of search results, timed in
    this process."""
    from django.conf import settings

    from photocloud.vision import similar

    results = []
    for backend in args.backends.split(","):
        if backend == "embedded":
            _snapshot(args)
        settings.PHOTOCLOUD["VECTOR_INDEX"] = "embedded" if backend == "embedded" else "auto"
        similar.reset_index()
        similar.load_index()
        for name, (key, query_ids, _, metric) in plans.items():
            paths = [f"/api/photos/{pk}/similar/?limit={K}&metric={metric}" for pk in query_ids]
            wall, cpu = measure_in_process(f"{backend}, {name}, similar", key, paths, args.profile)
            results.append((f"{backend}, similar", name, wall, cpu))
    settings.PHOTOCLOUD["VECTOR_INDEX"] = "auto"
    for what, page in (("photo list page", "/api/photos/?page="), ("search results page", "/api/search/?q=&page=")):
        for name, (key, query_ids, _, _) in plans.items():
            paths = [f"{page}{1 + i % 10}" for i in range(len(query_ids))]  # the stranger may see 20 pages of 50
            wall, cpu = measure_in_process(f"{name}, {what}", key, paths, args.profile)
            results.append((what, name, wall, cpu))
    print(f"\nIn process (Django test client), {args.size:,} pictures, {args.queries} requests each")
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    for what, name, wall, cpu in results:
        print(f"{what:>19} | {name:<21} | median {wall:6.1f} ms | median {cpu:5.1f} CPU ms in this process")


def tune(plans: dict, stored: np.ndarray, ids: np.ndarray, row_of: dict, args, postmaster: list[int]) -> None:
    """Parameters chosen on TUNING queries (other pictures than the report's): each setting searched in this process
    (`similar_photos`, no HTTP), recall@10, median time and CPU ms per search (this process and PostgreSQL: steadier
    than time on a shared machine) per viewer. pgvector: candidates re-ranked (hnsw.ef_search follows, at most
    1,000); embedded: IVF lists probed and candidates re-ranked."""
    from django.conf import settings

    from photocloud.library.models import Photo
    from photocloud.vision import pg_vectors, similar

    def sweep(label):
        for name, (user, rows, truth, metric) in plans.items():
            latencies, hits, cpu = [], 0, _cpu_ms([os.getpid(), *postmaster])
            for row, expected in zip(rows, truth, strict=True):
                photo = Photo.objects.get(pk=ids[row])
                started = time.perf_counter()
                found = similar.similar_photos(
                    user, stored[row].astype(np.float32), metric=metric, limit=K, exclude=photo
                )
                latencies.append((time.perf_counter() - started) * 1000)
                hits += len({row_of[str(found_photo.pk)] for found_photo, _ in found} & set(expected))
            cpu = (_cpu_ms([os.getpid(), *postmaster]) - cpu) / len(rows)
            print(
                f"  {label}, {name}: median {statistics.median(latencies):.1f} ms, {cpu:.0f} CPU ms, recall@10 "
                f"{hits / (K * len(rows)):.3f} (load {os.getloadavg()[0]:.1f})",
                flush=True,
            )

    backends = args.backends.split(",")
    if "pgvector" in backends:
        settings.PHOTOCLOUD["VECTOR_INDEX"] = "auto"
        default = pg_vectors.CANDIDATES
        for candidates in map(int, args.candidates.split(",")):
            pg_vectors.CANDIDATES = candidates
            sweep(f"pgvector, {candidates} candidates")
        pg_vectors.CANDIDATES = default
    if "embedded" in backends:
        _snapshot(args)
        settings.PHOTOCLOUD["VECTOR_INDEX"] = "embedded"
        similar.load_index()
        index = similar._process_index._snapshot
        default = index.nprobe, index.rerank
        for nprobe in map(int, args.nprobe.split(",")):
            for rerank in map(int, args.rerank.split(",")):
                index.nprobe, index.rerank = nprobe, rerank
                sweep(f"embedded, nprobe {nprobe}, re-rank {rerank}")
        index.nprobe, index.rerank = default


def _snapshot(args) -> None:
    """The embedded index's snapshot, built unless a reused data folder has one."""
    from django.conf import settings

    from photocloud.vision import similar

    settings.PHOTOCLOUD["VECTOR_INDEX"] = "embedded"
    if args.reuse and similar._current_snapshot():
        print(f"  embedded snapshot {similar._current_snapshot()} reused")
    else:
        t = time.perf_counter()
        similar.rebuild_snapshot()
        print(f"  embedded snapshot built in {time.perf_counter() - t:.0f} s (load {os.getloadavg()[0]:.1f})")
    settings.PHOTOCLOUD["VECTOR_INDEX"] = "auto"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--end-to-end", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--visible", type=int, default=1000, help="pictures the stranger may see")
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--backends", default="embedded,pgvector")
    parser.add_argument("--metrics", default="l1", help="l1, cosine or both (l1,cosine): each measured on its own")
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database with pgvector")
    parser.add_argument("--port", type=int, default=8871)
    parser.add_argument(
        "--graphs", default="code", help="HNSW graphs to build (pgvector's: code; none for the embedded index only)"
    )
    parser.add_argument("--reuse", action="store_true", help="measure the library a run left in --database-url again")
    parser.add_argument("--features", default="realistic", help="synthetic generator (bench/search.py GENERATORS)")
    parser.add_argument("--data-dir", default=None, help="data folder (kept: --reuse then reuses its snapshot)")
    parser.add_argument(
        "--tune", action="store_true", help="sweep the parameters below on tuning queries (other pictures), then stop"
    )
    parser.add_argument(
        "--in-process", action="store_true", help="the requests through Django's test client, wall and CPU ms each"
    )
    parser.add_argument("--profile", action="store_true", help="--in-process: cProfile's top functions of each")
    parser.add_argument("--tune-queries", type=int, default=0, help="--tune: tuning queries (--queries' count)")
    parser.add_argument("--candidates", default="250,500,1000", help="--tune: pgvector candidates")
    parser.add_argument("--nprobe", default="16,32,64", help="--tune: embedded IVF lists probed")
    parser.add_argument("--rerank", default="250,500,1000", help="--tune: embedded candidates re-ranked")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from bench.search import GENERATORS

    data_dir = args.data_dir or tempfile.mkdtemp(prefix="photocloud-bench-search-")
    postmaster = _postmaster(setup(args.database_url, data_dir))

    from photocloud.accounts.models import ApiToken

    started = time.perf_counter()
    if args.reuse:
        alice, bob, ids, stored = reload(args.size)
        print(f"{args.size:,} analysed pictures read back in {time.perf_counter() - started:.0f} s")
    else:
        alice, bob, ids, stored = fill(args.size, args.visible, GENERATORS[args.features](), args.graphs.split(","))
        print(f"{args.size:,} analysed pictures in PostgreSQL in {time.perf_counter() - started:.0f} s")
    from photocloud.vision import pg_vectors

    size = pg_vectors.index_bytes()
    former = 2 * FORMER_GRAPH_BYTES * args.size
    print(
        f"  pgvector index memory {size / 2**20:,.0f} MB (target ≤ 1,024 MB; former design, two HNSW graphs of"
        f" halfvec(1280): ~{former / 2**20:,.0f} MB) [{'met' if size <= 2**30 else 'MISSED'}]"
    )
    row_of = {str(pk): row for row, pk in enumerate(ids)}
    rng = np.random.default_rng(5)
    viewers = {
        f"owner (sees {args.size:,})": (alice, np.arange(args.size)),
        f"stranger (sees {args.visible:,})": (bob, np.arange(args.visible)),
    }
    plans, tuning = {}, {}
    for viewer, (user, allowed) in viewers.items():
        rows = rng.choice(allowed, args.queries, replace=False)
        if args.tune:  # other pictures than the report's
            others = np.setdiff1d(allowed, rows)
            rows = np.random.default_rng(6).choice(others, args.tune_queries or args.queries, replace=False)
        key = ApiToken.issue(user, "bench")[1]
        for metric in args.metrics.split(","):
            name = viewer if metric == "l1" else f"{viewer}, {metric}"
            t = time.perf_counter()
            truth = exact(stored, allowed, rows, metric)
            print(
                f"  exact search for the {name}: {(time.perf_counter() - t) * 1000 / len(rows):.0f} ms per query"
                " (FAISS brute force)"
            )
            plans[name] = (key, [str(ids[row]) for row in rows], truth, metric)
            tuning[name] = (user, rows, truth, metric)
    if args.tune:
        return tune(tuning, stored, ids, row_of, args, postmaster)
    if args.in_process:
        return in_process(plans, args)

    from photocloud.library.models import Photo

    for name, (user, allowed) in viewers.items():
        plan = pg_vectors.explain(
            Photo.objects.visible_to(user).listed(), stored[allowed[0]].astype(np.float32), viewer=user
        )
        plan = re.sub(r"'\[[^]]*\]'", "'[…]'", plan)  # the query vector: 1280 numbers
        plan = re.sub(r"'[01]{64,}'", "'…'", plan)  # its code: 1280 bits
        print(f"\n  pgvector's plan for the {name}:\n    " + plan.replace("\n", "\n    "))

    results = []
    for backend in args.backends.split(","):
        index = "embedded" if backend == "embedded" else "auto"
        if backend == "embedded":
            _snapshot(args)
        server = serve(args.port, index, data_dir)
        try:
            for name, (key, query_ids, truth, metric) in plans.items():
                cpu = _cpu_ms([server.pid, *postmaster])
                median, p95, recall = measure(args.port, key, query_ids, truth, row_of, metric)
                cpu = (_cpu_ms([server.pid, *postmaster]) - cpu) / (len(query_ids) + 3)
                results.append((backend, name, median, p95, recall, cpu))
                print(
                    f"  {backend}, {name}: median {median:.1f} ms, p95 {p95:.1f} ms, recall@10 {recall:.3f},"
                    f" {cpu:.0f} CPU ms per request (web server and PostgreSQL)"
                )
        finally:
            server.terminate()
            server.wait(30)

    load = os.getloadavg()[0]
    print(f"\nGET /api/photos/{{id}}/similar/?limit={K}, {args.size:,} pictures, {args.queries} queries per viewer")
    print(f"(load average {load:.1f} on {os.cpu_count()} cores)")
    for backend, name, median, p95, recall, cpu in results:
        ok = median <= TARGET_MS and recall >= TARGET_RECALL
        print(
            f"{backend:>9} | {name:<32} | median {median:7.1f} ms (target ≤ {TARGET_MS:.0f}) | p95 {p95:7.1f} ms | "
            f"recall@10 {recall:.3f} (target ≥ {TARGET_RECALL}) | {cpu:4.0f} CPU ms [{'met' if ok else 'MISSED'}]"
        )


if __name__ == "__main__":
    main()
