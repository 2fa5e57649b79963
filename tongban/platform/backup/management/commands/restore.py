from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.platform.backup.services import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup into a fresh, empty database and the file storage, then check "
        "row counts, file checksums and the audit chain."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["directory"]
        try:
            report = backup_restore(source=directory)
        except BackupError as error:
            raise CommandError(str(error)) from error
        if not report.ok:
            raise CommandError("restored, but the check FAILED:\n  " + "\n  ".join(report.problems))
        self.stdout.write(
            f"restored {directory}: {report.tables} tables, {report.rows} rows, "
            f"{report.files} stored files; audit chain OK ({report.audit_entries} entries); "
            "row counts and checksums match the backup"
        )
