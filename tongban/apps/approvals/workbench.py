"""The approvals lines on the staff workbench and in the public's personal space."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from tongban.apps.approvals import selectors
from tongban.platform.ui.workbench import WorkItem


def todo(user: Any, limit: int) -> list[WorkItem]:
    """Tasks in the officer's inbox, then applications waiting at the window."""
    source = str(_("网上审批"))
    items = [
        WorkItem(
            title=_("%(step)s：%(item)s（%(number)s）")
            % {"step": entry.task.name, "item": entry.case.item_name, "number": entry.case.number},
            url=reverse("approvals:case", args=[entry.case.pk]),
            source=source,
            status=str(entry.case.get_state_display()),
            due=entry.clock.promised_deadline,
            urgent=entry.clock.is_overdue or entry.step.is_overdue,
        )
        for entry in selectors.task_inbox(actor=user, limit=limit)
    ]
    remaining = limit - len(items)
    if remaining > 0:
        for case in selectors.cases_to_accept(actor=user)[:remaining]:
            items.append(
                WorkItem(
                    title=_("待受理：%(item)s（%(applicant)s）")
                    % {"item": case.item_name, "applicant": case.applicant_name},
                    url=reverse("approvals:case", args=[case.pk]),
                    source=source,
                    status=str(case.get_state_display()),
                    occurred_at=case.submitted_at,
                )
            )
    remaining = limit - len(items)
    if remaining > 0:
        for case in selectors.cases_to_deliver(actor=user)[:remaining]:
            items.append(
                WorkItem(
                    title=_("待送达：%(item)s（%(number)s）")
                    % {"item": case.item_name, "number": case.number},
                    url=reverse("approvals:case", args=[case.pk]),
                    source=source,
                    status=str(case.get_state_display()),
                )
            )
    return items[:limit]


def for_public(user: Any, limit: int) -> list[WorkItem]:
    """The applicant's cases in their personal space, newest first."""
    cases = list(selectors.case_list_for_applicant(actor=user)[:limit])
    clocks = selectors.clocks_for(cases)
    return [
        WorkItem(
            title=f"{case.item_name}（{case.number or _('草稿')}）",
            url=reverse("approvals:case", args=[case.pk]),
            source=str(_("我的办件")),
            status=str(case.get_state_display()),
            due=clocks[case.pk].promised_deadline,
            occurred_at=case.submitted_at or case.created_at,
        )
        for case in cases
    ]
