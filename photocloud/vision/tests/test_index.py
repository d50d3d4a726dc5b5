"""The vector index behind search by image, checked against plain numpy brute force (no database needed)."""

import os

import faiss
import numpy as np
import pytest

from photocloud.vision import index as index_module
from photocloud.vision.index import EXACT_LIMIT, ExactIndex, FaissIndex, build_index, load_index, prepared

METRICS = ("l1", "cosine")


def clustered(n, dim, seed, centres=50):
    """Non-negative clustered vectors, like pooled CNN features."""
    rng = np.random.default_rng(seed)
    scales = rng.lognormal(-1.0, 0.5, dim).astype(np.float32)
    means = scales * rng.gamma(0.7, 1.0, (centres, dim)).astype(np.float32)
    noise = rng.standard_normal((n, dim), dtype=np.float32) * 0.6 * scales
    return np.maximum(means[rng.integers(0, centres, n)] + noise, 0).astype(np.float32)


def brute_force(ids, vectors, query, k, metric, allowed=None):
    """The reference ranking: every distance computed, sorted by (distance, id)."""
    if allowed is not None:
        keep = np.isin(ids, allowed)
        ids, vectors = ids[keep], vectors[keep]
    # Both metrics compare prepared vectors: signed square roots, scaled to unit length.
    roots = np.sign(vectors.astype(np.float64)) * np.sqrt(np.abs(vectors.astype(np.float64)))
    rows = roots / np.linalg.norm(roots, axis=1, keepdims=True)
    root = np.sign(query.astype(np.float64)) * np.sqrt(np.abs(query.astype(np.float64)))
    query = root / np.linalg.norm(root)
    distances = np.abs(rows - query).sum(axis=1) if metric == "l1" else 1 - rows @ query
    order = np.lexsort((ids, distances))[:k]
    return [(int(ids[i]), float(distances[i])) for i in order]


def assert_same_ranking(found, expected, rtol=1e-4):
    """Same ids in the same order with the same distances. With a looser rtol (FaissIndex re-ranks on float16
    copies) two ids whose exact distances are within rtol of each other may swap places."""
    np.testing.assert_allclose([d for _, d in found], [d for _, d in expected], rtol=rtol, atol=rtol * 5)
    exact = dict(expected)
    for (found_id, found_distance), (expected_id, expected_distance) in zip(found, expected, strict=True):
        if found_id != expected_id:
            assert rtol > 1e-4, f"{found_id} instead of {expected_id}"
            assert exact.get(found_id, found_distance) == pytest.approx(expected_distance, rel=rtol, abs=rtol * 5)


@pytest.fixture(scope="module", autouse=True)
def one_faiss_thread():
    """These data sets are tiny: OpenMP threads would only wait on each other (badly so on a busy machine)."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(threads)


@pytest.fixture(scope="module")
def data():
    vectors = clustered(3000, 32, seed=1)
    ids = np.random.default_rng(2).choice(10**12, 3000, replace=False).astype(np.int64)  # sparse, not row numbers
    queries = vectors[:20] + np.random.default_rng(3).normal(0, 0.05, (20, 32)).astype(np.float32)
    return ids, vectors, queries


def make_faiss(directory, trained):
    # Small settings so the IVF path is exercised on a small, fast data set; `train_at` above the size keeps
    # the index in its untrained, exact-scan state.
    return FaissIndex(directory, 32, nprobe=8, rerank=200, pca_dim=16, train_at=2000 if trained else 10**6)


@pytest.fixture(params=["exact", "faiss-untrained", "faiss"])
def make_index(request, tmp_path, monkeypatch):
    monkeypatch.setattr(index_module, "EXACT_LIMIT", 1000)  # an index of 3,000 is "large": its IVF answers

    def make():
        if request.param == "exact":
            return ExactIndex(32)
        return make_faiss(tmp_path / "index", trained=request.param == "faiss")

    make.kind = request.param
    return make


@pytest.mark.parametrize("metric", METRICS)
def test_search_matches_brute_force(make_index, data, metric):
    ids, vectors, queries = data
    index = make_index()
    index.add(ids[:1500], vectors[:1500])  # two batches: the second lands after training in the "faiss" case
    index.add(ids[1500:], vectors[1500:])
    assert len(index) == 3000
    rtol = 1e-4 if make_index.kind == "exact" else 2e-3  # FaissIndex re-ranks on float16 copies
    hits = 0
    for query in queries:
        found, expected = index.search(query, 10, metric), brute_force(ids, vectors, query, 10, metric)
        if make_index.kind == "faiss":
            hits += len({i for i, _ in found} & {i for i, _ in expected})
        else:
            assert_same_ranking(found, expected, rtol)
    if make_index.kind == "faiss":
        assert hits / (10 * len(queries)) >= 0.95


@pytest.mark.parametrize("metric", METRICS)
def test_allowed_keeps_the_ranking(make_index, data, metric, monkeypatch):
    ids, vectors, queries = data
    index = make_index()
    index.add(ids, vectors)
    rng = np.random.default_rng(4)
    small = rng.choice(ids, 100, replace=False)  # e.g. one user's library: exact on the subset
    for query in queries[:5]:
        found = index.search(query, 10, metric, allowed=small)
        assert_same_ranking(found, brute_force(ids, vectors, query, 10, metric, small), rtol=2e-3)
    # A large scope goes through the IVF with an id selector instead: still only allowed ids, still the best.
    monkeypatch.setattr(index_module, "EXACT_LIMIT", 50)
    large = rng.choice(ids, 1000, replace=False)
    hits = 0
    for query in queries:
        found = index.search(query, 10, metric, allowed=large)
        assert {i for i, _ in found} <= set(large.tolist()) and len(found) == 10
        hits += len({i for i, _ in found} & {i for i, _ in brute_force(ids, vectors, query, 10, metric, large)})
    assert hits / (10 * len(queries)) >= 0.95


def test_allowed_ids_that_are_unknown_or_empty(make_index, data):
    ids, vectors, queries = data
    index = make_index()
    index.add(ids[:100], vectors[:100])
    assert index.search(queries[0], 5, allowed=np.array([], dtype=np.int64)) == []
    assert [i for i, _ in index.search(queries[0], 5, allowed=np.array([ids[3], -7]))] == [ids[3]]


@pytest.mark.parametrize("metric", METRICS)
def test_removed_ids_never_come_back(make_index, data, metric):
    ids, vectors, queries = data
    index = make_index()
    index.add(ids, vectors)
    removed = ids[:1000]  # includes the neighbours the queries were made from
    index.remove(removed)
    index.remove(np.array([123456789012]))  # unknown: ignored
    assert len(index) == 2000
    for query in queries:
        found = index.search(query, 50, metric)
        assert not {i for i, _ in found} & set(removed.tolist())
        assert len(found) == 50
    assert index.search(queries[0], 5000, metric).__len__() == 2000


def test_re_adding_an_id_replaces_its_vector(make_index, data):
    ids, vectors, _ = data
    index = make_index()
    index.add(ids, vectors)
    moved = np.array([ids[0], ids[1]])
    index.add(moved, vectors[[2500, 2600]] + 0.001)  # each now (almost) duplicates another vector
    assert len(index) == 3000
    for metric in METRICS:
        first = index.search(vectors[2500], 2, metric)
        assert {i for i, _ in first} == {ids[0], ids[2500]}
        assert index.search(vectors[0], 1, metric)[0][0] != ids[0]  # its old vector is gone


def test_vectors_are_the_prepared_ones_of_the_ids_held(make_index, data, tmp_path):
    ids, vectors, _ = data
    index = make_index()
    index.add(ids, vectors)
    index.add(ids[:1], vectors[1:2])  # replaced: the newer vector
    index.remove(ids[2:3])
    wanted = np.array([ids[5], ids[0], 12345, ids[2], ids[3]], dtype=np.int64)
    held, rows = index.vectors(wanted)
    assert held.tolist() == [True, True, False, False, True] and rows.dtype == np.float32
    atol = 0 if make_index.kind == "exact" else 2e-3  # FaissIndex keeps float16 copies
    np.testing.assert_allclose(rows, prepared(vectors[[5, 1, 3]]), atol=atol)
    if make_index.kind != "exact":
        index.save()
        np.testing.assert_allclose(FaissIndex.load(index.directory).vectors(wanted)[1], rows)


def test_bad_input_is_refused(make_index):
    index = make_index()
    with pytest.raises(ValueError):
        index.add(np.array([1]), np.zeros((1, 31), dtype=np.float32))
    with pytest.raises(ValueError):
        index.add(np.array([1, 1]), np.zeros((2, 32), dtype=np.float32))
    with pytest.raises(ValueError):
        index.add(np.array([1]), np.full((1, 32), np.nan, dtype=np.float32))
    with pytest.raises(ValueError):
        index.search(np.zeros(32, dtype=np.float32), 5, metric="l2")
    index.add(np.array([1]), np.zeros((1, 32), dtype=np.float32))  # a zero vector: cosine distance 1, no NaN
    assert index.search(np.ones(32, dtype=np.float32), 1, metric="cosine") == [(1, pytest.approx(1.0))]


def test_save_and_load_give_the_same_results(make_index, data, tmp_path):
    ids, vectors, queries = data
    index = make_index()
    index.add(ids, vectors)
    index.remove(ids[:10])
    directory = tmp_path / "index" if make_index.kind != "exact" else tmp_path / "saved"
    index.save(directory)
    loaded = load_index(directory)
    assert type(loaded) is type(index) and len(loaded) == len(index)
    for metric in METRICS:
        for query in queries[:5]:
            assert loaded.search(query, 10, metric) == index.search(query, 10, metric)
    # The loaded index keeps working: updates, then another save.
    loaded.add(ids[:10], vectors[:10])
    loaded.save(directory)
    assert len(load_index(directory)) == 3000


def test_a_crash_after_save_falls_back_to_the_saved_snapshot(data, tmp_path):
    """Slots freed after a save are not reused before the next one, so the snapshot's vectors stay intact."""
    ids, vectors, _ = data
    index = make_faiss(tmp_path, trained=True)
    index.add(ids, vectors)
    index.save(tmp_path)
    index.remove(ids[:500])
    index.add(ids[:500] + 1, vectors[500:1000] * 2)  # new ids and vectors; crash before saving
    recovered = FaissIndex.load(tmp_path)
    assert len(recovered) == 3000
    for metric in METRICS:
        assert_same_ranking(
            recovered.search(vectors[7], 5, metric, allowed=ids[:100]),
            brute_force(ids, vectors, vectors[7], 5, metric, ids[:100]),
            rtol=2e-3,
        )


def test_saving_to_another_directory_copies_the_vectors(data, tmp_path):
    ids, vectors, queries = data
    index = make_faiss(tmp_path / "work", trained=True)
    index.add(ids, vectors)
    index.save(tmp_path / "backup")
    copy = load_index(tmp_path / "backup")
    assert copy.search(queries[0], 10) == index.search(queries[0], 10)


def test_a_small_trained_index_answers_exactly(data, tmp_path, metric="l1"):
    """Up to EXACT_LIMIT vectors a scan costs what an allowed-ids scan of that size did: no recall is given up."""
    ids, vectors, queries = data
    index = make_faiss(tmp_path, trained=True)
    index.add(ids, vectors)
    assert index.trained and len(index) <= EXACT_LIMIT
    for query in queries:
        assert_same_ranking(index.search(query, 10, metric), brute_force(ids, vectors, query, 10, metric), 2e-3)


def test_build_index_picks_exact_for_small_collections(tmp_path):
    assert isinstance(build_index(EXACT_LIMIT - 1, tmp_path), ExactIndex)
    assert isinstance(build_index(1_000_000, tmp_path), FaissIndex)


@pytest.fixture(scope="module")
def realistic(tmp_path_factory):
    """20k clustered vectors of the real dimension in an approximate index, queries near some of them, and the
    exact top 10 of each query (FAISS brute force: the same ranking as ExactIndex, faster)."""
    vectors = clustered(20_000, 1280, seed=5, centres=200)
    approximate = FaissIndex(tmp_path_factory.mktemp("recall"), 1280, train_at=20_000)
    approximate.add(np.arange(20_000), vectors)
    rng = np.random.default_rng(6)
    picked = vectors[rng.choice(20_000, 40, replace=False)]
    queries = np.maximum(picked + rng.normal(0, 0.05, picked.shape), 0).astype(np.float32)
    root = lambda x: np.sqrt(x) / np.linalg.norm(np.sqrt(x), axis=1, keepdims=True)  # noqa: E731  (prepared)
    truth = {
        "l1": faiss.knn(root(queries), root(vectors), 10, metric=faiss.METRIC_L1)[1],
        "cosine": faiss.knn(root(queries), root(vectors), 10, metric=faiss.METRIC_INNER_PRODUCT)[1],
    }
    return approximate, queries, truth


@pytest.mark.parametrize("metric", METRICS)
def test_approximate_recall_at_10_on_realistic_vectors(realistic, metric, monkeypatch):
    """The IVF candidates + exact re-ranking find >= 95 % of the exact top 10."""
    monkeypatch.setattr(index_module, "EXACT_LIMIT", 1000)  # else an index of 20,000 is scanned exactly
    approximate, queries, truth = realistic
    assert approximate.trained
    hits = sum(
        len({i for i, _ in approximate.search(query, 10, metric)} & set(expected.tolist()))
        for query, expected in zip(queries, truth[metric], strict=True)
    )
    assert hits / (10 * len(queries)) >= 0.95


@pytest.mark.parametrize("metric", METRICS)
def test_allowed_with_dense_ids_at_scale(realistic, metric, monkeypatch):
    """A large scope of dense surrogate ids goes through a bitmap selector: only allowed ids, the same top 10."""
    approximate, queries, _ = realistic
    monkeypatch.setattr(index_module, "EXACT_LIMIT", 100)
    allowed = np.random.default_rng(7).choice(20_000, 5000, replace=False)
    exact_scope = np.sort(allowed)
    hits = 0
    for query in queries[:20]:
        found = [i for i, _ in approximate.search(query, 10, metric, allowed=allowed)]
        assert set(found) <= set(allowed.tolist()) and len(found) == 10
        monkeypatch.setattr(index_module, "EXACT_LIMIT", 10**6)  # the same scope, scanned exactly
        expected = [i for i, _ in approximate.search(query, 10, metric, allowed=exact_scope)]
        monkeypatch.setattr(index_module, "EXACT_LIMIT", 100)
        hits += len(set(found) & set(expected))
    assert hits / 200 >= 0.95


def check_id_arrays(index, expected: dict):
    """The sorted id arrays, the slot -> id array and `expected` (id -> vector row) agree."""
    assert len(index) == len(expected)
    assert np.array_equal(index._ids, np.sort(np.array(list(expected), dtype=np.int64)))
    assert np.array_equal(index._slot_ids[index._slots], index._ids)
    assert len(np.unique(index._slots)) == len(index)
    live = index._slot_ids[: index._high_water]
    assert np.array_equal(np.sort(live[live >= 0]), index._ids)


def test_ids_are_found_after_removals_and_re_adds(data, tmp_path):
    """Ids are looked up by binary search in sorted arrays: they must follow every add, remove and re-add, before
    and after a save and load, and freed slots must be reused once only."""
    ids, vectors, queries = data
    rng = np.random.default_rng(8)
    index = make_faiss(tmp_path, trained=True)
    expected = {}
    for step in range(12):
        batch = rng.choice(len(ids), 400, replace=False)  # new ids and ids already present (upserts)
        index.add(ids[batch], vectors[batch])
        expected.update(zip(ids[batch].tolist(), batch.tolist(), strict=True))
        gone = rng.choice(ids, 300)  # with duplicates and ids never added
        index.remove(np.concatenate([gone, [-5, 10**13]]))
        for picture_id in gone.tolist():
            expected.pop(picture_id, None)
        check_id_arrays(index, expected)
        if step % 4 == 3:
            index.save(tmp_path)
            index = FaissIndex.load(tmp_path)
            check_id_arrays(index, expected)
    present = np.array(list(expected), dtype=np.int64)
    slots = index._slots_of(np.concatenate([present, [-1, 12345]]))
    assert (slots[:-2] >= 0).all() and (slots[-2:] == -1).all()
    for query in queries[:5]:
        rows = np.array(list(expected.values()))
        assert_same_ranking(
            index.search(query, 10, "l1", allowed=present[:200]),
            brute_force(present, vectors[rows], query, 10, "l1", present[:200]),
            rtol=2e-3,
        )


def old_format(directory, previous: bool, ids, vectors):
    """Rewrite the saved snapshot as the earlier code wrote it: raw vectors in the store, an IVF and a PCA per
    metric, no sorted id arrays; before `prepared` (previous=False) also no "prepared" setting."""
    import json

    snapshot = directory / json.loads((directory / "manifest.json").read_text())["snapshot"]
    for name in ("ids.npy", "slots.npy"):
        (snapshot / name).unlink()
    for suffix in (".ivf", ".pca.npy"):
        for metric in METRICS:
            (snapshot / f"{metric}{suffix}").write_bytes((snapshot / f"coarse{suffix}").read_bytes())
        (snapshot / f"coarse{suffix}").unlink()
    settings = json.loads((snapshot / "settings.json").read_text())
    del settings["store"]
    if not previous:
        del settings["prepared"]
    (snapshot / "settings.json").write_text(json.dumps(settings))
    slot_ids = np.load(snapshot / "slot_ids.npy")
    store = np.memmap(directory / "vectors.f16", dtype=np.float16, mode="r+").reshape(-1, vectors.shape[1])
    row_of = {picture_id: row for row, picture_id in enumerate(ids.tolist())}
    for slot in np.flatnonzero(slot_ids >= 0).tolist():
        store[slot] = vectors[row_of[int(slot_ids[slot])]]
    store.flush()


@pytest.mark.parametrize("previous", [True, False], ids=["per-metric-ivfs", "before-prepared"])
def test_a_snapshot_of_an_earlier_format_loads(data, tmp_path, previous, monkeypatch):
    monkeypatch.setattr(index_module, "EXACT_LIMIT", 1000)
    ids, vectors, queries = data
    # Every list probed, every vector re-ranked: the answers must not depend on how the IVF was trained (the
    # rewritten "before prepared" IVF was trained on prepared vectors, not on what that format's prepare gives).
    index = FaissIndex(tmp_path, 32, nprobe=10**4, rerank=3000, pca_dim=16, train_at=2000)
    index.add(ids, vectors)
    index.remove(ids[:10])
    index.save(tmp_path)
    expected = {metric: [index.search(query, 10, metric) for query in queries] for metric in METRICS}
    old_format(tmp_path, previous, ids, vectors)  # the store too, which `index` reads: not asked again
    loaded = FaissIndex.load(tmp_path)
    assert len(loaded) == 2990 and len(loaded._coarse_indexes()) == (1 if previous else 2)
    assert np.array_equal(loaded._ids, np.sort(ids[10:])) and not loaded._store_prepared
    for metric in METRICS:
        for query, answer in zip(queries, expected[metric], strict=True):
            assert_same_ranking(loaded.search(query, 10, metric), answer, rtol=2e-3)
    loaded.add(ids[:10], vectors[:10])  # and it keeps working, saved in the current format
    loaded.save(tmp_path)
    assert len(FaissIndex.load(tmp_path)) == 3000


@pytest.mark.parametrize("metric", METRICS)
def test_the_shared_ivf_ranks_both_metrics_exactly_when_it_returns_everything(data, tmp_path, metric, monkeypatch):
    """One IVF finds the candidates of both metrics; probing every list and re-ranking every vector must give the
    exact ranking of each, in the index that built it and in a loaded (mapped) copy."""
    monkeypatch.setattr(index_module, "EXACT_LIMIT", 100)
    ids, vectors, queries = data
    index = FaissIndex(tmp_path, 32, nprobe=10**4, rerank=3000, pca_dim=16, train_at=2000)
    index.add(ids, vectors)
    assert index._coarse["l1"] is index._coarse["cosine"]
    index.save(tmp_path)
    loaded = FaissIndex.load(tmp_path)
    assert loaded._coarse["l1"].mapped
    for query in queries:
        expected = brute_force(ids, vectors, query, 10, metric)
        assert_same_ranking(index.search(query, 10, metric), expected, rtol=2e-3)
        assert loaded.search(query, 10, metric) == index.search(query, 10, metric)
    assert loaded._coarse["l1"].mapped  # searching never copies the mapped lists


def test_memory_figure_counts_one_ivf_and_compact_id_arrays(tmp_path, monkeypatch):
    """IVF codes (pca_dim bytes + an 8-byte id per vector) once for both metrics, centroids, PCA, 24 B of id
    arrays per picture; a loaded index maps the large parts and copies them only when changed."""
    vectors = clustered(4000, 64, seed=9)
    index = FaissIndex(tmp_path, 64, pca_dim=32, train_at=4000)
    index.add(np.arange(4000) * 7, vectors)
    coarse = index._coarse["l1"]
    ivf_bytes = 4000 * (32 + 8) + coarse.ivf.nlist * 32 * 4 + 64 * 32 * 4
    capacity = len(index._slot_ids)  # slot -> id, grown by doubling
    assert index.memory_bytes() == ivf_bytes + 8 * capacity + 16 * 4000
    index.save(tmp_path)
    loaded = FaissIndex.load(tmp_path)
    assert loaded.memory_bytes() == ivf_bytes + 24 * 4000
    assert isinstance(loaded._ids, np.memmap) and loaded._coarse["cosine"].mapped
    before = (tmp_path / json_snapshot(tmp_path) / "coarse.ivf").read_bytes()
    loaded.remove(np.array([0, 7]))  # the first change copies the mapped lists; the snapshot file stays as it was
    assert not loaded._coarse["cosine"].mapped and len(loaded) == 3998
    assert (tmp_path / json_snapshot(tmp_path) / "coarse.ivf").read_bytes() == before
    assert loaded.search(vectors[5], 1)[0][0] == 35


def json_snapshot(directory):
    import json

    return json.loads((directory / "manifest.json").read_text())["snapshot"]


# --- the snapshot + tail arrangement of vision/similar.py, against the database --------------------------------


@pytest.fixture
def analysed(db, alice):
    """300 analysed pictures with clustered synthetic features, in a public album."""
    from photocloud.library import services as library
    from photocloud.library.models import Photo
    from photocloud.vision import pg_vectors
    from photocloud.vision.models import PhotoAnalysis
    from photocloud.vision.similar import reset_index

    reset_index()
    album = library.create_album(alice, title="Many", category="misc", access="public")
    rng = np.random.default_rng(7)
    centres = rng.random((20, 1280)).astype(np.float32) * 3
    photos = Photo.objects.bulk_create(
        Photo(
            owner=alice,
            album=album,
            sha256=f"{i:064x}",
            format="JPEG",
            mime_type="image/jpeg",
            file_size=1,
            width=10,
            height=10,
            status="ready",
            sort_date="2024-01-01T00:00:00Z",
        )
        for i in range(300)
    )
    vectors = (centres[np.arange(300) % 20] + rng.normal(0, 0.3, (300, 1280))).astype(np.float32)
    PhotoAnalysis.objects.bulk_create(
        PhotoAnalysis(photo=photo, features=vector.astype(np.float16).tobytes(), model_version="test")
        for photo, vector in zip(photos, vectors, strict=True)
    )
    pg_vectors.store(zip([photo.pk for photo in photos], vectors, strict=True))  # as the analysis does
    yield photos, vectors
    reset_index()


@pytest.mark.skipif(os.environ.get("PHOTOCLOUD_TEST_PGVECTOR") == "1", reason="the embedded index only")
def test_snapshot_and_tail_stay_correct_as_pictures_come_and_go(analysed, bob, settings, tmp_path):
    from photocloud.library import services as library
    from photocloud.vision import similar
    from photocloud.vision.models import PhotoAnalysis

    settings.DATA_DIR = tmp_path
    photos, vectors = analysed
    exact_before = [p.pk for p, _ in similar.similar_photos(bob, vectors[0], limit=10)]
    assert similar.rebuild_snapshot(min_vectors=100)  # an approximate snapshot of all 300
    assert [p.pk for p, _ in similar.similar_photos(bob, vectors[0], limit=10)] == exact_before

    # A picture analysed after the snapshot is found through the tail; a deleted one never comes back.
    newcomer = library.create_album(photos[0].owner, title="New", category="misc", access="public")
    from photocloud.library.models import Photo

    fresh = Photo.objects.create(
        owner=photos[0].owner,
        album=newcomer,
        sha256="f" * 64,
        format="JPEG",
        mime_type="image/jpeg",
        file_size=1,
        status="ready",
        sort_date="2024-01-01T00:00:00Z",
    )
    PhotoAnalysis.objects.create(photo=fresh, features=vectors[0].astype(np.float16).tobytes(), model_version="t")
    top = similar.similar_photos(bob, vectors[0], limit=3)
    assert fresh.pk in [p.pk for p, _ in top]
    photos[0].delete()
    assert photos[0].pk not in [p.pk for p, _ in similar.similar_photos(bob, vectors[0], limit=10)]

    # Restarting the process (a new in-memory index) loads the published snapshot and gives the same answers.
    before_restart = [p.pk for p, _ in similar.similar_photos(bob, vectors[5], metric="cosine", limit=10)]
    similar.reset_index()
    assert [p.pk for p, _ in similar.similar_photos(bob, vectors[5], metric="cosine", limit=10)] == before_restart
    assert (tmp_path / "vector-index" / "CURRENT").exists()


def test_within_narrows_the_candidates_and_never_widens_access(analysed, bob, make_user):
    from photocloud.library.models import Album, Photo
    from photocloud.vision import similar

    photos, vectors = analysed
    chosen = Photo.objects.filter(pk__in=[p.pk for p in photos[1::20]])  # one per cluster, none from cluster 0
    found = [p.pk for p, _ in similar.similar_photos(bob, vectors[0], limit=10, within=chosen)]
    assert found and set(found) <= {p.pk for p in photos[1::20]}
    # `within` may name pictures the viewer cannot see; they still never come back.
    stranger_album = Album.objects.create(owner=make_user("carol"), title="Mine", category="misc", access="private")
    Photo.objects.filter(pk=photos[1].pk).update(album=stranger_album)
    assert photos[1].pk not in [p.pk for p, _ in similar.similar_photos(bob, vectors[1], limit=10, within=chosen)]


def test_the_store_reads_the_same_rows_by_pread_and_through_the_mapping(tmp_path, monkeypatch):
    store = index_module._VectorStore(tmp_path / "vectors.f16", 8)
    store.reserve(100)
    rows = np.random.default_rng(10).random((100, 8)).astype(np.float16)
    store.write(np.arange(100), rows)
    slots = np.array([57, 3, 99, 3, 0])  # any order, repeats
    by_pread = store.read(slots)
    monkeypatch.setattr(index_module._VectorStore, "_PREAD_ROWS", 2)
    assert np.array_equal(by_pread, store.read(slots)) and np.array_equal(by_pread, rows[slots].astype(np.float32))


@pytest.mark.skipif(os.environ.get("PHOTOCLOUD_TEST_PGVECTOR") == "1", reason="the embedded index only")
def test_a_snapshot_replaced_while_a_process_opens_it_is_read_from_the_new_one(analysed, bob, settings, tmp_path):
    """Another process publishes a new snapshot and removes the old one between this process reading the pointer and
    opening the folder: the search reads the pointer again instead of failing (it was a 500)."""
    from photocloud.vision import similar

    settings.DATA_DIR = tmp_path
    photos, vectors = analysed
    exact = [p.pk for p, _ in similar.similar_photos(bob, vectors[0], limit=10)]
    old = similar.rebuild_snapshot(min_vectors=100)
    similar.reset_index()
    load = similar.FaissIndex.load

    def replaced_meanwhile(folder):
        similar.FaissIndex.load = load
        assert similar.rebuild_snapshot(min_vectors=100) != old  # publishes a new one, removes the old folder
        return load(folder)

    similar.FaissIndex.load = replaced_meanwhile
    try:
        assert [p.pk for p, _ in similar.similar_photos(bob, vectors[0], limit=10)] == exact
    finally:
        similar.FaissIndex.load = load
    assert similar._process_index._snapshot_name != old
