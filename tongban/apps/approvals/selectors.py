"""Every read of cases, scoped to the actor. Pages and the API call these, never the ORM.

Lists return querysets (lazy, paginate them) with what the list shows already joined and
the clock's rows prefetched; ``clocks_for(cases)`` computes their clocks with one calendar.
``case_detail`` gathers everything a case page shows, including what the actor may do now
(``actions``), so templates only render.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from tongban.apps.approvals import once_only, permissions
from tongban.apps.approvals.access import (
    CASE_SCOPE,
    acts_for_case,
    applicant_cases,
    countersigns_for,
    staff_cases,
)
from tongban.apps.approvals.clock import Clock, StepClock, case_clock, clocks_for, step_clock
from tongban.apps.approvals.models import (
    RECEIVED_STATES,
    RUNNING_STATES,
    Case,
    CaseEvent,
    CaseMaterial,
    CaseState,
    CaseType,
    CorrectionRequest,
    Countersign,
    CountersignState,
    Extension,
    ExtensionState,
    Notice,
    Opinion,
    Pause,
    Rating,
)
from tongban.platform.access.services import can_access
from tongban.platform.calendar.services import get_calendar

__all__ = [
    "CaseDetail",
    "InboxEntry",
    "case_detail",
    "case_list_for_applicant",
    "case_list_for_staff",
    "case_actions",
    "case_process",
    "case_timeline",
    "cases_to_accept",
    "cases_to_deliver",
    "clocks_for",
    "countersigns_open_for",
    "extensions_to_approve",
    "notice_pdf",
    "task_inbox",
]

CLOCK_PREFETCH = ("pauses", "corrections", "extensions")
# which permission (over the case) a task of each role needs; see services._role_permission
TASK_ROLE_PERMISSIONS = {
    "accept": permissions.CASE_ACCEPT,
    "review": permissions.CASE_REVIEW,
    "decide": permissions.CASE_DECIDE,
    "deliver": permissions.CASE_DELIVER,
}


def _listing(queryset: QuerySet[Case]) -> QuerySet[Case]:
    return queryset.select_related("parent").prefetch_related(*CLOCK_PREFETCH)


def case_list_for_applicant(
    *, actor: Any, states: Sequence[str] | None = None, include_children: bool = False
) -> QuerySet[Case]:
    """The actor's applications (and their enterprises'), newest first. Children of joint
    applications are listed under their parent unless ``include_children``."""
    queryset = applicant_cases(actor)
    if not include_children:
        queryset = queryset.filter(parent__isnull=True)
    if states:
        queryset = queryset.filter(state__in=states)
    return _listing(queryset).order_by("-created_at", "-pk")


def case_list_for_staff(
    *,
    actor: Any,
    permission: str | None = None,
    states: Sequence[str] | None = None,
    department_code: str = "",
    case_type: str = "",
    number: str = "",
    submitted_from: dt.date | None = None,
    submitted_until: dt.date | None = None,
) -> QuerySet[Case]:
    """Cases in the actor's data scope (drafts never), newest first, filtered."""
    queryset = staff_cases(actor, permission).exclude(state=CaseState.DRAFT)
    if states:
        queryset = queryset.filter(state__in=states)
    if department_code:
        queryset = queryset.filter(department_code=department_code)
    if case_type:
        queryset = queryset.filter(case_type=case_type)
    if number:
        queryset = queryset.filter(number__startswith=number.strip())
    if submitted_from:
        queryset = queryset.filter(submitted_at__date__gte=submitted_from)
    if submitted_until:
        queryset = queryset.filter(submitted_at__date__lte=submitted_until)
    return _listing(queryset).order_by("-submitted_at", "-pk")


def cases_to_accept(*, actor: Any) -> QuerySet[Case]:
    """The window's queue: received applications (not joint children), oldest first."""
    return (
        _listing(staff_cases(actor, permissions.CASE_ACCEPT))
        .filter(state__in=RECEIVED_STATES, parent__isnull=True)
        .order_by("submitted_at", "pk")
    )


def cases_to_deliver(*, actor: Any) -> QuerySet[Case]:
    """Decided or closed cases waiting for delivery (a joint case once all are decided)."""
    return (
        _listing(staff_cases(actor, permissions.CASE_DELIVER))
        .filter(state__in=[CaseState.DECIDED, CaseState.CLOSED], parent__isnull=True)
        .order_by("decided_at", "pk")
    )


def extensions_to_approve(*, actor: Any) -> QuerySet[Extension]:
    cases = staff_cases(actor, permissions.CASE_EXTEND_APPROVE)
    return (
        Extension.objects.filter(state=ExtensionState.REQUESTED, case__in=cases)
        .exclude(requested_by=actor)
        .select_related("case", "requested_by")
        .order_by("requested_at")
    )


def countersigns_open_for(*, actor: Any) -> QuerySet[Countersign]:
    return (
        countersigns_for(actor)
        .filter(state=CountersignState.OPEN)
        .select_related("case", "department", "unit", "requested_by")
        .order_by("requested_at")
    )


@dataclass(frozen=True)
class InboxEntry:
    task: Any  # workflow.WorkTask
    case: Case
    clock: Clock
    step: StepClock


def _case_id(subject: str) -> int | None:
    prefix = "approvals.case:"
    if not subject.startswith(prefix):
        return None
    try:
        return int(subject[len(prefix) :])
    except ValueError:
        return None


def task_inbox(*, actor: Any, limit: int = 200) -> list[InboxEntry]:
    """The officer's open tasks on cases (ready for their postings, or claimed by them),
    limited to cases in their data scope, oldest first, with both clocks."""
    from tongban.platform.workflow.selectors import task_inbox_for

    tasks = [
        task
        for task in task_inbox_for(actor=actor)[: limit * 2]
        if _case_id(task.instance.subject) is not None
    ]
    ids = {_case_id(task.instance.subject) or 0 for task in tasks}
    # only tasks the actor may act on: a review task needs the review permission over the
    # case, a decision the decision permission, … (the same rule the services apply)
    cases_by_role = {
        role: set(staff_cases(actor, code).filter(pk__in=ids).values_list("pk", flat=True))
        for role, code in TASK_ROLE_PERMISSIONS.items()
        if any(task.role == role for task in tasks)
    }
    tasks = [
        task
        for task in tasks
        if _case_id(task.instance.subject) in cases_by_role.get(task.role or "review", set())
    ]
    ids = {_case_id(task.instance.subject) or 0 for task in tasks}
    cases = {case.pk: case for case in _listing(staff_cases(actor)).filter(pk__in=ids)}
    now = timezone.now()
    calendar = get_calendar()
    entries = []
    for task in tasks:
        case = cases.get(_case_id(task.instance.subject) or 0)
        if case is None:
            continue
        pauses = [(pause.started_at, pause.ended_at) for pause in case.pauses.all()]
        entries.append(
            InboxEntry(
                task=task,
                case=case,
                clock=case_clock(case, now=now, calendar=calendar),
                step=step_clock(
                    started_at=task.created_at,
                    ended_at=None,
                    now=now,
                    limit_days=task.due_days,
                    pauses=pauses,
                    calendar=calendar,
                ),
            )
        )
        if len(entries) >= limit:
            break
    return entries


def case_timeline(case: Case) -> QuerySet[CaseEvent]:
    return case.timeline.select_related("actor").order_by("occurred_at", "pk")


def case_process(case: Case) -> tuple[Any, Any] | None:
    """(ProcessInstance, Position) for the diagram, or None before acceptance."""
    if case.process_instance_id is None:
        return None
    from tongban.platform.workflow.selectors import instance_get
    from tongban.platform.workflow.services import instance_position

    instance = instance_get(case.process_instance_id)
    if instance is None:
        return None
    return instance, instance_position(instance)


def _open_tasks(case: Case) -> list[Any]:
    if case.process_instance_id is None:
        return []
    from tongban.platform.workflow.models import WorkTask

    return list(
        WorkTask.objects.filter(
            instance_id=case.process_instance_id, state__in=["ready", "claimed"]
        )
        .select_related("claimed_by")
        .order_by("pk")
    )


def _completed_tasks(case: Case) -> list[Any]:
    if case.process_instance_id is None:
        return []
    from tongban.platform.workflow.models import WorkTask

    return list(
        WorkTask.objects.filter(instance_id=case.process_instance_id, state="completed")
        .select_related("completed_by")
        .order_by("completed_at", "pk")
    )


def case_actions(
    actor: Any, case: Case, *, open_tasks: Iterable[Any] | None = None
) -> frozenset[str]:
    """Service names the actor may call on the case now (pages show those buttons).

    The services check everything again; this is only what to offer.
    """
    actions: set[str] = set()
    state = case.state
    is_child = case.parent_id is not None
    if acts_for_case(actor, case) and not is_child:
        if state == CaseState.DRAFT:
            actions |= {"case_submit", "case_draft_save", "case_draft_delete"}
        if state == CaseState.CORRECTION:
            actions.add("case_correction_answer")
        if state in (CaseState.SUBMITTED, CaseState.CORRECTION, *RUNNING_STATES):
            actions.add("case_withdraw")
        if state in (CaseState.CLOSED, CaseState.DELIVERED) and not _is_rated(case):
            actions.add("case_rate")
    if getattr(actor, "kind", "") != "staff":
        return frozenset(actions)

    def holds(code: str) -> bool:
        return can_access(actor, case, code, CASE_SCOPE)

    if not is_child and state == CaseState.SUBMITTED:
        if holds(permissions.CASE_RECEIVE):
            actions.add("case_receive")
        if holds(permissions.CASE_ACCEPT):
            actions |= {"case_correction_request", "case_refuse_acceptance", "case_send_back"}
            if case.case_type == CaseType.INSTANT:
                actions.add("case_decide_on_the_spot")
            else:
                actions.add("case_accept")
    if not is_child and state == CaseState.CORRECTION and holds(permissions.CASE_ACCEPT):
        actions |= {"case_refuse_acceptance", "case_send_back"}
    if state in RUNNING_STATES and not case.is_joint:
        paused = any(pause.ended_at is None for pause in case.pauses.all())
        if holds(permissions.CASE_REVIEW):
            actions |= {"case_opinion_add", "case_extension_request"}
            actions.add("case_pause_end" if paused else "case_pause_start")
            if not paused:
                actions.add("case_countersign_request")
        tasks = list(open_tasks) if open_tasks is not None else _open_tasks(case)
        roles = {task.role for task in tasks}
        if not paused and "review" in roles and holds(permissions.CASE_REVIEW):
            actions |= {"case_task_claim", "case_task_complete", "case_return"}
        if not paused and "decide" in roles and holds(permissions.CASE_DECIDE):
            actions |= {"case_decide", "case_return"}
        if holds(permissions.CASE_EXTEND_APPROVE) and any(
            extension.state == ExtensionState.REQUESTED and extension.requested_by_id != actor.pk
            for extension in case.extensions.all()
        ):
            actions.add("case_extension_approve")
    if state in RUNNING_STATES and case.is_joint and holds(permissions.CASE_REVIEW):
        actions.add("case_extension_request")
    if (
        not is_child
        and state == CaseState.DECIDED
        and (holds(permissions.CASE_DECIDE) or holds(permissions.CASE_DELIVER))
    ):
        actions.add("case_close")
    if (
        not is_child
        and state in (CaseState.DECIDED, CaseState.CLOSED)
        and holds(permissions.CASE_DELIVER)
    ):
        actions.add("case_deliver")
    return frozenset(actions)


def _is_rated(case: Case) -> bool:
    try:
        return case.rating is not None
    except Rating.DoesNotExist:
        return False


@dataclass(frozen=True)
class ChildView:
    case: Case
    clock: Clock
    open_tasks: list[Any]


@dataclass(frozen=True)
class CaseDetail:
    case: Case
    clock: Clock
    timeline: list[CaseEvent]
    materials: list[CaseMaterial]  # current ones (of every child for a joint case)
    notices: list[Notice]
    corrections: list[CorrectionRequest]
    pauses: list[Pause]
    extensions: list[Extension]
    opinions: list[Opinion]
    countersigns: list[Countersign]
    children: list[ChildView]
    open_tasks: list[Any]  # workflow.WorkTask rows, ready or claimed
    completed_tasks: list[Any]
    step_clocks: dict[int, StepClock]  # open task id → its step clock
    rating: Rating | None
    licences: list[Any]  # licences.public.LicenceInfo
    actions: frozenset[str]
    is_applicant_view: bool
    #: once-only materials fetched through the sharing gateway (or that failed), latest
    #: per material; and the failed ones the applicant still has to upload
    shared_materials: list[Any] = field(default_factory=list)
    shared_to_upload: list[Any] = field(default_factory=list)


def case_detail(*, actor: Any, case: Case) -> CaseDetail:
    """Everything the case page shows, for a case loaded with ``access_case_by_id``.

    The applicant sees the timeline, notices, materials, results and children, but not
    the officers' internal opinions or countersigns."""
    from tongban.apps.licences import public as licences

    fresh = (
        Case.objects.select_related("parent", "applicant", "legal_person", "department")
        .prefetch_related(*CLOCK_PREFETCH)
        .get(pk=case.pk)
    )
    now = timezone.now()
    calendar = get_calendar()
    applicant_view = acts_for_case(actor, fresh) and getattr(actor, "kind", "") != "staff"
    children = list(fresh.children.prefetch_related(*CLOCK_PREFETCH).order_by("pk"))
    family = [fresh, *children]
    materials = list(
        CaseMaterial.objects.filter(case__in=family, is_current=True)
        .select_related("file", "case")
        .order_by("case_id", "pk")
    )
    open_tasks = _open_tasks(fresh)
    pauses = [(pause.started_at, pause.ended_at) for pause in fresh.pauses.all()]
    step_clocks = {
        task.pk: step_clock(
            started_at=task.created_at,
            ended_at=None,
            now=now,
            limit_days=task.due_days,
            pauses=pauses,
            calendar=calendar,
        )
        for task in open_tasks
    }
    found_licences: list[Any] = []
    for member in family:
        found_licences.extend(licences.licences_for_source(f"approvals.case:{member.pk}"))
    try:
        rating: Rating | None = fresh.rating
    except Rating.DoesNotExist:
        rating = None
    return CaseDetail(
        case=fresh,
        clock=case_clock(fresh, now=now, calendar=calendar),
        timeline=list(case_timeline(fresh)),
        materials=materials,
        notices=list(Notice.objects.filter(case__in=family).order_by("pk")),
        corrections=list(fresh.corrections.all().order_by("sequence")),
        pauses=list(fresh.pauses.all()),
        extensions=list(fresh.extensions.all()),
        opinions=[] if applicant_view else list(fresh.opinions.select_related("author")),
        countersigns=(
            [] if applicant_view else list(fresh.countersigns.select_related("department"))
        ),
        children=[
            ChildView(
                case=child,
                clock=case_clock(child, now=now, calendar=calendar),
                open_tasks=_open_tasks(child),
            )
            for child in children
        ],
        open_tasks=open_tasks,
        completed_tasks=_completed_tasks(fresh),
        step_clocks=step_clocks,
        rating=rating,
        licences=found_licences,
        actions=case_actions(actor, fresh, open_tasks=open_tasks),
        is_applicant_view=applicant_view,
        shared_materials=once_only.shared_materials_of(fresh),
        shared_to_upload=(
            once_only.materials_to_upload(fresh)
            if applicant_view and fresh.state == CaseState.SUBMITTED
            else []
        ),
    )


def notice_pdf(notice: Notice) -> bytes:
    """The notice as a PDF (rendered from its stored text; the caller checked access)."""
    from tongban.platform.pdf import render_notice

    return render_notice(
        title=notice.title,
        issuer=notice.issuer,
        number=notice.number,
        recipient=notice.recipient,
        paragraphs=[str(paragraph) for paragraph in notice.paragraphs],
        fields=[(str(label), str(value)) for label, value in notice.fields],
        date=notice.issued_on,
    )


def notices_of(case: Case) -> QuerySet[Notice]:
    """The notices of a case and, for a joint case, of its children."""
    return Notice.objects.filter(Q(case=case) | Q(case__parent=case)).order_by("pk")


def open_cases_count(*, actor: Any) -> int:
    return staff_cases(actor).filter(state__in=RUNNING_STATES).count()
