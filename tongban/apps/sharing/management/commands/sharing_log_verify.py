from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tongban.apps.sharing.gateway_log import log_verify, seal


class Command(BaseCommand):
    help = (
        "Verify the sharing gateway's call log: every call's digest, the seals' chain and "
        "their SM2 signatures; name the first call or seal altered, deleted or inserted."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--seal", action="store_true", help="seal the settled unsealed calls first"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["seal"]:
            self.stdout.write(f"sealed {seal()} calls")
        started = time.perf_counter()
        report = log_verify()
        seconds = time.perf_counter() - started
        if report.problem:
            raise CommandError(
                f"sharing call log BROKEN after {report.calls} good calls in {report.seals} "
                f"seals: {report.problem.message}"
            )
        self.stdout.write(
            f"sharing call log OK: {report.calls} calls ({report.unsealed} not yet sealed), "
            f"{report.seals} seals, {seconds:.2f}s"
        )
