"""Bulk writes of the intake path: PostgreSQL's COPY where it is there, the ORM elsewhere.

Ten thousand events a batch spend most of their time turning Python values into SQL
(Django's compiler prepares every value of a multi-row INSERT one by one). On PostgreSQL
the rows are streamed with ``COPY`` into a session-local temporary table (psycopg 3's
``cursor.copy``) and moved into place with one set-based statement:

- the event log: ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`` (a replayed id, even
  one racing in from a concurrent batch, is skipped and reported as a duplicate);
- the case projection: ``UPDATE … FROM`` the temporary table (every row exists and is
  locked by the caller).

SQLite (the embedded default) takes the ORM path with the same results.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Field

from tongban.apps.supervision.models import ReceivedEvent, SupervisedCase

CHUNK = 2_000


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _columns(model: Any, names: Sequence[str]) -> list[Field[Any, Any]]:
    return [model._meta.get_field(name) for name in names]


def _prepare() -> None:
    """Make sure the temporary tables exist in this session (a rolled-back transaction
    takes them away again, so this is checked every time: one cheap statement each).
    ``ON COMMIT DELETE ROWS`` empties them at every commit."""
    with connection.cursor() as cursor:
        for name, source in (
            ("supervision_tmp_event", "supervision_receivedevent"),
            ("supervision_tmp_case", "supervision_supervisedcase"),
        ):
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ON COMMIT DELETE ROWS "  # noqa: S608
                f"AS SELECT * FROM {source} WITH NO DATA"
            )


def _copy(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


EVENT_COLUMNS = (
    "source_id",
    "source_event_id",
    "kind",
    "case_key",
    "occurred_at",
    "received_at",
    "payload",
)


def events_insert(rows: list[tuple[Any, ...]]) -> set[str]:
    """Insert event-log rows (``EVENT_COLUMNS`` order, payload as a dict); return the
    source event ids actually inserted (the others were there already)."""
    if not rows:
        return set()
    if not is_postgresql():
        objects = [ReceivedEvent(**dict(zip(EVENT_COLUMNS, row, strict=True))) for row in rows]
        ReceivedEvent.objects.bulk_create(objects, batch_size=CHUNK, ignore_conflicts=True)
        return {row[1] for row in rows}
    _prepare()
    _copy(
        "supervision_tmp_event",
        EVENT_COLUMNS,
        (row[:6] + (json.dumps(row[6], ensure_ascii=False),) for row in rows),
    )
    columns = ", ".join(EVENT_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO supervision_receivedevent ({columns}) "  # noqa: S608 (fixed names)
            f"SELECT {columns} FROM supervision_tmp_event "
            "ON CONFLICT (source_id, source_event_id) DO NOTHING RETURNING source_event_id"
        )
        return {row[0] for row in cursor.fetchall()}


def _case_rows(
    cases: Iterable[SupervisedCase], model_fields: Sequence[Field[Any, Any]], *, with_id: bool
) -> Iterable[list[Any]]:
    json_fields = {
        field.attname for field in model_fields if field.get_internal_type() == "JSONField"
    }
    names = [field.attname for field in model_fields]
    for case in cases:
        values: list[Any] = [case.pk] if with_id else []
        for name in names:
            value = getattr(case, name)
            values.append(json.dumps(value, ensure_ascii=False) if name in json_fields else value)
        yield values


def cases_create_missing(cases: list[SupervisedCase]) -> None:
    """Insert new case rows, skipping any a concurrent batch inserted first (it waits for
    that batch's commit, then skips)."""
    if not cases:
        return
    ordered = sorted(cases, key=lambda case: case.key)
    if not is_postgresql():
        SupervisedCase.objects.bulk_create(ordered, batch_size=CHUNK // 4, ignore_conflicts=True)
        return
    _prepare()
    model_fields = [f for f in SupervisedCase._meta.concrete_fields if f.name != "id"]
    columns = [str(field.column) for field in model_fields]
    _copy("supervision_tmp_case", columns, _case_rows(ordered, model_fields, with_id=False))
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO supervision_supervisedcase ({names}) "  # noqa: S608 (fixed names)
            f"SELECT {names} FROM supervision_tmp_case ORDER BY key "
            "ON CONFLICT (source_id, key) DO NOTHING"
        )


def cases_update(cases: list[SupervisedCase], fields: Sequence[str]) -> None:
    """Write ``fields`` of existing, locked case rows."""
    if not cases:
        return
    if not is_postgresql():  # one upsert statement per chunk (the rows exist)
        SupervisedCase.objects.bulk_create(
            sorted(cases, key=lambda case: case.key),
            batch_size=CHUNK // 4,
            update_conflicts=True,
            unique_fields=["source", "key"],
            update_fields=list(fields),
        )
        return
    _prepare()
    model_fields = _columns(SupervisedCase, fields)
    columns = ["id", *(str(field.column) for field in model_fields)]
    _copy("supervision_tmp_case", columns, _case_rows(cases, model_fields, with_id=True))
    assignments = ", ".join(f"{column} = t.{column}" for column in columns[1:])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE supervision_supervisedcase AS c SET {assignments} "  # noqa: S608
            "FROM supervision_tmp_case AS t WHERE c.id = t.id"
        )
