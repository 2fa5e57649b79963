"""Run the base databases' quality checks (check characters, duplicates) over all data."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the base databases' quality checks; prints the number of new issues."

    def handle(self, *args: Any, **options: Any) -> None:
        from tongban.apps.basedata.services import quality_run

        found = quality_run()
        self.stdout.write(f"new quality issues: {found}")
