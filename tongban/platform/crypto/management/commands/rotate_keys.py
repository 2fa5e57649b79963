from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.platform.audit.services import audit_record
from tongban.platform.crypto.rotation import (
    ColumnReport,
    encrypted_columns,
    frames_by_key,
    rotate_keys,
)
from tongban.platform.crypto.sm import pii_key_id


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted personal-data column under the first key of "
        "TONGBAN_PII_KEY, in batches, online; safe to repeat and to resume after a stop."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--status",
            action="store_true",
            help="only count the frames of each column per key id",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        current = pii_key_id()
        if options["status"]:
            for column in encrypted_columns():
                counts = frames_by_key(column)
                text = ", ".join(f"key {key}: {n}" for key, n in sorted(counts.items()))
                self.stdout.write(f"{column.label}: {text or 'empty'}")
            return

        def progress(column: ColumnReport) -> None:
            self.stdout.write(
                f"{column.label}: {column.rows} frames, {column.rotated} re-encrypted, "
                f"{column.skipped} changed meanwhile, {len(column.failed)} unreadable"
            )

        report = rotate_keys(batch_size=options["batch_size"], progress=progress)
        audit_record(
            action="crypto.keys.rotate",
            object_type="crypto.key",
            object_id=str(current),
            detail={"rotated": report.rotated, "failed": report.failed},
        )
        if report.failed:
            unreadable = [
                f"{column.label} pk {', '.join(column.failed[:5])}"
                for column in report.columns
                if column.failed
            ]
            raise CommandError(
                f"{report.failed} frames could not be decrypted with any configured key: "
                + "; ".join(unreadable)
            )
        self.stdout.write(f"rotation to key {current} done: {report.rotated} frames re-encrypted")
