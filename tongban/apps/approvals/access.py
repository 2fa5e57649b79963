"""The one way to load a case (or a countersign request) for a user.

- applicants see their own cases, and an agent the cases of the legal person they hold a
  live authorisation for (whoever of its agents submitted them);
- staff see the cases of their data scope (the case's department, through the grant's
  unit/department/division) under any approvals permission; ``approvals.case.read_all``
  is the supervisors' read-only grant;
- a countersign request is also visible to the department it was sent to.

A case the actor may not see is "not found" (its existence is not revealed); a case the
actor may see but not act on raises ``PermissionDenied`` (audited).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.approvals import permissions
from tongban.apps.approvals.models import Case, CaseMaterial, Countersign
from tongban.platform.access.services import ScopePaths, deny, scope_queryset
from tongban.platform.accounts.models import AgentAuthorisation

CASE_SCOPE = ScopePaths(department="department", division="department__division")
COUNTERSIGN_SCOPE = ScopePaths(
    unit="unit", department="department", division="department__division"
)


def legal_person_ids(actor: Any) -> list[int]:
    """Legal persons the actor may act for today (live agent authorisations)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return []
    today = timezone.localdate()
    return list(
        AgentAuthorisation.objects.filter(
            agent=actor, revoked_at__isnull=True, valid_from__lte=today
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .values_list("legal_person_id", flat=True)
    )


def acts_for_case(actor: Any, case: Case) -> bool:
    """The actor is the case's applicant, or an agent of its legal person."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if case.legal_person_id is None:
        return bool(case.applicant_id == actor.pk)
    return case.legal_person_id in legal_person_ids(actor)


def applicant_cases(actor: Any) -> QuerySet[Case]:
    """Cases the actor applied for (as a person), or of the legal persons they act for."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Case.objects.none()
    legal = legal_person_ids(actor)
    condition = Q(applicant=actor, legal_person__isnull=True)
    if legal:
        condition |= Q(legal_person_id__in=legal)
    return Case.objects.filter(condition)


def staff_cases(actor: Any, permission: str | None = None) -> QuerySet[Case]:
    """Cases in the actor's scope for ``permission`` (None: any approvals permission)."""
    codes = [permission] if permission else list(permissions.STAFF_READ)
    visible: QuerySet[Case] | None = None
    for code in codes:
        part = scope_queryset(actor, Case.objects.all(), code, CASE_SCOPE)
        if part.query.is_empty():
            continue
        visible = part if visible is None else visible | part
    return visible if visible is not None else Case.objects.none()


def access_case_by_id(actor: Any, case_id: int, permission: str | None = None) -> Case:
    """The case if ``actor`` may see it, and when ``permission`` is given, may use it.

    ``permission=None``: read (applicant, agent, or staff with any approvals permission
    over it). A staff permission: held over the case's department. The pseudo-permission
    ``"applicant"``: only the applicant (or an agent of its legal person).
    """
    case = (
        Case.objects.select_related("parent", "applicant", "legal_person", "department")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise Http404(_("办件不存在"))
    own = acts_for_case(actor, case)
    if permission == "applicant":
        if own:
            return case
        if _staff_may_read(actor, case) or _countersigned_to(actor, case):
            deny(actor, "approvals.case.applicant", target=case)
        raise Http404(_("办件不存在"))
    if permission is None:
        if own or _staff_may_read(actor, case) or _countersigned_to(actor, case):
            return case
        raise Http404(_("办件不存在"))
    if staff_cases(actor, permission).filter(pk=case.pk).exists():
        return case
    if own or _staff_may_read(actor, case) or _countersigned_to(actor, case):
        deny(actor, permission, target=case)
    raise Http404(_("办件不存在"))


def _staff_may_read(actor: Any, case: Case) -> bool:
    if getattr(actor, "kind", "") != "staff":
        return False
    return staff_cases(actor).filter(pk=case.pk).exists()


def countersigns_for(actor: Any) -> QuerySet[Countersign]:
    """Countersign requests sent to the actor's scope (reviewers of that department)."""
    return scope_queryset(
        actor, Countersign.objects.all(), permissions.CASE_REVIEW, COUNTERSIGN_SCOPE
    )


def _countersigned_to(actor: Any, case: Case) -> bool:
    if getattr(actor, "kind", "") != "staff":
        return False
    return countersigns_for(actor).filter(case=case).exists()


def access_countersign_by_id(actor: Any, countersign_id: int) -> Countersign:
    countersign = (
        countersigns_for(actor).select_related("case", "department").filter(pk=countersign_id)
    ).first()
    if countersign is None:
        raise Http404(_("会签请求不存在"))
    return countersign


def file_read_check(actor: Any, stored: Any) -> bool:
    """Registered with the file store: a material of a case the actor sees (its staff, or
    another agent of the same enterprise) may be read."""
    materials = CaseMaterial.objects.filter(file=stored, case=OuterRef("pk"))
    cases = staff_cases(actor) if getattr(actor, "kind", "") == "staff" else applicant_cases(actor)
    return cases.filter(Exists(materials)).exists()
