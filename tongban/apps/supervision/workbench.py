"""The supervision lines on the staff workbench: correction items the user's department
must explain or rectify, and explanations waiting for a supervisor's verdict."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.supervision import corrections
from tongban.apps.supervision.models import Correction, CorrectionState
from tongban.platform.ui.workbench import WorkItem


def _subject(item: Correction) -> str:
    case = item.alert.case
    return case.key if case else item.department.name


def todo(user: Any, limit: int) -> list[WorkItem]:
    source = str(_("电子监察"))
    today = timezone.localdate()
    items = [
        WorkItem(
            title=_("纠错：%(kind)s（%(subject)s）")
            % {"kind": item.alert.get_kind_display(), "subject": _subject(item)},
            url=reverse("supervision:alert", args=[item.alert_id]),
            source=source,
            status=str(item.get_state_display()),
            due=item.due_on,
            urgent=item.state == CorrectionState.ESCALATED or item.due_on < today,
        )
        for item in corrections.corrections_to_respond(user)[:limit]
    ]
    remaining = limit - len(items)
    if remaining > 0:
        items.extend(
            WorkItem(
                title=_("待审核纠错说明：%(kind)s（%(subject)s）")
                % {"kind": item.alert.get_kind_display(), "subject": _subject(item)},
                url=reverse("supervision:alert", args=[item.alert_id]),
                source=source,
                status=str(item.get_state_display()),
                occurred_at=item.explained_at,
            )
            for item in corrections.corrections_to_review(user)[:remaining]
        )
    return items[:limit]
