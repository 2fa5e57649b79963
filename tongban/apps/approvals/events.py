"""Events approvals publishes: ``approvals.case.<verb>`` (names are stable).

Every event has the same payload (``CasePayload``), so a supervision app can follow a case
from submission to delivery WITHOUT reading approvals tables: the case and its parent, the
item and version, the departments, the timestamps, the working-day figures at that moment
(used/left against the promised and the legal limit, paused days, extension days), the
outcome, and the process step for step events. Dates are ISO strings, absent ones ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class CasePayload:
    case_id: int
    case_number: str
    parent_number: str
    is_joint: bool
    item_id: int | None
    item_version_id: int | None
    item_name: str
    bundle_code: str
    department_code: str
    department_codes: tuple[str, ...]  # the parent lists its own and every child's
    division_path: str
    case_type: str
    state: str
    previous_state: str
    occurred_at: str
    submitted_at: str | None
    accepted_at: str | None
    decided_at: str | None
    closed_at: str | None
    delivered_at: str | None
    legal_limit_days: int
    promised_limit_days: int
    legal_deadline: str | None
    promised_deadline: str | None
    working_days_used: int | None
    working_days_left: int | None  # against the promised limit
    legal_days_left: int | None
    paused_days: int
    extension_days: int
    correction_count: int
    outcome: str
    step_name: str = ""
    step_role: str = ""
    step_limit_days: int = 0
    step_days_used: int | None = None
    detail: str = ""  # human-readable: the special procedure, the reasons, the outcome
    # figures of this kind of step, e.g. paused: {"kind", "planned_days"}; resumed: also
    # {"pause_days"}; extended: {"days", "approved"}; correction_requested: {"sequence",
    # "items", "working_days_after_receipt"}; decided: {"outcome", "licences"}; rated:
    # {"level", "needs_follow_up"}; returned: {"to_spec_id"}; delivered: {"method"};
    # accepted, step_completed, returned: also {"open_steps": [{"name", "role",
    # "limit_days", "started_at"}]}, the process steps open after the event
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseSubmitted(CasePayload):
    name: ClassVar[str] = "approvals.case.submitted"


@dataclass(frozen=True)
class CaseCorrectionRequested(CasePayload):
    name: ClassVar[str] = "approvals.case.correction_requested"


@dataclass(frozen=True)
class CaseCorrectionAnswered(CasePayload):
    name: ClassVar[str] = "approvals.case.correction_answered"


@dataclass(frozen=True)
class CaseAccepted(CasePayload):
    name: ClassVar[str] = "approvals.case.accepted"


@dataclass(frozen=True)
class CaseNotAccepted(CasePayload):
    name: ClassVar[str] = "approvals.case.not_accepted"


@dataclass(frozen=True)
class CaseReturnedToApplicant(CasePayload):
    name: ClassVar[str] = "approvals.case.sent_back"


@dataclass(frozen=True)
class CaseStepCompleted(CasePayload):
    name: ClassVar[str] = "approvals.case.step_completed"


@dataclass(frozen=True)
class CaseReturned(CasePayload):
    """Sent back to an earlier process step (not to the applicant)."""

    name: ClassVar[str] = "approvals.case.returned"


@dataclass(frozen=True)
class CasePaused(CasePayload):
    name: ClassVar[str] = "approvals.case.paused"


@dataclass(frozen=True)
class CaseResumed(CasePayload):
    name: ClassVar[str] = "approvals.case.resumed"


@dataclass(frozen=True)
class CaseExtended(CasePayload):
    name: ClassVar[str] = "approvals.case.extended"


@dataclass(frozen=True)
class CaseDecided(CasePayload):
    name: ClassVar[str] = "approvals.case.decided"


@dataclass(frozen=True)
class CaseClosed(CasePayload):
    name: ClassVar[str] = "approvals.case.closed"


@dataclass(frozen=True)
class CaseDelivered(CasePayload):
    name: ClassVar[str] = "approvals.case.delivered"


@dataclass(frozen=True)
class CaseWithdrawn(CasePayload):
    name: ClassVar[str] = "approvals.case.withdrawn"


@dataclass(frozen=True)
class CaseRated(CasePayload):
    name: ClassVar[str] = "approvals.case.rated"


ALL_EVENTS: tuple[type[CasePayload], ...] = (
    CaseSubmitted,
    CaseCorrectionRequested,
    CaseCorrectionAnswered,
    CaseAccepted,
    CaseNotAccepted,
    CaseReturnedToApplicant,
    CaseStepCompleted,
    CaseReturned,
    CasePaused,
    CaseResumed,
    CaseExtended,
    CaseDecided,
    CaseClosed,
    CaseDelivered,
    CaseWithdrawn,
    CaseRated,
)
