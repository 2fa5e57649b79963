"""Facet tokens (namespace and filter values) in the full-text index, and a separate
title+keywords vector on PostgreSQL so ranking only touches documents matching there."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import migrations, models

TABLE = "search_searchdocument"
FTS = "search_searchdocument_fts"

POSTGRES_FORWARD = [
    "DROP INDEX IF EXISTS search_document_vector",
    f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS search_vector",
    f"""ALTER TABLE {TABLE} ADD COLUMN head_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', tokens_title), 'A')
        || setweight(to_tsvector('simple', tokens_keywords), 'B')
        || setweight(to_tsvector('simple', tokens_facets), 'D')
    ) STORED""",
    f"""ALTER TABLE {TABLE} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', tokens_title), 'A')
        || setweight(to_tsvector('simple', tokens_keywords), 'B')
        || setweight(to_tsvector('simple', tokens_body), 'C')
        || setweight(to_tsvector('simple', tokens_facets), 'D')
    ) STORED""",
    f"CREATE INDEX search_document_head ON {TABLE} USING gin (head_vector)",
    f"CREATE INDEX search_document_vector ON {TABLE} USING gin (search_vector)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS search_document_head",
    "DROP INDEX IF EXISTS search_document_vector",
    f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS head_vector",
    f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS search_vector",
    f"""ALTER TABLE {TABLE} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', tokens_title), 'A')
        || setweight(to_tsvector('simple', tokens_keywords), 'B')
        || setweight(to_tsvector('simple', tokens_body), 'C')
    ) STORED""",
    f"CREATE INDEX search_document_vector ON {TABLE} USING gin (search_vector)",
]


def _sqlite_fts(columns: list[str]) -> list[str]:
    names = ", ".join(columns)
    new = ", ".join(f"new.{column}" for column in columns)
    old = ", ".join(f"old.{column}" for column in columns)
    return [
        f"DROP TRIGGER IF EXISTS {FTS}_update",
        f"DROP TRIGGER IF EXISTS {FTS}_delete",
        f"DROP TRIGGER IF EXISTS {FTS}_insert",
        f"DROP TABLE IF EXISTS {FTS}",
        f"""CREATE VIRTUAL TABLE {FTS} USING fts5(
            {names}, content='{TABLE}', content_rowid='id',
            tokenize='unicode61 remove_diacritics 0'
        )""",
        f"""CREATE TRIGGER {FTS}_insert AFTER INSERT ON {TABLE} BEGIN
            INSERT INTO {FTS}(rowid, {names}) VALUES (new.id, {new});
        END""",
        f"""CREATE TRIGGER {FTS}_delete AFTER DELETE ON {TABLE} BEGIN
            INSERT INTO {FTS}({FTS}, rowid, {names}) VALUES ('delete', old.id, {old});
        END""",
        f"""CREATE TRIGGER {FTS}_update AFTER UPDATE ON {TABLE} BEGIN
            INSERT INTO {FTS}({FTS}, rowid, {names}) VALUES ('delete', old.id, {old});
            INSERT INTO {FTS}(rowid, {names}) VALUES (new.id, {new});
        END""",
        f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
    ]


BASE_COLUMNS = ["tokens_title", "tokens_keywords", "tokens_body"]
SQLITE_FORWARD = _sqlite_fts([*BASE_COLUMNS, "tokens_facets"])
SQLITE_BACKWARD = _sqlite_fts(BASE_COLUMNS)


def _digest(value: str) -> str:
    return hashlib.sha1(value.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


def _fill_facets(apps: Any) -> None:
    # the same tokens as tongban.platform.search.facets (migrations do not import app code)
    document_model = apps.get_model("search", "SearchDocument")
    batch = []
    for document in document_model.objects.only("pk", "namespace", "filters").iterator():
        filters = document.filters or {}
        tokens = ["ns" + _digest(document.namespace)] + [
            "f" + _digest(f"{name}\x00{value}") for name, value in sorted(filters.items())
        ]
        document.tokens_facets = " ".join(tokens)
        batch.append(document)
        if len(batch) >= 2000:
            document_model.objects.bulk_update(batch, ["tokens_facets"])
            batch = []
    document_model.objects.bulk_update(batch, ["tokens_facets"])


def _run(schema_editor: Any, statements: dict[str, list[str]]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in statements:
        raise RuntimeError(f"search: no full-text support for the {vendor} database")
    for statement in statements[vendor]:
        schema_editor.execute(statement)


def forward(apps: Any, schema_editor: Any) -> None:
    _fill_facets(apps)
    _run(schema_editor, {"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD})


def backward(apps: Any, schema_editor: Any) -> None:
    _run(schema_editor, {"postgresql": POSTGRES_BACKWARD, "sqlite": SQLITE_BACKWARD})


class Migration(migrations.Migration):
    dependencies = [("search", "0002_fulltext")]

    operations = [
        migrations.AddField(
            model_name="searchdocument",
            name="tokens_facets",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.RunPython(forward, backward),
    ]
