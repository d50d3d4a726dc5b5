"""The judged collection (bench/search_quality.py) in the test suite: 311 analysed pictures and 190 judged queries,
searched through the real index on each database, must stay at the measured relevance: the thresholds are a little
below the figures bench/README.md reports, so a regression fails.

The pictures' analysis (the real pipeline's labels, categories, faces and text) is read from the committed
bench/data/search_library.json, so no model runs here but the sentence model of "similar meaning". The figures are
far below the targets (precision@10 0.90, no query with relevant pictures answering nothing): see bench/README.md."""

import pytest

from bench import search_quality

# Measured (bench/README.md): all queries P@10 0.602, nDCG@10 0.621, zero results 0.108; the report split (never
# tuned on) 0.584, 0.592, 0.120.
LEAST = {"all": (0.58, 0.60), "split report": (0.56, 0.57)}
MOST_ZERO_RESULTS = 0.13


@pytest.fixture
def scored(alice):
    pictures = search_quality.load_library(alice)
    return search_quality.evaluate(alice, pictures, search_quality.read_judgments())


def test_the_judged_queries_keep_their_relevance(scored):
    figures = search_quality.summary(scored)
    for group, (precision, ndcg) in LEAST.items():
        assert figures[group]["precision@10"] >= precision, (group, figures[group])
        assert figures[group]["ndcg@10"] >= ndcg, (group, figures[group])
        assert figures[group]["zero results"] <= MOST_ZERO_RESULTS, (group, figures[group])
    assert figures["all"]["unanswerable answered"] == 0  # "giraffe", "长城"… find nothing rather than anything
