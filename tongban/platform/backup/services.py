"""Back up and restore the database and the stored files; verify both against a manifest.

A backup is a directory::

    manifest.json        format, database vendor, row count of every table, SHA-256 of
                         every other file in the directory, the audit chain's head
    database.sqlite3     SQLite: a copy made with SQLite's online backup API
    database.dump        PostgreSQL: ``pg_dump -Fc`` of one consistent snapshot
    files/<name>         every stored file (``StoredFile.storage_name``), read through the
                         configured storage (local disk or object storage alike)

The row counts, the list of stored files and the dump all come from one snapshot (the
SQLite copy itself; a REPEATABLE READ transaction whose snapshot ``pg_dump --snapshot``
shares), so a backup taken while the platform serves requests is consistent. The manifest
is written last: a directory without one is an incomplete backup.

A restore goes into a fresh, empty database (never over live data), puts the files back
into storage, then checks row counts, file checksums and the audit chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection

from tongban.platform.audit.models import AuditHead
from tongban.platform.audit.verify import verify_chain
from tongban.platform.files.models import StoredFile

FORMAT = "tongban.backup.v1"
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.dump"
FILES_DIR = "files"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """The backup cannot be made, read or restored; the message says why."""


@dataclass
class Manifest:
    vendor: str
    created_at: str
    tables: dict[str, int]
    files: dict[str, str]  # path inside the backup -> SHA-256
    stored_files: list[str]  # storage names, also under files/
    audit_head: dict[str, Any]
    format: str = FORMAT

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST
        if not path.is_file():
            raise BackupError(f"{directory}: no {MANIFEST} (not a backup, or an unfinished one)")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise BackupError(f"{path}: unreadable manifest: {error}") from error
        if data.get("format") != FORMAT:
            raise BackupError(f"{path}: unknown backup format {data.get('format')!r}")
        return cls(**data)


@dataclass
class RestoreReport:
    tables: int = 0
    rows: int = 0
    files: int = 0
    audit_entries: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256_stream(handle: Any) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _safe_member(directory: Path, name: str) -> Path:
    """``directory / name``, refusing names that leave the directory."""
    path = (directory / name).resolve()
    if not path.is_relative_to(directory.resolve()):
        raise BackupError(f"refusing a path outside the backup: {name!r}")
    return path


# ---------------------------------------------------------------- the database, by vendor


def _table_names(cursor: Any, vendor: str) -> list[str]:
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    else:
        cursor.execute(
            "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
            "ORDER BY tablename"
        )
    return [row[0] for row in cursor.fetchall()]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _snapshot_facts(cursor: Any, vendor: str) -> tuple[dict[str, int], list[str], dict[str, Any]]:
    """Row counts of every table, the stored files' names and the audit head, read in the
    cursor's snapshot."""
    tables = {}
    for table in _table_names(cursor, vendor):
        cursor.execute(f"SELECT COUNT(*) FROM {_quote(table)}")  # noqa: S608
        tables[table] = int(cursor.fetchone()[0])
    meta = StoredFile._meta
    cursor.execute(
        f"SELECT {_quote(str(getattr(meta.get_field('storage_name'), 'column', '')))} "  # noqa: S608
        f"FROM {_quote(meta.db_table)} ORDER BY 1"
    )
    stored = [row[0] for row in cursor.fetchall()]
    head_meta = AuditHead._meta
    cursor.execute(
        f"SELECT {_quote('seq')}, {_quote('hash')} FROM {_quote(head_meta.db_table)} "  # noqa: S608
        "WHERE id = 1"
    )
    head = cursor.fetchone()
    audit_head = {"seq": int(head[0]), "hash": head[1]} if head else {"seq": 0, "hash": ""}
    return tables, stored, audit_head


def _postgres_command_env() -> tuple[list[str], dict[str, str]]:
    """libpq connection options for pg_dump / pg_restore from Django's settings."""
    settings_dict = connection.settings_dict
    options: list[str] = []
    env = dict(os.environ)
    if settings_dict.get("HOST"):
        options += ["--host", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        options += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        options += ["--username", str(settings_dict["USER"])]
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    options += ["--dbname", str(settings_dict["NAME"])]
    return options, env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        completed = subprocess.run(  # noqa: S603
            command, env=env, capture_output=True, text=True, check=False
        )
    except FileNotFoundError as error:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL client tools)") from error
    if completed.returncode != 0:
        raise BackupError(f"{command[0]} failed: {completed.stderr.strip()[-2000:]}")


def _backup_sqlite(target: Path) -> tuple[dict[str, int], list[str], dict[str, Any]]:
    source = sqlite3.connect(str(connection.settings_dict["NAME"]))
    copy = sqlite3.connect(str(target / SQLITE_FILE))
    try:
        source.backup(copy)  # online: pages copied while other connections keep writing
        return _snapshot_facts(copy.cursor(), "sqlite")
    finally:
        copy.close()
        source.close()


def _backup_postgres(target: Path) -> tuple[dict[str, int], list[str], dict[str, Any]]:
    connection.ensure_connection()
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    options, env = _postgres_command_env()
    with psycopg.connect(**params) as snapshot_connection:
        snapshot_connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot_id = snapshot_connection.execute("SELECT pg_export_snapshot()").fetchone()
        facts = _snapshot_facts(snapshot_connection.cursor(), "postgresql")
        _run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot_id[0] if snapshot_id else ''}",
                f"--file={target / POSTGRES_FILE}",
                *options,
            ],
            env,
        )
        snapshot_connection.rollback()
    return facts


def _restore_sqlite(directory: Path) -> None:
    connection.close()
    source = sqlite3.connect(str(directory / SQLITE_FILE))
    target = sqlite3.connect(str(connection.settings_dict["NAME"]))
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _restore_postgres(directory: Path) -> None:
    connection.close()
    options, env = _postgres_command_env()
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            *options,
            str(directory / POSTGRES_FILE),
        ],
        env,
    )


def _vendor() -> str:
    if connection.vendor not in {"sqlite", "postgresql"}:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {connection.vendor}")
    return connection.vendor


# ---------------------------------------------------------------- backup, verify, restore


def backup_create(*, target: Path) -> Manifest:
    """Write a backup of the database and every stored file into the new directory ``target``."""
    vendor = _vendor()
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} exists and is not empty: back up into a new directory")
    target.mkdir(parents=True, exist_ok=True)
    if vendor == "sqlite":
        tables, stored, audit_head = _backup_sqlite(target)
    else:
        tables, stored, audit_head = _backup_postgres(target)
    missing = []
    for name in stored:
        destination = _safe_member(target / FILES_DIR, name)
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            with default_storage.open(name, "rb") as source, destination.open("wb") as copy:
                shutil.copyfileobj(source, copy, CHUNK)
        except FileNotFoundError:
            missing.append(name)
    if missing:
        shutil.rmtree(target)
        raise BackupError(
            f"{len(missing)} stored files are missing from storage (first: {missing[0]!r}); "
            "no backup written"
        )
    checksums = {
        path.relative_to(target).as_posix(): sha256_file(path)
        for path in sorted(target.rglob("*"))
        if path.is_file()
    }
    manifest = Manifest(
        vendor=vendor,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        tables=tables,
        files=checksums,
        stored_files=stored,
        audit_head=audit_head,
    )
    (target / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def backup_verify(*, source: Path) -> tuple[Manifest, list[str]]:
    """Check every file of a backup against its manifest; returns the problems found."""
    manifest = Manifest.read(source)
    problems = []
    for name, expected in sorted(manifest.files.items()):
        path = _safe_member(source, name)
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256_file(path) != expected:
            problems.append(f"{name}: checksum differs from the manifest")
    present = {
        path.relative_to(source).as_posix()
        for path in source.rglob("*")
        if path.is_file() and path.name != MANIFEST
    }
    problems += [f"{name}: not in the manifest" for name in sorted(present - set(manifest.files))]
    database_file = SQLITE_FILE if manifest.vendor == "sqlite" else POSTGRES_FILE
    if database_file not in manifest.files:
        problems.append(f"{database_file}: the manifest lists no database")
    return manifest, problems


def _database_is_empty() -> bool:
    with connection.cursor() as cursor:
        return not _table_names(cursor, connection.vendor)


def _check_restored(manifest: Manifest, source: Path, report: RestoreReport) -> None:
    with connection.cursor() as cursor:
        tables, stored, audit_head = _snapshot_facts(cursor, connection.vendor)
    for table in sorted(set(manifest.tables) | set(tables)):
        expected, found = manifest.tables.get(table), tables.get(table)
        if expected != found:
            report.problems.append(f"table {table}: {found} rows restored, backup had {expected}")
    report.tables, report.rows = len(tables), sum(tables.values())
    for name in stored:
        member = f"{FILES_DIR}/{name}"
        try:
            with default_storage.open(name, "rb") as handle:
                checksum = _sha256_stream(handle)
        except FileNotFoundError:
            report.problems.append(f"stored file {name}: missing after restore")
            continue
        if checksum != manifest.files.get(member):
            report.problems.append(f"stored file {name}: checksum differs from the backup")
        else:
            report.files += 1
    chain = verify_chain()
    report.audit_entries = chain.entries
    if chain.problem is not None:
        report.problems.append(f"audit chain broken: {chain.problem.message}")
    elif audit_head != manifest.audit_head:
        report.problems.append(
            f"audit head #{audit_head['seq']} differs from the backup's "
            f"#{manifest.audit_head['seq']}"
        )


def backup_restore(*, source: Path) -> RestoreReport:
    """Restore a verified backup into the configured (fresh, empty) database and storage,
    then check row counts, file checksums and the audit chain."""
    vendor = _vendor()
    manifest, problems = backup_verify(source=source)
    if problems:
        raise BackupError("the backup does not match its manifest: " + "; ".join(problems))
    if manifest.vendor != vendor:
        raise BackupError(f"a {manifest.vendor} backup cannot be restored into {vendor}")
    if not _database_is_empty():
        raise BackupError(
            "the target database already has tables: restore into a fresh, empty database "
            "(create it, point DATABASE_URL at it, do not migrate it)"
        )
    if vendor == "sqlite":
        _restore_sqlite(source)
    else:
        _restore_postgres(source)
    _restore_files(source, manifest.stored_files)
    report = RestoreReport()
    _check_restored(manifest, source, report)
    return report


def _restore_files(source: Path, names: Iterable[str]) -> None:
    for name in names:
        path = _safe_member(source / FILES_DIR, name)
        if default_storage.exists(name):
            with default_storage.open(name, "rb") as handle:
                if _sha256_stream(handle) == sha256_file(path):
                    continue
            raise BackupError(f"storage already holds a different file named {name!r}")
        with path.open("rb") as handle:
            saved = default_storage.save(name, File(handle))
        if saved != name:
            raise BackupError(f"storage saved {name!r} as {saved!r}")
