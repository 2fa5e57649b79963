"""What supervision does with the documents app's events.

==============================  =========================================================
event                           alert
==============================  =========================================================
documents.delivery.overdue      a receiving unit did not sign for an official document
                                by its deadline: an alert for the recipient department
                                on the timeliness dimension (期限合法)
documents.task.overdue          a supervised task (督办事项) passed its deadline: one
                                alert on the timeliness dimension for each owner
                                department that had not finished
==============================  =========================================================

Each opens a supervision alert of the manual kind (人工督办; no approvals case behind it)
with its correction item and notifications, through ``handlers_sharing._open``: the same
dedupe (``documents.delivery:<delivery id>``, ``documents.task:<task number>:<department
code>``) makes a redelivered event a no-op, and an unknown department is logged and dropped.
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from tongban.apps.supervision.handlers_sharing import OFFICIAL_LANGUAGE, _local, _moment, _open
from tongban.apps.supervision.models import Dimension
from tongban.platform.events.registry import subscriber

logger = logging.getLogger(__name__)


@subscriber("documents.delivery.overdue")
def on_delivery_overdue(event: Any) -> None:
    payload = dict(event.payload)
    delivery = str(payload.get("delivery") or "")
    if not delivery:
        logger.warning("documents.delivery.overdue without a delivery id: %s", event.id)
        return
    due = _local(_moment(payload.get("due_at"), event.occurred_at))
    delivered = _local(_moment(payload.get("delivered_at"), event.occurred_at))
    with translation.override(OFFICIAL_LANGUAGE):
        detail = _(
            "公文《%(title)s》（%(number)s，发文单位：%(sender)s）于%(delivered)s送达，"
            "超过签收时限%(due)s仍未签收。"
        ) % {
            "title": str(payload.get("title") or "")[:200],
            "number": payload.get("number") or _("未编号"),
            "sender": payload.get("sender", ""),
            "delivered": f"{delivered:%Y-%m-%d %H:%M}",
            "due": f"{due:%Y-%m-%d %H:%M}",
        }
    _open(
        key=f"documents.delivery:{delivery}",
        department_code=str(payload.get("recipient") or ""),
        dimension=Dimension.TIMELINESS,
        detail=detail,
        event=event,
    )


@subscriber("documents.task.overdue")
def on_task_overdue(event: Any) -> None:
    payload = dict(event.payload)
    number = str(payload.get("task") or "")
    if not number:
        logger.warning("documents.task.overdue without a task number: %s", event.id)
        return
    owners = payload.get("owners") or []
    if not isinstance(owners, list):
        owners = [owners]
    with translation.override(OFFICIAL_LANGUAGE):
        detail = _(
            "督办事项%(number)s“%(title)s”（督办单位：%(supervisor)s）已超过办结时限"
            "%(deadline)s，本单位尚未办结。"
        ) % {
            "number": number,
            "title": str(payload.get("title") or "")[:200],
            "supervisor": payload.get("supervisor", ""),
            "deadline": payload.get("deadline", ""),
        }
    for code in dict.fromkeys(str(owner) for owner in owners if owner):
        _open(
            key=f"documents.task:{number}:{code}",
            department_code=code,
            dimension=Dimension.TIMELINESS,
            detail=detail,
            event=event,
        )
