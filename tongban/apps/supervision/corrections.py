"""Warning and correction (预警纠错): the correction item each alert opens, its history,
the department's explanation, the supervisor's verdict, escalation, notifications.

``alerts_opened`` is called by ``services.alerts_raise`` in the same transaction as the
new alerts.
"""

from __future__ import annotations

import datetime as dt

from tongban.apps.supervision.models import (
    Alert,
    Correction,
    CorrectionAction,
    CorrectionEntry,
)
from tongban.apps.supervision.rules import KINDS_WITHOUT_CORRECTION
from tongban.platform.calendar.services import get_calendar


def alerts_opened(alerts: list[Alert], *, now: dt.datetime) -> list[Correction]:
    """Open a correction item for every alert that needs one (prompts do not)."""
    from tongban.apps.supervision.config import rules_current

    _, params = rules_current()
    calendar = get_calendar()
    due_on = calendar.add_working_days(now, params.correction_days)
    items = [
        Correction(
            alert=alert,
            department_id=alert.department_id,
            due_on=calendar.add_working_days(alert.raised_at, params.correction_days)
            if alert.raised_at < now
            else due_on,
            opened_at=now,
        )
        for alert in alerts
        if alert.kind not in KINDS_WITHOUT_CORRECTION
    ]
    created = Correction.objects.bulk_create(items)
    if any(item.pk is None for item in created):
        by_alert = dict(
            Correction.objects.filter(alert__in=[i.alert_id for i in created]).values_list(
                "alert_id", "pk"
            )
        )
        for item in created:
            item.pk = by_alert[item.alert_id]
    CorrectionEntry.objects.bulk_create(
        CorrectionEntry(correction=item, action=CorrectionAction.OPENED, at=now) for item in created
    )
    return created
