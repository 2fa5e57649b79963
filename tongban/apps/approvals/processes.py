"""Which BPMN process an item's cases run: the one generated from the guide's steps, or a
process an administrator uploaded (in the workflow admin) and bound to the item here.

A bound process must say, for every user task, what the task is for this application —
its role: ``accept`` (window acceptance), ``review``, ``decide`` or ``deliver`` — and have
at least one ``decide`` task; every review and decision task must be targeted at a
department, unit or position, or it would sit in nobody's inbox. The binding names one
definition *version*: uploading a new version changes nothing until it is bound.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.approvals import permissions
from tongban.apps.approvals.models import ItemProcess
from tongban.apps.approvals.selectors import TASK_ROLE_PERMISSIONS
from tongban.apps.catalog import public as catalog
from tongban.platform.access.services import ScopePaths, require
from tongban.platform.audit.services import audit_record
from tongban.platform.orgs.models import Department

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User

# the roles a task can have for an application: those the services know a permission for
ROLES = tuple(TASK_ROLE_PERMISSIONS)
TARGETED_ROLES = ("review", "decide")
DEPARTMENT_SCOPE = ScopePaths(department="", division="division")


def process_problems(task_map: dict[str, Any]) -> list[str]:
    """Why a definition's mapped tasks cannot run an item's cases (empty: they can)."""
    problems = []
    roles = []
    for spec_id, row in sorted(task_map.items()):
        role = str(row.get("role", ""))
        name = str(row.get("name") or spec_id)
        label = f"{name}（{spec_id}）"
        if role not in ROLES:
            problems.append(
                _("环节“%(task)s”没有指定用途（受理、审查、决定或送达）") % {"task": label}
            )
            continue
        roles.append(role)
        targeted = any(row.get(key) for key in ("department_code", "unit_code", "position_code"))
        if role in TARGETED_ROLES and not targeted:
            problems.append(
                _("环节“%(task)s”没有指定办理部门、科室或岗位，不会出现在任何人的待办中")
                % {"task": label}
            )
    if "decide" not in roles:
        problems.append(_("流程中没有作出决定的环节"))
    return problems


def item_process_set(*, actor: User | None, item_id: int, definition_id: int) -> ItemProcess:
    """Bind an uploaded process version to an item (its new cases run it)."""
    from tongban.platform.workflow.selectors import definition_get

    version = catalog.item_current(item_id)
    if version is None:
        raise ValidationError({"item_id": [_("事项不存在或未发布")]})
    department = Department.objects.get(pk=version.department_id)
    if actor is not None:
        require(actor, permissions.PROCESS_MANAGE, target=department, paths=DEPARTMENT_SCOPE)
    definition = definition_get(definition_id)
    if definition is None:
        raise ValidationError({"definition_id": [_("流程定义不存在")]})
    problems = process_problems(definition.task_map)
    if problems:
        raise ValidationError({"definition_id": problems})
    label = f"{definition.name} · {definition.key} v{definition.version}"
    with transaction.atomic():
        binding, created = ItemProcess.objects.update_or_create(
            item_id=item_id,
            defaults={
                "item_name": version.name,
                "definition_id": definition.pk,
                "definition_label": label[:250],
                "set_by": actor,
                "set_at": timezone.now(),
            },
        )
        audit_record(
            action="approvals.item_process.set",
            actor=actor,
            target=binding,
            detail={"item_id": item_id, "definition_id": definition.pk, "created": created},
        )
    return binding


def item_process_clear(*, actor: User | None, item_id: int) -> None:
    """Back to the process generated from the item's guide."""
    binding = ItemProcess.objects.filter(item_id=item_id).first()
    if binding is None:
        return
    version = catalog.item_current(item_id)
    if actor is not None and version is not None:
        department = Department.objects.get(pk=version.department_id)
        require(actor, permissions.PROCESS_MANAGE, target=department, paths=DEPARTMENT_SCOPE)
    with transaction.atomic():
        audit_record(
            action="approvals.item_process.clear",
            actor=actor,
            target=binding,
            detail={"item_id": item_id, "definition_id": binding.definition_id},
        )
        binding.delete()


def bound_definition(item_id: int | None) -> Any:
    """The uploaded definition bound to the item, or None for the generated process."""
    if item_id is None:
        return None
    binding = ItemProcess.objects.filter(item_id=item_id).first()
    if binding is None:
        return None
    from tongban.platform.workflow.selectors import definition_get

    return definition_get(binding.definition_id)
