"""The standard roles and their platform permissions. Applications add their own
permissions to these roles with ``grant_role_permissions``."""

from __future__ import annotations

from tongban.apps.approvals import permissions as approvals
from tongban.apps.basedata import permissions as basedata
from tongban.apps.catalog import permissions as catalog
from tongban.apps.exchange import permissions as exchange
from tongban.apps.licences import permissions as licences
from tongban.apps.sharing import permissions as sharing
from tongban.apps.supervision import permissions as supervision
from tongban.platform.access import permissions as p
from tongban.platform.access.models import Permission, Role, RoleAssignment, Scope
from tongban.platform.access.services import access_sync_permissions
from tongban.platform.accounts.models import User
from tongban.platform.orgs.models import Division

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


# data sharing (issue 6). Sharing, base data and exchange rows reach the organisation tree
# through their departments, so the officers who work on them hold a department-scoped
# role of their own (the standard officer role is assigned per unit); the leaders'
# department-tree role and the supervisor's division role take the permissions directly.
SHARING_GRANTS: dict[str, list[str]] = {
    "window_clerk": [sharing.CATALOGUE_VIEW, basedata.RECORD_VIEW],
    "department_officer": [sharing.CATALOGUE_VIEW],
    "department_leader": [
        sharing.CATALOGUE_VIEW,
        sharing.REQUEST_REVIEW,
        sharing.GRANT_MANAGE,
        sharing.STATISTICS_VIEW,
        sharing.LOG_VIEW,
        basedata.RECORD_VIEW,
        exchange.JOB_MANAGE,
        exchange.DELIVERY_RECEIVE,
    ],
    "supervisor": [
        sharing.CATALOGUE_VIEW,
        sharing.STATISTICS_VIEW,
        sharing.LOG_VIEW,
        exchange.MONITOR_VIEW,
    ],
}
SHARING_ROLES: dict[str, tuple[str, list[str]]] = {
    "data_officer": (
        "部门数据共享专员",
        [
            sharing.CATALOGUE_VIEW,
            sharing.CATALOGUE_EDIT,
            sharing.REQUEST_CREATE,
            sharing.REQUEST_REVIEW,
            sharing.SYSTEM_MANAGE,
            sharing.STATISTICS_VIEW,
            sharing.LOG_VIEW,
            basedata.RECORD_VIEW,
            basedata.RECORD_UPDATE,
            exchange.JOB_MANAGE,
            exchange.DELIVERY_RECEIVE,
        ],
    ),
    "data_administrator": (
        "数据资源管理员",
        [
            sharing.CATALOGUE_VIEW,
            sharing.CATALOGUE_REVIEW,
            sharing.GRANT_MANAGE,
            sharing.SYSTEM_MANAGE,
            sharing.STATISTICS_VIEW,
            sharing.LOG_VIEW,
            basedata.RECORD_VIEW,
            basedata.QUALITY_RESOLVE,
            exchange.MONITOR_VIEW,
        ],
    ),
    "system_registrar": ("接入系统管理", [sharing.SYSTEM_MANAGE]),
    "call_log_auditor": ("共享调用日志审计", [sharing.LOG_VIEW]),
}
#: the printed officer and each department's first section chief work with shared data
#: for their department; the data bureau's head and its data-resources chief administer it
DATA_ADMINISTRATORS = ("zsj_d01", "zsj_u02c")


def grant_sharing_permissions() -> list[str]:
    """Grant the sharing permissions; returns the usernames of the data administrators."""
    access_sync_permissions()
    for role in Role.objects.filter(code__in=SHARING_GRANTS):
        role.permissions.add(*Permission.objects.filter(code__in=SHARING_GRANTS[role.code]))
    roles = {}
    for code, (name, codes) in SHARING_ROLES.items():
        roles[code], _ = Role.objects.update_or_create(code=code, defaults={"name": name})
        roles[code].permissions.add(*Permission.objects.filter(code__in=codes))
    city = Division.objects.filter(parent__isnull=True).order_by("pk").first()
    officers = User.objects.filter(
        kind="staff", username__regex=r"^(officer|[a-z0-9]+_u01c)$", is_active=True
    ).select_related()
    for user in officers:
        posting = user.postings.select_related("unit__department").first()
        if posting is None:
            continue
        RoleAssignment.objects.get_or_create(
            user=user,
            role=roles["data_officer"],
            scope=Scope.DEPARTMENT,
            department=posting.unit.department,
        )
    administrators = []
    if city is not None:
        for user in User.objects.filter(username__in=DATA_ADMINISTRATORS):
            RoleAssignment.objects.get_or_create(
                user=user, role=roles["data_administrator"], scope=Scope.DIVISION, division=city
            )
            administrators.append(user.username)
    for username, role_code in (("sysadmin", "system_registrar"), ("auditor", "call_log_auditor")):
        admin = User.objects.filter(username=username).first()
        if admin is not None:
            RoleAssignment.objects.get_or_create(user=admin, role=roles[role_code], scope=Scope.ALL)
    return administrators
