"""The keyword index: each word of each search document is a row of its own (a posting) in one B-tree, and a query
reads only the index entries of its own words.

Photocloud first used each database's native full-text index (SQLite FTS5, PostgreSQL tsvector + GIN, MariaDB
FULLTEXT). Those find the documents that hold a word quickly, but to rank them they read and score every match: a
word on a third of a 100,000-picture library cost 150–400 ms on PostgreSQL and MariaDB (bench/README.md). A posting
carries what the ranking needs (which columns hold the word), so the index entries alone answer, scored and cut in
one aggregate, with the same SQL on SQLite, PostgreSQL and MariaDB, and without MariaDB's limits (no words under three
letters, stop words ignored).

Queries reach the database as parameters built only from word tokens (query.tokens), so no user text is ever part of
the SQL. Column weights: labels (tags, categories) > names > descriptions > text found in the picture > context.

A match is *strong* when every word of one alternative is found outside the context column (what only the album
says, or what the classifier faintly guessed): strong matches rank before all weak ones (a STRONG bonus on the score)
and the results page shows the weak ones apart, as "less likely".

What a picture has from one of its albums (title, description, tags) is a posting of its own marked with that album
(`SearchPosting.album`), and counts only for a viewer who may see that album: every query on pictures is given the
viewer's albums (`albums`, the SQL of `Album.objects.visible_to(viewer)`), so a stranger never finds a picture by the
title of a private album it is also placed in, and a follower finds it by its followers-only album's title.
"""

import uuid
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count

from photocloud.library.models import AlbumPlacement

from .query import tokens

# Which columns of the document hold a word, as bits of one number: labels is the highest bit, so a word in the
# labels outweighs it in every other column together, and "in the labels" is `columns >= LABELS`; a word only in the
# context (the lowest bit) is a weak match.
COLUMN_BITS = {"labels": 16, "names": 8, "body": 4, "text": 2, "context": 1}
LABELS = COLUMN_BITS["labels"]
CONTEXT = COLUMN_BITS["context"]
# Added once to the score of a document that matches one alternative strongly: more than any sum of postings scores
# (a document has at most MAX_TERMS words, each scoring at most 4 * 31 + 2).
STRONG = 1_000_000
ALBUM_SCORE = CONTEXT * 4 + 2  # a word of one of the picture's albums: a whole word in the context column
MAX_TERMS = 5000  # distinct words indexed per document (a page of text found in a picture has a few hundred)
TABLE = "search_searchposting"


def document_terms(document) -> dict[str, int]:
    """{word: columns bit mask} of one search document: what its postings hold."""
    masks: dict[str, int] = {}
    for column, bit in COLUMN_BITS.items():
        for word in tokens(getattr(document, column)):
            if word in masks or len(masks) < MAX_TERMS:
                masks[word] = masks.get(word, 0) | bit
    return masks


@dataclass(frozen=True)
class _Word:
    """One word to look up: as a prefix or whole, anywhere or in the labels only, and what a posting of it scores:
    twice its column mask, plus one when the word is whole rather than the start of a longer one; a label close in
    meaning scores half (integers only: summed over tens of thousands of postings, they stay cheap)."""

    word: str
    prefix: bool = False
    labels_only: bool = False

    def postings_sql(
        self, is_album: bool, position: int, albums=None, cap: int | None = None, within=None, strong_only=False
    ) -> tuple[str, list]:
        """(object_id, score, position, strong) of this word's postings: one range of the index, read from the index
        alone (a query ORing several words would make PostgreSQL read the table's rows instead). A picture's posting
        from one of its albums counts only when that album is among `albums` ((sql, params) of the albums the viewer
        may see; None: none). With `cap`, only the word's strongest `cap` postings (see _capped_sql). `within`: (sql,
        params) of the only ids wanted, checked on each posting before any grouping. `strong_only`: the postings
        above the context column only (a prefix of the word's range in the index; never one from an album)."""
        if cap is not None:
            return self._capped_sql(is_album, position, albums, cap)
        if self.prefix and len(self.word) >= 3:  # the words starting with it: one range of the binary-ordered terms
            # A longer word counts only in the labels and names: in descriptions and text read from pictures it
            # was mostly another word ("sea" in "seat", "tree" in "treaty").
            where = f"p.term >= %s AND p.term < %s AND (p.term = %s OR p.columns >= {COLUMN_BITS['names']})"
            params = [self.word, self._after(), self.word]
            score, score_params = "p.columns * 4 + CASE WHEN p.term = %s THEN 2 ELSE 0 END", [self.word]
        else:
            where, params = "p.term = %s", [self.word]
            score, score_params = self._score(), []
        if self.labels_only:
            where += f" AND p.columns >= {LABELS}"
        album_where, album_params = self._album_filter("p", is_album, albums)
        if strong_only:  # a word from an album is in the context column only
            where, album_where, album_params = f"{where} AND p.columns > {CONTEXT}", "", []
        if within is not None:
            album_where, album_params = f"{album_where} AND p.object_id IN ({within[0]})", [*album_params, *within[1]]
        return (
            f"SELECT p.object_id, {score} AS score, {position} AS position, "
            f"CASE WHEN p.columns > {CONTEXT} THEN {position} ELSE -1 END AS strong FROM {TABLE} p "
            f"WHERE p.is_album = %s AND {where}{album_where}",
            [*score_params, is_album, *params, *album_params],
        )

    def _after(self) -> str:
        """The first word after every word starting with this one, in binary order."""
        return self.word[:-1] + chr(ord(self.word[-1]) + 1)

    def _score(self, alias: str = "p") -> str:
        return f"{alias}.columns * 2" if self.labels_only else f"{alias}.columns * 4 + 2"

    @property
    def longer_words(self) -> bool:
        """Whether the words starting with this one count too (as postings_sql reads them)."""
        return self.prefix and len(self.word) >= 3

    def own_score(self, columns: int) -> int:
        """What a posting of the word itself scores (as postings_sql scores it)."""
        return columns * 2 if self.labels_only else columns * 4 + 2

    @staticmethod
    def _album_filter(alias: str, is_album: bool, albums) -> tuple[str, list]:
        if is_album:
            return "", []
        if albums is None:
            return f" AND {alias}.album IS NULL", []
        return f" AND ({alias}.album IS NULL OR {alias}.album IN ({albums[0]}))", list(albums[1])

    def _capped_sql(self, is_album: bool, position: int, albums, cap: int) -> tuple[str, list]:
        """The same rows from a bounded read: the word's first `cap` postings in the index's order (strongest columns
        first, then by id, the ranking's own tie order), so that a word held by half a million pictures costs what a
        word held by `cap` does. The weak postings a picture has from its albums (context, the weakest) come last in
        that order: the first `cap` of them are read as well, for the pictures read first only, so that those get
        their whole score. A longer word of a prefix is read in word order, `cap` postings at most (binary order of
        the words, strongest first within each)."""
        head = f"SELECT p.object_id, p.columns, p.term, p.album FROM {TABLE} p WHERE p.is_album = %s AND "
        best_first = f" ORDER BY p.columns DESC, p.object_id LIMIT {int(cap)}"
        labels = f" AND p.columns >= {LABELS}" if self.labels_only else ""
        first, first_params = f"{head}p.term = %s{labels}{best_first}", [is_album, self.word]
        strong = f"CASE WHEN b.columns > {CONTEXT} THEN {position} ELSE -1 END AS strong"
        album_where, album_params = self._album_filter("b", is_album, albums)
        prefix = self.prefix and len(self.word) >= 3
        select = f"SELECT b.object_id, b.album, {'b.columns * 4 + 2' if prefix else self._score('b')} AS score, "
        branches = [
            (
                f"{select}{position} AS position, {strong} FROM ({first}) b WHERE 1 = 1{album_where}",
                [*first_params, *album_params],
            )
        ]
        if not is_album and albums is not None and not self.labels_only:
            branches.append(
                (
                    f"{select}{position} AS position, {strong} "
                    f"FROM ({head}p.term = %s AND p.columns = {CONTEXT} AND p.album IS NOT NULL{best_first}) b "
                    f"WHERE b.album IN ({albums[0]}) AND b.object_id IN (SELECT f.object_id FROM ({first}) f)",
                    [is_album, self.word, *albums[1], *first_params],
                )
            )
        if prefix:  # longer words: in labels and names only, as unbounded (they score no bonus for being whole)
            branches.append(
                (
                    f"SELECT b.object_id, b.album, b.columns * 4 AS score, {position} AS position, {strong} "
                    f"FROM ({head}p.term > %s AND p.term < %s ORDER BY p.term, p.columns DESC, p.object_id "
                    f"LIMIT {int(cap)}) b WHERE b.columns >= {COLUMN_BITS['names']}{album_where}",
                    [is_album, self.word, self._after(), *album_params],
                )
            )
        # UNION, not UNION ALL: a posting both reads of the word found counts once.
        union = " UNION ".join(f"SELECT * FROM ({sql}) r{i}" for i, (sql, _) in enumerate(branches))
        return (
            f"SELECT u.object_id, u.score, u.position, u.strong FROM ({union}) u",
            [param for _, params in branches for param in params],
        )


def _all_of(words: list[str], **options) -> list[_Word]:
    """Each word once; as prefixes, a word that starts another adds nothing ("bea beach" needs "beach*" only)."""
    unique = list(dict.fromkeys(words))
    if options.get("prefix"):
        unique = [w for w in unique if not any(o != w and o.startswith(w) for o in unique)]
    return [_Word(word, **options) for word in unique]


def _grouped_sql(
    is_album: bool,
    words: list[_Word],
    *,
    all_needed: bool,
    albums=None,
    cap: int | None = None,
    within=None,
    strong_only: bool = False,
    driver: _Word | None = None,
) -> tuple[str, list]:
    """(object_id, score) of the documents holding any of `words` (or, with `all_needed`, all of them); STRONG is
    added when one of them (or all of them) is held outside the context column.

    Any word strong is MAX(strong) >= 0, not a COUNT(DISTINCT …): PostgreSQL can only sort for that, not hash, and
    a common word has 300,000 postings in a million-picture library (bench/README.md). All words are counted the same
    way, one MAX per word (which words are held, which strongly): "beach sunset" at a million, 449 → 326 ms (grouping
    per document and word first, to count plainly, was slower there: two hashes of 350,000 rows).

    `driver` (with `all_needed`, one of `words`): only the documents holding it can match, so each other word's
    postings are checked against its documents before the grouping (see _driver)."""
    branches = []
    driven = within
    if driver is not None:
        driver_sql, driver_params = driver.postings_sql(is_album, 0, albums, cap, within, strong_only)
        driven = (f"SELECT d.object_id FROM ({driver_sql}) d", driver_params)
    for position, word in enumerate(words):
        among = within if word == driver else driven
        branches.append(word.postings_sql(is_album, position, albums, cap, among, strong_only))
    union = " UNION ALL ".join(sql for sql, _ in branches)
    if not all_needed:
        sql = (
            f"SELECT w.object_id, SUM(w.score) + CASE WHEN MAX(w.strong) >= 0 THEN {STRONG} ELSE 0 END AS score "
            f"FROM ({union}) w GROUP BY w.object_id"
        )
    else:
        strong = " + ".join(f"MAX(CASE WHEN w.strong = {i} THEN 1 ELSE 0 END)" for i in range(len(words)))
        sql = (
            f"SELECT w.object_id, SUM(w.score) + CASE WHEN {strong} >= {len(words)} THEN {STRONG} ELSE 0 END AS score "
            f"FROM ({union}) w GROUP BY w.object_id"
        )
        if len(words) > 1:
            held = " + ".join(f"MAX(CASE WHEN w.position = {i} THEN 1 ELSE 0 END)" for i in range(len(words)))
            sql += f" HAVING {held} = {len(words)}"
    return sql, [param for _, params in branches for param in params]


# How far the postings of a word are counted (_held_counts): a word with fewer, and at most half of another's, drives
# the reading of the others (_driver). Counting costs what reading this many index entries does, a few ms a word.
DRIVER_COUNT = 20_000


def _held_counts(is_album: bool, alternatives: list[list[_Word]], counts: dict) -> dict:
    """{word: its postings, counted up to DRIVER_COUNT} of the words of `alternatives`, kept in `counts` (by kind and
    word) so the statements of one search count once: one statement for the words not counted yet."""
    words = list(dict.fromkeys(word for words in alternatives for word in words))
    missing = [word for word in words if (is_album, word) not in counts]
    if missing:
        reads, params = [], []
        for word in missing:
            if word.longer_words:
                where, where_params = "p.term >= %s AND p.term < %s", [word.word, word._after()]
            else:
                where, where_params = "p.term = %s", [word.word]
            if word.labels_only:
                where += f" AND p.columns >= {LABELS}"
            reads.append(
                f"(SELECT COUNT(*) FROM (SELECT 1 AS one FROM {TABLE} p WHERE p.is_album = %s AND {where} "
                f"LIMIT {DRIVER_COUNT}) c{len(reads)})"
            )
            params += [is_album, *where_params]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(reads)}", params)
            counted = cursor.fetchone()
        counts.update(((is_album, word), int(count)) for word, count in zip(missing, counted, strict=True))
    return {word: counts[(is_album, word)] for word in words}


def _driver(words: list[_Word], held: dict) -> _Word | None:
    """The word of an alternative that must hold all its words whose documents are the only candidates, when it is
    rare next to the others ("2019" among a million pictures' "beach": 10,000 postings and 180,000): each other
    word's postings are then checked against its documents before the grouping (a hash of 10,000 ids probed while
    reading the index) rather than all grouped (390 ms at a million, bench/README.md). None when no word is (or the
    counts are unknown): the grouping is as cheap as the check then. Any word gives the same result; only the work
    differs."""
    if not held or len(words) < 2:
        return None
    rarest = min(words, key=lambda word: held[word])
    others = [held[word] for word in words if word != rarest]
    if held[rarest] >= DRIVER_COUNT or any(count < min(2 * held[rarest], DRIVER_COUNT) for count in others):
        return None
    return rarest


def _alternatives(required: list[str], phrases=(), label_phrases=()) -> list[list[_Word]]:
    alternatives = [_all_of(required, prefix=True)] if required else []
    alternatives += [_all_of(words) for words in phrases if words]
    alternatives += [_all_of(words, labels_only=True) for words in label_phrases if words]
    return alternatives


def match_sql(
    kind: str,
    required: list[str],
    phrases: list[list[str]] = (),
    label_phrases: list[list[str]] = (),
    *,
    albums=None,
    cap: int | None = None,
    within=None,
    counts: dict | None = None,
) -> tuple[str, list] | None:
    """SQL selecting (object_id, score) of the documents of `kind` ("photo" or "album") that hold all `required`
    words (as prefixes) anywhere, or all words of one of the `phrases` anywhere, or of one of the `label_phrases` in
    their labels; a document matching several alternatives adds their scores. None when there is nothing to look
    for. Alternatives of one word each go into one scan of the index. `albums`, `cap` and `within`: see
    _Word.postings_sql. `counts`: a dict to keep how many postings each word has (_held_counts) from one statement
    of the query to the next; None: no word drives another."""
    is_album = kind == "album"
    alternatives = _alternatives(required, phrases, label_phrases)
    single = [word for words in alternatives if len(words) == 1 for word in words]
    options = {"albums": albums, "cap": cap, "within": within}
    parts = [_grouped_sql(is_album, single, all_needed=False, **options)] if single else []
    several = [words for words in alternatives if len(words) > 1]
    # A bounded read (`cap`) is small already; else a rare word drives the reading of the common ones.
    held = _held_counts(is_album, several, counts) if several and cap is None and counts is not None else {}
    parts += [
        _grouped_sql(is_album, words, all_needed=True, driver=_driver(words, held), **options) for words in several
    ]
    if len(parts) <= 1:
        return parts[0] if parts else None
    union = " UNION ALL ".join(sql for sql, _ in parts)
    strong = f"CASE WHEN a.score >= {STRONG} THEN 1 ELSE 0 END"  # the bonus once, however many alternatives
    return (
        f"SELECT a.object_id, SUM(a.score) - (SUM({strong}) - MAX({strong})) * {STRONG} AS score "
        f"FROM ({union}) a GROUP BY a.object_id",
        [param for _, params in parts for param in params],
    )


def ranked_sql(
    kind: str, terms: tuple, limit: int, albums=None, bounded: bool = True, counts: dict | None = None
) -> tuple[str, list] | None:
    """SQL selecting (object_id, score) of the best `limit` matching documents, best first; `bounded`: from each
    word's strongest `limit` postings only (see _Word._capped_sql), so that its work does not grow with the library.
    What that misses (a document whose words all rank beyond the first `limit` postings of each; the documents
    holding all of several common words) the caller looks for unbounded when too few come out. `counts`: see
    match_sql."""
    match = match_sql(kind, *terms, albums=albums, cap=limit if bounded else None, counts=counts)
    if match is None:
        return None
    return f"SELECT * FROM ({match[0]}) m ORDER BY m.score DESC, m.object_id LIMIT %s", [*match[1], limit]


def labelled_sql(kind: str, words: list[str]) -> tuple[str, list]:
    """SQL selecting, unranked, the ids of documents of `kind` that hold all `words` in their labels (`p.object_id`,
    to be narrowed further): the first word's range of the index, and one index lookup per row for each other word.
    Cheap to stop at the first row, as a check whether anything visible carries a label is."""
    sql = f"SELECT p.object_id FROM {TABLE} p WHERE p.is_album = %s AND p.term = %s AND p.columns >= {LABELS}"
    params = [kind == "album", words[0]]
    for word in words[1:]:
        sql += (
            f" AND EXISTS (SELECT 1 FROM {TABLE} o WHERE o.is_album = p.is_album AND o.term = %s"
            f" AND o.columns >= {LABELS} AND o.object_id = p.object_id)"
        )
        params.append(word)
    return sql, params


# Words looked up per statement by `present_terms`: SQLite allows at most 500 SELECTs in one UNION.
PRESENT_TERMS_PER_QUERY = 400


def present_terms(words: list[str]) -> list[str]:
    """Which of these words some picture or album holds (whoever may see it): one probe of the index each, stopping at
    its first posting, so a common word costs no more than a rare one."""
    words = list(dict.fromkeys(words))
    probe = f"SELECT 1 FROM {TABLE} p WHERE p.is_album = %s AND p.term = t.term"
    found = []
    for start in range(0, len(words), PRESENT_TERMS_PER_QUERY):
        chunk = words[start : start + PRESENT_TERMS_PER_QUERY]
        if connection.vendor == "postgresql":  # one array: planning 400 SELECTs took PostgreSQL ~30 ms
            listed, listed_params = "SELECT unnest(%s::text[]) AS term", [chunk]
        else:
            listed, listed_params = " UNION ALL ".join(["SELECT %s AS term"] * len(chunk)), chunk
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT t.term FROM ({listed}) t WHERE EXISTS ({per_row(probe)}) OR EXISTS ({per_row(probe)})",
                [*listed_params, False, True],
            )
            found += [term for (term,) in cursor.fetchall()]
    return found


def holding_sql(kind: str, word: str, albums=None) -> tuple[str, list]:
    """SQL selecting, unranked, the ids of documents of `kind` that hold `word` whole in any column (`h.object_id`,
    to be narrowed further), counting a picture's words from its albums only for `albums` (see _Word.postings_sql)."""
    sql, params = _Word(word).postings_sql(kind == "album", 0, albums)
    return f"SELECT h.object_id FROM ({sql}) h", params


def per_row(subquery_sql: str) -> str:
    """A correlated subquery the database should run per outer row (a few index lookups each). PostgreSQL would
    otherwise turn an EXISTS on the primary key into a hash of the whole subquery: every picture the viewer may see,
    to check a few thousand candidates; OFFSET 0 keeps it a subplan."""
    return f"{subquery_sql} OFFSET 0" if connection.vendor == "postgresql" else subquery_sql


@dataclass
class _BestRead:
    """What a bounded read learnt of one word (see settled_ranking)."""

    own: dict  # order key of the object id -> columns of its own posting (not from an album), for those read
    frontier: tuple | None  # (columns, order key of the object id) of the last posting read; None: all were read
    longer: dict  # order key -> (score, strong) of the longer words of a prefix (all of them read)
    any_album: bool  # some picture may have the word from one of its albums not read yet
    album_ids: list = field(default_factory=list)  # order keys of the pictures of the album postings read
    album_frontier: str = ""  # order key of the last album posting read, when some were not read
    albums: dict = field(default_factory=dict)  # order key -> its visible albums' postings, for the documents seen
    ids: dict = field(default_factory=dict)  # order key -> the object id as the database gives it


def settled_ranking(kind: str, terms: tuple, limit: int, albums=None, enough: int = 0) -> tuple[list, bool] | None:
    """The best matches of a query whose words must all be held ("beach sunset", "golden retriever"), from each
    word's strongest `limit` postings (the best-first index) instead of every posting: ([(object_id, score)] best
    first, at most `limit`, exactly the first of ranking every match (match_sql); whether they are all the matches).
    Fewer than `limit` when the reads cannot settle more; None when a read would not be bounded (a prefix with more
    than `limit` longer words' postings) or fewer than `enough` could settle: the caller ranks every posting then.

    A threshold algorithm without random access to the postings' columns: a document read in every word is scored
    exactly (its albums' postings are looked up, one index probe each); any other may still hold a word's posting
    below where the read of that word stopped, so it scores at most that posting's score there (and, never read,
    ALBUM_SCORE for each album it may be in). A document is settled when it ranks before every such bound, ties
    broken by id as the ranking does: a document past a word's last posting read has a greater id or a weaker
    posting. Words drawn from one independent library rarely meet among their first postings ("beach sunset" at a
    million: the caller ranks every posting then); a label of several words ("golden retriever") settles at once."""
    _note_order()
    is_album = kind == "album"
    alternatives = _alternatives(*terms)
    words = list(dict.fromkeys(word for words in alternatives for word in words))
    with_albums = not is_album and albums is not None
    if enough and _too_few_readable(words, is_album, limit, enough):
        return None
    reads = {word: _best_read(word, is_album, albums, limit) for word in words}
    if not all(_read_the_rest(read, word, is_album, albums, limit) for word, read in reads.items()):
        return None
    seen = {}  # order key -> object id (as the database gives it)
    for read in reads.values():
        seen.update(read.ids)
    if with_albums:
        for word, read in reads.items():
            if read.album_ids:
                read.albums = _album_postings(word, seen, albums)
    most_albums = _most_albums() if with_albums and any(r.any_album for r in reads.values()) else 0

    settled, threat = [], None  # threat: (-score, order key) of the best a document not settled may rank
    plan = [[(word, reads[word]) for word in words] for words in alternatives]
    for key, object_id in seen.items():
        exact, score = _bounds(plan, key)
        if score is None:
            continue
        if exact:
            settled.append((-score, key, object_id))
        elif threat is None or (-score, key) < threat:
            threat = (-score, key)
    unseen = _unseen_bound(alternatives, reads, most_albums)
    if unseen is not None and (threat is None or unseen < threat):
        threat = unseen
    settled.sort()
    ranked = [(object_id, -score) for score, key, object_id in settled if threat is None or (score, key) < threat]
    return ranked[:limit], threat is None


def strong_ranking(kind: str, terms: tuple, limit: int, albums=None, enough: int = 0) -> tuple[list, bool] | None:
    """The best matches of a query of several words that must all be held and nothing else ("beach sunset"), when
    at least `enough` documents hold every word strongly (outside the context column): ([(object_id, score)] best
    first, at most `limit`, exactly the first of ranking every match (match_sql); False: not known to be all of them).
    None otherwise: the caller ranks every posting then.

    A strong match ranks before every weak one (STRONG), and what it holds strongly is a prefix of each word's range
    in the index (columns DESC): those postings alone are joined in the database, without the words' context
    postings (most of a common word's: each album saying it, for each of its pictures). What its weak postings add
    (its own context posting and one for each album the viewer may see that says the word) is counted in the same
    statement, only for the strong matches that may still reach the best `limit` (the `limit`-th best score of the
    strong postings less the most weak postings may add, see below): an index probe each, rather than reading each
    word's whole context run (bench/README.md). Independent common words meet too rarely among their first postings
    for settled_ranking; grouping every posting cost 335 ms CPU there."""
    required, phrases, label_phrases = terms
    if phrases or label_phrases:
        return None
    words = _all_of(required, prefix=True)
    if len(words) < 2:
        return None
    is_album = kind == "album"
    longer = _longer_held(is_album, words)
    strong, params = (not longer and _strong_join_sql(is_album, words)) or _grouped_sql(
        is_album, words, all_needed=True, strong_only=True
    )
    album_where, album_params = _Word._album_filter("p", is_album, albums)
    wanted = int(max(limit, enough))
    # Only a strong match that may still reach the best `wanted` has its weak postings counted. The `wanted`-th best
    # score of the strong postings alone is at most the `wanted`-th best total, and what weak postings add is bounded:
    # for each word, one posting from each album a picture is in (its home and placements), and its own context
    # posting when it holds the word strongly only through a longer word. A strong match scoring less than that
    # `wanted`-th score, less the most its weak postings may add, cannot reach the best `wanted`.
    from_albums = "0" if is_album else f"{len(words)} * ({_most_albums_sql()})"  # an album has none from albums
    kth = (
        f"(SELECT k.score FROM s k ORDER BY k.score DESC LIMIT 1 OFFSET {wanted - 1}) "
        f"- {ALBUM_SCORE} * ({len(longer)} + {from_albums})"
    )
    # Too few strong matches (fewer than `enough`): none is counted, the caller ranks every posting.
    cut = f"CASE WHEN (SELECT COUNT(*) FROM s n) >= {int(enough)} THEN {kth} END" if enough else f"COALESCE({kth}, 0)"
    # Each candidate's context postings of each word: one index probe a candidate on PostgreSQL (an array), where
    # reading the word's whole context run (each album saying it, for each of its pictures) cost more.
    among = (
        "= ANY(ARRAY(SELECT c.object_id FROM c))"
        if connection.vendor == "postgresql"
        else "IN (SELECT c.object_id FROM c)"
    )
    # Each weak posting found adds ALBUM_SCORE to its candidate's strong score: summed in one grouping rather than
    # joined, as the planner cannot tell how many probes find a posting and looped over candidates × postings.
    weak = []
    for word in words:
        weak.append(
            f"SELECT p.object_id, {ALBUM_SCORE} AS score FROM {TABLE} p WHERE p.is_album = %s AND p.term = %s "
            f"AND p.columns = {CONTEXT}{album_where} AND p.object_id {among}"
        )
        params += [is_album, word.word, *album_params]
    union = " UNION ALL ".join(["SELECT c.object_id, c.score FROM c", *weak])
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH s AS ({strong}), c AS (SELECT s.object_id, s.score FROM s WHERE s.score >= {cut}) "
            f"SELECT u.object_id, SUM(u.score) AS total FROM ({union}) u GROUP BY u.object_id "
            f"ORDER BY total DESC, u.object_id LIMIT {wanted}",
            params,
        )
        rows = cursor.fetchall()
    if not rows or len(rows) < enough:
        return None
    return [(object_id, int(score)) for object_id, score in rows[:limit]], False


def _strong_join_sql(is_album: bool, words: list[_Word]) -> tuple[str, list] | None:
    """(object_id, score) of the documents holding every word strongly, as a join of each word's postings above the
    context column (one a document: its own), for words no document holds through a longer word (_longer_held: with
    those, several postings a document, grouped instead); None on databases other than PostgreSQL.
    Grouping the 224,000 such postings of "beach sunset" at 1,000,000 took PostgreSQL 270 ms (a hash of every
    document holding either, spilled to disk); joining them, 80 ms. PostgreSQL only: SQLite and MariaDB
    join by nested loops, and the index orders a word's postings by columns before the document, so each posting of
    one word scanned every strong posting of the other ("beach sunset" at 100,000 pictures on SQLite: 9 s CPU);
    they group."""
    if connection.vendor != "postgresql":
        return None

    def held(i: int, word: _Word) -> str:
        labels = f" AND p{i}.columns >= {LABELS}" if word.labels_only else ""
        return f"p{i}.is_album = %s AND p{i}.term = %s AND p{i}.columns > {CONTEXT}{labels}"

    scores = " + ".join(word._score(f"p{i}") for i, word in enumerate(words))
    joins = "".join(
        f" JOIN {TABLE} p{i} ON p{i}.object_id = p0.object_id AND {held(i, word)}" for i, word in enumerate(words) if i
    )
    params = [param for word in [*words[1:], words[0]] for param in (is_album, word.word)]
    return f"SELECT p0.object_id, {scores} + {STRONG} AS score FROM {TABLE} p0{joins} WHERE {held(0, words[0])}", params


def _longer_held(is_album: bool, words: list[_Word]) -> list[_Word]:
    """The words some document holds through a longer word (a prefix's, in the labels or names): one probe each."""
    held = []
    with connection.cursor() as cursor:
        for word in words:
            if word.longer_words:
                cursor.execute(
                    f"SELECT 1 FROM {TABLE} p WHERE p.is_album = %s AND p.term > %s AND p.term < %s "
                    f"AND p.columns >= {COLUMN_BITS['names']} LIMIT 1",
                    [is_album, word.word, word._after()],
                )
                if cursor.fetchone():
                    held.append(word)
    return held


def _too_few_readable(words: list[_Word], is_album: bool, limit: int, enough: int) -> bool:
    """Whether the reads of settled_ranking cannot settle `enough` documents: only a document read in each word can
    be settled (but where a word's postings below its read cannot exist: all were read, or the read ends in the
    context column, or in the labels for a word wanted there only), so when every read is open-ended and fewer than
    `enough` documents are among the own postings read of every word, the rest of the work is not worth doing.
    Decided in the database from the same reads (_best_read), without sending their rows here: for two common words
    that meet at random ("beach sunset"), building the 8,000 rows' ids in Python cost more than the reads."""
    reads, params = [], []
    for word in words:
        labels = f" AND p.columns >= {LABELS}" if word.labels_only else ""
        reads.append(
            f"SELECT p.object_id, p.columns, p.album FROM {TABLE} p WHERE p.is_album = %s AND p.term = %s{labels} "
            f"ORDER BY p.columns DESC, p.object_id LIMIT {int(limit)}"
        )
        params += [is_album, word.word]
    ends = ", ".join(f"(SELECT COUNT(*) FROM r{i}), (SELECT MIN(r{i}.columns) FROM r{i})" for i in range(len(words)))
    # INTERSECT, not a join: the planner cannot tell how many of a read are own postings and may loop over pairs.
    held = " INTERSECT ".join(f"SELECT r{i}.object_id FROM r{i} WHERE r{i}.album IS NULL" for i in range(len(words)))
    ctes = ", ".join(f"r{i} AS ({sql})" for i, sql in enumerate(reads))
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {ctes} SELECT {ends}, (SELECT COUNT(*) FROM ({held}) h)", params)
        row = cursor.fetchone()
    for i, word in enumerate(words):
        count, last = row[2 * i], row[2 * i + 1]
        if count < limit or last in (CONTEXT, LABELS if word.labels_only else -1):
            return False  # a read that ends where no posting of the word can lie below it
    return row[-1] < enough


def _best_read(word: _Word, is_album: bool, albums, limit: int) -> _BestRead:
    """The word's own first `limit` postings, strongest first."""
    labels = f" AND p.columns >= {LABELS}" if word.labels_only else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.object_id, p.columns, p.album FROM {TABLE} p WHERE p.is_album = %s AND p.term = %s{labels} "
            f"ORDER BY p.columns DESC, p.object_id LIMIT {int(limit)}",
            [is_album, word.word],
        )
        rows = cursor.fetchall()
    ids, own = {}, {}
    for object_id, columns, album in rows:
        if album is None:
            key = _order_key(object_id)
            ids[key], own[key] = object_id, columns
    frontier = (rows[-1][1], _order_key(rows[-1][0])) if len(rows) == limit else None
    return _BestRead(own, frontier, {}, False, ids=ids)


def _read_the_rest(read: _BestRead, word: _Word, is_album: bool, albums, limit: int) -> bool:
    """The longer words of a prefix (False when more than `limit` postings) and the word's first `limit` postings
    from albums, into `read`."""
    with connection.cursor() as cursor:
        longer = read.longer
        if word.longer_words:  # in the labels and names only, as postings_sql counts them
            visible, visible_params = _visible_flag(is_album, albums)
            cursor.execute(
                f"SELECT p.object_id, p.columns, {visible} FROM {TABLE} p WHERE p.is_album = %s AND p.term > %s "
                f"AND p.term < %s ORDER BY p.term, p.columns DESC, p.object_id LIMIT {int(limit) + 1}",
                [*visible_params, is_album, word.word, word._after()],
            )
            rows = cursor.fetchall()
            if len(rows) > limit:
                return False
            for object_id, columns, shown in rows:
                if columns >= COLUMN_BITS["names"] and shown:
                    key = _order_key(object_id)
                    read.ids[key] = object_id
                    longer[key] = (longer.get(key, (0, True))[0] + columns * 4, True)
        if not is_album and albums is not None and not word.labels_only:  # in id order: a picture's run at once
            cursor.execute(
                f"SELECT p.object_id FROM {TABLE} p WHERE p.is_album = %s AND p.term = %s AND p.columns = {CONTEXT} "
                f"AND p.album IS NOT NULL ORDER BY p.columns DESC, p.object_id LIMIT {int(limit)}",
                [False, word.word],
            )
            found = {_order_key(object_id): object_id for (object_id,) in cursor.fetchall()}
            read.ids.update(found)
            read.album_ids = list(found)
            read.any_album = len(read.album_ids) == limit  # a picture in several albums counts more than once
            read.album_frontier = read.album_ids[-1] if read.any_album else ""
    return True


def _visible_flag(is_album: bool, albums) -> tuple[str, list]:
    """1 when a posting counts for the viewer (see _Word._album_filter), else 0."""
    if is_album:
        return "1", []
    if albums is None:
        return "CASE WHEN p.album IS NULL THEN 1 ELSE 0 END", []
    return f"CASE WHEN p.album IS NULL OR p.album IN ({albums[0]}) THEN 1 ELSE 0 END", list(albums[1])


def _album_postings(word: _Word, seen: dict, albums) -> dict:
    """{order key: how many of its albums the viewer may see say the word} of the documents `seen` (order key ->
    object id): one index probe per picture."""
    head = (
        f"SELECT p.object_id, COUNT(*) FROM {TABLE} p WHERE p.is_album = %s AND p.term = %s "
        f"AND p.columns = {CONTEXT} AND p.album IS NOT NULL AND p.album IN ({albums[0]}) AND p.object_id"
    )
    return _counts_by_document(head, [False, word.word, *albums[1]], list(seen.values()))


def _most_albums_sql() -> str:
    """SQL of the most albums one picture is in (its home album and those it is placed in)."""
    placement = AlbumPlacement._meta
    photo = connection.ops.quote_name(placement.get_field("photo").column)
    return (
        f"SELECT 1 + COALESCE(MAX(a.n), 0) FROM (SELECT COUNT(*) AS n FROM "
        f"{connection.ops.quote_name(placement.db_table)} GROUP BY {photo}) a"
    )


def _most_albums() -> int:
    """The most albums one picture is in (its home album and those it is placed in)."""
    placements = (
        AlbumPlacement.objects.values("photo").annotate(n=Count("pk")).order_by("-n").values_list("n", flat=True)
    )
    return 1 + (placements.first() or 0)


def _bounds(plan: list, key: str) -> tuple[bool, int | None]:
    """(exact, score) of a document read in some word: its score when every word is known of it, else the most it
    may score; None when it cannot match."""
    total, any_strong, exact = 0, False, True
    matched = False
    for words in plan:
        low = high = 0
        held = possible = strong = strong_possible = True
        known = True
        for word, read in words:
            score, has, is_strong = 0, False, False
            columns = read.own.get(key)
            if columns is not None:
                score, has, is_strong = word.own_score(columns), True, columns > CONTEXT
            count = read.albums.get(key, 0)
            if count:
                score, has = score + count * ALBUM_SCORE, True
            longer = read.longer.get(key)
            if longer:
                score, has, is_strong = score + longer[0], True, True
            extra, maybe_strong = 0, False
            if columns is None and read.frontier is not None:  # its own posting may lie below the read
                last, last_key = read.frontier
                below = last if key >= last_key else last - 1
                if word.labels_only and below < LABELS:
                    below = 0
                if below > 0:
                    extra, maybe_strong, known = word.own_score(below), below > CONTEXT, False
            low, high = low + score, high + score + extra
            held, possible = held and has, possible and (has or extra > 0)
            strong, strong_possible = strong and is_strong, strong_possible and (is_strong or maybe_strong)
        if known:
            if held:
                total, any_strong, matched = total + low, any_strong or strong, True
        else:
            exact = False
            if possible:
                total, any_strong, matched = total + high, any_strong or strong_possible, True
    if not matched:
        return exact, None
    return exact, total + (STRONG if any_strong else 0)


def _unseen_bound(alternatives, reads: dict, most_albums: int) -> tuple[int, str] | None:
    """(-score, order key) of the best a document no read met may rank: in each word, a posting as strong as the
    last one read (and so an id after it) and a word of each album it may be in; None when it cannot match."""
    total, any_strong, matched, after = 0, False, False, ""
    for words in alternatives:
        high, possible, strong_possible, keys = 0, True, True, []
        for word in words:
            read = reads[word]
            own = read.frontier is not None
            album = read.any_album and not word.labels_only and most_albums
            high += (word.own_score(read.frontier[0]) if own else 0) + (album * ALBUM_SCORE if album else 0)
            possible = possible and (own or bool(album))
            strong_possible = strong_possible and own and read.frontier[0] > CONTEXT
            if own:
                keys.append(read.frontier[1])
            if album:  # and its albums' postings after the last one read
                keys.append(read.album_frontier)
        if possible:
            total, any_strong, matched = total + high, any_strong or strong_possible, True
            after = max([after, *keys])
    if not matched:
        return None
    # Past the last posting read of a word, at its columns, the id is greater: only a document with a smaller id
    # ranks before it at an equal score ("~" sorts after every hex digit).
    return -(total + (STRONG if any_strong else 0)), after + "~" if after else ""


def _order_key(object_id) -> str:
    """An object id as the database orders it (the ranking's tie order): MariaDB's UUID type compares its groups
    last first."""
    hexed = object_id.hex if isinstance(object_id, uuid.UUID) else str(object_id).replace("-", "").lower()
    return hexed[20:] + hexed[16:20] + hexed[12:16] + hexed[8:12] + hexed[:8] if _SWAPPED[0] else hexed


_SWAPPED = [False]  # whether object ids compare as MariaDB's UUID type does, for the connection in use


def _note_order() -> None:
    _SWAPPED[0] = connection.vendor == "mysql" and connection.features.has_native_uuid_field


def _counts_by_document(head: str, params: list, object_ids: list) -> dict:
    """{order key: count} of `head` (a COUNT(*) ending in "p.object_id", its `params`) for these documents: one
    array on PostgreSQL, lists of 500 elsewhere (MariaDB and SQLite bind each id)."""
    if connection.vendor == "postgresql":
        chunks = [(" = ANY(%s::uuid[])", [object_ids])]
    else:
        chunks = [
            (f" IN ({', '.join(['%s'] * len(part))})", part)
            for part in (object_ids[start : start + 500] for start in range(0, len(object_ids), 500))
        ]
    counts = {}
    with connection.cursor() as cursor:
        for condition, chunk in chunks:
            cursor.execute(f"{head}{condition} GROUP BY p.object_id", [*params, *chunk])
            counts.update((_order_key(object_id), count) for object_id, count in cursor.fetchall())
    return counts
