"""The platform's own permissions (names in Chinese; shown translated in the admin)."""

from tongban.platform.access.registry import register

ORGS_VIEW = register("orgs.view", "查看组织机构")
ORGS_MANAGE = register("orgs.manage", "管理组织机构")
USERS_VIEW = register("accounts.user.view", "查看用户")
USERS_MANAGE = register("accounts.user.manage", "管理用户账号")
ROLES_ASSIGN = register("access.role.assign", "分配角色与权限")
PERSON_VIEW = register("accounts.person.view", "查看自然人（脱敏）")
PERSON_REVEAL_ID = register("accounts.person.reveal_id_number", "查看完整公民身份号码")
LEGAL_PERSON_VIEW = register("accounts.legal_person.view", "查看法人")
AUDIT_VIEW = register("audit.view", "查看审计日志")
AUDIT_VERIFY = register("audit.verify", "校验审计链")
CALENDAR_MANAGE = register("calendar.manage", "维护工作日历")
NOTIFY_SEND = register("notify.send", "发送通知")
NOTIFY_TEMPLATE_MANAGE = register("notify.template.manage", "维护消息模板")
FILES_UPLOAD = register("files.upload", "上传附件")
SYSTEM_HEALTH = register("system.health.view", "查看系统运行状态")
WORKBENCH = register("ui.workbench", "使用工作台")

# What each administrator role (三权分立) may do, everywhere.
ADMIN_ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "system_admin": frozenset(
        {
            ORGS_VIEW,
            ORGS_MANAGE,
            USERS_VIEW,
            USERS_MANAGE,
            CALENDAR_MANAGE,
            NOTIFY_TEMPLATE_MANAGE,
            SYSTEM_HEALTH,
            WORKBENCH,
        }
    ),
    "security_admin": frozenset({USERS_VIEW, ROLES_ASSIGN, ORGS_VIEW, SYSTEM_HEALTH, WORKBENCH}),
    "auditor": frozenset({AUDIT_VIEW, AUDIT_VERIFY, USERS_VIEW, ORGS_VIEW, WORKBENCH}),
}
