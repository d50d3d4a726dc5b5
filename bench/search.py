"""Search-by-image benchmark: the vector index against exact brute force, on synthetic features of the real size.

Target (DESIGN.md §4): over 1,000,000 pictures, ≤ 50 ms median query latency with recall@10 ≥ 0.95 against exact
search, and ≤ 1 GB of index memory. Vectors are 1280-dimensional like EfficientNet-Lite0's pooled features, from
`RealisticFeatures` by default: shaped like the real features (their mean, principal axes and spectrum; domains,
topics, events of consecutive pictures), its few knobs fitted only to the real set's realism statistics, which
`--realism` prints for the real set and each generator. `--features isotropic` is the former generator (2,000
centres, independent noise in every dimension: far more high-dimensional than real features). Queries are
perturbed dataset vectors, not exact copies (`--query-seed`: choose parameters on other queries than the reported
ones). Ground truth is exact float32 search (FAISS brute force, in chunks); the baseline latency is `ExactIndex`'s
numpy scan.

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
DATA = Path(__file__).resolve().parent.parent / "photocloud" / "vision" / "data"
CENTRES = 2000
CHUNK = 50_000
K = 10


class IsotropicFeatures:
    """The former synthetic features (`--features isotropic`): 2,000 non-negative centres, independent noise in each
    of the 1280 dimensions. Far more high-dimensional than real CNN features (`realism`): at 200,000 pictures a
    picture's 1st and 10th nearest lie within 4 % of each other, so recall needs whole clusters ranked exactly."""

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

    def queries(self, base: np.ndarray, count: int, seed: int = 2) -> np.ndarray:
        rng = np.random.default_rng(seed)
        picked = base[np.sort(rng.choice(len(base), count, replace=False))]
        noise = rng.standard_normal(picked.shape, dtype=np.float32) * (0.15 * self.scales)
        return np.maximum(picked + noise, 0.0) * rng.uniform(0.9, 1.1, (count, 1)).astype(np.float32)


def _real_features() -> np.ndarray:
    """The prepared features of the 2,111 real pictures of vision/data/evaluation_set.npz."""
    with np.load(DATA / "evaluation_set.npz") as data:
        return prepared(data["features"].astype(np.float32))


class RealisticFeatures:
    """Synthetic features shaped like the real ones (the default): drawn in the space both metrics compare
    (`prepared`), around the real features' mean, along their principal axes (vision/data/vector_code.npz) with
    their spectrum (variances recomputed from evaluation_set.npz), then made non-negative and unit length, and
    returned squared (raw features whose signed square root is that vector, times an intensity).

    Four levels, as in a photo library: DOMAINS kinds of picture (photos, drawings, rendered text...), TOPICS subjects
    among them (some far more common), events of EVENT consecutive pictures of one subject (a burst, an album), and
    each picture. SHARES splits the real variance among the levels; a picture's own variation is spread flatter
    over the axes (spectrum to the power NOISE_POWER). These few knobs were fitted ONLY to the realism statistics of
    the 2,111 real pictures (`realism`: principal components for 50/80/90 % of the variance, nearest-neighbour
    distance ratios), never to recall or latency."""

    DOMAINS, TOPICS, EVENT = 8, 300, 4
    SHARES = (0.2, 0.3, 0.3, 0.2)  # domain, topic, event, picture
    NOISE_POWER = 0.5
    BLOCK = 1024  # events drawn together from one seed (any chunking gives the same rows)

    def __init__(self, seed: int = 0):
        self.seed = seed
        with np.load(DATA / "vector_code.npz") as data:
            self.mean, self.axes = data["mean"].astype(np.float32), data["axes"].astype(np.float32)
        variances = np.var((_real_features() - self.mean) @ self.axes.T, axis=0)

        def scale(share: float, power: float = 1.0) -> np.ndarray:
            shape = variances**power
            return np.sqrt(share * variances.sum() * shape / shape.sum()).astype(np.float32)

        domain, topic, event, picture = self.SHARES
        self.event_scale, self.picture_scale = scale(event), scale(picture, self.NOISE_POWER)
        rng = np.random.default_rng(seed)
        domains = rng.standard_normal((self.DOMAINS, DIM), dtype=np.float32) * scale(domain)
        self.topics = rng.standard_normal((self.TOPICS, DIM), dtype=np.float32) * scale(topic)
        self.topics += domains[np.arange(self.TOPICS) % self.DOMAINS]
        weights = 1.0 / np.arange(1, self.TOPICS + 1) ** 0.5
        self.weights = weights / weights.sum()

    def _raw(self, components: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        vectors = np.maximum(self.mean + components @ self.axes, 0.0)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors**2 * rng.uniform(50, 150, (len(vectors), 1)).astype(np.float32)

    def chunk(self, start: int, n: int) -> np.ndarray:
        event = np.arange(start, start + n) // self.EVENT
        components = np.empty((n, DIM), dtype=np.float32)
        for block in range(event[0] // self.BLOCK, event[-1] // self.BLOCK + 1):
            rng = np.random.default_rng([self.seed, 4, block])
            topic = rng.choice(self.TOPICS, self.BLOCK, p=self.weights)
            centres = self.topics[topic] + rng.standard_normal((self.BLOCK, DIM), dtype=np.float32) * self.event_scale
            rows = event // self.BLOCK == block
            components[rows] = centres[event[rows] - block * self.BLOCK]
        rng = np.random.default_rng([self.seed, 1, start])
        components += rng.standard_normal((n, DIM), dtype=np.float32) * self.picture_scale
        return self._raw(components, rng)

    def queries(self, base: np.ndarray, count: int, seed: int = 2) -> np.ndarray:
        """Pictures of the set, each moved by half a picture's variation (another shot of the same scene)."""
        rng = np.random.default_rng(seed)
        picked = prepared(base[np.sort(rng.choice(len(base), count, replace=False))])
        components = (picked - self.mean) @ self.axes.T
        components += rng.standard_normal(components.shape, dtype=np.float32) * (0.5 * self.picture_scale)
        return self._raw(components, rng)


GENERATORS = {"realistic": RealisticFeatures, "isotropic": IsotropicFeatures}
Features = RealisticFeatures


def realism(vectors: np.ndarray) -> dict:
    """How high-dimensional and how clustered prepared vectors are, on their first 2,111 (the real set's size):
    principal components needed for 50/80/90 % of the variance, and the cosine distance to the 1st, 10th and 100th
    nearest neighbour relative to the median distance (median over the pictures). Real features: a few components
    carry most of the variance, and the nearest neighbours are much nearer than the rest."""
    x = np.asarray(vectors[:2111], dtype=np.float32)
    power = np.linalg.svd(x - x.mean(0), compute_uv=False) ** 2
    share = np.cumsum(power) / power.sum()
    distances = 1.0 - x @ x.T
    np.fill_diagonal(distances, np.inf)
    distances.sort(axis=1)
    median = np.median(distances[:, :-1], axis=1)
    return {
        "components": [int(np.searchsorted(share, q)) + 1 for q in (0.5, 0.8, 0.9)],
        "ratios": [float(np.median(distances[:, k] / median)) for k in (0, 9, 99)],
    }


def print_realism() -> None:
    for name, vectors in [("real (evaluation_set.npz)", _real_features())] + [
        (f"{name} generator", prepared(generator().chunk(0, 2111))) for name, generator in GENERATORS.items()
    ]:
        stats = realism(vectors)
        print(
            f"{name:>28}: principal components for 50/80/90 % of the variance "
            f"{'/'.join(map(str, stats['components']))}; distance to the 1st/10th/100th nearest over the median "
            f"{'/'.join(f'{r:.3f}' for r in stats['ratios'])}"
        )


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


def run(n: int, n_queries: int, workdir: Path, settings: list[tuple[int, int]], generator, query_seed: int):
    features = generator()
    t = time.perf_counter()
    data = write_dataset(features, n, workdir / f"data-{n}.npy")
    print(f"\n{n:,} vectors: generated in {time.perf_counter() - t:.0f} s", flush=True)
    queries = features.queries(data, n_queries, query_seed)

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
    parser.add_argument("--features", choices=GENERATORS, default="realistic", help="synthetic feature generator")
    parser.add_argument(
        "--query-seed", type=int, default=2, help="which pictures the queries come from (choose parameters on another)"
    )
    parser.add_argument("--realism", action="store_true", help="only print the realism statistics (`realism`)")
    args = parser.parse_args()
    if args.realism:
        return print_realism()
    if args.memory_of:
        return print(machine_memory(args.memory_of, Features().chunk(0, 50)), f"(load {os.getloadavg()[0]:.1f})")

    settings = [(int(p), int(r)) for p in args.nprobe.split(",") for r in args.rerank.split(",")]
    print(
        f"{args.features} features, queries from seed {args.query_seed}; "
        f"FAISS {faiss.__version__}, {faiss.omp_get_max_threads()} threads; k = {K}; index defaults: nprobe "
        f"{defaults['nprobe']}, re-rank {defaults['rerank']} candidates"
    )
    rows = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as workdir:
        for n in (int(s) for s in args.sizes.split(",")):
            rows += run(n, args.queries, Path(workdir), settings, GENERATORS[args.features], args.query_seed)

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
