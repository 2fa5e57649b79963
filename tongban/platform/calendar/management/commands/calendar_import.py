from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.platform.calendar.services import calendar_import_csv


class Command(BaseCommand):
    help = "Load one year of holidays and make-up workdays from a CSV file (date,kind,name)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            content = path.read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error}") from error
        result = calendar_import_csv(actor=None, content=content)
        if not result.ok:
            raise CommandError("nothing imported:\n" + "\n".join(result.errors))
        self.stdout.write(f"calendar: {result.year} loaded ({result.days} days changed)")
