from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tongban.platform.calendar.services import calendar_seed


class Command(BaseCommand):
    help = "Load 2004–2026 from the chinese-calendar package (idempotent; keeps manual edits)."

    def handle(self, *args: Any, **options: Any) -> None:
        years = calendar_seed()
        self.stdout.write(f"calendar: {years[0]}–{years[-1]} loaded ({len(years)} years)")
