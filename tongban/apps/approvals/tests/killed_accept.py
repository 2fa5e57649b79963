"""Run by test_killed_mid_transition: accept a case as the clerk, and at the last step of
the transaction (every row written, nothing committed) say so and wait to be killed."""

from __future__ import annotations

import sys
import time
from pathlib import Path


def main(case_id: int, clerk_id: int, marker: str) -> None:
    import django

    django.setup()
    from tongban.apps.approvals import services
    from tongban.apps.approvals.models import Case
    from tongban.platform.accounts.models import User

    original = services._record

    def record_then_hang(case, verb, **kwargs):  # type: ignore[no-untyped-def]
        result = original(case, verb, **kwargs)
        if verb == "accepted":
            Path(marker).write_text("inside the transaction")
            time.sleep(60)  # SIGKILLed here
        return result

    services._record = record_then_hang  # type: ignore[assignment]
    services.case_accept(
        actor=User.objects.get(pk=clerk_id),
        case=Case.objects.get(pk=case_id),
        checked=["食品经营许可申请书"],
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
