"""Backup and restore: a real backup of the test database, restored into a fresh database
by the ``tongban`` command in a child process, which then checks counts, checksums and the
audit chain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from tests import factories
from tests.subprocesses import database_url
from tongban import cli
from tongban.platform.access.models import Scope
from tongban.platform.accounts.services import person_reveal_id_number
from tongban.platform.audit.models import AuditEntry
from tongban.platform.backup.services import (
    BackupError,
    backup_create,
    backup_restore,
    backup_verify,
)
from tongban.platform.files.services import file_store

pytestmark = pytest.mark.django_db(transaction=True)


def _tongban(*args: str, database: str, media: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "TONGBAN_MEDIA_ROOT": str(media),
        "TONGBAN_ENV": "test",
    }
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "tongban.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database of the test database's vendor."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    import psycopg

    name = f"tongban_restore_{uuid.uuid4().hex[:12]}"
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["dbname"] = "postgres"
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = database_url().rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with psycopg.connect(**params, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _city_with_data() -> tuple[int, str]:
    """Citizens with encrypted personal data, an audited read, a stored file."""
    officer = factories.staff(
        "officer-backup", role_obj=factories.role("backup_everything"), scope=Scope.ALL
    )
    person = factories.person(name="李四")
    factories.citizen("citizen-backup", name="王五")
    person_reveal_id_number(actor=officer, person=person)
    stored = file_store(
        upload=ContentFile(b"%PDF-1.4\n% backup test\n", name="证明.pdf"), actor=officer
    )
    return AuditEntry.objects.count(), stored.storage_name


def test_backup_then_restore_into_a_fresh_database_keeps_rows_files_and_audit_chain(
    tmp_path: Path, fresh_database: str, settings
):
    audit_entries, storage_name = _city_with_data()
    backup_dir = tmp_path / "backup"

    manifest = backup_create(target=backup_dir)

    assert manifest.vendor == connection.vendor
    assert manifest.stored_files == [storage_name]
    assert manifest.tables["audit_auditentry"] == audit_entries
    assert manifest.audit_head["seq"] == audit_entries
    assert f"files/{storage_name}" in manifest.files
    assert backup_verify(source=backup_dir)[1] == []

    restored_media = tmp_path / "restored-media"
    result = _tongban("restore", str(backup_dir), database=fresh_database, media=restored_media)
    assert result.returncode == 0, result.stderr
    assert "audit chain OK" in result.stdout
    assert f"{audit_entries} entries" in result.stdout
    assert (restored_media / storage_name).read_bytes() == b"%PDF-1.4\n% backup test\n"

    verify = _tongban("audit", "verify", database=fresh_database, media=restored_media)
    assert verify.returncode == 0, verify.stderr
    assert f"audit chain OK: {audit_entries} entries" in verify.stdout

    with pytest.raises(BackupError, match="already has tables"):
        backup_restore(source=backup_dir)  # the test database is not empty


def test_backup_verify_names_a_changed_file_and_restore_refuses_it(tmp_path: Path, capsys):
    _, storage_name = _city_with_data()
    backup_dir = tmp_path / "backup"
    assert cli.main(["backup", str(backup_dir)]) == 0
    assert cli.main(["backup", "--verify", str(backup_dir)]) == 0
    assert "files match the manifest" in capsys.readouterr().out
    (backup_dir / "files" / storage_name).write_bytes(b"tampered")

    with pytest.raises(SystemExit) as exit_info:
        cli.main(["backup", "--verify", str(backup_dir)])

    assert exit_info.value.code == 1
    assert f"files/{storage_name}: checksum differs from the manifest" in capsys.readouterr().err
    with pytest.raises(BackupError, match="does not match its manifest"):
        backup_restore(source=backup_dir)


def test_backup_refuses_a_directory_that_is_not_empty(tmp_path: Path):
    (tmp_path / "old.txt").write_text("x")

    with pytest.raises(BackupError, match="not empty"):
        backup_create(target=tmp_path)


def test_backup_refuses_when_a_stored_file_is_missing_from_storage(tmp_path: Path, settings):
    _city_with_data()
    settings.MEDIA_ROOT = tmp_path / "elsewhere"
    backup_dir = tmp_path / "b"

    with pytest.raises(BackupError, match="1 stored files are missing from storage"):
        backup_create(target=backup_dir)

    assert not backup_dir.exists()


def test_manifest_lists_every_table_with_its_row_count(tmp_path: Path):
    _city_with_data()

    manifest = backup_create(target=tmp_path / "b")

    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        expected = {}
        for table in tables:
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608
            expected[table] = cursor.fetchone()[0]
    assert manifest.tables == expected
    saved = json.loads((tmp_path / "b" / "manifest.json").read_text(encoding="utf-8"))
    assert saved["tables"] == expected
