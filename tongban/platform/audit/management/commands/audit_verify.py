from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tongban.platform.audit.verify import verify_chain


class Command(BaseCommand):
    help = "Walk the audit hash chain; name the first entry altered, deleted or inserted."

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        rate = report.entries / report.seconds if report.seconds else 0.0
        if report.problem:
            raise CommandError(
                f"audit chain BROKEN after {report.entries} good entries: {report.problem.message}"
            )
        self.stdout.write(
            f"audit chain OK: {report.entries} entries, head #{report.head_seq}, "
            f"{report.seconds:.2f}s ({rate:,.0f} entries/s)"
        )
