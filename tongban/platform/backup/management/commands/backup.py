from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.platform.backup.services import BackupError, backup_create, backup_verify


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite online backup / pg_dump) and every stored file into a "
        "new directory with a manifest of row counts and SHA-256 checksums; "
        "--verify checks an existing backup against its manifest."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument(
            "--verify", action="store_true", help="check an existing backup, write nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory: Path = options["directory"]
        try:
            if options["verify"]:
                manifest, problems = backup_verify(source=directory)
                if problems:
                    raise CommandError(
                        f"backup {directory} is damaged:\n  " + "\n  ".join(problems)
                    )
                self.stdout.write(
                    f"backup {directory} OK: {len(manifest.files)} files match the manifest "
                    f"({manifest.vendor}, {manifest.created_at})"
                )
                return
            manifest = backup_create(target=directory)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"backup written to {directory}: {len(manifest.tables)} tables, "
            f"{sum(manifest.tables.values())} rows, {len(manifest.stored_files)} stored files, "
            f"audit head #{manifest.audit_head['seq']}"
        )
