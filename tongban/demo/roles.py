"""The standard roles and their platform permissions. Applications add their own
permissions to these roles with ``grant_role_permissions``."""

from __future__ import annotations

from tongban.apps.approvals import permissions as approvals
from tongban.apps.catalog import permissions as catalog
from tongban.apps.licences import permissions as licences
from tongban.apps.supervision import permissions as supervision
from tongban.platform.access import permissions as p
from tongban.platform.access.models import Permission, Role
from tongban.platform.access.services import access_sync_permissions

# code: (name, permissions, requires_mfa, for_public)
STANDARD_ROLES: dict[str, tuple[str, list[str], bool, bool]] = {
    "window_clerk": (
        "窗口受理员",
        [p.WORKBENCH, p.PERSON_VIEW, p.LEGAL_PERSON_VIEW, p.FILES_UPLOAD, p.NOTIFY_SEND],
        False,
        False,
    ),
    "department_officer": (
        "部门经办人",
        [p.WORKBENCH, p.PERSON_VIEW, p.LEGAL_PERSON_VIEW, p.FILES_UPLOAD, p.ORGS_VIEW],
        False,
        False,
    ),
    "department_leader": (
        "部门领导",
        [p.WORKBENCH, p.PERSON_VIEW, p.LEGAL_PERSON_VIEW, p.ORGS_VIEW, p.USERS_VIEW],
        False,
        False,
    ),
    "supervisor": (
        "电子监察员",
        [p.WORKBENCH, p.ORGS_VIEW, p.USERS_VIEW, p.PERSON_VIEW, p.LEGAL_PERSON_VIEW],
        True,
        False,
    ),
    "centre_manager": (
        "中心管理员",
        [p.WORKBENCH, p.ORGS_VIEW, p.USERS_VIEW, p.SYSTEM_HEALTH],
        False,
        False,
    ),
    "citizen": ("公众", [], False, True),
}


def ensure_platform_roles() -> dict[str, Role]:
    access_sync_permissions()
    roles: dict[str, Role] = {}
    for code, (name, codes, requires_mfa, for_public) in STANDARD_ROLES.items():
        role, _ = Role.objects.update_or_create(
            code=code,
            defaults={"name": name, "requires_mfa": requires_mfa, "for_public": for_public},
        )
        role.permissions.add(*Permission.objects.filter(code__in=codes))
        roles[code] = role
    return roles


def grant_role_permissions(role_code: str, codes: list[str]) -> None:
    access_sync_permissions()
    role = Role.objects.get(code=role_code)
    role.permissions.add(*Permission.objects.filter(code__in=codes))


# the catalogue's permissions, granted at the scopes each role is assigned with
CATALOG_GRANTS: dict[str, list[str]] = {
    "department_officer": [catalog.ITEM_EDIT],
    "department_leader": [catalog.ITEM_EDIT, catalog.ITEM_REVIEW],
    "centre_manager": [
        catalog.VOCABULARY_MANAGE,
        catalog.POWER_MANAGE,
        catalog.IMPORT,
        catalog.ITEM_REVIEW,
    ],
}


def grant_catalog_permissions() -> None:
    for role_code, codes in CATALOG_GRANTS.items():
        grant_role_permissions(role_code, codes)


# the approvals' and licences' permissions, granted at the scopes each role is assigned with
# (a case reaches the organisation tree through its department: see
# ``tongban.demo.approvals.scope_case_handlers`` for the printed logins)
APPROVALS_GRANTS: dict[str, list[str]] = {
    "window_clerk": [approvals.CASE_RECEIVE, approvals.CASE_ACCEPT, approvals.CASE_DELIVER],
    "department_officer": [approvals.CASE_REVIEW, licences.LICENCE_VIEW],
    "department_leader": [
        approvals.CASE_REVIEW,
        approvals.CASE_DECIDE,
        approvals.CASE_EXTEND_APPROVE,
        licences.LICENCE_VIEW,
        licences.LICENCE_REVOKE,
    ],
    "supervisor": [approvals.CASE_READ_ALL],
    "centre_manager": [approvals.CASE_READ_ALL],
}


def grant_approvals_permissions() -> None:
    access_sync_permissions()
    for role in Role.objects.filter(code__in=APPROVALS_GRANTS):
        role.permissions.add(*Permission.objects.filter(code__in=APPROVALS_GRANTS[role.code]))


# supervision's permissions: the supervisor at the city scope of their assignment; the
# departments' leaders and officers at theirs (leaders: the department and below)
SUPERVISION_GRANTS: dict[str, list[str]] = {
    "supervisor": [
        supervision.MONITOR_VIEW,
        supervision.ALERT_OPEN,
        supervision.CORRECTION_REVIEW,
        supervision.RULES_MANAGE,
        supervision.EVALUATION_VIEW,
    ],
    "department_leader": [
        supervision.CORRECTION_RESPOND,
        supervision.EVALUATION_VIEW,
        supervision.MONITOR_VIEW,
    ],
    "department_officer": [
        supervision.CORRECTION_RESPOND,
        supervision.EVALUATION_VIEW,
        supervision.MONITOR_VIEW,
    ],
}


def grant_supervision_permissions() -> None:
    access_sync_permissions()
    for role in Role.objects.filter(code__in=SUPERVISION_GRANTS):
        role.permissions.add(*Permission.objects.filter(code__in=SUPERVISION_GRANTS[role.code]))
