"""Citizen transparency (谁使用了我的数据): every gateway call that read the signed-in
person's data (or, for an enterprise agent, the data of the enterprises they act for), and
the citizen's report of an access they believe improper.

A call is the person's when one of its ``GatewayCallSubject.subject_hash`` rows equals
``lookup_hmac(<their identity number>, purpose="sharing.subject")``: the log never holds
the number itself. Nobody reaches another person's calls: every read starts from the
viewer's own hashes, and ``access_call_for_subject`` (404 otherwise) is the one way to load
a single call for a citizen.

``access_report_create`` files a report (one per call and reporter), publishes
``sharing.access.reported`` for electronic supervision and marks it forwarded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.sharing.models import (
    AccessReport,
    GatewayCall,
    GatewayCallSubject,
    ReportStatus,
)
from tongban.platform.audit.services import audit_record
from tongban.platform.crypto.sm import lookup_hmac
from tongban.platform.events.services import event_publish

SUBJECT_PURPOSE = "sharing.subject"
REPORTED_EVENT = "sharing.access.reported"
REASON_MAX = 1000
RECENT_DAYS = 30


@dataclass(frozen=True)
class Subject:
    """One identity whose accesses the viewer may see: themself or an enterprise."""

    hash: str
    label: str
    is_self: bool


def subjects_of(user: Any) -> list[Subject]:
    """The viewer's own identity number and the USCCs of enterprises they are authorised
    to act for today (never anything else)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    subjects: list[Subject] = []
    person = getattr(user, "person", None)
    if person is not None and person.id_number:
        subjects.append(
            Subject(lookup_hmac(person.id_number, purpose=SUBJECT_PURPOSE), _("本人"), True)
        )
    from tongban.platform.accounts.models import AgentAuthorisation

    today = timezone.localdate()
    authorisations = AgentAuthorisation.objects.filter(
        agent=user, revoked_at__isnull=True
    ).select_related("legal_person")
    for authorisation in authorisations:
        if authorisation.is_live(today):
            legal_person = authorisation.legal_person
            subjects.append(
                Subject(
                    lookup_hmac(legal_person.uscc, purpose=SUBJECT_PURPOSE),
                    legal_person.name,
                    False,
                )
            )
    return subjects


def my_calls(*, user: Any, subjects: list[Subject] | None = None) -> QuerySet[GatewayCall]:
    """The calls that read the viewer's data (or their enterprises'), newest first."""
    hashes = [subject.hash for subject in (subjects if subjects is not None else subjects_of(user))]
    if not hashes:
        return GatewayCall.objects.none()
    ids = GatewayCallSubject.objects.filter(subject_hash__in=hashes).values("call_id")
    return (
        GatewayCall.objects.filter(pk__in=ids)
        .select_related(
            "consumer_system", "consumer_department", "provider_department", "resource__current"
        )
        .order_by("-at", "-id")
    )


def whose(call_ids: list[int], subjects: list[Subject]) -> dict[int, list[str]]:
    """For each call, whose data it read (本人 / the enterprise's name)."""
    labels = {subject.hash: subject.label for subject in subjects}
    found: dict[int, list[str]] = {}
    rows = GatewayCallSubject.objects.filter(
        call_id__in=call_ids, subject_hash__in=list(labels)
    ).values_list("call_id", "subject_hash")
    for call_id, subject_hash in rows:
        names = found.setdefault(call_id, [])
        if labels[subject_hash] not in names:
            names.append(labels[subject_hash])
    return found


def access_call_for_subject(*, user: Any, call_id: int) -> GatewayCall:
    """One of the viewer's calls, or 404 (also for calls that exist but are not theirs)."""
    call = my_calls(user=user).filter(pk=call_id).first()
    if call is None:
        raise Http404(_("未找到该使用记录"))
    return call


def my_reports(*, user: Any) -> QuerySet[AccessReport]:
    return (
        AccessReport.objects.filter(reporter=user)
        .select_related(
            "call__consumer_department", "call__consumer_system", "call__resource__current"
        )
        .order_by("-created_at", "-id")
    )


def resource_label(call: GatewayCall) -> str:
    if call.resource is None:
        return ""
    return call.resource.current.name if call.resource.current else call.resource.code


def access_report_create(*, actor: Any, call_id: int, reason: str) -> AccessReport:
    """File the viewer's report on one of their calls; it goes to electronic supervision."""
    call = access_call_for_subject(user=actor, call_id=call_id)
    text = (reason or "").strip()
    if not text:
        raise ValidationError({"reason": _("请填写举报理由")})
    if len(text) > REASON_MAX:
        raise ValidationError({"reason": _("举报理由不能超过%(n)s个字") % {"n": REASON_MAX}})
    duplicate = ValidationError({"reason": _("您已举报过这次数据使用，请勿重复举报")})
    if AccessReport.objects.filter(call=call, reporter=actor).exists():
        raise duplicate
    try:
        with transaction.atomic():
            report = AccessReport.objects.create(call=call, reporter=actor, reason=text)
            audit_record(
                action="sharing.access_report.create",
                actor=actor,
                target=report,
                detail={"call_id": call.pk, "status": ReportStatus.FORWARDED.value},
            )
            event_publish(
                REPORTED_EVENT,
                {
                    "report_id": report.pk,
                    "call_id": call.pk,
                    "resource_code": call.resource.code if call.resource else "",
                    "resource_name": resource_label(call),
                    "consumer_department_code": (
                        call.consumer_department.code if call.consumer_department else ""
                    ),
                    "consumer_system_code": (
                        call.consumer_system.code if call.consumer_system else ""
                    ),
                    "provider_department_code": (
                        call.provider_department.code if call.provider_department else ""
                    ),
                    "accessed_at": timezone.localtime(call.at).isoformat(),
                    "reason": text,
                },
                actor=actor,
            )
            report.status = ReportStatus.FORWARDED
            report.save(update_fields=["status"])
    except IntegrityError as error:  # a concurrent double submission
        raise duplicate from error
    return report


def personal_space_detail(user: Any) -> str:
    """The personal space's line beside the link to this page: the last 30 days' count."""
    subjects = subjects_of(user)
    if not subjects:
        return ""
    since = timezone.now() - dt.timedelta(days=RECENT_DAYS)
    recent = my_calls(user=user, subjects=subjects).filter(at__gte=since).count()
    return _("近%(days)s天被使用%(n)s次") % {"days": RECENT_DAYS, "n": recent}
