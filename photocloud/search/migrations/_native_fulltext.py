"""The native full-text indexes Photocloud used before its postings index (migration 0002 made them, 0003 removes
them), frozen here so that both migrations keep working whatever the app's code becomes."""

COLUMNS = ("labels", "names", "body", "text")
TABLE = "search_searchdocument"

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


def set_up(apps, schema_editor):
    for statement in SETUP[schema_editor.connection.vendor]:
        schema_editor.execute(statement)


def tear_down(apps, schema_editor):
    for statement in TEARDOWN[schema_editor.connection.vendor]:
        schema_editor.execute(statement)
