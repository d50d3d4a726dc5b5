"""Nearest-neighbour index over picture feature vectors, for search by image.

`VectorIndex` is the narrow interface the rest of Photocloud uses, so a dedicated vector engine can replace the
embedded one. Two implementations:

- `ExactIndex`: numpy brute force over a float32 matrix. The reference, and the right choice for small libraries
  (below ~20k vectors a scan costs tens of milliseconds and needs no training).
- `FaissIndex`: for large collections. The full vectors live on disk, prepared (below), as float16 (1M x 1280 =
  2.5 GB, read with pread through the page cache, not counted as index memory); in memory there is a PCA to 256
  dimensions + one IVF inverted file with 8-bit scalar-quantised codes (256 B + an 8 B id per vector) and the id
  arrays (24 B per picture): 290 MB at 1M. A search probes 64 IVF lists for 1000 candidates and re-ranks them with
  the exact metric on the float16 vectors, so the compressed codes only have to get the true neighbours into the
  candidate list, not order them. The one IVF serves both metrics: L2 in the PCA space of the prepared vectors is a
  fair proxy for cosine distance and for Manhattan distance (which has no inner-product form), and the long
  candidate list makes up for the rest. A loaded snapshot maps the IVF lists and the id arrays from its files, so
  the processes of a machine (web workers, task worker) share one copy in the page cache. Measured at 1M for three
  processes (bench/search.py, PSS): 146 MB per machine after 100 searches each, 314 MB at most once every page is
  read; it was 1,939 MB (two IVFs and a dict of ids in each process), plus 2 GB of float16 pages mapped by the
  re-ranking's page faults. Removal is real (`remove_ids` on the IVF), not tombstones; store
  slots are reused. One process should write (add/remove/save); others `load` a snapshot after each save.

Both support the two metrics of search by image: "l1" (Manhattan, the founding paper's) and "cosine" (cosine
distance, 1 - similarity). Smaller is closer for both. Distances are returned as Python floats.

Both metrics compare prepared vectors (`prepared`: the square root of each feature, then unit length), applied at
search time, so the stored vectors stay as they are. On raw features Manhattan distance is dominated by how
strongly a picture fires overall (busy pictures: receipts, pages, screenshots, are far from everything and near each
other) and by a few large channels; the square root (as RootSIFT and Hellinger kernels do) evens out the channels
and unit length removes the overall strength. Same-category share of the 10 nearest on the classifier's labelled
set (bench/similar_quality.py): Manhattan 0.80 on raw features, 0.87 on unit vectors, 0.92 prepared; cosine 0.92
on unit vectors, 0.92 prepared.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import threading
import uuid
from pathlib import Path
from typing import Protocol

import numpy as np

METRICS = ("l1", "cosine")
EXACT_LIMIT = 20_000  # below this many vectors (or allowed ids) a brute-force scan is fast enough
_SCAN_ROWS = 8192  # rows per chunk in brute-force scans: bounds temporary memory to ~40 MB
_MANIFEST = "manifest.json"


class VectorIndex(Protocol):
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Insert or replace (upsert) the vectors of these picture ids."""

    def remove(self, ids: np.ndarray) -> None:
        """Forget these ids; unknown ids are ignored."""

    def search(
        self, query: np.ndarray, k: int, metric: str = "l1", allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The k nearest (id, distance), closest first; only ids in `allowed` when it is given."""

    def vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mask of the ids held, their prepared vectors as float32 rows, in the order of `ids`)."""

    def __len__(self) -> int: ...

    def save(self, directory: Path) -> None: ...


def build_index(n_expected: int, directory: Path, dim: int = 1280) -> ExactIndex | FaissIndex:
    """An exact index for small collections, an approximate one when `n_expected` reaches EXACT_LIMIT."""
    if n_expected < EXACT_LIMIT:
        return ExactIndex(dim)
    return FaissIndex(directory, dim)


def load_index(directory: Path) -> ExactIndex | FaissIndex:
    """Whichever index was last saved in `directory`."""
    kind = json.loads((Path(directory) / _MANIFEST).read_text())["kind"]
    return {"exact": ExactIndex, "faiss": FaissIndex}[kind].load(directory)


# --- shared helpers -------------------------------------------------------------------------------------------


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {METRICS}")


def _as_ids(ids) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))


def _as_vectors(vectors, dim: int) -> np.ndarray:
    vectors = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        raise ValueError(f"expected vectors of dimension {dim}, got shape {vectors.shape}")
    if not np.isfinite(vectors).all():
        raise ValueError("vectors must be finite")
    return vectors


def _check_batch(ids: np.ndarray, vectors: np.ndarray) -> None:
    if len(ids) != len(vectors):
        raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
    if len(np.unique(ids)) != len(ids):
        raise ValueError("duplicate ids in one batch")


def _normalised(vectors: np.ndarray) -> np.ndarray:
    """Unit-length rows; a zero vector stays zero (cosine distance 1 to everything) instead of becoming NaN."""
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def prepared(vectors: np.ndarray) -> np.ndarray:
    """What both metrics compare: the signed square root of each feature, rows scaled to unit length."""
    vectors = np.asarray(vectors, dtype=np.float32)
    return _normalised(np.sign(vectors) * np.sqrt(np.abs(vectors)))


def _distances(rows: np.ndarray, query: np.ndarray, metric: str, rows_prepared: bool = False) -> np.ndarray:
    """Exact distances from `query` (float32, 1-D) to each row (prepared here unless `rows_prepared`), scanned in
    chunks to bound temporary memory.
    einsum rather than BLAS: a matrix-vector product is memory-bound, and BLAS threads waking for each query
    cost more than they save on a busy 2-core server. Manhattan distance by FAISS's vectorised loop: a fifth of
    numpy's time (one pass, no temporary)."""
    import faiss

    out = np.empty(len(rows), dtype=np.float32)
    query = prepared(query)
    for start in range(0, len(rows), _SCAN_ROWS):
        chunk = rows[start : start + _SCAN_ROWS]
        chunk = np.asarray(chunk, dtype=np.float32) if rows_prepared else prepared(chunk)
        if metric == "l1":
            chunk = np.ascontiguousarray(chunk)
            out[start : start + len(chunk)] = faiss.pairwise_distances(query[None, :], chunk, faiss.METRIC_L1)[0]
        else:
            out[start : start + len(chunk)] = 1.0 - np.einsum("ij,j->i", chunk, query)
    return out


def _top_k(ids: np.ndarray, distances: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The k smallest distances, ties broken by id so results are deterministic."""
    if k < len(distances):
        keep = np.argpartition(distances, k - 1)[:k]
        ids, distances = ids[keep], distances[keep]
    order = np.lexsort((ids, distances))
    return [(int(ids[i]), float(distances[i])) for i in order]


def _write_atomically(directory: Path, kind: str, write_snapshot) -> None:
    """Write a new snapshot folder, then switch `manifest.json` to it with one rename; a crash at any point leaves
    the previous snapshot intact and loadable."""
    directory.mkdir(parents=True, exist_ok=True)
    snapshot = f"snapshot-{uuid.uuid4().hex}"
    write_snapshot(directory / snapshot)
    for path in (directory / snapshot).iterdir():
        _fsync(path)
    tmp = directory / f".{_MANIFEST}.{snapshot}"
    tmp.write_text(json.dumps({"kind": kind, "snapshot": snapshot}))
    _fsync(tmp)
    os.replace(tmp, directory / _MANIFEST)
    for old in directory.glob("snapshot-*"):
        if old.name != snapshot:
            shutil.rmtree(old, ignore_errors=True)


def _fsync(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _snapshot_dir(directory: Path, kind: str) -> Path:
    manifest = json.loads((Path(directory) / _MANIFEST).read_text())
    if manifest["kind"] != kind:
        raise ValueError(f"{directory} holds a {manifest['kind']} index, not {kind}")
    return Path(directory) / manifest["snapshot"]


# --- exact -----------------------------------------------------------------------------------------------------


class ExactIndex:
    """Brute force over a float32 matrix of prepared vectors (prepared once, when added): exact, no training,
    instant updates. Removal moves the last row into the hole, so the matrix stays dense."""

    def __init__(self, dim: int = 1280):
        self.dim = dim
        self._ids = np.empty(0, dtype=np.int64)
        self._vectors = np.empty((0, dim), dtype=np.float32)
        self._count = 0
        self._row_of: dict[int, int] = {}
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return self._count

    def add(self, ids, vectors) -> None:
        ids, vectors = _as_ids(ids), _as_vectors(vectors, self.dim)
        _check_batch(ids, vectors)
        self._insert(ids, prepared(vectors))

    def _insert(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        with self._lock:
            new = np.array([i not in self._row_of for i in ids.tolist()], dtype=bool)
            for picture_id, vector in zip(ids[~new].tolist(), vectors[~new], strict=True):
                self._vectors[self._row_of[picture_id]] = vector
            self._reserve(self._count + int(new.sum()))
            rows = np.arange(self._count, self._count + int(new.sum()))
            self._ids[rows], self._vectors[rows] = ids[new], vectors[new]
            self._row_of.update(zip(ids[new].tolist(), rows.tolist(), strict=True))
            self._count += len(rows)

    def _reserve(self, n: int) -> None:
        if n > len(self._ids):
            capacity = max(n, 2 * len(self._ids), 1024)
            ids = np.empty(capacity, dtype=np.int64)
            vectors = np.empty((capacity, self.dim), dtype=np.float32)
            ids[: self._count], vectors[: self._count] = self._ids[: self._count], self._vectors[: self._count]
            self._ids, self._vectors = ids, vectors

    def remove(self, ids) -> None:
        with self._lock:
            for picture_id in _as_ids(ids).tolist():
                row = self._row_of.pop(picture_id, None)
                if row is None:
                    continue
                last = self._count - 1
                if row != last:
                    self._ids[row], self._vectors[row] = self._ids[last], self._vectors[last]
                    self._row_of[int(self._ids[row])] = row
                self._count = last

    def search(self, query, k: int, metric: str = "l1", allowed=None) -> list[tuple[int, float]]:
        _check_metric(metric)
        query = _as_vectors(query, self.dim)[0]
        with self._lock:
            ids, vectors = self._ids[: self._count], self._vectors[: self._count]
            if allowed is not None:
                rows = np.flatnonzero(np.isin(ids, _as_ids(allowed)))
                ids, vectors = ids[rows], vectors[rows]
            return _top_k(ids, _distances(vectors, query, metric, rows_prepared=True), k) if k > 0 else []

    def vectors(self, ids) -> tuple[np.ndarray, np.ndarray]:
        ids = _as_ids(ids)
        with self._lock:
            rows = np.array([self._row_of.get(i, -1) for i in ids.tolist()], dtype=np.int64)
            return rows >= 0, self._vectors[rows[rows >= 0]]

    def save(self, directory: Path) -> None:
        def write(snapshot: Path) -> None:
            snapshot.mkdir()
            with self._lock:
                np.save(snapshot / "ids.npy", self._ids[: self._count])
                np.save(snapshot / "prepared.npy", self._vectors[: self._count])

        _write_atomically(Path(directory), "exact", write)

    @classmethod
    def load(cls, directory: Path) -> ExactIndex:
        snapshot = _snapshot_dir(directory, "exact")
        vectors = np.load(snapshot / "prepared.npy")
        index = cls(vectors.shape[1])
        index._insert(np.load(snapshot / "ids.npy"), vectors)
        return index


# --- approximate (FAISS) ---------------------------------------------------------------------------------------


class _VectorStore:
    """Full vectors as float16 in a memmapped file, addressed by slot: the re-ranking data, kept on disk so that
    RAM holds only the compressed index. The file grows by doubling; slots are reused after being freed.

    A search's few rows (a re-ranking's 1,000) are read with one pread each, not through the mapping: half the CPU
    of the page faults (4 ms instead of 9 for 1,000 rows), and the pages stay in the page cache only, not in each
    process's memory."""

    _PREAD_ROWS = 20_000  # more rows than this (training, rebuilding) are read through the mapping
    # float16 -> float32 by table: numpy's conversion branches on zeros (a third of the prepared features), 4.8 ms
    # for 1,000 rows against 2.5 ms for the look-up
    _FLOAT32_OF = np.arange(2**16, dtype=np.uint16).view(np.float16).astype(np.float32)

    def __init__(self, path: Path, dim: int):
        self.path, self.dim = path, dim
        if not path.exists():
            path.touch()
        self.capacity = path.stat().st_size // (2 * dim)
        self._map = self._open()
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115  (kept open: the store lives as long as its index)

    def _open(self):
        if self.capacity == 0:
            return np.empty((0, self.dim), dtype=np.float16)
        return np.memmap(self.path, dtype=np.float16, mode="r+", shape=(self.capacity, self.dim))

    def reserve(self, n: int) -> None:
        if n > self.capacity:
            self.flush()
            self.capacity = max(n, 2 * self.capacity, 1024)
            self._map = None
            os.truncate(self.path, self.capacity * self.dim * 2)  # sparse: costs no disk until written
            self._map = self._open()

    def write(self, slots: np.ndarray, vectors: np.ndarray) -> None:
        self._map[slots] = vectors.astype(np.float16)

    def read(self, slots: np.ndarray) -> np.ndarray:
        order = np.argsort(slots, kind="stable")  # ascending reads are friendlier to the page cache and the disk
        if len(slots) > self._PREAD_ROWS:
            rows = np.empty((len(slots), self.dim), dtype=np.float32)
            rows[order] = self._map[slots[order]]
            return rows
        if not len(slots):
            return np.empty((0, self.dim), dtype=np.float32)
        ascending = slots[order]
        read = np.empty((len(slots), self.dim), dtype=np.float16)  # in ascending slot order
        # One pread per run of consecutive slots: a re-ranking's scattered rows are one each, an exact scan of a
        # small library a few in all (it was one per row: 20,000 system calls a search by image among 20,000
        # pictures, whose CPU went 102 -> 95 ms for the owner, bench/search_e2e.py --in-process, load 1).
        runs = np.flatnonzero(np.diff(ascending) != 1) + 1
        size, descriptor = 2 * self.dim, self._file.fileno()
        for start, end in zip([0, *runs.tolist()], [*runs.tolist(), len(ascending)], strict=True):
            first = int(ascending[start])
            if os.preadv(descriptor, [read[start:end]], first * size) != (end - start) * size:
                raise OSError(f"{self.path}: slots {first}-{int(ascending[end - 1])} lie beyond the end of the file")
        rows = np.empty((len(slots), self.dim), dtype=np.float32)
        rows[order] = self._FLOAT32_OF[read.view(np.uint16)]
        return rows

    def flush(self) -> None:
        if isinstance(self._map, np.memmap):
            self._map.flush()


_READ_AHEAD_CHUNK = 4 << 20


def _read_ahead(*paths: Path) -> None:
    """Have the kernel read a loaded snapshot's file into the page cache, in a thread of its own (the hints for 2.6 GB
    take ~1.7 s to hand over): every search probes IVF lists and re-ranks rows spread over the whole file, and
    searches that read them from disk took 34-81 ms instead of 10 (1,000,000 pictures, measured). The pages are the
    page cache's, shared by the processes and evictable, not a process's memory."""

    def hint() -> None:
        for path in paths:
            _hint_whole_file(path)

    threading.Thread(target=hint, name="read-ahead", daemon=True).start()


def _hint_whole_file(path: Path) -> None:
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        size = os.fstat(descriptor).st_size
        for start in range(0, size, _READ_AHEAD_CHUNK):  # Linux reads ahead only a few MB for one whole-file hint
            os.posix_fadvise(descriptor, start, _READ_AHEAD_CHUNK, os.POSIX_FADV_WILLNEED)
    except (AttributeError, OSError):  # not on every platform; a hint only
        pass
    finally:
        os.close(descriptor)


def _mapped(path: Path) -> np.ndarray:
    """A saved array mapped copy-on-write: its pages shared with every process that maps the same file."""
    return np.load(path, mmap_mode="c")


def _top_eigenvectors(matrix: np.ndarray, k: int, iterations: int = 4) -> np.ndarray:
    """The k leading eigenvectors of a symmetric matrix by subspace iteration: a fraction of a second where a
    full eigendecomposition of a 1280 x 1280 covariance (numpy's eigh, FAISS's PCAMatrix) takes several."""
    basis = np.random.default_rng(0).standard_normal((len(matrix), min(k + 16, len(matrix)))).astype(matrix.dtype)
    for _ in range(iterations):
        basis, _ = np.linalg.qr(matrix @ basis)
    _, rotation = np.linalg.eigh(basis.T @ matrix @ basis)  # ascending eigenvalues
    return np.ascontiguousarray((basis @ rotation[:, ::-1])[:, :k], dtype=np.float32)


class _Coarse:
    """PCA + IVF with 8-bit scalar-quantised codes: finds candidates, never the final ranking. L2 in the PCA space
    of the prepared vectors stands in for both metrics, so one serves both. It is given vectors as the store holds
    them; `prepare` turns them into what it was trained on: nothing to do on a store of prepared vectors, `prepared`
    on the raw vectors of older snapshots, and in snapshots saved before `prepared` existed unit length for cosine,
    raw vectors for Manhattan (one IVF each).

    A loaded IVF maps its inverted lists from the snapshot file read-only (FAISS's OnDiskInvertedLists): every
    process that loads the same snapshot shares those pages through the page cache instead of holding a copy. The
    first change (add, remove) copies them into memory, so a writer works as before."""

    _PCA_SAMPLE = 30_000  # enough rows to estimate a 1280 x 1280 covariance

    def __init__(self, projection: np.ndarray, mean: np.ndarray, ivf, prepare):
        self.projection, self.mean, self.ivf, self.prepare = projection, mean, ivf, prepare

    @classmethod
    def train(cls, sample: np.ndarray, n_total: int, pca_dim: int, prepare) -> _Coarse:
        import faiss

        sample = prepare(sample)
        mean = sample.mean(axis=0)
        centred = sample[: cls._PCA_SAMPLE] - mean
        projection = _top_eigenvectors(centred.T @ centred, pca_dim)
        # ~4 sqrt(N) lists: a few hundred vectors per list at 1M; k-means needs >= 39 points per centroid.
        nlist = int(min(4 * math.sqrt(n_total), len(sample) // 39, 8192))
        quantizer = faiss.IndexFlatL2(pca_dim)
        ivf = faiss.IndexIVFScalarQuantizer(quantizer, pca_dim, max(nlist, 1), faiss.ScalarQuantizer.QT_8bit)
        ivf.cp.niter = 10  # k-means converges enough for coarse lists; the default 25 iterations doubles build time
        ivf.own_fields = True
        quantizer.this.disown()
        coarse = cls(projection, mean.astype(np.float32), ivf, prepare=np.asarray)  # `sample` is prepared already
        ivf.train(coarse._reduce(sample))
        coarse.prepare = prepare
        return coarse

    def _reduce(self, vectors: np.ndarray) -> np.ndarray:
        vectors = self.prepare(vectors)
        if len(vectors) == 1:  # a query: see _distances for why not BLAS
            return np.einsum("ij,jk->ik", vectors - self.mean, self.projection).astype(np.float32)
        return np.ascontiguousarray((vectors - self.mean) @ self.projection, dtype=np.float32)

    @property
    def mapped(self) -> bool:
        """Whether the inverted lists are still the read-only mapping of a snapshot file."""
        import faiss

        return isinstance(faiss.downcast_InvertedLists(self.ivf.invlists), faiss.OnDiskInvertedLists)

    def _writable(self) -> None:
        """Copy mapped inverted lists into memory before the first change (FAISS aborts on a read-only one)."""
        import faiss

        if not self.mapped:
            return
        mapped, lists = self.ivf.invlists, faiss.ArrayInvertedLists(self.ivf.nlist, self.ivf.code_size)
        for number in range(self.ivf.nlist):
            if size := mapped.list_size(number):
                lists.add_entries(number, size, mapped.get_ids(number), mapped.get_codes(number))
        self.ivf.replace_invlists(lists, True)  # frees (unmaps) the mapped lists
        lists.this.disown()

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._writable()
        self.ivf.add_with_ids(self._reduce(vectors), ids)

    def remove(self, ids: np.ndarray) -> None:
        import faiss

        self._writable()
        self.ivf.remove_ids(faiss.IDSelectorBatch(len(ids), faiss.swig_ptr(ids)))

    def candidates(self, query: np.ndarray, n: int, nprobe: int, allowed: np.ndarray | None) -> np.ndarray:
        import faiss

        selector, bitmap = None, None
        if allowed is not None and len(allowed) and allowed.min() >= 0 and allowed.max() < 64 * len(allowed) + 2**20:
            # Surrogate ids are dense: a bitmap costs a few ms where a hash set of 500k ids costs ~300 ms.
            bitmap = np.zeros(int(allowed.max()) + 1, dtype=bool)
            bitmap[allowed] = True
            bitmap = np.packbits(bitmap, bitorder="little")
            selector = faiss.IDSelectorBitmap(len(bitmap) * 8, faiss.swig_ptr(bitmap))
        elif allowed is not None:
            selector = faiss.IDSelectorBatch(len(allowed), faiss.swig_ptr(allowed))
        params = faiss.SearchParametersIVF(nprobe=min(nprobe, self.ivf.nlist), sel=selector)
        _, labels = self.ivf.search(self._reduce(query[None, :]), n, params=params)
        return labels[0][labels[0] >= 0]

    def save(self, snapshot: Path, name: str) -> None:
        import faiss

        np.save(snapshot / f"{name}.pca.npy", np.vstack([self.mean, self.projection.T]))
        faiss.write_index(self.ivf, str(snapshot / f"{name}.ivf"))

    @classmethod
    def load(cls, snapshot: Path, name: str, prepare) -> _Coarse:
        import faiss

        pca = np.load(snapshot / f"{name}.pca.npy")
        ivf = faiss.read_index(str(snapshot / f"{name}.ivf"), faiss.IO_FLAG_MMAP)
        lists = faiss.downcast_InvertedLists(ivf.invlists)
        if isinstance(lists, faiss.OnDiskInvertedLists):
            lists.prefetch_nthread = 0  # else each search starts threads to read the probed lists ahead
        return cls(np.ascontiguousarray(pca[1:].T), pca[0], ivf, prepare)

    def memory_bytes(self) -> int:
        # Inverted lists hold a code and an int64 id per vector; plus the centroids and the PCA matrix.
        ivf = self.ivf
        return ivf.ntotal * (ivf.code_size + 8) + ivf.nlist * ivf.d * 4 + self.projection.nbytes


class FaissIndex:
    """Approximate search for large collections: IVF candidates, exact re-ranking on float16 vectors memmapped
    from `directory/vectors.f16`.

    Until `train_at` vectors are present the IVF does not exist yet and searches scan the store exactly (k-means
    needs data to learn from). Slots freed since the last `save` are not reused until the next one, so the
    vectors the last saved snapshot points at are never overwritten and a crash can always fall back to it.
    Call `retrain()` after the collection has grown or changed a lot (e.g. 10x): the IVF lists were learnt from
    the data present at training time.

    Ids are found by binary search in two arrays, the live ids in ascending order and their slots (16 B per
    picture; a dict took ~100 B). A loaded index maps them, the slot -> id array and the IVF's lists from the
    snapshot (copy-on-write), so processes that load the same snapshot share them.

    `nprobe` x `rerank`, 64 x 500, chosen on tuning queries (bench/search_e2e.py --tune, 1,000,000 realistic
    pictures, 40 other pictures per viewer, in process): the owner's recall@10 1.000 (L1) / 0.998 (cosine) with
    500 re-ranked as with 1,000, 10.4 ms against 13.5 a search; 250 lose some (0.995). A snapshot keeps the
    settings it was built with (settings.json).
    """

    def __init__(
        self,
        directory: Path,
        dim: int = 1280,
        *,
        nprobe: int = 64,
        rerank: int = 500,
        pca_dim: int = 256,
        train_at: int = EXACT_LIMIT,
        train_sample: int = 100_000,
    ):
        self.directory, self.dim = Path(directory), dim
        self.nprobe, self.rerank, self.pca_dim = nprobe, rerank, pca_dim
        self.train_at, self.train_sample = train_at, train_sample
        self.directory.mkdir(parents=True, exist_ok=True)
        self._store = _VectorStore(self.directory / "vectors.f16", dim)
        # The store holds prepared vectors, so a re-ranking reads and compares them as they are; snapshots saved
        # before hold the raw ones, prepared when read (load sets this).
        self._store_prepared = True
        self._slot_ids = np.empty(0, dtype=np.int64)  # slot -> picture id, -1 when free
        self._high_water = 0  # slots below this have been used
        self._ids = np.empty(0, dtype=np.int64)  # live picture ids, ascending
        self._slots = np.empty(0, dtype=np.int64)  # the slot of each of `_ids`
        self._free: list[int] = []
        self._freed_since_save: list[int] = []
        self._coarse: dict[str, _Coarse] = {}  # per metric; one shared object unless loaded from an old snapshot
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def trained(self) -> bool:
        return bool(self._coarse)

    def _coarse_indexes(self) -> list[_Coarse]:
        return list({id(coarse): coarse for coarse in self._coarse.values()}.values())

    def _slots_of(self, ids: np.ndarray) -> np.ndarray:
        """The slot of each id, -1 for ids not in the index."""
        if len(self._ids) == 0:
            return np.full(len(ids), -1, dtype=np.int64)
        positions = np.minimum(np.searchsorted(self._ids, ids), len(self._ids) - 1)
        return np.where(self._ids[positions] == ids, self._slots[positions], -1)

    def add(self, ids, vectors) -> None:
        ids, vectors = _as_ids(ids), _as_vectors(vectors, self.dim)
        _check_batch(ids, vectors)
        with self._lock:
            self._remove(ids)
            slots = self._allocate(len(ids))
            vectors = self._stored(vectors)
            self._store.write(slots, vectors)
            self._slot_ids[slots] = ids
            order = np.argsort(ids)
            positions = np.searchsorted(self._ids, ids[order])
            self._ids = np.insert(self._ids, positions, ids[order])
            self._slots = np.insert(self._slots, positions, slots[order])
            if self.trained:
                for coarse in self._coarse_indexes():
                    coarse.add(ids, vectors)
            elif len(self) >= self.train_at:
                self.retrain()

    def _allocate(self, n: int) -> np.ndarray:
        reused = [self._free.pop() for _ in range(min(n, len(self._free)))]
        fresh = np.arange(self._high_water, self._high_water + n - len(reused), dtype=np.int64)
        self._high_water += len(fresh)
        self._store.reserve(self._high_water)
        if self._high_water > len(self._slot_ids):
            grown = np.full(self._store.capacity, -1, dtype=np.int64)
            grown[: len(self._slot_ids)] = self._slot_ids
            self._slot_ids = grown
        return np.concatenate([np.array(reused, dtype=np.int64), fresh])

    def remove(self, ids) -> None:
        with self._lock:
            self._remove(np.unique(_as_ids(ids)))

    def _remove(self, ids: np.ndarray) -> None:
        slots = self._slots_of(ids)
        present, slots = ids[slots >= 0], slots[slots >= 0]
        if len(present) == 0:
            return
        for coarse in self._coarse_indexes():
            coarse.remove(present)
        keep = np.ones(len(self._ids), dtype=bool)
        keep[np.searchsorted(self._ids, present)] = False
        self._ids, self._slots = self._ids[keep], self._slots[keep]
        self._slot_ids[slots] = -1
        self._freed_since_save.extend(slots.tolist())

    def retrain(self) -> None:
        """(Re)learn PCA and IVF lists from a sample of the current vectors, then index all of them."""
        with self._lock:
            live = np.flatnonzero(self._slot_ids[: self._high_water] >= 0)
            rng = np.random.default_rng(0)
            sample = self._store.read(np.sort(rng.choice(live, min(len(live), self.train_sample), replace=False)))
            prepare = np.asarray if self._store_prepared else prepared
            coarse = _Coarse.train(sample, len(live), pca_dim=self.pca_dim, prepare=prepare)
            del sample
            for start in range(0, len(live), 50_000):
                slots = live[start : start + 50_000]
                coarse.add(self._slot_ids[slots], self._store.read(slots))
            self._coarse = dict.fromkeys(METRICS, coarse)

    def search(self, query, k: int, metric: str = "l1", allowed=None) -> list[tuple[int, float]]:
        _check_metric(metric)
        query = _as_vectors(query, self.dim)[0]
        if k <= 0:
            return []
        with self._lock:
            if allowed is not None:
                allowed = _as_ids(allowed)
            if not self.trained or min(len(self), len(allowed) if allowed is not None else len(self)) <= EXACT_LIMIT:
                # Small scope (e.g. one user's library) or index: exact, so access control cannot cost recall.
                return self._scan(query, k, metric, self._live_slots(allowed))
            nprobe = self.nprobe
            if allowed is not None:
                # A filtered scope has fewer matches per list: probe more lists to find k of them.
                nprobe = math.ceil(nprobe * math.sqrt(len(self) / max(len(allowed), 1)))
            found = self._coarse[metric].candidates(self._stored(query), max(self.rerank, k), nprobe, allowed)
            if len(found) < min(k, len(self) if allowed is None else len(allowed)):
                # The probed lists held fewer than k (allowed) vectors: only a full scan can fill the page.
                return self._scan(query, k, metric, self._live_slots(allowed))
            slots = self._slots_of(found)
            return self._scan(query, k, metric, slots[slots >= 0])

    def vectors(self, ids) -> tuple[np.ndarray, np.ndarray]:
        """Read from the store like a re-ranking's rows (page cache, read ahead at load)."""
        ids = _as_ids(ids)
        with self._lock:
            slots = self._slots_of(ids)
            rows = self._store.read(slots[slots >= 0])
        return slots >= 0, np.asarray(rows, dtype=np.float32) if self._store_prepared else prepared(rows)

    def _scan(self, query: np.ndarray, k: int, metric: str, slots: np.ndarray) -> list[tuple[int, float]]:
        """Exact top k among these slots, read from the store in chunks."""
        distances = np.concatenate(
            [np.empty(0, dtype=np.float32)]
            + [
                _distances(self._store.read(slots[start : start + _SCAN_ROWS]), query, metric, self._store_prepared)
                for start in range(0, len(slots), _SCAN_ROWS)
            ]
        )
        return _top_k(self._slot_ids[slots], distances, k)

    def _stored(self, vectors: np.ndarray) -> np.ndarray:
        """Vectors as the store holds them."""
        return prepared(vectors) if self._store_prepared else vectors

    def _live_slots(self, allowed: np.ndarray | None) -> np.ndarray:
        if allowed is None:
            return np.flatnonzero(self._slot_ids[: self._high_water] >= 0)
        slots = self._slots_of(allowed)
        return np.unique(slots[slots >= 0])

    def save(self, directory: Path | None = None) -> None:
        """Snapshot the id maps and the IVF. The vector store stays where it is (`vectors.f16` in the working
        directory, flushed here); saving elsewhere copies it along."""
        directory = Path(directory or self.directory)

        def write(snapshot: Path) -> None:
            snapshot.mkdir()
            np.save(snapshot / "slot_ids.npy", self._slot_ids[: self._high_water])
            np.save(snapshot / "ids.npy", self._ids)
            np.save(snapshot / "slots.npy", self._slots)
            settings = {**self._settings(), "prepared": True, "store": "prepared" if self._store_prepared else "raw"}
            (snapshot / "settings.json").write_text(json.dumps(settings))
            if self._coarse:
                if len(self._coarse_indexes()) == 1:
                    self._coarse[METRICS[0]].save(snapshot, "coarse")
                else:  # an old snapshot's pair, trained differently per metric, until the next retrain
                    for metric, coarse in self._coarse.items():
                        coarse.save(snapshot, metric)

        with self._lock:
            self._store.flush()
            _fsync(self._store.path)
            if directory.resolve() != self.directory.resolve():
                directory.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(self._store.path, directory / "vectors.f16")
            _write_atomically(directory, "faiss", write)
            self._free.extend(self._freed_since_save)
            self._freed_since_save.clear()

    def _settings(self) -> dict:
        return {
            "dim": self.dim,
            "nprobe": self.nprobe,
            "rerank": self.rerank,
            "pca_dim": self.pca_dim,
            "train_at": self.train_at,
            "train_sample": self.train_sample,
        }

    @classmethod
    def load(cls, directory: Path) -> FaissIndex:
        """The last saved snapshot. Its arrays and IVF lists are mapped, not read: shared by every process that
        loads it, copied privately only where a process changes them."""
        snapshot = _snapshot_dir(directory, "faiss")
        settings = json.loads((snapshot / "settings.json").read_text())
        current = settings.pop("prepared", False)
        store_prepared = settings.pop("store", "raw") == "prepared"
        index = cls(directory, settings.pop("dim"), **settings)
        index._store_prepared = store_prepared
        slot_ids = _mapped(snapshot / "slot_ids.npy")
        index._high_water = len(slot_ids)
        index._slot_ids = slot_ids
        if (snapshot / "ids.npy").exists():
            index._ids, index._slots = (_mapped(snapshot / f"{name}.npy") for name in ("ids", "slots"))
        else:  # saved before the sorted arrays existed
            live = np.flatnonzero(slot_ids >= 0)
            order = np.argsort(slot_ids[live])
            index._ids, index._slots = np.ascontiguousarray(slot_ids[live][order]), live[order]
        index._free = np.flatnonzero(slot_ids < 0).tolist()
        if (snapshot / "coarse.ivf").exists():
            prepare = np.asarray if store_prepared else prepared
            index._coarse = dict.fromkeys(METRICS, _Coarse.load(snapshot, "coarse", prepare))
        elif current and (snapshot / "l1.ivf").exists():
            # Saved when each metric had its IVF, trained the same way on the same vectors: either serves both.
            index._coarse = dict.fromkeys(METRICS, _Coarse.load(snapshot, "l1", prepared))
        else:
            # Older still: IVFs trained on unit vectors (cosine) and raw ones (Manhattan). Still fine for finding
            # candidates, which are re-ranked exactly; the next rebuild trains one on prepared vectors.
            old = {"cosine": _normalised, "l1": np.asarray}
            index._coarse = {
                metric: _Coarse.load(snapshot, metric, old[metric])
                for metric in METRICS
                if (snapshot / f"{metric}.ivf").exists()
            }
        # Into the page cache once loaded (the load's own reads first): the IVF lists, then the rows re-ranked.
        _read_ahead(*sorted(snapshot.glob("*.ivf")), index._store.path)
        return index

    def memory_bytes(self) -> int:
        """Bytes of the index structures: IVF codes, ids and centroids, PCA matrix, id arrays (24 B per slot and
        picture). The float16 vectors are on disk (memmapped) and not counted. In a loaded index the IVF lists and
        id arrays are mapped from the snapshot, so processes that load the same snapshot share these bytes (see
        bench/search.py's per-machine measurement)."""
        id_maps = self._slot_ids.nbytes + self._ids.nbytes + self._slots.nbytes
        return id_maps + sum(coarse.memory_bytes() for coarse in self._coarse_indexes())
