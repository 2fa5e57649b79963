"""Warning and correction (预警纠错): the correction item each alert opens, its history,
the department's explanation, the supervisor's verdict, escalation, notifications.

``alerts_opened`` is called by ``services.alerts_raise`` in the same transaction as the
new alerts: it opens the correction items (prompts open none) and notifies the handler
and the department's responsible leaders, in-app and by SMS (the SMS goes through the
platform's gateway from the outbox, after commit).

The flow of one item::

    OPEN ──explain──▶ EXPLAINED ──accept──▶ ACCEPTED (alert closed)
      ▲                   │
      └──────reject───────┘ (a new due date)
    OPEN past due ──corrections_escalate──▶ ESCALATED
        (a yellow card's item: a red card with its own item; any other: a notice to the
        leaders; an escalated item can still be explained, late, unless a red card
        carries it on)

Reads for the pages and the workbench are here too (``alert_list_for``,
``access_alert_by_id``, ``correction_inbox_for``), each scoped to the actor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tongban.apps.supervision import permissions
from tongban.apps.supervision.models import (
    SCOPE,
    Alert,
    AlertKind,
    AlertState,
    Correction,
    CorrectionAction,
    CorrectionEntry,
    CorrectionState,
    Dimension,
    SupervisedCase,
)
from tongban.apps.supervision.rules import (
    ALERT_DIMENSION,
    ALERT_SEVERITY,
    KINDS_WITHOUT_CORRECTION,
)
from tongban.platform.access.models import RoleAssignment, Scope
from tongban.platform.access.services import ScopePaths, deny, has_permission, scope_queryset
from tongban.platform.accounts.models import User
from tongban.platform.audit.services import audit_record
from tongban.platform.calendar.services import get_calendar
from tongban.platform.notify.services import notify_send
from tongban.platform.orgs.models import Department, Posting, Unit

NOTIFY_CATEGORY = "supervision"
OFFICIAL_LANGUAGE = "zh-hans"
MAX_TEXT = 2000
# an alert raised this long before it was written (a history backfill, a late replay) is
# recorded with its correction item but notifies nobody: the notice would be stale
NOTIFY_WITHIN = dt.timedelta(days=7)

# how a correction item reaches the organisation tree (its alert's unit for unit grants)
CORRECTION_SCOPE = ScopePaths(department="department", unit="alert__unit")
DEPARTMENT_SCOPE = ScopePaths(department="", division="division")
# who may see an alert: the monitors, and those who act on its correction item
ALERT_READERS = (
    permissions.MONITOR_VIEW,
    permissions.CORRECTION_RESPOND,
    permissions.CORRECTION_REVIEW,
    permissions.ALERT_OPEN,
)
OPEN_STATES = (CorrectionState.OPEN, CorrectionState.ESCALATED)

TEMPLATE_ALERT = "supervision.alert_opened"
TEMPLATE_RETURNED = "supervision.correction_returned"
TEMPLATE_REMINDER = "supervision.correction_reminder"
TEMPLATE_ESCALATED = "supervision.correction_escalated"

# The notices are official (Chinese, like approvals' notices) and rendered here; they go
# out under their own template codes through the platform's generic template, so an
# administrator may still override a code with a template of its own (the context also
# carries kind, severity, department, case, item, detail, due and text).


def _message(template: str, fields: dict[str, str]) -> tuple[str, str]:
    """(subject, body) of one notice; the body is also the SMS text."""
    due = fields["due"]
    if template == TEMPLATE_ALERT:
        subject = _("【%(severity)s】%(kind)s：%(case)s") % fields
        body = _("【电子监察】%(department)s%(case)s（%(item)s）%(kind)s：%(detail)s") % fields
        if due:
            body += _("请于%(due)s前说明情况或完成整改。") % fields
    elif template == TEMPLATE_RETURNED:
        subject = _("纠错说明被退回：%(case)s") % fields
        body = (
            _("【电子监察】%(department)s%(case)s“%(kind)s”的纠错说明被退回，理由：%(text)s。")
            % fields
            + _("请于%(due)s前重新说明或整改。") % fields
        )
    elif template == TEMPLATE_REMINDER:
        subject = _("纠错催办：%(case)s") % fields
        body = (
            _("【电子监察】催办：%(department)s%(case)s“%(kind)s”纠错单请于%(due)s前办理。")
            % fields
            + fields["text"]
        )
    else:
        subject = _("纠错逾期升级：%(case)s") % fields
        body = (
            _("【电子监察】%(department)s%(case)s“%(kind)s”纠错单逾期未说明或整改，已升级督办。")
            % fields
        )
    return subject, body


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(_zone()).date()


def _official(message: str) -> str:
    """A recorded text in the official language, whatever the caller's language."""
    with translation.override(OFFICIAL_LANGUAGE):
        return _(message)


def _alert_link(alert: Alert) -> str:
    try:
        return reverse("supervision:alert", args=[alert.pk])
    except NoReverseMatch:  # the pages are not mounted (a site without supervision pages)
        return ""


# ---------------------------------------------------------------------------------------
# recipients


def _leaders_by_department(department_ids: set[int]) -> dict[int, list[User]]:
    """Leaders of each department: postings of a leader position in one of its units;
    failing those, the users holding CORRECTION_RESPOND scoped to the department."""
    found: dict[int, list[User]] = {}
    postings = (
        Posting.objects.filter(
            position__is_leader=True,
            unit__department_id__in=department_ids,
            user__is_active=True,
        )
        .select_related("user", "unit")
        .order_by("unit__department_id", "user_id")
    )
    for posting in postings:
        users = found.setdefault(posting.unit.department_id, [])
        if posting.user not in users:
            users.append(posting.user)
    missing = department_ids - set(found)
    if missing:
        now = timezone.now()
        assignments = (
            RoleAssignment.objects.filter(
                role__permissions__code=permissions.CORRECTION_RESPOND,
                scope__in=(Scope.DEPARTMENT, Scope.DEPARTMENT_TREE),
                department_id__in=missing,
                user__is_active=True,
            )
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
            .select_related("user")
            .order_by("department_id", "user_id")
        )
        for assignment in assignments:
            assert assignment.department_id is not None
            users = found.setdefault(assignment.department_id, [])
            if assignment.user not in users:
                users.append(assignment.user)
    return found


def _handlers(usernames: Iterable[str]) -> dict[str, User]:
    names = {name for name in usernames if name}
    if not names:
        return {}
    return {user.username: user for user in User.objects.filter(username__in=names, is_active=True)}


def _recipients(
    alert: Alert, handlers: dict[str, User], leaders: dict[int, list[User]]
) -> list[User]:
    users: list[User] = []
    handler = handlers.get(alert.handler)
    if handler is not None:
        users.append(handler)
    for leader in leaders.get(alert.department_id, []):
        if leader not in users:
            users.append(leader)
    return users


def _context(
    alert: Alert, correction: Correction | None, template: str, text: str = ""
) -> dict[str, Any]:
    with translation.override(OFFICIAL_LANGUAGE):
        case = alert.case
        fields = {
            "kind": str(alert.get_kind_display()),
            "severity": str(alert.get_severity_display()),
            "department": alert.department.name,
            "case": (_("办件%(key)s") % {"key": case.key}) if case else _("督办事项"),
            "item": (case.item_name if case else "") or "—",
            "detail": alert.detail,
            "due": correction.due_on.isoformat() if correction else "",
            "text": text,
        }
        subject, body = _message(template, fields)
    return {**fields, "subject": subject, "body": body}


def _notify(
    alerts: list[Alert],
    corrections: dict[int, Correction],
    *,
    template: str,
    text: str = "",
    actor: Any = None,
    leaders_only: bool = False,
) -> int:
    """Notify each alert's handler and leaders; returns the messages sent."""
    if not alerts:
        return 0
    handlers = {} if leaders_only else _handlers(alert.handler for alert in alerts)
    leaders = _leaders_by_department({alert.department_id for alert in alerts})
    departments = Department.objects.in_bulk({alert.department_id for alert in alerts})
    sent = 0
    for alert in alerts:
        alert.department = departments[alert.department_id]
        recipients = _recipients(alert, handlers, leaders)
        if not recipients:
            continue
        sent += len(
            notify_send(
                recipients=recipients,
                template_code=template,
                context=_context(alert, corrections.get(alert.pk), template, text),
                category=NOTIFY_CATEGORY,
                link=_alert_link(alert),
                actor=actor,
            )
        )
    return sent


# ---------------------------------------------------------------------------------------
# opening


def alerts_opened(
    alerts: list[Alert], *, now: dt.datetime, notify: bool = True
) -> list[Correction]:
    """Open a correction item for every alert that needs one (prompts do not) and notify
    the handler and the responsible leaders of every alert (prompts too). ``notify=False``
    records without telling anyone (a history replayed, like the demo's year)."""
    from tongban.apps.supervision.config import rules_current

    _version, params = rules_current()
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
    fresh = [alert for alert in alerts if now - alert.raised_at <= NOTIFY_WITHIN]
    if notify:
        _notify(fresh, {item.alert_id: item for item in created}, template=TEMPLATE_ALERT)
    return created


def _clean_text(text: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError(message)
    if len(text) > MAX_TEXT:
        raise ValidationError(_("内容不能超过%(n)d个字") % {"n": MAX_TEXT})
    return text


def alert_open_manual(
    *,
    actor: Any,
    department: Department,
    case: SupervisedCase | None,
    dimension: str,
    detail: str,
    unit: Unit | None = None,
    handler: str = "",
    now: dt.datetime | None = None,
) -> Alert:
    """A supervisor opens an alert by hand (人工督办, e.g. from a complaint): a MANUAL alert,
    its correction item and the notifications."""
    from tongban.apps.supervision.config import rules_current

    departments = Department.objects.filter(pk=department.pk)
    if not scope_queryset(actor, departments, permissions.ALERT_OPEN, DEPARTMENT_SCOPE).exists():
        deny(actor, permissions.ALERT_OPEN, target=department)
    detail = _clean_text(detail, _("请填写督办事由"))
    if dimension not in Dimension.values:
        raise ValidationError(_("请选择考核维度"))
    if case is not None and case.department_id != department.pk:
        raise ValidationError(_("所选办件不属于该部门"))
    if unit is not None and unit.department_id != department.pk:
        raise ValidationError(_("所选科室不属于该部门"))
    handler = (handler or "").strip()[:150] or (case.handler if case else "")
    if unit is None and case is not None:
        unit = case.unit
    now = now or timezone.now()
    with transaction.atomic():
        version, _params = rules_current()
        alert = Alert.objects.create(
            case=case,
            kind=AlertKind.MANUAL,
            severity=ALERT_SEVERITY[AlertKind.MANUAL],
            dimension=dimension,
            department=department,
            unit=unit,
            handler=handler,
            raised_at=now,
            occurred_on=_local_date(now),
            detail=detail,
            rule_version=version,
            opened_by=actor,
        )
        alerts_opened([alert], now=now)
        audit_record(
            actor=actor,
            action="supervision.alert.open_manual",
            target=alert,
            detail={"department": department.pk, "case": case.pk if case else None},
        )
    return alert


# ---------------------------------------------------------------------------------------
# the department and the supervisor


def _require_over(actor: Any, correction: Correction, permission: str) -> None:
    """Check before any transaction (a denial is audited in its own)."""
    rows = Correction.objects.filter(pk=correction.pk)
    if not scope_queryset(actor, rows, permission, CORRECTION_SCOPE).exists():
        deny(actor, permission, target=correction)


def _locked(correction: Correction) -> Correction:
    return (
        Correction.objects.select_for_update(of=("self",))
        .select_related("alert", "alert__case", "alert__department")
        .get(pk=correction.pk)
    )


def _entry(item: Correction, action: str, actor: Any, text: str, now: dt.datetime) -> None:
    CorrectionEntry.objects.create(correction=item, action=action, actor=actor, text=text, at=now)


def _can_explain(item: Correction) -> bool:
    if item.state == CorrectionState.OPEN:
        return True
    # an escalated item may still be explained (late), unless a red card carries it on
    return item.state == CorrectionState.ESCALATED and item.alert.kind != AlertKind.YELLOW_CARD


def correction_explain(
    *,
    actor: Any,
    correction: Correction,
    text: str,
    rectified: bool,
    now: dt.datetime | None = None,
) -> Correction:
    """The department explains (or reports the rectification); the item waits for a
    supervisor's verdict."""
    _require_over(actor, correction, permissions.CORRECTION_RESPOND)
    text = _clean_text(text, _("请填写情况说明或整改情况"))
    now = now or timezone.now()
    with transaction.atomic():
        item = _locked(correction)
        if not _can_explain(item):
            raise ValidationError(_("该纠错单当前不能提交说明"))
        item.state = CorrectionState.EXPLAINED
        item.explained_at = now
        item.save(update_fields=["state", "explained_at"])
        action = CorrectionAction.RECTIFIED if rectified else CorrectionAction.EXPLAINED
        _entry(item, action, actor, text, now)
        audit_record(
            actor=actor,
            action="supervision.correction.explain",
            target=item,
            detail={"rectified": rectified},
        )
    return item


def correction_accept(
    *, actor: Any, correction: Correction, note: str = "", now: dt.datetime | None = None
) -> Correction:
    """A supervisor accepts the explanation: the item and its alert are closed (and the
    yellow card a red card escalated from)."""
    _require_over(actor, correction, permissions.CORRECTION_REVIEW)
    note = (note or "").strip()[:MAX_TEXT]
    now = now or timezone.now()
    with transaction.atomic():
        item = _locked(correction)
        if item.state != CorrectionState.EXPLAINED or item.explained_at is None:
            raise ValidationError(_("只能审核已提交说明的纠错单"))
        item.state = CorrectionState.ACCEPTED
        item.closed_at = now
        item.is_on_time = _local_date(item.explained_at) <= item.due_on
        item.save(update_fields=["state", "closed_at", "is_on_time"])
        closing = [item.alert_id]
        if item.alert.escalated_from_id:
            closing.append(item.alert.escalated_from_id)
        Alert.objects.filter(pk__in=closing).update(state=AlertState.CLOSED)
        item.alert.state = AlertState.CLOSED
        _entry(item, CorrectionAction.ACCEPTED, actor, note, now)
        audit_record(
            actor=actor,
            action="supervision.correction.accept",
            target=item,
            detail={"on_time": item.is_on_time},
        )
    return item


def correction_reject(
    *,
    actor: Any,
    correction: Correction,
    reason: str,
    now: dt.datetime | None = None,
    notify: bool = True,
) -> Correction:
    """A supervisor rejects the explanation (with a reason): the item is open again with a
    new due date (the rules' correction days from now)."""
    from tongban.apps.supervision.config import rules_current

    _require_over(actor, correction, permissions.CORRECTION_REVIEW)
    reason = _clean_text(reason, _("退回时必须填写理由"))
    now = now or timezone.now()
    with transaction.atomic():
        item = _locked(correction)
        if item.state != CorrectionState.EXPLAINED:
            raise ValidationError(_("只能审核已提交说明的纠错单"))
        _version, params = rules_current()
        item.state = CorrectionState.OPEN
        item.explained_at = None
        item.due_on = get_calendar().add_working_days(now, params.correction_days)
        item.save(update_fields=["state", "explained_at", "due_on"])
        _entry(item, CorrectionAction.REJECTED, actor, reason, now)
        audit_record(
            actor=actor,
            action="supervision.correction.reject",
            target=item,
            detail={"due_on": item.due_on.isoformat()},
        )
        if notify:
            _notify(
                [item.alert],
                {item.alert_id: item},
                template=TEMPLATE_RETURNED,
                text=reason,
                actor=actor,
            )
    return item


def correction_remind(
    *, actor: Any, correction: Correction, text: str = "", now: dt.datetime | None = None
) -> Correction:
    """A supervisor reminds the department of an item still to be done (催办)."""
    _require_over(actor, correction, permissions.CORRECTION_REVIEW)
    text = (text or "").strip()[:MAX_TEXT]
    now = now or timezone.now()
    with transaction.atomic():
        item = _locked(correction)
        if item.state not in OPEN_STATES:
            raise ValidationError(_("该纠错单无需催办"))
        _entry(item, CorrectionAction.REMINDED, actor, text, now)
        audit_record(actor=actor, action="supervision.correction.remind", target=item)
        _notify(
            [item.alert],
            {item.alert_id: item},
            template=TEMPLATE_REMINDER,
            text=text,
            actor=actor,
        )
    return item


# ---------------------------------------------------------------------------------------
# escalation (hourly)


def _red_card(yellow: Alert, now: dt.datetime) -> Alert:
    from tongban.apps.supervision.config import rules_current

    version, _params = rules_current()
    with translation.override(OFFICIAL_LANGUAGE):
        detail = _("黄牌逾期未整改（%(detail)s）") % {"detail": yellow.detail}
    return Alert.objects.create(
        case=yellow.case,
        kind=AlertKind.RED_CARD,
        severity=ALERT_SEVERITY[AlertKind.RED_CARD],
        dimension=ALERT_DIMENSION[AlertKind.RED_CARD],
        department_id=yellow.department_id,
        unit_id=yellow.unit_id,
        handler=yellow.handler,
        raised_at=now,
        occurred_on=_local_date(now),
        detail=detail,
        rule_version=version,
        escalated_from=yellow,
        dedupe_key=f"{AlertKind.RED_CARD}:{yellow.pk}",
    )


def corrections_escalate(
    *, now: dt.datetime | None = None, batch: int = 500, notify: bool = True
) -> int:
    """Escalate every item still OPEN after its due date (plus the rules'
    ``red_card_after_days`` working days): a yellow card's item becomes a red card with its
    own item; any other item's leaders get an escalation notice. Returns the items
    escalated. Runs hourly (``tasks.corrections_escalate``); concurrent runs skip each
    other's rows."""
    from tongban.apps.supervision.config import rules_current

    now = now or timezone.now()
    today = _local_date(now)
    calendar = get_calendar()
    escalated = 0
    last_id = 0
    while True:
        with transaction.atomic():
            _version, params = rules_current()
            items = list(
                Correction.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("alert", "alert__department", "alert__case")
                .filter(state=CorrectionState.OPEN, due_on__lt=today, pk__gt=last_id)
                .order_by("pk")[:batch]
            )
            if not items:
                return escalated
            last_id = items[-1].pk
            notices: list[Alert] = []
            for item in items:
                limit = calendar.add_working_days(item.due_on, params.red_card_after_days)
                if today <= limit:
                    continue
                item.state = CorrectionState.ESCALATED
                item.save(update_fields=["state"])
                alert = item.alert
                if alert.kind == AlertKind.YELLOW_CARD:
                    red = Alert.objects.filter(
                        dedupe_key=f"{AlertKind.RED_CARD}:{alert.pk}"
                    ).first()
                    if red is None:
                        red = _red_card(alert, now)
                        alerts_opened([red], now=now, notify=notify)
                    text = _official(gettext_noop("逾期未整改，升级为红牌"))
                else:
                    notices.append(alert)
                    text = _official(gettext_noop("逾期未整改，已通知部门负责人"))
                _entry(item, CorrectionAction.ESCALATED, None, text, now)
                audit_record(
                    actor=None,
                    action="supervision.correction.escalate",
                    target=item,
                    detail={"kind": alert.kind, "due_on": item.due_on.isoformat()},
                )
                escalated += 1
            if notify:
                _notify(
                    notices,
                    {item.alert_id: item for item in items},
                    template=TEMPLATE_ESCALATED,
                    leaders_only=True,
                )
        if len(items) < batch:
            return escalated


# ---------------------------------------------------------------------------------------
# reads (scoped to the actor)


@dataclass(frozen=True)
class AlertFilters:
    kind: str = ""
    severity: str = ""
    department: int | None = None
    state: str = ""
    date: dt.date | None = None


def alerts_visible(actor: Any) -> QuerySet[Alert]:
    """Every alert the actor may read: in the scope of any of ``ALERT_READERS``."""
    queryset: QuerySet[Alert] = Alert.objects.none()
    for permission in ALERT_READERS:
        queryset = queryset | scope_queryset(actor, Alert.objects.all(), permission, SCOPE)
    return queryset


def alert_list_for(*, actor: Any, filters: AlertFilters) -> QuerySet[Alert]:
    queryset = scope_queryset(actor, Alert.objects.all(), permissions.MONITOR_VIEW, SCOPE)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.severity:
        queryset = queryset.filter(severity=filters.severity)
    if filters.department:
        queryset = queryset.filter(department_id=filters.department)
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.date:
        queryset = queryset.filter(occurred_on=filters.date)
    return queryset.select_related("case", "department", "correction").order_by("-raised_at", "-id")


def access_alert_by_id(actor: Any, alert_id: int) -> Alert:
    """The one way to load an alert for a user; 404 when out of the actor's scope."""
    if not any(has_permission(actor, permission) for permission in ALERT_READERS):
        deny(actor, permissions.MONITOR_VIEW)
    alert = (
        alerts_visible(actor)
        .select_related("case", "department", "unit", "opened_by", "escalated_from", "rule_version")
        .filter(pk=alert_id)
        .first()
    )
    if alert is None:
        raise Http404
    return alert


def correction_of(alert: Alert) -> Correction | None:
    try:
        return alert.correction
    except Correction.DoesNotExist:
        return None


def correction_actions(actor: Any, correction: Correction | None) -> set[str]:
    """What the actor may do to the item now: explain, accept, reject, remind."""
    if correction is None:
        return set()
    actions: set[str] = set()
    rows = Correction.objects.filter(pk=correction.pk)

    def over(permission: str) -> bool:
        return has_permission(actor, permission) and (
            scope_queryset(actor, rows, permission, CORRECTION_SCOPE).exists()
        )

    if _can_explain(correction) and over(permissions.CORRECTION_RESPOND):
        actions.add("explain")
    if over(permissions.CORRECTION_REVIEW):
        if correction.state == CorrectionState.EXPLAINED:
            actions.update({"accept", "reject"})
        if correction.state in OPEN_STATES:
            actions.add("remind")
    return actions


def correction_entries(correction: Correction) -> QuerySet[CorrectionEntry]:
    return correction.entries.select_related("actor").order_by("at", "id")


def _still_open(actor: Any, permission: str) -> QuerySet[Correction]:
    """Items still to be explained in the departments ``permission`` opens to the actor
    (an escalated yellow card is carried on by its red card), most urgent first."""
    return (
        scope_queryset(
            actor,
            Correction.objects.filter(state__in=OPEN_STATES),
            permission,
            CORRECTION_SCOPE,
        )
        .exclude(state=CorrectionState.ESCALATED, alert__kind=AlertKind.YELLOW_CARD)
        .select_related("alert", "alert__case", "department")
        .order_by("due_on", "id")
    )


def corrections_to_respond(actor: Any) -> QuerySet[Correction]:
    """Items the actor's department must explain or rectify (most urgent first)."""
    return _still_open(actor, permissions.CORRECTION_RESPOND)


def corrections_to_review(actor: Any) -> QuerySet[Correction]:
    """Items explained and waiting for the actor's verdict (oldest explanation first)."""
    return (
        scope_queryset(
            actor,
            Correction.objects.filter(state=CorrectionState.EXPLAINED),
            permissions.CORRECTION_REVIEW,
            CORRECTION_SCOPE,
        )
        .select_related("alert", "alert__case", "department")
        .order_by("explained_at", "id")
    )


def corrections_supervised(actor: Any) -> QuerySet[Correction]:
    """Items still to be explained in the departments the actor supervises (催办)."""
    return _still_open(actor, permissions.CORRECTION_REVIEW)


def corrections_closed(actor: Any, limit: int = 20) -> list[Correction]:
    """The most recently closed items the actor responds to or reviews."""
    queryset: QuerySet[Correction] = Correction.objects.none()
    for permission in (permissions.CORRECTION_RESPOND, permissions.CORRECTION_REVIEW):
        queryset = queryset | scope_queryset(
            actor,
            Correction.objects.filter(state=CorrectionState.ACCEPTED),
            permission,
            CORRECTION_SCOPE,
        )
    return list(
        queryset.select_related("alert", "alert__case", "department").order_by("-closed_at")[:limit]
    )


def departments_for_manual_alert(actor: Any) -> QuerySet[Department]:
    return scope_queryset(
        actor, Department.objects.all(), permissions.ALERT_OPEN, DEPARTMENT_SCOPE
    ).order_by("code")


def case_for_manual_alert(actor: Any, case_id: int) -> SupervisedCase | None:
    cases = SupervisedCase.objects.select_related("department", "unit").filter(pk=case_id)
    return scope_queryset(actor, cases, permissions.ALERT_OPEN, SCOPE).first()
