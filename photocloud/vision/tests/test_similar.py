"""Search by image through `similar_photos`, the same tests whichever index answers: the embedded one (SQLite,
MariaDB, PostgreSQL without the extension) or pgvector inside PostgreSQL (the test run with PHOTOCLOUD_TEST_PGVECTOR=1
starts a real PostgreSQL with pgvector, tests/pgvector_server.py). Rankings are checked against numpy brute force."""

import importlib
import os
import re
from types import SimpleNamespace

import numpy as np
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from photocloud.accounts.models import Follow
from photocloud.library.models import Photo
from photocloud.vision import pg_vectors, similar
from photocloud.vision.index import prepared
from photocloud.vision.models import PhotoAnalysis, PhotoVector, encode_features
from photocloud.vision.tests.test_index import brute_force
from tests import factories

CLUSTERS = 12
ACCESS_LEVEL = 'FROM "library_album" U0 WHERE U0."access" = \'public\''  # visible_to's condition in a statement


def _vectors(n, seed):
    rng = np.random.default_rng(seed)
    centres = rng.gamma(0.7, 1.0, (CLUSTERS, 1280)).astype(np.float32)
    noisy = centres[np.arange(n) % CLUSTERS] + rng.normal(0, 0.4, (n, 1280)).astype(np.float32)
    return np.maximum(noisy, 0).astype(np.float16).astype(np.float32)  # as stored: float16


@pytest.fixture
def library(db, alice, bob):
    """Alice's pictures in a public, a followers-only and a private album (60 each); Bob follows nobody yet."""
    similar.reset_index()
    vectors = _vectors(180, seed=3)
    photos = {}
    for index, access in enumerate(("public", "followers", "private")):
        album = factories.album(alice, access=access)
        photos[access] = [factories.photo(album, features=vector) for vector in vectors[index * 60 : (index + 1) * 60]]
    yield photos, vectors
    similar.reset_index()


def _ids_and_vectors(photos, vectors, accesses):
    order = [photo for access in ("public", "followers", "private") for photo in photos[access]]
    keep = [i for i, photo in enumerate(order) if photo.album.access in accesses]
    return np.arange(len(order))[keep], vectors[keep], order


def _assert_ranking(found, expected, order):
    """Same pictures, same order, same distances (halfvec and float16 copies: two near-ties may swap)."""
    expected_ids = [order[i].pk for i, _ in expected]
    found_distances = [distance for _, distance in found]
    np.testing.assert_allclose(found_distances, [d for _, d in expected], rtol=2e-3, atol=2e-3)
    by_id = {order[i].pk: d for i, d in expected}
    for (photo, distance), expected_id in zip(found, expected_ids, strict=True):
        assert photo.pk == expected_id or by_id.get(photo.pk) == pytest.approx(distance, abs=2e-3)


def test_the_expected_index_answers(db):
    if os.environ.get("PHOTOCLOUD_TEST_PGVECTOR") == "1":
        assert pg_vectors.in_use(), "the pgvector run must test pgvector, not the embedded index"
        assert "pgvector" in similar.backend()
    elif connection.vendor != "postgresql":
        assert not pg_vectors.in_use()
        assert "embedded" in similar.backend()


@pytest.mark.parametrize("exact_scope", [0, pg_vectors.EXACT_SCOPE])  # pgvector: the HNSW graph, or exact
@pytest.mark.parametrize("metric", ["l1", "cosine"])
def test_rankings_match_brute_force_among_what_the_viewer_may_see(
    library, alice, bob, metric, exact_scope, monkeypatch
):
    monkeypatch.setattr(pg_vectors, "EXACT_SCOPE", exact_scope)
    photos, vectors = library
    query = vectors[7] + 0.05
    for viewer, accesses in (
        (alice, {"public", "followers", "private"}),
        (bob, {"public"}),
    ):
        ids, rows, order = _ids_and_vectors(photos, vectors, accesses)
        expected = brute_force(ids, rows, query, 10, metric)
        _assert_ranking(similar.similar_photos(viewer, query, metric=metric, limit=10), expected, order)
    Follow.objects.create(follower=bob, followee=alice)
    ids, rows, order = _ids_and_vectors(photos, vectors, {"public", "followers"})
    found = similar.similar_photos(bob, query, metric=metric, limit=10)
    _assert_ranking(found, brute_force(ids, rows, query, 10, metric), order)
    assert all(0 <= photo.similarity.percent <= 100 for photo, _ in found)


def test_similarity_is_the_cosine_of_the_stored_features(library, alice):
    """The embedded index says it from the vectors it holds (the rows are read without their features)."""
    photos, vectors = library
    _, _, order = _ids_and_vectors(photos, vectors, {"public", "followers", "private"})
    by_pk = {photo.pk: vector for photo, vector in zip(order, vectors, strict=True)}
    query = vectors[30] + 0.05
    found = similar.similar_photos(alice, query, metric="l1", limit=10)
    assert len(found) == 10
    expected = prepared(np.vstack([by_pk[photo.pk] for photo, _ in found])) @ prepared(query)
    np.testing.assert_allclose([photo.similarity for photo, _ in found], expected, atol=2e-3)
    if not pg_vectors.in_use():  # the candidates' rows come without their 2.5 KB of features (TOAST in PostgreSQL)
        with CaptureQueriesContext(connection) as queries:
            assert [photo for photo, _ in similar.similar_photos(alice, query, limit=10)] == [p for p, _ in found]
        table = connection.ops.quote_name("vision_photoanalysis")  # "..." or `...`, as the database quotes
        key, features = (
            f"{table}.{connection.ops.quote_name('id')} IN (",
            f"{table}.{connection.ops.quote_name('features')}",
        )
        rows = [q["sql"] for q in queries.captured_queries if key in q["sql"]]
        assert rows and not any(features in sql for sql in rows)
        # Alice may see every picture: the nearest 11 rows are read, not all 40 asked of the index.
        assert len(rows) == 1 and rows[0].split(key)[1].split(")")[0].count(",") == 10


@pytest.mark.parametrize("exact_scope", [0, pg_vectors.EXACT_SCOPE])
def test_private_pictures_never_come_back_even_as_the_nearest(library, bob, exact_scope, monkeypatch):
    monkeypatch.setattr(pg_vectors, "EXACT_SCOPE", exact_scope)
    photos, vectors = library
    secret = photos["private"][0]
    found = similar.similar_photos(bob, vectors[120], limit=50)  # vectors[120] is the secret picture's own
    assert found and secret.pk not in {photo.pk for photo, _ in found}
    assert {photo.album.access for photo, _ in found} == {"public"}
    assert similar.similar_photos(bob, vectors[120], scope="mine", limit=10) == []


@pytest.mark.parametrize("exact_scope", [0, pg_vectors.EXACT_SCOPE])
def test_deleted_and_trashed_pictures_are_gone_and_scope_mine_and_exclude_hold(
    library, alice, exact_scope, monkeypatch
):
    from photocloud.library import trash

    monkeypatch.setattr(pg_vectors, "EXACT_SCOPE", exact_scope)
    photos, vectors = library
    nearest = photos["public"][5]
    assert similar.similar_photos(alice, vectors[5], limit=1)[0][0].pk == nearest.pk
    assert nearest.pk not in {p.pk for p, _ in similar.similar_photos(alice, vectors[5], exclude=nearest)}
    nearest.delete()
    assert nearest.pk not in {p.pk for p, _ in similar.similar_photos(alice, vectors[5], limit=20)}
    if pg_vectors.in_use():  # deleted with the picture, in the same transaction
        assert not PhotoVector.objects.filter(photo_id=nearest.pk).exists()
    trashed = photos["public"][6]
    trash.trash_photos(alice, [trashed.pk])
    assert trashed.pk not in {p.pk for p, _ in similar.similar_photos(alice, vectors[6], limit=20)}


@pytest.mark.parametrize("exact_scope", [0, pg_vectors.EXACT_SCOPE])
def test_a_re_analysed_picture_is_found_by_its_new_vector(library, alice, exact_scope, monkeypatch):
    monkeypatch.setattr(pg_vectors, "EXACT_SCOPE", exact_scope)
    photos, vectors = library
    moved = photos["public"][1]
    analysis = PhotoAnalysis.objects.get(photo=moved)
    with transaction.atomic():  # as vision.services.analyze_photos writes a new analysis
        analysis.features = encode_features(vectors[2])
        analysis.save()
        pg_vectors.store([(moved.pk, vectors[2])])
    if pg_vectors.in_use():  # the code the graph compares changed with the vector
        assert PhotoVector.objects.get(photo=moved).code == pg_vectors.codes(prepared(vectors[2]))[0]
    top_two = {photo.pk for photo, _ in similar.similar_photos(alice, vectors[2], limit=2)}
    assert top_two == {moved.pk, photos["public"][2].pk}
    assert moved.pk not in {p.pk for p, _ in similar.similar_photos(alice, vectors[1], limit=5)}


def test_within_narrows_the_candidates(library, alice):
    photos, vectors = library
    chosen = Photo.objects.filter(pk__in=[p.pk for p in photos["public"][1::CLUSTERS]])
    found = similar.similar_photos(alice, vectors[0], limit=10, within=chosen)
    assert found and {p.pk for p, _ in found} <= {p.pk for p in photos["public"][1::CLUSTERS]}


@pytest.mark.skipif(os.environ.get("PHOTOCLOUD_TEST_PGVECTOR") != "1", reason="the pgvector run only")
def test_pgvector_answers_in_one_statement_with_access_and_rolls_back_with_the_analysis(library, alice, bob):
    photos, vectors = library
    with CaptureQueriesContext(connection) as queries:
        similar.similar_photos(bob, vectors[0], limit=10)
    ranking = [q["sql"] for q in queries if "<+>" in q["sql"]]
    assert len(ranking) == 1  # one statement ranks and applies access: the album's access level is in it
    assert "+ 0" in ranking[0]  # Bob may see 60 pictures: ranked exactly, not through the graph
    assert ACCESS_LEVEL in ranking[0] and "<+>" in ranking[0]
    assert not any("vision_photoanalysis" in q["sql"] for q in queries)  # no list of allowed ids first

    photo = factories.photo(photos["public"][0].album)
    with pytest.raises(RuntimeError), transaction.atomic():
        PhotoAnalysis.objects.create(photo=photo, features=encode_features(vectors[0]), model_version="t")
        pg_vectors.store([(photo.pk, vectors[0])])
        raise RuntimeError("the analysis fails after its vector was written")
    assert not PhotoVector.objects.filter(photo_id=photo.pk).exists()


@pytest.mark.skipif(os.environ.get("PHOTOCLOUD_TEST_PGVECTOR") != "1", reason="the pgvector run only")
def test_build_vector_index_stores_vectors_written_without_them(library, alice):
    from django.core.management import call_command

    photos, vectors = library
    PhotoVector.objects.filter(photo__in=photos["public"][:10]).delete()  # as after a restore
    assert similar.snapshot_is_due()
    call_command("build_vector_index", "--if-due")
    assert not similar.snapshot_is_due()
    assert similar.similar_photos(alice, vectors[3], limit=1)[0][0].pk == photos["public"][3].pk


@pytest.mark.skipif(os.environ.get("PHOTOCLOUD_TEST_PGVECTOR") != "1", reason="the pgvector run only")
def test_a_damaged_vector_is_left_out_and_the_others_are_stored(library, alice, monkeypatch):
    """An analysis whose stored features hold NaN (a damaged backup restored) cannot go into a halfvec: PostgreSQL
    refused the whole batch, so a restore failed. It is left out, the rest of its chunk and the next chunks are
    stored, and the picture stays visible, only not findable by image."""
    from django.core.management import call_command

    photos, vectors = library
    monkeypatch.setattr(pg_vectors, "CHUNK", 7)
    damaged = photos["public"][5]
    features = vectors[5].copy()
    features[100] = np.nan
    PhotoAnalysis.objects.filter(photo=damaged).update(features=encode_features(features))
    PhotoVector.objects.filter(photo__in=photos["public"][:20]).delete()  # as after a restore
    call_command("build_vector_index")
    stored = set(PhotoVector.objects.filter(photo__in=photos["public"][:20]).values_list("photo_id", flat=True))
    assert stored == {photo.pk for photo in photos["public"][:20]} - {damaged.pk}
    assert similar.similar_photos(alice, vectors[6], limit=1)[0][0].pk == photos["public"][6].pk
    assert Photo.objects.visible_to(alice).filter(pk=damaged.pk).exists()


def test_embedded_index_reads_the_viewers_ids_only_when_few_of_the_nearest_are_theirs(db, alice, bob):
    """The embedded index first checks its nearest pictures against what the viewer may see; only when too few pass
    (here Alice's private near-copies of the query) does it read the ids of every picture the viewer may see and
    search among them. Either way the ranking is the exact one among the viewer's pictures."""
    if pg_vectors.in_use():
        pytest.skip("pgvector ranks in one statement (test above)")
    similar.reset_index()
    query = _vectors(1, seed=9)[0]
    noise = np.random.default_rng(8).normal(0, 0.01, (12, 1280))
    secret = factories.album(alice, access="private")
    hidden = [factories.photo(secret, features=np.maximum(query + jitter, 0)) for jitter in noise]
    shown_vectors = _vectors(30, seed=10)
    shown = [factories.photo(factories.album(alice, access="public"), features=v) for v in shown_vectors]

    def search(viewer, limit):
        with CaptureQueriesContext(connection) as queries:
            found = similar.similar_photos(viewer, query, limit=limit)
        column = f"{connection.ops.quote_name('vision_photoanalysis')}.{connection.ops.quote_name('id')}"  # " or `
        ids = [q["sql"] for q in queries if re.match(rf"SELECT {re.escape(column)}( AS \S+)? FROM", q["sql"])]
        return found, [sql for sql in ids if f"{column} IN (" not in sql]  # all, not the found

    found, id_reads = search(alice, 3)  # her nearest are hers: no read of all her ids
    assert len(found) == 3 and {photo.pk for photo, _ in found} <= {photo.pk for photo in hidden}
    assert id_reads == []
    found, id_reads = search(bob, 3)  # the 12 nearest (3 x OVERSAMPLE) are private: his ids are read
    assert len(id_reads) == 1
    expected = brute_force(np.arange(len(shown)), shown_vectors, query, 3, "l1")
    _assert_ranking(found, expected, shown)
    similar.reset_index()


pgvector_only = pytest.mark.skipif(os.environ.get("PHOTOCLOUD_TEST_PGVECTOR") != "1", reason="the pgvector run only")


@pgvector_only
@pytest.mark.parametrize("metric", ["l1", "cosine"])
def test_pgvector_ranks_the_codes_candidates_exactly_in_both_metrics(library, alice, bob, metric, monkeypatch):
    """Through the graph (EXACT_SCOPE 0) with fewer candidates than pictures: the codes propose 30 of the viewer's
    pictures, and the nearest among them by the full vectors are the exact nearest, in both metrics, for a viewer who
    sees all 180 and one who sees the public 60; access is in the statement that asks the graph."""
    monkeypatch.setattr(pg_vectors, "EXACT_SCOPE", 0)
    monkeypatch.setattr(pg_vectors, "CANDIDATES", 30)
    photos, vectors = library
    # as many results as the viewer has pictures of the query's cluster (15 and 5): beyond them all are far alike
    for viewer, accesses, limit in ((alice, {"public", "followers", "private"}, 15), (bob, {"public"}, 5)):
        ids, rows, order = _ids_and_vectors(photos, vectors, accesses)
        for row in (7, 11, 64):
            query = vectors[row] + 0.05
            with CaptureQueriesContext(connection) as queries:
                found = similar.similar_photos(viewer, query, metric=metric, limit=limit)
            _assert_ranking(found, brute_force(ids, rows, query, limit, metric), order)
            (statement,) = [q["sql"] for q in queries if "<~>" in q["sql"]]
            assert "LIMIT 30" in statement and ACCESS_LEVEL in statement
            assert ("<+>" if metric == "l1" else "<=>") in statement


def _former_design(cursor):
    """The table as migration 0005 made it before codes: full vectors, one HNSW graph per metric."""
    cursor.execute(f"DROP INDEX {pg_vectors.TABLE}_code")
    cursor.execute(f"ALTER TABLE {pg_vectors.TABLE} DROP COLUMN code")
    for name, ops in zip(pg_vectors.FORMER_INDEXES, ("halfvec_l1_ops", "halfvec_cosine_ops"), strict=True):
        cursor.execute(f"CREATE INDEX {name} ON {pg_vectors.TABLE} USING hnsw (embedding {ops})")


def _indexes(cursor):
    cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [pg_vectors.TABLE])
    return {name for (name,) in cursor.fetchall()}


@pgvector_only
def test_install_converts_the_former_two_graph_table(library, alice, monkeypatch):
    photos, vectors = library
    with connection.cursor() as cursor:
        _former_design(cursor)
        assert _indexes(cursor) == {f"{pg_vectors.TABLE}_pkey", *pg_vectors.FORMER_INDEXES}
        monkeypatch.setattr(pg_vectors, "CHUNK", 50)  # several chunks
        assert pg_vectors.install(cursor)
        assert _indexes(cursor) == {f"{pg_vectors.TABLE}_pkey", f"{pg_vectors.TABLE}_code"}
        cursor.execute(
            "SELECT is_nullable FROM information_schema.columns WHERE table_name = %s AND column_name = 'code'",
            [pg_vectors.TABLE],
        )
        assert cursor.fetchone() == ("NO",)
    order = [photo for access in ("public", "followers", "private") for photo in photos[access]]
    stored = dict(PhotoVector.objects.values_list("photo_id", "code"))
    expected = pg_vectors.codes(prepared(vectors))  # as `store` computes them (a sum's last digit may flip a bit)
    flipped = sum(
        a != b for photo, code in zip(order, expected, strict=True) for a, b in zip(stored[photo.pk], code, strict=True)
    )
    assert flipped <= 2
    monkeypatch.setattr(pg_vectors, "EXACT_SCOPE", 0)
    monkeypatch.setattr(pg_vectors, "CANDIDATES", 30)
    query = vectors[20] + 0.05
    expected = brute_force(np.arange(len(order)), vectors, query, 15, "l1")
    _assert_ranking(similar.similar_photos(alice, query, limit=15), expected, order)

    with connection.cursor() as cursor:  # and back (migration vision 0006 reversed)
        pg_vectors.downgrade(cursor)
        assert _indexes(cursor) == {f"{pg_vectors.TABLE}_pkey", *pg_vectors.FORMER_INDEXES}
        assert pg_vectors.install(cursor)
        assert _indexes(cursor) == {f"{pg_vectors.TABLE}_pkey", f"{pg_vectors.TABLE}_code"}


def _assert_graph_ranks_exactly(alice, vectors, order, row, monkeypatch):
    """Through the code graph (no exact scope), a query near picture `row` ranks as brute force does."""
    monkeypatch.setattr(pg_vectors, "EXACT_SCOPE", 0)
    monkeypatch.setattr(pg_vectors, "CANDIDATES", 30)
    query = vectors[row] + 0.05
    _assert_ranking(
        similar.similar_photos(alice, query, limit=15),
        brute_force(np.arange(len(order)), vectors, query, 15, "l1"),
        order,
    )


def _code_version(cursor):
    cursor.execute(
        "SELECT col_description(attrelid, attnum) FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'code'",
        [pg_vectors.TABLE],
    )
    return cursor.fetchone()[0]


def _stored_codes(order):
    stored = dict(PhotoVector.objects.values_list("photo_id", "code"))
    return [stored[photo.pk] for photo in order]


@pgvector_only
def test_migration_0007_computes_the_sign_codes_again_once(library, alice, monkeypatch):
    """A table of migration 0006 (sign codes, no version) gets thermometer codes and a new graph from migration 0007,
    once: a table that holds them is left alone; 0007 reversed forgets the version, so applying it again recodes."""
    migration = importlib.import_module("photocloud.vision.migrations.0007_thermometer_codes")
    editor = SimpleNamespace(connection=connection)
    photos, vectors = library
    order = [photo for access in ("public", "followers", "private") for photo in photos[access]]
    with np.load(pg_vectors.PROJECTION) as data:
        mean, axes = data["mean"].astype(np.float32), data["axes"].astype(np.float32)
    signs = (prepared(vectors).astype(np.float16).astype(np.float32) - mean) @ axes.T > 0  # 0006's codes
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {pg_vectors.TABLE} SET code = new.code::bit(1280) FROM unnest(%s::uuid[], %s::text[])"
            " AS new(id, code) WHERE photo_id = new.id",
            [[photo.pk for photo in order], ["".join(row) for row in np.where(signs, "1", "0")]],
        )
        cursor.execute(f"COMMENT ON COLUMN {pg_vectors.TABLE}.code IS NULL")
        monkeypatch.setattr(pg_vectors, "CHUNK", 50)  # several chunks
        migration.recode(None, editor)
        assert _indexes(cursor) == {f"{pg_vectors.TABLE}_pkey", f"{pg_vectors.TABLE}_code"}
        assert _code_version(cursor) == pg_vectors.CODE_VERSION
    expected = pg_vectors.codes(prepared(vectors))  # as `store` computes them (a sum's last digit may flip a bit)
    assert (
        sum(a != b for s, e in zip(_stored_codes(order), expected, strict=True) for a, b in zip(s, e, strict=True)) <= 2
    )
    assert sum(e != "".join(row) for e, row in zip(expected, np.where(signs, "1", "0"), strict=True)) == len(order)

    zeros = "0" * pg_vectors.CODE_BITS  # marks a code `install` would change if it computed the codes again
    PhotoVector.objects.filter(photo=order[0]).update(code=zeros)
    with connection.cursor() as cursor:
        assert pg_vectors.install(cursor)
    assert _stored_codes(order)[0] == zeros
    _assert_graph_ranks_exactly(alice, vectors, order, 70, monkeypatch)

    migration.forget(None, editor)
    with connection.cursor() as cursor:
        assert _code_version(cursor) is None
    migration.recode(None, editor)
    assert _stored_codes(order)[0] == expected[0]


def _graph_oid(cursor):
    cursor.execute("SELECT to_regclass(%s)::oid", [f"{pg_vectors.TABLE}_code"])
    return cursor.fetchone()[0]


@pgvector_only
def test_migration_0008_rebuilds_a_graph_of_other_settings_once(library, alice, monkeypatch):
    """The graph `install` builds (the test database's, by migrate) carries pg_vectors.GRAPH's settings; one built
    with pgvector's defaults (before migration 0008) is rebuilt with them by 0008, once, and still answers."""
    migration = importlib.import_module("photocloud.vision.migrations.0008_graph_settings")
    assert not migration.Migration.atomic
    editor = SimpleNamespace(connection=connection)
    photos, vectors = library
    order = [photo for access in ("public", "followers", "private") for photo in photos[access]]
    table = pg_vectors.TABLE
    with connection.cursor() as cursor:
        assert pg_vectors.graph_settings(cursor) == pg_vectors.GRAPH != {}
        cursor.execute(f"DROP INDEX {table}_code")
        cursor.execute(f"CREATE INDEX {table}_code ON {table} USING hnsw (code bit_hamming_ops)")  # as 0007 built it
        assert pg_vectors.graph_settings(cursor) == {}
        migration.rebuild(None, editor)
        assert pg_vectors.graph_settings(cursor) == pg_vectors.GRAPH
        assert _indexes(cursor) == {f"{table}_pkey", f"{table}_code"}
        rebuilt = _graph_oid(cursor)
        migration.rebuild(None, editor)  # current: left alone
        assert _graph_oid(cursor) == rebuilt
        cursor.execute(f"DROP INDEX {table}_code")
        assert pg_vectors.graph_settings(cursor) is None
        assert pg_vectors.install(cursor)  # a missing graph is built with the settings too
        assert pg_vectors.graph_settings(cursor) == pg_vectors.GRAPH
    _assert_graph_ranks_exactly(alice, vectors, order, 40, monkeypatch)


def test_the_code_thresholds_are_derived_from_the_real_features():
    """data/vector_code_thresholds.npz is what `thresholds` makes of the evaluation set's principal coordinates
    (data/DATA.md), and its thermometer code counts the cuts between two pictures' coordinates."""
    with np.load(pg_vectors.PROJECTION) as data, np.load(pg_vectors.PROJECTION.with_name("evaluation_set.npz")) as real:
        mean, axes = data["mean"].astype(np.float32), data["axes"].astype(np.float32)
        rows = prepared(real["features"].astype(np.float32))
    coordinates = (rows.astype(np.float16).astype(np.float32) - mean) @ axes.T
    axis, threshold = pg_vectors.thresholds(coordinates)
    with np.load(pg_vectors.THRESHOLDS) as shipped:
        np.testing.assert_array_equal(axis, shipped["axis"])
        np.testing.assert_allclose(threshold, shipped["threshold"], rtol=1e-4)
    assert len(axis) == pg_vectors.CODE_BITS and np.isfinite(threshold).all()
    first, second = pg_vectors.codes(rows[[0, 1]])
    between = (np.minimum(*coordinates[[0, 1]][:, axis]) < threshold) & (
        threshold < np.maximum(*coordinates[[0, 1]][:, axis])
    )
    assert sum(a != b for a, b in zip(first, second, strict=True)) == between.sum()


def _analyze_pictures():
    """PostgreSQL's statistics of the pictures now (`pg_vectors._OWNED_SHARE` reads who owns how many from them),
    and the code graph built again over this test's vectors alone: each test's rows are rolled back, but a graph
    keeps their entries (the same vectors, nearer than anything else), so a scan of it met mostly dead ones."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE library_photo")
        cursor.execute(f"REINDEX INDEX {pg_vectors.TABLE}_code")


def _picture_rows_read(plan: str) -> int:
    """Rows of library_photo an EXPLAIN ANALYZE read, over every scan of it (kept and filtered out, every loop)."""
    read, lines = 0, plan.splitlines()
    for number, line in enumerate(lines):
        if re.search(r" on library_photo( |$)", line):
            loops = int(re.search(r"loops=(\d+)", line)[1])
            read += float(re.search(r"actual time=\S+ rows=([\d.]+)", line)[1]) * loops
            for detail in lines[number + 1 :]:
                if "->" in detail:
                    break
                if removed := re.search(r"Rows Removed by (?:Index )?Filter: (\d+)", detail):
                    read += int(removed[1]) * loops
    return round(read)


def _filtered(viewer, query, metric, limit, **options):
    """The filtered statement's answer (the iterative scan with access on every candidate), as before the
    unfiltered one: a viewer who owns no share of the pictures is answered by it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pg_vectors, "UNFILTERED_SHARE", 2.0)
        found = similar.similar_photos(viewer, query, metric=metric, limit=limit, **options)
        return [(photo.pk, distance) for photo, distance in found]


def _statements(queries):
    return [q["sql"] for q in queries if "<~>" in q["sql"]]


@pgvector_only
@pytest.mark.parametrize("metric", ["l1", "cosine"])
def test_pgvector_owner_of_everything_checks_access_of_the_nearest_candidates_only(
    library, alice, bob, metric, monkeypatch
):
    """The owner of every picture (PostgreSQL's statistics say so) gets the candidates from the vector table alone,
    ranked exactly, access checked in that order until `limit` pass: the same answer as the filtered scan, which checks
    access on every candidate, in one statement that reads `limit` picture rows, not 100; a trashed picture nearest
    of all is skipped, the query's own picture too."""
    from photocloud.library import trash

    monkeypatch.setattr(pg_vectors, "EXACT_SCOPE", 0)
    monkeypatch.setattr(pg_vectors, "CANDIDATES", 100)
    photos, vectors = library
    _analyze_pictures()
    ids, rows, order = _ids_and_vectors(photos, vectors, {"public", "followers", "private"})
    for row in (7, 64, 130):
        query = vectors[row] + 0.05
        with CaptureQueriesContext(connection) as queries:
            found = similar.similar_photos(alice, query, metric=metric, limit=10)
        # (not compared with brute force: both statements take the graph's candidates, which may miss one)
        assert [(photo.pk, distance) for photo, distance in found] == _filtered(alice, query, metric, 10)
        (statement,) = _statements(queries)  # one statement: the unfiltered one answered
        assert "LATERAL" in statement and ACCESS_LEVEL in statement and "LIMIT 100" in statement
    plan = pg_vectors.explain(Photo.objects.visible_to(alice).listed(), vectors[7] + 0.05, metric, viewer=alice)
    assert "LATERAL" not in plan and _picture_rows_read(plan) <= 12, plan  # 10 allowed, of 100 candidates
    filtered = pg_vectors.explain(Photo.objects.visible_to(alice).listed(), vectors[7] + 0.05, metric)
    assert _picture_rows_read(filtered) >= 100, filtered  # before: every candidate's row

    query_picture = photos["public"][7]
    (own, _), (second, _) = brute_force(ids, rows, vectors[7], 2, metric)
    assert order[own].pk == query_picture.pk
    trashed = order[second]  # the nearest but the query's own picture
    before = similar.similar_photos(alice, vectors[7], metric=metric, limit=10, exclude=query_picture)
    assert before[0][0].pk == trashed.pk
    trash.trash_photos(alice, [trashed.pk])
    with CaptureQueriesContext(connection) as queries:
        found = similar.similar_photos(alice, vectors[7], metric=metric, limit=10, exclude=query_picture)
    assert len(_statements(queries)) == 1  # one picture refused on the way: still the unfiltered statement
    pks = [photo.pk for photo, _ in found]
    assert trashed.pk not in pks and query_picture.pk not in pks and len(pks) == 10
    assert [(photo.pk, distance) for photo, distance in found] == _filtered(
        alice, vectors[7], metric, 10, exclude=query_picture
    )
    assert pks[:9] == [photo.pk for photo, _ in before[1:]]


@pgvector_only
def test_pgvector_owner_whose_pictures_are_half_stack_members_gets_one_statement(library, alice, monkeypatch):
    """An owner who keeps each RAW beside its JPEG owns every picture, but a listing shows half of them (a stack once,
    by its cover): the statistics say so, and the filtered scan answers in one statement, not the unfiltered one run
    and thrown away for refusing the stack members among the nearest."""
    monkeypatch.setattr(pg_vectors, "EXACT_SCOPE", 0)
    monkeypatch.setattr(pg_vectors, "CANDIDATES", 100)
    photos, vectors = library
    ids, rows, order = _ids_and_vectors(photos, vectors, {"public", "followers", "private"})
    for cover, member in zip(order[0::2], order[1::2], strict=True):
        Photo.objects.filter(pk=member.pk).update(stack_cover=cover)
    _analyze_pictures()
    listed = ids[0::2]
    for row in (7, 64, 130):
        query = vectors[row] + 0.05
        with CaptureQueriesContext(connection) as queries:
            found = similar.similar_photos(alice, query, limit=10)
        (statement,) = _statements(queries)
        assert "LATERAL" not in statement
        _assert_ranking(found, brute_force(listed, vectors[listed], query, 10, "l1"), order)


@pgvector_only
def test_pgvector_unfiltered_statement_falls_back_for_a_viewer_who_sees_a_part(library, alice, bob, monkeypatch):
    """A viewer who owns none of the pictures gets the filtered scan only. Were the statistics wrong (here: the share
    forced to 0), the unfiltered statement refuses too many of the nearest and the filtered scan answers: the same
    exact ranking among what they may see, nothing they may not."""
    monkeypatch.setattr(pg_vectors, "EXACT_SCOPE", 0)
    monkeypatch.setattr(pg_vectors, "CANDIDATES", 100)
    photos, vectors = library
    Follow.objects.create(follower=bob, followee=alice)
    _analyze_pictures()
    ids, rows, order = _ids_and_vectors(photos, vectors, {"public", "followers"})
    query = vectors[130] + 0.05  # a private picture's cluster: its nearest are private, 2 in 3 of the others hidden
    expected = brute_force(ids, rows, query, 10, "l1")
    with CaptureQueriesContext(connection) as queries:
        found = similar.similar_photos(bob, query, limit=10)
    (statement,) = _statements(queries)
    assert "LATERAL" not in statement
    _assert_ranking(found, expected, order)
    monkeypatch.setattr(pg_vectors, "UNFILTERED_SHARE", 0.0)
    with CaptureQueriesContext(connection) as queries:
        again = similar.similar_photos(bob, query, limit=10)
    unfiltered, filtered = _statements(queries)
    assert "LATERAL" in unfiltered and "LATERAL" not in filtered
    assert [photo.pk for photo, _ in again] == [photo.pk for photo, _ in found]
    assert {photo.album.access for photo, _ in again} <= {"public", "followers"}
