"""What supervision does with other applications' events (approvals.case.* → intake).

Every ``approvals.case.<verb>`` event (payload: ``approvals.events.CasePayload`` as a
dict) becomes one canonical intake event with the id ``approvals:<event id>`` and goes
through ``services.events_ingest`` with the built-in approvals source, so a redelivery is
a harmless duplicate. The mapping:

==========================  ==========================================================
approvals verb              canonical event
==========================  ==========================================================
submitted                   opened (department, item, case type, limits)
correction_requested/_answ  correction_requested / correction_answered
accepted                    accepted (the accepting clerk is the handler until a
                            decision names the decider)
not_accepted                not_accepted (reasons: the payload's detail)
sent_back (退件)             withdrawn: the application goes back to the applicant
                            before acceptance (wrong authority, …); it is neither a
                            refusal nor a decision, so no rule applies
step_completed              step_finished (step name, its limit, the days it used),
                            then step_started for the step now open (the payload's
                            ``open_steps``; also after accepted and returned), so the
                            sweep fires a step overrun while the step runs
returned (to a step)        step_finished with no limit (a step event; no rule)
paused / resumed            paused (kind, planned days) / resumed
extended                    extended (days), only when the extension was approved
decided                     decided (outcome; a refusal's reasons: the detail)
closed / delivered          closed / delivered
withdrawn                   withdrawn
rated                       rated (level)
==========================  ==========================================================

Every event carries the approvals clock's deadlines and working days (authoritative: it
counts corrections after acceptance as pauses). The handler (username) and the unit (the
actor's primary posting's unit, when it is a unit of the case's department) come from the
acting user of accepted, step and decided events only. A joint parent is an envelope and
is skipped: its children are the cases. A live event older than a backfill of the same
case (``backfill.py``) is skipped too: the backfill already described that moment.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db.models import Max

from tongban.apps.supervision import services, sources
from tongban.apps.supervision.models import ReceivedEvent
from tongban.platform.accounts.models import User
from tongban.platform.events.registry import subscriber
from tongban.platform.orgs.models import Posting

logger = logging.getLogger(__name__)

EVENT_PREFIX = "approvals:"
HISTORY_PREFIX = "approvals-history:"
KINDS = {
    "submitted": "opened",
    "correction_requested": "correction_requested",
    "correction_answered": "correction_answered",
    "accepted": "accepted",
    "not_accepted": "not_accepted",
    "sent_back": "withdrawn",
    "step_completed": "step_finished",
    "returned": "step_finished",
    "paused": "paused",
    "resumed": "resumed",
    "extended": "extended",
    "decided": "decided",
    "closed": "closed",
    "delivered": "delivered",
    "withdrawn": "withdrawn",
    "rated": "rated",
}
# the acting user is the case's handler for these
HANDLER_VERBS = ("accepted", "step_completed", "returned", "decided")
CASE_TYPES = ("instant", "promised", "joint")
OUTCOMES = ("approved", "refused", "partial")

_ITEM_CODES: dict[int, str] = {}  # item version id → implementation code (immutable)


def item_code(payload: dict[str, Any]) -> str:
    """The catalogue's implementation code of the case's item version, else
    ``item-<item id>`` (stable either way)."""
    version_id = payload.get("item_version_id")
    if version_id and version_id not in _ITEM_CODES:
        from tongban.apps.catalog import public as catalog

        info = catalog.item_version(int(version_id))
        _ITEM_CODES[version_id] = info.implementation_code if info is not None else ""
    code = _ITEM_CODES.get(version_id, "") if version_id else ""
    item_id = payload.get("item_id")
    return code or (f"item-{item_id}" if item_id else "")


def _person(actor_id: int | None, department_code: str) -> dict[str, str]:
    if actor_id is None:
        return {}
    username = User.objects.filter(pk=actor_id).values_list("username", flat=True).first()
    if not username:
        return {}
    posting = (
        Posting.objects.filter(user_id=actor_id, is_primary=True)
        .values_list("unit__code", "unit__department__code")
        .first()
    )
    unit = posting[0] if posting and posting[1] == department_code else ""
    return {"handler": username, "unit": unit}


def intake_event(
    verb: str, payload: dict[str, Any], *, event_id: str, actor_id: int | None = None
) -> dict[str, Any] | None:
    """The canonical event for one approvals event, or None when there is none."""
    kind = KINDS.get(verb)
    if kind is None or payload.get("is_joint"):
        return None
    extra = payload.get("extra") or {}
    department = payload.get("department_code") or ""
    legal = int(payload.get("legal_limit_days") or 0)
    promised = int(payload.get("promised_limit_days") or 0)
    if legal and promised > legal:
        legal = promised
    case_type = payload.get("case_type") or ""
    fields: dict[str, Any] = {
        "department": department,
        "parent": payload.get("parent_number") or "",
        "item_code": item_code(payload)[:80],
        "item_name": (payload.get("item_name") or "")[:200],
        "case_type": case_type if case_type in CASE_TYPES else "",
        "legal_limit_days": legal,
        "promised_limit_days": promised,
        "promised_deadline": payload.get("promised_deadline"),
        "legal_deadline": payload.get("legal_deadline"),
        "working_days_used": payload.get("working_days_used"),
    }
    detail = (payload.get("detail") or "").strip()
    if verb in HANDLER_VERBS:
        fields.update(_person(actor_id, department))
    if verb == "not_accepted":
        fields["reasons"] = detail[:4000]
    elif verb == "sent_back":
        fields["detail"] = f"退件：{detail}"[:2000]
    elif verb in ("step_completed", "returned"):
        if not payload.get("step_name"):
            return None
        fields["step_name"] = payload["step_name"][:100]
        if verb == "step_completed":
            fields["step_limit_days"] = payload.get("step_limit_days") or 0
            fields["step_days_used"] = payload.get("step_days_used")
        else:
            fields["step_limit_days"] = 0
            fields["detail"] = detail[:2000]
    elif verb == "paused":
        fields["pause_kind"] = str(extra.get("kind") or "")[:40]
        fields["pause_planned_days"] = extra.get("planned_days") or None
    elif verb == "extended":
        days = extra.get("days")
        if not extra.get("approved", True) or not days:
            return None
        fields["extension_days"] = int(days)
    elif verb == "decided":
        outcome = extra.get("outcome") or payload.get("outcome") or ""
        fields["outcome"] = outcome if outcome in OUTCOMES else "other"
        if outcome == "refused":
            fields["reasons"] = detail[:4000]
    elif verb == "rated":
        level = extra.get("level")
        if not level:
            return None
        fields["rating"] = int(level)
    return {
        "id": f"{EVENT_PREFIX}{event_id}",
        "kind": kind,
        "case": payload.get("case_number") or "",
        "occurred_at": payload.get("occurred_at"),
        **{key: value for key, value in fields.items() if value not in (None, "")},
    }


def step_started_event(raw: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any] | None:
    """After acceptance, a completed or a returned step, the process step now open (the
    earliest, when several run in parallel) as a ``step_started`` event, so the minute
    sweep can time it while it runs. Steps without a limit are not timed."""
    extra = payload.get("extra") or {}
    steps = [
        step
        for step in extra.get("open_steps") or []
        if step.get("name") and int(step.get("limit_days") or 0) > 0
    ]
    if not steps:
        return None
    step = steps[0]
    return {
        "id": f"{raw['id']}:step",
        "kind": "step_started",
        "case": raw["case"],
        # the step opened in the same transaction as the event: order it after the event
        "occurred_at": raw["occurred_at"],
        "step_name": str(step["name"])[:100],
        "step_limit_days": int(step["limit_days"]),
    }


def _backfilled_until(case_key: str) -> dt.datetime | None:
    source = sources.approvals_source()
    found: dt.datetime | None = ReceivedEvent.objects.filter(
        source=source, case_key=case_key, source_event_id__startswith=HISTORY_PREFIX
    ).aggregate(until=Max("received_at"))["until"]
    return found


@subscriber("approvals.case.*")
def on_case_event(event: Any) -> None:
    """Translate one approvals event and ingest it (idempotent: see the module doc)."""
    verb = event.name.rsplit(".", 1)[-1]
    raw = intake_event(verb, dict(event.payload), event_id=str(event.id), actor_id=event.actor_id)
    if raw is None or not raw["case"]:
        return
    until = _backfilled_until(raw["case"])
    if until is not None and dt.datetime.fromisoformat(raw["occurred_at"]) <= until:
        return
    raws = [raw]
    started = step_started_event(raw, dict(event.payload))
    if started is not None:
        raws.append(started)
    result = services.events_ingest(source=sources.approvals_source(), raw_events=raws)
    for rejection in result.rejected:  # a malformed event will not improve on a retry
        logger.warning(
            "supervision rejected %s (%s): %s", rejection.id, rejection.code, rejection.message
        )
