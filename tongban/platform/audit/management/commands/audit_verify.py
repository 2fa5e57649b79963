from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.platform.audit.anchor import anchors_check
from tongban.platform.audit.verify import verify_chain


class Command(BaseCommand):
    help = (
        "Walk the audit hash chain; name the first entry altered, deleted or inserted. "
        "With --anchors, also check the chain against anchors taken earlier."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--anchors",
            metavar="FILE",
            help="anchor lines (tongban audit anchor, TONGBAN_AUDIT_ANCHOR_FILE) to check",
        )

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
        if options["anchors"]:
            try:
                lines = Path(options["anchors"]).read_text(encoding="utf-8").splitlines()
            except OSError as error:
                raise CommandError(f"cannot read the anchors: {error}") from error
            problems = anchors_check(lines)
            if problems:
                raise CommandError(
                    "audit chain REWRITTEN: " + "; ".join(p.message for p in problems[:5])
                )
            self.stdout.write(f"anchors OK: {sum(1 for line in lines if line.strip())} checked")
