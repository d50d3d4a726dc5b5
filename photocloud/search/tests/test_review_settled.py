"""Review: the settled ranking (backends.settled_ranking) against ranking every match, on libraries drawn at random
with several seeds, viewers who may see different albums, prefixes with longer words and labels of several words."""

import random

import pytest
from django.contrib.auth.models import AnonymousUser

from photocloud.accounts.models import Follow
from photocloud.library import services as library
from photocloud.search.query import Expansion, ParsedQuery, tokens
from photocloud.search.tests.test_bounded_ranking import ranking_of, settled
from tests.factories import album, photo

pytestmark = pytest.mark.usefixtures("no_meaning")

WORDS = ["beach", "sunset", "dune", "sunsets", "beaches"]


def _library(owner, seed):
    rng = random.Random(seed)
    albums = [
        album(owner, title="Beach trip", tags=["dune"]),
        album(owner, title="Sunset and dune", access="private"),
        album(owner, title="Plain", description="sunset beach"),
        album(owner, title="Dune sunsets", access="followers"),
        album(owner, title="Beach beach", access="public"),
    ]
    pictures = []
    for _ in range(60):
        pick = lambda n=0.3: [w for w in WORDS if rng.random() < n]  # noqa: E731
        labels = [[w, rng.choice([0.9, 0.5, 0.05])] for w in pick(0.25)]
        if rng.random() < 0.2:
            labels.append(["sunset beach", 0.9])
        pictures.append(
            photo(
                rng.choice(albums),
                title=" ".join(["shot", *pick()]),
                tags=pick(0.2),
                description=" ".join(pick()),
                analysis={"labels": labels, "text": " ".join(pick())} if rng.random() < 0.6 else None,
            )
        )
    for target in albums:
        library.add_to_album(owner, target, [p.pk for p in rng.sample(pictures, rng.randrange(0, 20))])
    return pictures


QUERIES = [
    ("beach sunset", []),
    ("sun bea", []),
    ("dune", [Expansion("sunset beach", "meaning"), Expansion("beach", "spelling")]),
    ("sunset dune", [Expansion("beach", "meaning"), Expansion("dune", "translation")]),
    ("beaches sunsets", [Expansion("beach sunset", "spelling")]),
    ("sunset beach dune", [Expansion("sunset beach", "meaning")]),
]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_settled_ranking_is_the_start_of_every_match_ranked(alice, bob, make_user, seed):
    carol = make_user("carol")
    Follow.objects.create(follower=bob, followee=alice)
    _library(alice, seed)
    checked = exact = 0
    for viewer in (alice, bob, carol, AnonymousUser()):
        for text, expansions in QUERIES:
            parsed = ParsedQuery(text, tokens(text), expansions)
            every_match = ranking_of(viewer, parsed)
            for cap in (1, 2, 3, 4, 6, 9, 14, 20, 33, 50, 80, 130):
                got, every = settled(viewer, parsed, cap)
                if got is None:
                    continue
                assert got == every_match[: len(got)], (viewer, text, cap)
                checked, exact = checked + 1, exact + bool(every)
                if every:
                    assert got == every_match[:cap], (viewer, text, cap)
    assert checked > 100 and exact >= 10, (checked, exact)
