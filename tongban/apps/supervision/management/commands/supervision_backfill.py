"""``tongban manage supervision_backfill``: ingest the approvals history (cases that
published no events) into supervision. Safe to run again: replays are duplicates."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tongban.apps.supervision.backfill import BackfillResult, backfill_approvals


class Command(BaseCommand):
    help = "Backfill supervision from the approvals history (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk", type=int, default=2000, help="cases read per query")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()

        def progress(result: BackfillResult) -> None:
            self.stdout.write(
                f"  batch {result.batches}: {result.events} events, {result.alerts} alerts"
            )

        result = backfill_approvals(chunk=max(1, options["chunk"]), progress=progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.cases} cases ({result.skipped} followed live, skipped): "
                f"{result.accepted} events new, {result.duplicates} already received, "
                f"{result.rejected} rejected, {result.alerts} alerts "
                f"in {time.perf_counter() - started:.1f}s"
            )
        )
