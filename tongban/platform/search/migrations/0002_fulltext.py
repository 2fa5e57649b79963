"""The native full-text parts: a generated tsvector + GIN index on PostgreSQL, an FTS5
table kept in step by triggers on SQLite. Other databases are not supported."""

from __future__ import annotations

from typing import Any

from django.db import migrations

TABLE = "search_searchdocument"
FTS = "search_searchdocument_fts"

POSTGRES_FORWARD = [
    f"""ALTER TABLE {TABLE} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', tokens_title), 'A')
        || setweight(to_tsvector('simple', tokens_keywords), 'B')
        || setweight(to_tsvector('simple', tokens_body), 'C')
    ) STORED""",
    f"CREATE INDEX search_document_vector ON {TABLE} USING gin (search_vector)",
    f"CREATE INDEX search_document_filters ON {TABLE} USING gin (filters jsonb_path_ops)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS search_document_filters",
    "DROP INDEX IF EXISTS search_document_vector",
    f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS search_vector",
]

_COLUMNS = "tokens_title, tokens_keywords, tokens_body"
_NEW = "new.tokens_title, new.tokens_keywords, new.tokens_body"
_OLD = "old.tokens_title, old.tokens_keywords, old.tokens_body"
SQLITE_FORWARD = [
    f"""CREATE VIRTUAL TABLE {FTS} USING fts5(
        {_COLUMNS}, content='{TABLE}', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0'
    )""",
    f"""CREATE TRIGGER {FTS}_insert AFTER INSERT ON {TABLE} BEGIN
        INSERT INTO {FTS}(rowid, {_COLUMNS}) VALUES (new.id, {_NEW});
    END""",
    f"""CREATE TRIGGER {FTS}_delete AFTER DELETE ON {TABLE} BEGIN
        INSERT INTO {FTS}({FTS}, rowid, {_COLUMNS}) VALUES ('delete', old.id, {_OLD});
    END""",
    f"""CREATE TRIGGER {FTS}_update AFTER UPDATE ON {TABLE} BEGIN
        INSERT INTO {FTS}({FTS}, rowid, {_COLUMNS}) VALUES ('delete', old.id, {_OLD});
        INSERT INTO {FTS}(rowid, {_COLUMNS}) VALUES (new.id, {_NEW});
    END""",
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS {FTS}_update",
    f"DROP TRIGGER IF EXISTS {FTS}_delete",
    f"DROP TRIGGER IF EXISTS {FTS}_insert",
    f"DROP TABLE IF EXISTS {FTS}",
]


def _run(schema_editor: Any, statements: dict[str, list[str]]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in statements:
        raise RuntimeError(f"search: no full-text support for the {vendor} database")
    for statement in statements[vendor]:
        schema_editor.execute(statement)


def forward(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, {"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD})


def backward(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, {"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD})


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
