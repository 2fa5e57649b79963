"""What supervision does with the sharing app's events.

==============================  =========================================================
event                           alert
==============================  =========================================================
sharing.request.overdue         the provider department left a sharing request undecided
                                past its working-day deadline: an alert on the
                                timeliness dimension (期限合法)
sharing.access.reported         a citizen reported an access to their data as improper:
                                an alert for the consuming department on the inspection
                                dimension (监督检查), like a complaint
==============================  =========================================================

Both open a supervision alert of the manual kind (人工督办; no approvals case behind it,
``Alert.case`` stays empty) with its correction item and notifications, exactly as a
supervisor's manual alert would, without a supervisor as its author. ``dedupe_key``
(``sharing.overdue:<request number>``, ``sharing.access:<report id>``) makes a redelivered
event a no-op. An event naming an unknown department is logged and dropped: a retry would
not find it either.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tongban.apps.supervision import corrections
from tongban.apps.supervision.models import Alert, AlertKind, Dimension
from tongban.apps.supervision.rules import ALERT_SEVERITY
from tongban.platform.audit.services import audit_record
from tongban.platform.events.registry import subscriber
from tongban.platform.orgs.models import Department

logger = logging.getLogger(__name__)

OFFICIAL_LANGUAGE = "zh-hans"


def _moment(value: Any, default: dt.datetime) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return default
    return moment if moment.tzinfo else default


def _local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE))


def _open(
    *, key: str, department_code: str, dimension: str, detail: str, event: Any
) -> Alert | None:
    if Alert.objects.filter(dedupe_key=key).exists():
        return None
    department = Department.objects.filter(code=department_code).first()
    if department is None:
        logger.warning("%s: unknown department %r, no alert", event.name, department_code)
        return None
    from tongban.apps.supervision.config import rules_current

    now = timezone.now()
    with transaction.atomic():
        version, _params = rules_current()
        alert = Alert.objects.create(
            kind=AlertKind.MANUAL,
            severity=ALERT_SEVERITY[AlertKind.MANUAL],
            dimension=dimension,
            department=department,
            raised_at=now,
            occurred_on=_local(now).date(),
            detail=detail,
            rule_version=version,
            dedupe_key=key,
        )
        corrections.alerts_opened([alert], now=now)
        audit_record(
            action="supervision.alert.open_from_event",
            target=alert,
            detail={"event": event.name, "event_id": event.id, "key": key},
        )
    return alert


@subscriber("sharing.request.overdue")
def on_request_overdue(event: Any) -> None:
    payload = dict(event.payload)
    number = str(payload.get("request_number") or "")
    if not number:
        logger.warning("sharing.request.overdue without a request number: %s", event.id)
        return
    due = _local(_moment(payload.get("due_at"), event.occurred_at))
    with translation.override(OFFICIAL_LANGUAGE):
        detail = _(
            "共享申请%(number)s（申请部门：%(consumer)s，资源：%(name)s %(code)s）"
            "超过审核期限%(due)s仍未审核。"
        ) % {
            "number": number,
            "consumer": payload.get("consumer_department_code", ""),
            "name": payload.get("resource_name", ""),
            "code": payload.get("resource_code", ""),
            "due": f"{due:%Y-%m-%d %H:%M}",
        }
    _open(
        key=f"sharing.overdue:{number}",
        department_code=str(payload.get("provider_department_code") or ""),
        dimension=Dimension.TIMELINESS,
        detail=detail,
        event=event,
    )


@subscriber("sharing.access.reported")
def on_access_reported(event: Any) -> None:
    payload = dict(event.payload)
    report = str(payload.get("report_id") or "")
    if not report:
        logger.warning("sharing.access.reported without a report id: %s", event.id)
        return
    accessed = _local(_moment(payload.get("accessed_at"), event.occurred_at))
    with translation.override(OFFICIAL_LANGUAGE):
        detail = _(
            "群众举报数据使用不当：%(system)s于%(at)s调用资源%(name)s（%(code)s，"
            "调用记录%(call)s）。举报理由：%(reason)s"
        ) % {
            "system": payload.get("consumer_system_code", ""),
            "at": f"{accessed:%Y-%m-%d %H:%M}",
            "name": payload.get("resource_name", ""),
            "code": payload.get("resource_code", ""),
            "call": payload.get("call_id", ""),
            "reason": str(payload.get("reason") or "")[:1000],
        }
    _open(
        key=f"sharing.access:{report}",
        department_code=str(payload.get("consumer_department_code") or ""),
        dimension=Dimension.INSPECTION,
        detail=detail,
        event=event,
    )
