from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from tongban.platform.calendar.models import CalendarYear
from tongban.platform.calendar.services import coverage_warnings


class Command(BaseCommand):
    help = "Show the years the working-day calendar covers, and warnings."

    def handle(self, *args: Any, **options: Any) -> None:
        years = list(CalendarYear.objects.values_list("year", "source"))
        if years:
            self.stdout.write("loaded: " + ", ".join(f"{y} ({s})" for y, s in years))
        else:
            self.stdout.write("loaded: none")
        for warning in coverage_warnings():
            self.stdout.write(self.style.WARNING(f"warning: {warning}"))
