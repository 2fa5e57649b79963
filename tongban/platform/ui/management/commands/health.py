"""``tongban health``: the /healthz report on the command line; exit 1 when unhealthy."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tongban.platform.ui.health import health_report


class Command(BaseCommand):
    help = "Print the health report (database, worker lag, calendar coverage)."

    def handle(self, *args: Any, **options: Any) -> None:
        report = health_report()
        self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        if not report.ok:
            raise CommandError("unhealthy")
