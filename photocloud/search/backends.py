"""Native full-text search per database: SQLite FTS5, PostgreSQL tsvector + GIN, MariaDB/MySQL FULLTEXT.

Everything that differs between databases lives here: the index set-up (run by migration 0002) and the SQL that
returns `(object_id, score)` for a parsed query, higher scores first. Queries reach the database as parameters built
only from word tokens (see query.py), quoted in each engine's own syntax, so no user text is ever part of the SQL and
no operator of the full-text languages can be smuggled in.

Column weights: labels (tags, categories) > names > descriptions > text found in the picture.
"""

from django.db import connection

COLUMNS = ("labels", "names", "body", "text")
SQLITE_WEIGHTS = "10.0, 4.0, 2.0, 1.0"  # bm25 weight of each column, in COLUMNS order
TABLE = "search_searchdocument"

# InnoDB ignores words shorter than innodb_ft_min_token_size (3) and its default stop words; a required one would
# match nothing, so such words are left out of MariaDB queries.
MYSQL_MIN_TOKEN = 3
MYSQL_STOPWORDS = frozenset(
    "a about an are as at be by com de en for from how i in is it la of on or that the this to was what when where "
    "who will with und www".split()
)

SETUP = {
    "sqlite": [
        f"CREATE VIRTUAL TABLE search_fts USING fts5({', '.join(COLUMNS)}, content='{TABLE}', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER search_fts_insert AFTER INSERT ON {TABLE} BEGIN "
        f"INSERT INTO search_fts(rowid, {', '.join(COLUMNS)}) VALUES "
        f"(new.id, {', '.join('new.' + c for c in COLUMNS)}); END",
        f"CREATE TRIGGER search_fts_delete AFTER DELETE ON {TABLE} BEGIN "
        f"INSERT INTO search_fts(search_fts, rowid, {', '.join(COLUMNS)}) VALUES "
        f"('delete', old.id, {', '.join('old.' + c for c in COLUMNS)}); END",
        f"CREATE TRIGGER search_fts_update AFTER UPDATE ON {TABLE} BEGIN "
        f"INSERT INTO search_fts(search_fts, rowid, {', '.join(COLUMNS)}) VALUES "
        f"('delete', old.id, {', '.join('old.' + c for c in COLUMNS)}); "
        f"INSERT INTO search_fts(rowid, {', '.join(COLUMNS)}) VALUES "
        f"(new.id, {', '.join('new.' + c for c in COLUMNS)}); END",
    ],
    "postgresql": [
        f"ALTER TABLE {TABLE} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
        + " || ".join(f"setweight(to_tsvector('simple', {column}), '{weight}')"
                      for column, weight in zip(COLUMNS, "ABCD", strict=True))
        + ") STORED",
        f"CREATE INDEX search_document_vector ON {TABLE} USING GIN (search_vector)",
    ],
    "mysql": [
        f"ALTER TABLE {TABLE} ADD FULLTEXT INDEX search_document_all ({', '.join(COLUMNS)})",
        *(f"ALTER TABLE {TABLE} ADD FULLTEXT INDEX search_document_{column} ({column})" for column in COLUMNS),
    ],
}

TEARDOWN = {
    "sqlite": ["DROP TRIGGER search_fts_insert", "DROP TRIGGER search_fts_delete", "DROP TRIGGER search_fts_update",
               "DROP TABLE search_fts"],
    "postgresql": ["DROP INDEX search_document_vector", f"ALTER TABLE {TABLE} DROP COLUMN search_vector"],
    "mysql": [f"ALTER TABLE {TABLE} DROP INDEX search_document_{name}" for name in ("all", *COLUMNS)],
}


def _sqlite_expression(required, phrases, label_phrases) -> str:
    def quoted(token):
        return '"' + token.replace('"', '""') + '"'

    parts = []
    if required:
        parts.append("(" + " AND ".join(quoted(t) + ("*" if len(t) >= 3 else "") for t in required) + ")")
    parts += ["(" + quoted(" ".join(phrase)) + ")" for phrase in phrases]
    parts += ["(labels : " + quoted(" ".join(phrase)) + ")" for phrase in label_phrases]
    return " OR ".join(parts)


def _postgresql_expression(required, phrases, label_phrases) -> str:
    def quoted(token, weight=""):
        return "'" + token.replace("\\", "").replace("'", "''") + "'" + weight

    parts = []
    if required:
        parts.append("(" + " & ".join(quoted(t, ":*" if len(t) >= 3 else "") for t in required) + ")")
    parts += ["(" + " <-> ".join(quoted(t) for t in phrase) + ")" for phrase in phrases]
    parts += ["(" + " <-> ".join(quoted(t, ":A") for t in phrase) + ")" for phrase in label_phrases]
    return " | ".join(parts)


def _mysql_usable(token) -> bool:
    return len(token) >= MYSQL_MIN_TOKEN and token not in MYSQL_STOPWORDS


def _mysql_expression(required, phrases, label_phrases) -> str:
    """InnoDB cannot restrict one term of a query to one column: label phrases match any column here."""
    parts = []
    kept = [t for t in required if _mysql_usable(t)]
    if kept:
        parts.append("(" + " ".join(f"+{t}*" for t in kept) + ")")
    for phrase in [*phrases, *label_phrases]:
        words = [t for t in phrase if _mysql_usable(t)]
        if words:
            parts.append('"' + " ".join(words) + '"')
    return " ".join(parts)


def _mysql_album_filter(required, phrases, label_phrases) -> tuple[str, list]:
    """The full-text condition as regular expressions over the album documents alone (a few hundred rows, found by
    their album_id): an InnoDB full-text search would go through every picture's document too."""
    text = f"CONCAT_WS(' ', {', '.join('d.' + c for c in COLUMNS)}) REGEXP %s"
    kept = [t for t in required if _mysql_usable(t)]
    alternatives = [" AND ".join([text] * len(kept))] if kept else []
    params = [rf"(?i)\b{t}" for t in kept]
    for phrase in [*phrases, *label_phrases]:
        words = [t for t in phrase if _mysql_usable(t)]
        if words:
            alternatives.append(text)
            params.append(r"(?i)\b" + r"\W+".join(words) + r"\b")
    return " OR ".join(f"({a})" for a in alternatives), params


def _mysql_weights(required, phrases, label_phrases) -> tuple[str, list]:
    """The column weights as SQL over one row's texts: whether each column holds a term, by a regular expression,
    weighted like the other engines' columns. The full-text index finds and cuts the candidates once; these few
    comparisons per candidate replace a separate full-text search per column (each one over the whole index)."""
    words = [rf"\b{t}" + ("" if len(t) >= 3 else r"\b") for t in required]
    words += [r"\b" + r"\W+".join(phrase) + r"\b" for phrase in phrases]
    labels = [r"\b" + r"\W+".join(phrase) + r"\b" for phrase in label_phrases]
    sql, params = [], []
    for column, weight in zip(COLUMNS, (10, 4, 2, 1), strict=True):
        alternatives = [*words, *labels] if column == "labels" else words
        if alternatives:
            sql.append(f"{weight} * (d.{column} REGEXP %s)")
            params.append("(?i)" + "|".join(alternatives))
    return " + ".join(sql) or "0", params


def per_row(subquery_sql: str) -> str:
    """A correlated subquery the database should run per outer row (a few index lookups each). PostgreSQL would
    otherwise turn an EXISTS on the primary key into a hash of the whole subquery: every picture the viewer may see,
    to check a few thousand candidates; OFFSET 0 keeps it a subplan."""
    return f"{subquery_sql} OFFSET 0" if connection.vendor == "postgresql" else subquery_sql


def ranked_sql(kind: str, terms: tuple, limit: int) -> tuple[str, list] | None:
    """SQL selecting (object_id, score) of the best `limit` matching documents. On SQLite the index ranks and cuts
    pictures on its own before any join (an album's document comes back with a NULL id, to skip); albums, a small
    share of the documents, and PostgreSQL rank after the join. MariaDB cuts the best `limit` by one search of the
    combined index and weighs the columns of those rows only."""
    if connection.vendor == "sqlite" and kind == "photo":
        expression = _sqlite_expression(*terms)
        sql = (f"SELECT d.photo_id AS object_id, -r.rank AS score FROM (SELECT rowid AS id, "
               f"bm25(search_fts, {SQLITE_WEIGHTS}) AS rank FROM search_fts WHERE search_fts MATCH %s "
               f"ORDER BY rank LIMIT %s) r JOIN {TABLE} d ON d.id = r.id")
        return (sql, [expression, limit]) if expression else None
    if connection.vendor == "mysql":
        expression = _mysql_expression(*terms)
        weights, weight_params = _mysql_weights(*terms)
        every = f"MATCH({', '.join(COLUMNS)}) AGAINST (%s IN BOOLEAN MODE)"
        if kind == "album":
            found, found_params = _mysql_album_filter(*terms)
            candidates = (f"SELECT d.id, 0 AS relevance FROM {TABLE} d WHERE d.album_id IS NOT NULL AND ({found}) "
                          "LIMIT %s")
        else:
            found_params = [expression, expression]
            candidates = (f"SELECT id, {every} AS relevance FROM {TABLE} WHERE {every} AND photo_id IS NOT NULL "
                          "ORDER BY relevance DESC LIMIT %s")
        sql = (f"SELECT d.{kind}_id AS object_id, {weights} + c.relevance / (c.relevance + 1) AS score FROM "
               f"({candidates}) c JOIN {TABLE} d ON d.id = c.id")
        return (sql, [*weight_params, *found_params, limit]) if expression else None
    match = match_sql(kind, *terms)
    if match is None:
        return None
    return f"SELECT * FROM ({match[0]}) m ORDER BY m.score DESC, m.object_id LIMIT %s", [*match[1], limit]


def match_sql(kind: str, required: list[str], phrases: list[list[str]] = (),
              label_phrases: list[list[str]] = ()) -> tuple[str, list] | None:
    """SQL selecting (object_id, score) of the documents of `kind` ("photo" or "album") that match: all `required`
    tokens (as prefixes) anywhere, or any of the `phrases`, or any of the `label_phrases` among the labels.
    None when nothing is left to search for."""
    column = f"d.{kind}_id"
    vendor = connection.vendor
    terms = (required, phrases, label_phrases)
    if vendor == "sqlite":
        expression = _sqlite_expression(*terms)
        sql = (f"SELECT {column} AS object_id, -bm25(search_fts, {SQLITE_WEIGHTS}) AS score FROM search_fts "
               f"JOIN {TABLE} d ON d.id = search_fts.rowid WHERE search_fts MATCH %s AND {column} IS NOT NULL")
        params = [expression]
    elif vendor == "postgresql":
        expression = _postgresql_expression(*terms)
        sql = (f"SELECT {column} AS object_id, ts_rank(d.search_vector, to_tsquery('simple', %s)) AS score "
               f"FROM {TABLE} d WHERE d.search_vector @@ to_tsquery('simple', %s) AND {column} IS NOT NULL")
        params = [expression, expression]
    elif vendor == "mysql":
        expression = _mysql_expression(*terms)
        weights, weight_params = _mysql_weights(*terms)
        every = f"MATCH({', '.join('d.' + c for c in COLUMNS)}) AGAINST (%s IN BOOLEAN MODE)"
        sql = (f"SELECT {column} AS object_id, {weights} + {every} / ({every} + 1) AS score FROM {TABLE} d "
               f"WHERE {every} AND {column} IS NOT NULL")
        params = [*weight_params, expression, expression, expression]
    else:
        raise NotImplementedError(f"Full-text search is not set up for {vendor}.")
    return (sql, params) if expression else None
