"""The postings index (backends.py): what it holds, and matching the native full-text indexes could not do alike on
every database (short words and stop words on MariaDB, accents, exact words above longer ones)."""

import pytest

from photocloud.library import services as library
from photocloud.search import selectors
from photocloud.search.backends import COLUMN_BITS, LABELS, document_terms
from photocloud.search.models import SearchDocument, SearchPosting
from tests.factories import album, ids, photo

pytestmark = pytest.mark.usefixtures("no_meaning")


def found(viewer, q, **options):
    return list(selectors.search(viewer, q=q, **options).results[0:100])


def test_a_document_has_one_posting_per_word_with_the_columns_that_hold_it(alice):
    trip = album(alice, title="Lisbon", description="tiles and trams")
    picture = photo(trip, title="Tram 28", tags=["tram"], analysis={"text": "PRAÇA DO COMÉRCIO"})
    rows = SearchPosting.objects.filter(object_id=picture.pk)
    postings = dict(rows.filter(album__isnull=True).values_list("term", "columns"))
    assert postings["tram"] == LABELS | COLUMN_BITS["names"]  # a tag and in the name
    assert postings["praca"] == COLUMN_BITS["text"]  # text read from the picture is its own column
    assert postings == document_terms(picture.search_doc)
    # What only the album says is context (a weak match), in postings marked with the album: they count only for
    # viewers who may see it.
    from_album = dict(rows.filter(album=trip.pk).values_list("term", "columns"))
    assert from_album == dict.fromkeys(("lisbon", "tiles", "and", "trams"), COLUMN_BITS["context"])
    assert not SearchPosting.objects.filter(object_id=picture.pk, is_album=True).exists()
    assert SearchPosting.objects.filter(object_id=trip.pk, is_album=True, term="lisbon").exists()


def test_changes_rewrite_the_postings_and_deletes_leave_none_behind(alice):
    trip = album(alice, title="Lisbon")
    picture = photo(trip, tags=["tram"])
    library.update_photo(picture, tags=["ferry"])
    terms = set(SearchPosting.objects.filter(object_id=picture.pk).values_list("term", flat=True))
    assert "ferry" in terms and "tram" not in terms
    library.delete_photo(picture)
    assert not SearchPosting.objects.filter(object_id=picture.pk).exists()
    library.delete_album(trip)
    assert not SearchPosting.objects.exists() and not SearchDocument.objects.exists()


def test_short_words_stop_words_and_accents_are_found_on_every_database(alice):
    trip = album(alice, title="Trips")
    it = photo(trip, title="The IT team at work")
    cafe = photo(trip, tags=["Café"], description="où est le café")
    ox = photo(trip, tags=["ox"])
    assert ids(found(alice, "it")) == {it.pk}  # two letters, and an InnoDB stop word
    assert ids(found(alice, "the it")) == {it.pk}
    assert ids(found(alice, "cafe")) == ids(found(alice, "CAFÉ")) == {cafe.pk}
    assert ids(found(alice, "ou")) == {cafe.pk}
    assert ids(found(alice, "ox")) == {ox.pk}
    assert ids(found(alice, "o")) == set()  # short words are whole words, not prefixes


def test_a_whole_word_ranks_above_longer_words_it_begins(alice):
    trip = album(alice, title="Trips")
    longer = photo(trip, tags=["catalogue"])
    whole = photo(trip, tags=["cat"])
    assert [p.pk for p in found(alice, "cat")] == [whole.pk, longer.pk]


def test_repeated_and_overlapping_words_still_match(alice):
    trip = album(alice, title="Trips")
    beach = photo(trip, tags=["beach"])
    photo(trip, tags=["bear"])
    assert ids(found(alice, "beach beach")) == {beach.pk}
    assert ids(found(alice, "bea beach")) == {beach.pk}


def test_a_close_meaning_ranks_below_the_word_typed(alice, settings):
    from photocloud.search import query

    trip = album(alice, title="Trips")
    typed = photo(trip, tags=["beach"])
    close = photo(trip, analysis={"labels": ["seashore"]})
    parsed = query.parse("beach", expand=False)
    parsed.expansions.append(query.Expansion("seashore", "meaning", 0.7))
    ranked = selectors.ranked_ids(selectors._scope(alice, "all"), parsed, 10)
    assert ranked == [typed.pk, close.pk]
