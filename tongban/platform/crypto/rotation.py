"""Re-encrypt personal data under the newest SM4 key, online, in small batches.

Rotation, without downtime:

1. Put the new key first in ``TONGBAN_PII_KEY`` and keep the old one after it
   (``"2:<new>,1:<old>"``) on every app server and worker, then restart them one by one:
   new writes use key 2, frames under key 1 still decrypt.
2. ``tongban rotate-keys`` walks every encrypted column in primary-key order, a batch per
   transaction, and rewrites each frame that is not under the current key. The update is
   a compare-and-set on the old frame, so a row the application changed meanwhile is left
   alone (its new value is already under the new key). Frames under the current key are
   skipped: the command is idempotent and a killed run simply resumes where it stopped.
3. When the command reports nothing left under old keys, drop the old key from the ring.

Encrypted columns are found by themselves (every ``EncryptedTextField``); code that stores
frames in a plain ``BinaryField`` registers the column with ``register_encrypted_column``
(from its app's ``ready()``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction

from tongban.platform.crypto.fields import EncryptedTextField
from tongban.platform.crypto.sm import (
    DecryptionError,
    frame_key_id,
    pii_key_id,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
)


@dataclass(frozen=True)
class EncryptedColumn:
    model: type[models.Model]
    field_name: str
    purpose: str

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field_name}"


_REGISTERED: dict[tuple[str, str], str] = {}  # (model label, field name) -> purpose


def register_encrypted_column(model: type[models.Model], field_name: str, purpose: str) -> None:
    """Declare a plain ``BinaryField`` holding ``encrypt_text(..., purpose=purpose)`` frames."""
    _REGISTERED[(model._meta.label, field_name)] = purpose


def encrypted_columns() -> list[EncryptedColumn]:
    """Every column holding SM4 frames of personal data, in a stable order."""
    found: list[EncryptedColumn] = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, EncryptedTextField):
                found.append(EncryptedColumn(model, model_field.name, model_field.purpose))
            elif (model._meta.label, model_field.name) in _REGISTERED:
                purpose = _REGISTERED[(model._meta.label, model_field.name)]
                found.append(EncryptedColumn(model, model_field.name, purpose))
    return sorted(found, key=lambda column: column.label)


@dataclass
class ColumnReport:
    label: str
    rows: int = 0  # rows holding a frame
    rotated: int = 0  # re-encrypted by this run
    skipped: int = 0  # changed by the application meanwhile (already under the new key)
    failed: list[str] = field(default_factory=list)  # primary keys that did not decrypt


@dataclass
class RotationReport:
    key_id: int
    columns: list[ColumnReport] = field(default_factory=list)

    @property
    def rotated(self) -> int:
        return sum(column.rotated for column in self.columns)

    @property
    def failed(self) -> int:
        return sum(len(column.failed) for column in self.columns)


def _sql_names(column: EncryptedColumn) -> tuple[str, str, str]:
    """The quoted table, primary-key column and value column."""
    quote = connection.ops.quote_name
    meta = column.model._meta
    return (
        quote(meta.db_table),
        quote(str(meta.pk.column if meta.pk else "id")),
        quote(str(getattr(meta.get_field(column.field_name), "column", column.field_name))),
    )


def _batches(column: EncryptedColumn, batch_size: int) -> Iterator[list[tuple[Any, bytes]]]:
    """(pk as the database gives it, raw frame) in primary-key order, keyset-paginated."""
    table, pk, value = _sql_names(column)
    last: Any = None
    while True:
        where = f"{value} IS NOT NULL" + (f" AND {pk} > %s" if last is not None else "")
        params = [last] if last is not None else []
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {pk}, {value} FROM {table} WHERE {where} "  # noqa: S608
                f"ORDER BY {pk} LIMIT {int(batch_size)}",
                params,
            )
            rows = [(row[0], bytes(row[1])) for row in cursor.fetchall()]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def frames_by_key(column: EncryptedColumn, *, batch_size: int = 1000) -> dict[int, int]:
    """How many non-empty frames of the column are under each key id."""
    counts: dict[int, int] = {}
    for rows in _batches(column, batch_size):
        for _, frame in rows:
            if frame:
                key_id = frame[1] if len(frame) > 1 else 0
                counts[key_id] = counts.get(key_id, 0) + 1
    return counts


def rotate_column(
    column: EncryptedColumn, *, batch_size: int = 500, key_id: int | None = None
) -> ColumnReport:
    current = pii_key_id() if key_id is None else key_id
    report = ColumnReport(column.label)
    table, pk, value = _sql_names(column)
    associated_data = column.purpose.encode("ascii")
    update = f"UPDATE {table} SET {value} = %s WHERE {pk} = %s AND {value} = %s"  # noqa: S608
    for rows in _batches(column, batch_size):
        changes: list[tuple[Any, bytes, bytes]] = []
        for row_pk, frame in rows:
            if not frame:
                continue  # empty value of a NOT NULL column: nothing encrypted
            report.rows += 1
            try:
                if frame_key_id(frame) == current:
                    continue
                plain = sm4_gcm_decrypt(frame, associated_data=associated_data)
            except DecryptionError:
                report.failed.append(str(row_pk))
                continue
            changes.append((row_pk, frame, sm4_gcm_encrypt(plain, associated_data=associated_data)))
        if not changes:
            continue
        binary: Callable[[bytes], Any] = connection.Database.Binary  # type: ignore[attr-defined]
        with transaction.atomic(), connection.cursor() as cursor:
            for row_pk, old, new in changes:
                cursor.execute(update, [binary(new), row_pk, binary(old)])
                if cursor.rowcount == 1:
                    report.rotated += 1
                else:
                    report.skipped += 1
    return report


def rotate_keys(
    *, batch_size: int = 500, progress: Callable[[ColumnReport], None] | None = None
) -> RotationReport:
    """Re-encrypt every encrypted column under the current key (see the module docstring)."""
    report = RotationReport(key_id=pii_key_id())
    for column in encrypted_columns():
        column_report = rotate_column(column, batch_size=batch_size, key_id=report.key_id)
        report.columns.append(column_report)
        if progress is not None:
            progress(column_report)
    return report
