"""The approvals JSON API (mounted at /api/approvals/). Every operation needs a signed-in
caller; there is no public read. Each endpoint loads the case with ``access_case_by_id``,
calls one service or selector, and shapes the output. Errors use the platform's shape
(``{"code", "message", "details"}``) in the caller's language."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from tongban.apps.approvals import permissions, selectors, services
from tongban.apps.approvals.access import access_case_by_id
from tongban.apps.approvals.clock import Clock, case_clock
from tongban.apps.approvals.models import Case, Notice
from tongban.platform.accounts.models import LegalPerson
from tongban.platform.api.auth import requires, requires_public_user
from tongban.platform.api.endpoints import Pagination

router = Router(tags=["approvals"])


def _actor(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


# ---------------------------------------------------------------- schemas


class MaterialIn(Schema):
    name: str = Field(..., max_length=200)
    file_id: uuid.UUID | None = None
    reference: str = Field("", max_length=200)
    item_id: int | None = None

    def to_input(self) -> services.MaterialInput:
        return services.MaterialInput(
            name=self.name, file_id=self.file_id, reference=self.reference, item_id=self.item_id
        )


class ApplicantIn(Schema):
    kind: str = Field("natural_person", max_length=16)
    legal_person_id: int | None = None
    contact_phone: str = Field("", max_length=20)

    def to_input(self) -> services.ApplicantInput:
        legal_person = (
            get_object_or_404(LegalPerson, pk=self.legal_person_id)
            if self.legal_person_id
            else None
        )
        return services.ApplicantInput(
            kind=self.kind, legal_person=legal_person, contact_phone=self.contact_phone
        )


def _applicant(given: ApplicantIn | None) -> services.ApplicantInput:
    return given.to_input() if given is not None else services.ApplicantInput()


class SubmitIn(Schema):
    item_id: int
    applicant: ApplicantIn | None = None
    form_data: dict[str, Any] = Field(default_factory=dict)
    materials: list[MaterialIn] = Field(default_factory=list, max_length=100)


class BundleSubmitIn(Schema):
    item_ids: list[int] | None = None
    applicant: ApplicantIn | None = None
    forms: dict[int, dict[str, Any]] = Field(default_factory=dict)
    materials: list[MaterialIn] = Field(default_factory=list, max_length=300)


class ReasonIn(Schema):
    reason: str = Field("", max_length=2000)


class ReasonsIn(Schema):
    reasons: str = Field(..., max_length=5000)


class CorrectionAnswerIn(Schema):
    materials: list[MaterialIn] = Field(default_factory=list, max_length=100)
    form_data: dict[str, Any] | None = None
    forms: dict[int, dict[str, Any]] | None = None
    note: str = Field("", max_length=2000)


class RatingIn(Schema):
    level: int
    comment: str = Field("", max_length=2000)


class AcceptIn(Schema):
    checked: list[str] | None = None
    item_checks: dict[int, list[str]] | None = None
    note: str = Field("", max_length=2000)


class CorrectionItemIn(Schema):
    material: str = Field(..., max_length=200)
    reason: str = Field(..., max_length=1000)
    item_id: int | None = None


class CorrectionRequestIn(Schema):
    items: list[CorrectionItemIn] = Field(..., max_length=100)
    note: str = Field("", max_length=2000)


class TaskCompleteIn(Schema):
    opinion: str = Field(..., max_length=5000)


class DecideIn(Schema):
    approve: bool
    reasons: str = Field("", max_length=5000)
    appeal_rights: str = Field("", max_length=2000)
    opinion: str = Field("", max_length=5000)
    licence_type_code: str = Field("", max_length=40)
    licence_valid_until: dt.date | None = None


class DeliverIn(Schema):
    method: str = Field(..., max_length=16)
    note: str = Field("", max_length=2000)


class ClockOut(Schema):
    accepted_at: dt.datetime | None
    legal_deadline: dt.date | None
    promised_deadline: dt.date | None
    working_days_used: int
    working_days_left: int | None
    legal_days_left: int | None
    paused_days: int
    extension_days: int
    is_paused: bool
    is_overdue: bool


class CaseOut(Schema):
    id: int
    number: str
    state: str
    state_label: str
    is_joint: bool
    parent_number: str
    item_id: int | None
    item_version_id: int | None
    item_name: str
    bundle_code: str
    department_code: str
    department_name: str
    case_type: str
    applicant_kind: str
    applicant_name: str
    agent_name: str
    contact_phone_masked: str
    submitted_at: dt.datetime | None
    accepted_at: dt.datetime | None
    decided_at: dt.datetime | None
    closed_at: dt.datetime | None
    delivered_at: dt.datetime | None
    outcome: str
    delivery_method: str
    licence_identifiers: list[str]
    clock: ClockOut


class TimelineOut(Schema):
    label: str
    verb: str
    actor: str
    occurred_at: dt.datetime
    state: str
    step: str
    note: str
    working_days_used: int | None
    working_days_left: int | None


class MaterialOut(Schema):
    case_number: str
    name: str
    source: str
    file_id: str | None
    reference: str
    is_checked: bool
    round: int


class NoticeOut(Schema):
    id: int
    kind: str
    number: str
    title: str
    issued_on: dt.date


class TaskOut(Schema):
    id: int
    spec_id: str
    name: str
    role: str
    state: str
    due_days: int
    claimed_by: str


class CaseDetailOut(CaseOut):
    children: list[CaseOut]
    timeline: list[TimelineOut]
    materials: list[MaterialOut]
    notices: list[NoticeOut]
    open_tasks: list[TaskOut]
    actions: list[str]


class InboxOut(Schema):
    task: TaskOut
    case: CaseOut
    step_deadline: dt.date | None
    step_days_left: int | None


class RatingOut(Schema):
    level: int
    needs_follow_up: bool


# ---------------------------------------------------------------- shaping


class _Shaped:
    """A queryset seen through a shaping function, for ``@paginate``: only the page's
    rows are shaped (and their clocks computed)."""

    def __init__(self, queryset: Any, shape: Any) -> None:
        self.queryset = queryset
        self.shape = shape

    def __len__(self) -> int:
        return int(self.queryset.count())

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        return [self.shape(row) for row in self.queryset[window]]


def _clock_out(clock: Clock) -> dict[str, Any]:
    return {
        "accepted_at": clock.accepted_at,
        "legal_deadline": clock.legal_deadline,
        "promised_deadline": clock.promised_deadline,
        "working_days_used": clock.used_days,
        "working_days_left": clock.promised_days_left,
        "legal_days_left": clock.legal_days_left,
        "paused_days": clock.paused_days,
        "extension_days": clock.extension_days,
        "is_paused": clock.is_paused,
        "is_overdue": clock.is_overdue,
    }


def _case_out(case: Case, clock: Clock | None = None) -> dict[str, Any]:
    return {
        "id": case.pk,
        "number": case.number,
        "state": case.state,
        "state_label": str(case.get_state_display()),
        "is_joint": case.is_joint,
        "parent_number": case.parent.number if case.parent_id and case.parent else "",
        "item_id": case.item_id,
        "item_version_id": case.item_version_id,
        "item_name": case.item_name,
        "bundle_code": case.bundle_code,
        "department_code": case.department_code,
        "department_name": case.department_name,
        "case_type": case.case_type,
        "applicant_kind": case.applicant_kind,
        "applicant_name": case.applicant_name,
        "agent_name": case.agent_name,
        "contact_phone_masked": case.contact_phone_masked,
        "submitted_at": case.submitted_at,
        "accepted_at": case.accepted_at,
        "decided_at": case.decided_at,
        "closed_at": case.closed_at,
        "delivered_at": case.delivered_at,
        "outcome": case.outcome,
        "delivery_method": case.delivery_method,
        "licence_identifiers": list(case.licence_identifiers),
        "clock": _clock_out(clock or case_clock(case)),
    }


def _task_out(task: Any) -> dict[str, Any]:
    claimer = task.claimed_by
    return {
        "id": task.pk,
        "spec_id": task.spec_id,
        "name": task.name,
        "role": task.role,
        "state": task.state,
        "due_days": task.due_days,
        "claimed_by": (claimer.display_name or claimer.username) if claimer else "",
    }


def _detail_out(actor: Any, case: Case) -> dict[str, Any]:
    detail = selectors.case_detail(actor=actor, case=case)
    numbers = {detail.case.pk: detail.case.number}
    numbers.update({view.case.pk: view.case.number for view in detail.children})
    return {
        **_case_out(detail.case, detail.clock),
        "children": [_case_out(view.case, view.clock) for view in detail.children],
        "timeline": [
            {
                "label": row.label,
                "verb": row.verb,
                "actor": row.actor_label,
                "occurred_at": row.occurred_at,
                "state": row.state_to,
                "step": row.step_name,
                "note": row.note,
                "working_days_used": row.working_days_used,
                "working_days_left": row.working_days_left,
            }
            for row in detail.timeline
        ],
        "materials": [
            {
                "case_number": numbers.get(material.case_id, ""),
                "name": material.name,
                "source": material.source,
                "file_id": str(material.file_id) if material.file_id else None,
                "reference": material.reference,
                "is_checked": material.is_checked,
                "round": material.round,
            }
            for material in detail.materials
        ],
        "notices": [
            {
                "id": notice.pk,
                "kind": notice.kind,
                "number": notice.number,
                "title": notice.title,
                "issued_on": notice.issued_on,
            }
            for notice in detail.notices
        ],
        "open_tasks": [] if detail.is_applicant_view else [_task_out(t) for t in detail.open_tasks],
        "actions": sorted(detail.actions),
    }


# ---------------------------------------------------------------- the applicant


@router.post(
    "/cases",
    response={201: CaseOut},
    auth=requires_public_user(),
    operation_id="approvals_case_submit",
)
def case_submit(request: HttpRequest, payload: SubmitIn) -> Any:
    """Submit an application. Send an ``Idempotency-Key`` header (8–80 characters): a
    retried or double-clicked request returns the case the first one created."""
    case = services.case_submit(
        actor=_actor(request),
        item_id=payload.item_id,
        idempotency_key=request.headers.get("Idempotency-Key", "").strip(),
        applicant=_applicant(payload.applicant),
        form_data=payload.form_data,
        materials=[material.to_input() for material in payload.materials],
    )
    return Status(201, _case_out(case))


@router.post(
    "/bundles/{code}/cases",
    response={201: CaseOut},
    auth=requires_public_user(),
    operation_id="approvals_case_submit_bundle",
)
def case_submit_bundle(request: HttpRequest, code: str, payload: BundleSubmitIn) -> Any:
    """Apply for a 一件事 bundle: one joint case with a child per item (materials carry
    ``item_id``; ``forms`` maps item ids to form data). Idempotent like ``/cases``."""
    case = services.case_submit_bundle(
        actor=_actor(request),
        bundle_code=code[:40],
        idempotency_key=request.headers.get("Idempotency-Key", "").strip(),
        applicant=_applicant(payload.applicant),
        item_ids=payload.item_ids,
        forms=payload.forms,
        materials=[material.to_input() for material in payload.materials],
    )
    return Status(201, _case_out(case))


@router.get("/cases/mine", response=list[CaseOut], operation_id="approvals_case_list_mine")
@paginate(Pagination)
def case_list_mine(request: HttpRequest, state: str = "") -> Any:
    """The caller's applications (and those of the enterprises they act for)."""
    cases = selectors.case_list_for_applicant(
        actor=_actor(request), states=[state[:16]] if state else None
    )
    return _Shaped(cases, _case_out)


@router.get("/cases/{case_id}", response=CaseDetailOut, operation_id="approvals_case_get")
def case_get(request: HttpRequest, case_id: int) -> Any:
    actor = _actor(request)
    return _detail_out(actor, access_case_by_id(actor, case_id))


@router.get(
    "/cases/{case_id}/notices/{notice_id}/pdf",
    response={200: None},
    operation_id="approvals_notice_pdf",
)
def notice_pdf(request: HttpRequest, case_id: int, notice_id: int) -> HttpResponse:
    """A notice or decision of the case (or of one of its children) as PDF."""
    case = access_case_by_id(_actor(request), case_id)
    notice = get_object_or_404(selectors.notices_of(case), pk=notice_id)
    response = HttpResponse(selectors.notice_pdf(notice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{_ascii(notice)}.pdf"'
    return response


def _ascii(notice: Notice) -> str:
    return "".join(char for char in notice.number if char.isascii() and char not in '"\\')


@router.post(
    "/cases/{case_id}/withdraw",
    response=CaseOut,
    auth=requires_public_user(),
    operation_id="approvals_case_withdraw",
)
def case_withdraw(request: HttpRequest, case_id: int, payload: ReasonIn) -> Any:
    actor = _actor(request)
    case = access_case_by_id(actor, case_id, "applicant")
    return _case_out(services.case_withdraw(actor=actor, case=case, reason=payload.reason))


@router.post(
    "/cases/{case_id}/correction-answer",
    response=CaseOut,
    auth=requires_public_user(),
    operation_id="approvals_case_correction_answer",
)
def case_correction_answer(request: HttpRequest, case_id: int, payload: CorrectionAnswerIn) -> Any:
    actor = _actor(request)
    case = access_case_by_id(actor, case_id, "applicant")
    answered = services.case_correction_answer(
        actor=actor,
        case=case,
        materials=[material.to_input() for material in payload.materials],
        form_data=payload.form_data,
        forms=payload.forms,
        note=payload.note,
    )
    return _case_out(answered)


@router.post(
    "/cases/{case_id}/rating",
    response={201: RatingOut},
    auth=requires_public_user(),
    operation_id="approvals_case_rate",
)
def case_rate(request: HttpRequest, case_id: int, payload: RatingIn) -> Any:
    actor = _actor(request)
    case = access_case_by_id(actor, case_id, "applicant")
    rating = services.case_rate(
        actor=actor, case=case, level=payload.level, comment=payload.comment
    )
    return Status(201, {"level": rating.level, "needs_follow_up": rating.needs_follow_up})


# ---------------------------------------------------------------- staff


@router.get(
    "/inbox",
    response=list[InboxOut],
    auth=requires(*selectors.TASK_ROLE_PERMISSIONS.values()),
    operation_id="approvals_task_inbox",
)
def task_inbox(request: HttpRequest) -> Any:
    """The caller's open tasks on cases in their scope, oldest first (at most 200)."""
    return [
        {
            "task": _task_out(entry.task),
            "case": _case_out(entry.case, entry.clock),
            "step_deadline": entry.step.deadline,
            "step_days_left": entry.step.days_left,
        }
        for entry in selectors.task_inbox(actor=_actor(request))
    ]


@router.get(
    "/queue",
    response=list[CaseOut],
    auth=requires(permissions.CASE_ACCEPT),
    operation_id="approvals_case_queue",
)
@paginate(Pagination)
def case_queue(request: HttpRequest) -> Any:
    """Received applications waiting for the window (accept, refuse, correction)."""
    return _Shaped(selectors.cases_to_accept(actor=_actor(request)), _case_out)


@router.post(
    "/cases/{case_id}/accept",
    response=CaseOut,
    auth=requires(permissions.CASE_ACCEPT),
    operation_id="approvals_case_accept",
)
def case_accept(request: HttpRequest, case_id: int, payload: AcceptIn) -> Any:
    actor = _actor(request)
    case = access_case_by_id(actor, case_id, permissions.CASE_ACCEPT)
    accepted = services.case_accept(
        actor=actor,
        case=case,
        checked=payload.checked,
        item_checks=payload.item_checks,
        note=payload.note,
    )
    return _case_out(accepted)


@router.post(
    "/cases/{case_id}/refuse",
    response=CaseOut,
    auth=requires(permissions.CASE_ACCEPT),
    operation_id="approvals_case_refuse_acceptance",
)
def case_refuse_acceptance(request: HttpRequest, case_id: int, payload: ReasonsIn) -> Any:
    actor = _actor(request)
    case = access_case_by_id(actor, case_id, permissions.CASE_ACCEPT)
    return _case_out(
        services.case_refuse_acceptance(actor=actor, case=case, reasons=payload.reasons)
    )


@router.post(
    "/cases/{case_id}/correction-request",
    response={201: CaseOut},
    auth=requires(permissions.CASE_ACCEPT),
    operation_id="approvals_case_correction_request",
)
def case_correction_request(
    request: HttpRequest, case_id: int, payload: CorrectionRequestIn
) -> Any:
    actor = _actor(request)
    case = access_case_by_id(actor, case_id, permissions.CASE_ACCEPT)
    services.case_correction_request(
        actor=actor,
        case=case,
        items=[
            services.CorrectionItem(
                material=item.material, reason=item.reason, item_id=item.item_id
            )
            for item in payload.items
        ],
        note=payload.note,
    )
    case.refresh_from_db()
    return Status(201, _case_out(case))


@router.post(
    "/cases/{case_id}/tasks/{task_id}/claim",
    response=TaskOut,
    auth=requires(*selectors.TASK_ROLE_PERMISSIONS.values()),
    operation_id="approvals_case_task_claim",
)
def case_task_claim(request: HttpRequest, case_id: int, task_id: int) -> Any:
    actor = _actor(request)
    case = access_case_by_id(actor, case_id)
    return _task_out(services.case_task_claim(actor=actor, case=case, task_id=task_id))


@router.post(
    "/cases/{case_id}/tasks/{task_id}/complete",
    response=CaseOut,
    auth=requires(permissions.CASE_REVIEW),
    operation_id="approvals_case_task_complete",
)
def case_task_complete(
    request: HttpRequest, case_id: int, task_id: int, payload: TaskCompleteIn
) -> Any:
    actor = _actor(request)
    case = access_case_by_id(actor, case_id, permissions.CASE_REVIEW)
    return _case_out(
        services.case_task_complete(
            actor=actor, case=case, task_id=task_id, opinion=payload.opinion
        )
    )


@router.post(
    "/cases/{case_id}/decide",
    response=CaseOut,
    auth=requires(permissions.CASE_DECIDE),
    operation_id="approvals_case_decide",
)
def case_decide(request: HttpRequest, case_id: int, payload: DecideIn) -> Any:
    actor = _actor(request)
    case = access_case_by_id(actor, case_id, permissions.CASE_DECIDE)
    decided = services.case_decide(
        actor=actor,
        case=case,
        approve=payload.approve,
        reasons=payload.reasons,
        appeal_rights=payload.appeal_rights,
        opinion=payload.opinion,
        licence_type_code=payload.licence_type_code,
        licence_valid_until=payload.licence_valid_until,
    )
    return _case_out(decided)


@router.post(
    "/cases/{case_id}/deliver",
    response=CaseOut,
    auth=requires(permissions.CASE_DELIVER),
    operation_id="approvals_case_deliver",
)
def case_deliver(request: HttpRequest, case_id: int, payload: DeliverIn) -> Any:
    actor = _actor(request)
    case = access_case_by_id(actor, case_id, permissions.CASE_DELIVER)
    return _case_out(
        services.case_deliver(actor=actor, case=case, method=payload.method, note=payload.note)
    )
