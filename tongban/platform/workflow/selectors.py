"""Reads of the workflow module: inboxes, instances, definitions.

A task's target (department / unit / position codes, each optional) matches a posting of
the actor when every code given matches: the posting's department code, its unit or a
unit above it (a task for 行政许可处 reaches the 科 below it), and its position code. A
task with no target at all is in nobody's inbox (the administrator has not mapped it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from tongban.platform.orgs.models import Posting
from tongban.platform.workflow.models import (
    ProcessDefinition,
    ProcessInstance,
    WorkTask,
    WorkTaskState,
)

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User


@dataclass(frozen=True)
class _PostingCodes:
    department_code: str
    unit_codes: tuple[str, ...]  # the posting's unit and every unit above it
    position_code: str


def _postings(actor: Any) -> list[_PostingCodes]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return []
    return [
        _PostingCodes(
            department_code=posting.unit.department.code,
            unit_codes=tuple(part for part in posting.unit.path.split("/") if part),
            position_code=posting.position.code,
        )
        for posting in Posting.objects.filter(user=actor).select_related(
            "unit__department", "position"
        )
    ]


def _target_filter(actor: Any) -> Q | None:
    matches: Q | None = None
    for posting in _postings(actor):
        one = (
            (Q(department_code="") | Q(department_code=posting.department_code))
            & (Q(unit_code="") | Q(unit_code__in=posting.unit_codes))
            & (Q(position_code="") | Q(position_code=posting.position_code))
        )
        matches = one if matches is None else matches | one
    if matches is None:
        return None
    return matches & ~Q(department_code="", unit_code="", position_code="")


def task_inbox_for(*, actor: User) -> QuerySet[WorkTask]:
    """Ready tasks whose target matches one of the actor's postings, and the tasks the
    actor has claimed; oldest first."""
    claimed = Q(state=WorkTaskState.CLAIMED, claimed_by=actor.pk)
    targeted = _target_filter(actor)
    condition = claimed if targeted is None else claimed | (Q(state=WorkTaskState.READY) & targeted)
    return (
        WorkTask.objects.filter(condition)
        .select_related("instance", "instance__definition", "claimed_by")
        .order_by("created_at", "pk")
    )


def task_is_for(actor: Any, task: WorkTask) -> bool:
    """May ``actor`` act on ``task``? The system (``None``) always may."""
    if actor is None:
        return True
    if task.state == WorkTaskState.CLAIMED and task.claimed_by_id == actor.pk:
        return True
    if not (task.department_code or task.unit_code or task.position_code):
        return False
    return any(
        (not task.department_code or task.department_code == posting.department_code)
        and (not task.unit_code or task.unit_code in posting.unit_codes)
        and (not task.position_code or task.position_code == posting.position_code)
        for posting in _postings(actor)
    )


def instance_get(instance_id: int) -> ProcessInstance | None:
    return ProcessInstance.objects.select_related("definition").filter(pk=instance_id).first()


def instances_for_subject(subject: str) -> QuerySet[ProcessInstance]:
    return ProcessInstance.objects.filter(subject=subject).select_related("definition")


def instance_tasks(instance: ProcessInstance) -> QuerySet[WorkTask]:
    """Every task of an instance, open and closed, in the order they arrived."""
    return WorkTask.objects.filter(instance=instance).order_by("created_at", "pk")


def definition_get(definition_id: int) -> ProcessDefinition | None:
    return ProcessDefinition.objects.filter(pk=definition_id).first()


def definition_latest(key: str) -> ProcessDefinition | None:
    return ProcessDefinition.objects.filter(key=key).order_by("-version").first()
