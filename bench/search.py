"""Search-by-image benchmark: the vector index against exact brute force, on synthetic features of the real size.

Target (DESIGN.md §4): over 1,000,000 pictures, ≤ 50 ms median query latency with recall@10 ≥ 0.95 against exact
search, and ≤ 1 GB of index memory. Vectors are 1280-dimensional like EfficientNet-Lite0's pooled features: a
clustered mixture (2000 non-negative cluster centres with per-dimension scales that vary, post-ReLU noise, varying
overall intensity so norms span ~5-30). Queries are perturbed dataset vectors, not exact copies. Ground truth is
exact float32 search (FAISS brute force, in chunks); the baseline latency is `ExactIndex`'s numpy scan.

The dataset is written in chunks to a float32 file in a temporary folder (5 GB at 1M) so that memory stays bounded;
the index keeps its float16 re-ranking vectors on disk (memmapped) and only the compressed IVFs in RAM.
Run from the repository root:  python bench/search.py [--sizes 100000,1000000] [--queries 200]

`python bench/search.py --end-to-end [--size N]` measures the whole path instead (HTTP request, access, index, rows)
on the embedded index and on pgvector in PostgreSQL: see bench/search_e2e.py.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import faiss  # noqa: E402
import numpy as np  # noqa: E402

from photocloud.vision.index import METRICS, FaissIndex, _distances, _top_k, prepared  # noqa: E402

DIM = 1280
CENTRES = 2000
CHUNK = 50_000
K = 10


class Features:
    """Deterministic synthetic feature vectors, generated chunk by chunk from one seed."""

    def __init__(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.scales = rng.lognormal(-1.2, 0.6, DIM).astype(np.float32)  # some dimensions matter more than others
        active = rng.random((CENTRES, DIM)) < 0.5  # each concept fires on a subset of channels
        self.centres = (self.scales * rng.gamma(0.7, 1.0, (CENTRES, DIM)) * active).astype(np.float32)
        weights = 1.0 / np.arange(1, CENTRES + 1) ** 0.5  # some subjects are far more common than others
        self.weights = weights / weights.sum()

    def chunk(self, start: int, n: int) -> np.ndarray:
        rng = np.random.default_rng([1, start])
        cluster = rng.choice(CENTRES, n, p=self.weights)
        noise = rng.standard_normal((n, DIM), dtype=np.float32) * (0.6 * self.scales)
        intensity = rng.uniform(0.5, 1.5, (n, 1)).astype(np.float32)
        return np.maximum(self.centres[cluster] + noise, 0.0) * intensity

    def queries(self, base: np.ndarray, count: int) -> np.ndarray:
        rng = np.random.default_rng(2)
        picked = base[np.sort(rng.choice(len(base), count, replace=False))]
        noise = rng.standard_normal(picked.shape, dtype=np.float32) * (0.15 * self.scales)
        return np.maximum(picked + noise, 0.0) * rng.uniform(0.9, 1.1, (count, 1)).astype(np.float32)


def write_dataset(features: Features, n: int, path: Path) -> np.memmap:
    data = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, DIM))
    for start in range(0, n, CHUNK):
        data[start : start + CHUNK] = features.chunk(start, min(CHUNK, n - start))
    data.flush()
    return data


def ground_truth(data: np.ndarray, queries: np.ndarray, metric: str) -> np.ndarray:
    """Exact top-k ids per query (float32, FAISS brute force in chunks merged by distance)."""
    faiss_metric, xq = (faiss.METRIC_INNER_PRODUCT if metric == "cosine" else faiss.METRIC_L1), prepared(queries)
    best_d = np.full((len(queries), K), np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), K), dtype=np.int64)
    for start in range(0, len(data), 4 * CHUNK):
        xb = prepared(data[start : start + 4 * CHUNK])  # both metrics compare prepared vectors (vision/index.py)
        d, i = faiss.knn(xq, xb, K, metric=faiss_metric)
        d = -d if metric == "cosine" else d
        all_d, all_i = np.hstack([best_d, d]), np.hstack([best_i, i + start])
        order = np.argsort(all_d, axis=1)[:, :K]
        best_d, best_i = np.take_along_axis(all_d, order, 1), np.take_along_axis(all_i, order, 1)
    return best_i


def exact_latency_ms(data: np.ndarray, queries: np.ndarray, metric: str, repeat: int = 3) -> float:
    """`ExactIndex`'s numpy scan over all vectors (data already in the page cache), median of a few queries."""
    ids = np.arange(len(data), dtype=np.int64)
    times = []
    for query in queries[:repeat]:
        t = time.perf_counter()
        _top_k(ids, _distances(data, query, metric), K)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def run(n: int, n_queries: int, workdir: Path, settings: list[tuple[int, int]]) -> list[dict]:
    features = Features()
    t = time.perf_counter()
    data = write_dataset(features, n, workdir / f"data-{n}.npy")
    print(f"\n{n:,} vectors: generated in {time.perf_counter() - t:.0f} s", flush=True)
    queries = features.queries(data, n_queries)

    index = FaissIndex(workdir / f"index-{n}", DIM, train_at=n)
    t = time.perf_counter()
    for start in range(0, n, CHUNK):  # bulk load: the IVFs are trained once, when the last chunk arrives
        index.add(np.arange(start, min(start + CHUNK, n)), data[start : start + CHUNK])
    build_s = time.perf_counter() - t
    memory_mb = index.memory_bytes() / 2**20
    disk_mb = index._store.path.stat().st_blocks * 512 / 2**20  # blocks written: the file is sparse beyond them
    print(
        f"  index built in {build_s:.0f} s: {memory_mb:.0f} MB of structures, {disk_mb:.0f} MB float16 vectors on disk"
    )

    rows = []
    for metric in METRICS:
        t = time.perf_counter()
        truth = ground_truth(data, queries, metric)
        truth_s = time.perf_counter() - t
        exact_ms = exact_latency_ms(data, queries, metric)
        print(f"  {metric}: exact search {exact_ms:.0f} ms/query (ground truth took {truth_s:.0f} s)", flush=True)
        for nprobe, rerank in settings:
            index.nprobe, index.rerank = nprobe, rerank
            for query in queries[:5]:  # warm-up: page cache
                index.search(query, K, metric)
            latencies, cpu, hits = [], [], 0
            for query, expected in zip(queries, truth, strict=True):
                t, c = time.perf_counter(), time.process_time()
                found = index.search(query, K, metric)
                latencies.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - c) * 1000)
                hits += len({i for i, _ in found} & set(expected.tolist()))
            row = {
                "n": n,
                "metric": metric,
                "nprobe": nprobe,
                "rerank": rerank,
                "build_s": build_s,
                "memory_mb": memory_mb,
                "disk_mb": disk_mb,
                "median_ms": statistics.median(latencies),
                "p95_ms": float(np.percentile(latencies, 95)),
                "cpu_ms": statistics.median(cpu),
                "recall": hits / (K * len(queries)),
                "exact_ms": exact_ms,
            }
            print(
                f"    nprobe {nprobe}, re-rank {rerank}: median {row['median_ms']:.1f} ms"
                f" (CPU {row['cpu_ms']:.1f} ms), p95 {row['p95_ms']:.1f} ms, recall@10 {row['recall']:.3f}",
                flush=True,
            )
            rows.append(row)
        filtered_access(index, queries, metric)
    index.save()
    machine = machine_memory(index.directory, queries)
    for row in rows:
        row.update(machine)
    del index, data
    return rows


_PROCESS = """
import json, sys
import faiss  # the library's own memory is not the index's: imported before the first measure
import numpy as np
from photocloud.vision.index import FaissIndex

def memory():
    # Pss per mapping: anonymous (heap) pages are private; pages of a mapped file are split among its mappers.
    pss, name, files = {"anon": 0, "vectors": 0, "snapshot": 0}, None, set()
    for line in open("/proc/self/smaps"):
        head = line.split()
        if not line[0].isupper() or not head[0].endswith(":"):  # a mapping's header line
            name = head[5] if len(head) > 5 else ""
        elif head[0] == "Pss:":
            kind = "vectors" if name.endswith("vectors.f16") else "snapshot" if "/snapshot-" in name else "anon"
            files |= {name} if kind == "snapshot" else set()
            if kind != "anon" or not name.startswith("/"):
                pss[kind] += int(head[1]) * 1024
    return {**pss, "files": sorted(files)}

before = memory()
index = FaissIndex.load(sys.argv[1])
queries = np.load(sys.argv[2])
for metric in ("l1", "cosine"):
    for query in queries:
        index.search(query, 10, metric)
print(json.dumps({"before": before}), flush=True)
sys.stdin.readline()  # every process loaded and searched: measure now, while all of them map the files
print(json.dumps(memory()), flush=True)
"""


def machine_memory(directory: Path, queries: np.ndarray, processes: int = 3) -> dict:
    """Index memory per machine: `processes` separate processes (2 web workers and the task worker) each load the
    saved snapshot, as they do after every new one, and search; their PSS (proportional set size: a page shared by
    n processes counts 1/n in each) summed, heap growth plus the snapshot files' mapped pages. The float16 vectors'
    pages (page cache, reclaimable) are reported apart."""
    queries_file = tempfile.NamedTemporaryFile(suffix=".npy")  # noqa: SIM115  (closed below)
    np.save(queries_file.name, queries[:50])
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS, str(directory), queries_file.name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        for _ in range(processes)
    ]
    before = [json.loads(child.stdout.readline())["before"] for child in children]
    after = []
    for child in children:
        child.stdin.write("\n")
        child.stdin.flush()
        after.append(json.loads(child.stdout.readline()))
    for child in children:
        child.stdin.close()
        child.wait()
    queries_file.close()
    heap = sum(a["anon"] - b["anon"] for a, b in zip(after, before, strict=True))
    snapshot, vectors = sum(a["snapshot"] for a in after), sum(a["vectors"] for a in after)
    # Mapped pages count once read: a process that has searched long enough has read every list.
    mapped = sum(Path(name).stat().st_size for name in {name for a in after for name in a["files"]})
    print(
        f"  {processes} processes with the snapshot loaded: index memory per machine {(heap + snapshot) / 2**20:.0f} MB"
        f" after 100 searches each (heap {heap / 2**20:.0f} MB + mapped snapshot {snapshot / 2**20:.0f} MB, PSS), at"
        f" most {(heap + mapped) / 2**20:.0f} MB once every page of the snapshot is read; float16 vectors mapped"
        f" {vectors / 2**20:.0f} MB PSS (read with pread: page cache only)",
        flush=True,
    )
    return {"machine_mb": (heap + mapped) / 2**20, "processes": processes}


def filtered_access(index: FaissIndex, queries: np.ndarray, metric: str, share: float = 0.5, count: int = 20) -> None:
    """A large access scope ("everything I may see": a random half of the pictures) through the IVF's id filter,
    against an exact scan of the same scope (the index's float16 vectors; slow, hence few queries)."""
    rng = np.random.default_rng(3)
    allowed = np.flatnonzero(rng.random(len(index)) < share)
    latencies, hits, leaks = [], 0, 0
    for query in queries[:count]:
        t = time.perf_counter()
        found = [i for i, _ in index.search(query, K, metric, allowed=allowed)]
        latencies.append((time.perf_counter() - t) * 1000)
        expected = index._scan(query, K, metric, index._live_slots(allowed))
        hits += len(set(found) & {i for i, _ in expected})
        leaks += len(set(found) - set(allowed.tolist()))
    print(
        f"    scope of {share:.0%} of the ids: median {statistics.median(latencies):.1f} ms, recall@10 "
        f"{hits / (K * count):.3f} vs an exact scan of the scope, {leaks} results outside it ({count} queries)",
        flush=True,
    )


def main() -> None:
    if "--end-to-end" in sys.argv:
        from bench import search_e2e

        return search_e2e.main()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated collection sizes")
    parser.add_argument("--queries", type=int, default=200)
    defaults = FaissIndex.__init__.__kwdefaults__
    parser.add_argument("--nprobe", default=str(defaults["nprobe"]), help="IVF lists probed; comma-separated to sweep")
    parser.add_argument("--rerank", default=str(defaults["rerank"]), help="candidates re-ranked; comma-separated")
    parser.add_argument("--workdir", type=Path, default=None, help="where to put data and index (default: /tmp)")
    parser.add_argument("--memory-of", type=Path, help="only measure the memory per machine of this saved index")
    args = parser.parse_args()
    if args.memory_of:
        return print(machine_memory(args.memory_of, Features().chunk(0, 50)), f"(load {os.getloadavg()[0]:.1f})")

    settings = [(int(p), int(r)) for p in args.nprobe.split(",") for r in args.rerank.split(",")]
    print(
        f"FAISS {faiss.__version__}, {faiss.omp_get_max_threads()} threads; k = {K}; index defaults: nprobe "
        f"{defaults['nprobe']}, re-rank {defaults['rerank']} candidates"
    )
    rows = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as workdir:
        for n in (int(s) for s in args.sizes.split(",")):
            rows += run(n, args.queries, Path(workdir), settings)

    print(f"(load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores)")
    columns = ["N", "metric", "nprobe", "rerank", "build s", "RAM MB", "disk MB", "median ms", "CPU ms", "p95 ms"]
    columns += ["recall@10"]
    print("\n" + " ".join(f"{c:>9}" for c in columns + ["exact ms"]))
    for r in rows:
        values = [f"{r['n']:,}", r["metric"], r["nprobe"], r["rerank"], f"{r['build_s']:.0f}", f"{r['memory_mb']:.0f}"]
        values += [f"{r['disk_mb']:.0f}", f"{r['median_ms']:.1f}", f"{r['cpu_ms']:.1f}", f"{r['p95_ms']:.1f}"]
        values += [f"{r['recall']:.3f}"]
        print(" ".join(f"{v:>9}" for v in values + [f"{r['exact_ms']:.0f}"]))
    print()
    for r in rows:
        if (r["nprobe"], r["rerank"]) != (defaults["nprobe"], defaults["rerank"]):
            continue
        label = f"{r['n'] // 1000}k" if r["n"] < 1_000_000 else f"{r['n'] / 1e6:g}M"
        ok = r["median_ms"] <= 50 and r["recall"] >= 0.95 and r["machine_mb"] <= 1024
        print(
            f"{label} vectors, {r['metric']}: median {r['median_ms']:.1f} ms (target ≤ 50; CPU {r['cpu_ms']:.1f} ms),"
            f" recall@10 "
            f"{r['recall']:.3f} (target ≥ 0.95), memory per machine {r['machine_mb']:.0f} MB with "
            f"{r['processes']} processes (target ≤ 1024; one index {r['memory_mb']:.0f} MB; plus "
            f"{r['disk_mb']:.0f} MB float16 on disk) — exact search: {r['exact_ms']:.0f} ms"
            f" [{'met' if ok else 'MISSED'}]"
        )


if __name__ == "__main__":
    main()
