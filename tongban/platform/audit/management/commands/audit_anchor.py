from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from tongban.platform.audit.anchor import anchor_write


class Command(BaseCommand):
    help = (
        "Anchor the audit chain head outside the database: append it to "
        "TONGBAN_AUDIT_ANCHOR_FILE (or --file), log it and print it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", help="append here instead of TONGBAN_AUDIT_ANCHOR_FILE")

    def handle(self, *args: Any, **options: Any) -> None:
        anchor = anchor_write(options["file"] or settings.TONGBAN_AUDIT_ANCHOR_FILE)
        self.stdout.write(anchor.line())
