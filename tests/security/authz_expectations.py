"""Who may use each route (by URL name) and each API operation (by operationId).

test_authz_matrix walks the URL configuration and the OpenAPI schema: a route or operation
missing here fails the suite. ``allowed`` lists the personas that get through; every other
persona must be refused (403/404, or the login page for anonymous on a page). ``kwargs``
fills the route with real objects of the world (see conftest.World): citizen A's case,
file, licence and notification; the market regulator's department, supervised case and
alert. ``unchecked`` personas are left to the named test elsewhere.

``BODY_AFTER_PERMISSION`` marks an API write the matrix sends an empty (invalid) body: its
``auth`` gate (``tongban.platform.api.auth.requires``) refuses a persona holding none of
the operation's permission codes with 401/403 before the body is read; a persona who
passes the gate gets a 4xx for the body (never 2xx/5xx). The codes are read from the
operation's auth callbacks (test_authz_matrix.gate_of), not repeated here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.security.conftest import (
    AGENT,
    AGENT_UNAUTHORISED,
    ANONYMOUS,
    AUDITOR,
    CITIZEN_A,
    CITIZEN_B,
    CLERK,
    LEADER,
    OFFICER,
    OTHER_OFFICER,
    PERSONAS,
    SECURITY_ADMIN,
    SUPERVISOR,
    SYSTEM_ADMIN,
    World,
)

Kwargs = Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Expect:
    allowed: frozenset[str]
    method: str = "GET"
    kwargs: Kwargs | None = None
    data: Kwargs | None = None
    unchecked: frozenset[str] = field(default_factory=frozenset)
    #: the caller's permission is checked (by the operation's auth gate) before the body:
    #: who fails the gate gets 401/403, who passes it a 4xx for the empty body
    body_after_permission: bool = False
    note: str = ""


def _set(*personas: str) -> frozenset[str]:
    return frozenset(personas)


EVERYONE = frozenset(PERSONAS)
SIGNED_IN = EVERYONE - {ANONYMOUS}
PUBLIC_USERS = _set(CITIZEN_A, CITIZEN_B, AGENT, AGENT_UNAUTHORISED)
ADMINS = _set(SYSTEM_ADMIN, SECURITY_ADMIN, AUDITOR)
STAFF = _set(CLERK, OFFICER, OTHER_OFFICER, LEADER, SUPERVISOR) | ADMINS
NOBODY: frozenset[str] = frozenset()


def _case(world: World) -> dict[str, Any]:
    return {"case_id": world.case.pk}


def _case_action(action: str) -> Kwargs:
    return lambda world: {"case_id": world.case.pk, "action": action}


def _licence(world: World) -> dict[str, Any]:
    return {"identifier": world.licence.identifier}


def _item(world: World) -> dict[str, Any]:
    return {"item_id": world.item_id}


def _version(world: World) -> dict[str, Any]:
    return {"version_id": world.case.item_version_id}


def _notice(world: World) -> dict[str, Any]:
    return {"case_id": world.case.pk, "notice_id": world.case.notices.get().pk}


def _task(world: World) -> dict[str, Any]:
    from tongban.platform.workflow.models import WorkTask

    task = WorkTask.objects.get(instance_id=world.case.process_instance_id, state="ready")
    return {"case_id": world.case.pk, "task_id": task.pk}


def _message(world: World) -> dict[str, Any]:
    return {"pk": world.message.pk}


def _file(world: World) -> dict[str, Any]:
    return {"file_id": world.file.pk}


def _definition(world: World) -> dict[str, Any]:
    from tongban.platform.workflow.models import ProcessInstance

    instance = ProcessInstance.objects.get(pk=int(world.case.process_instance_id or 0))
    return {"definition_id": instance.definition_id}


def _supervised_case(world: World) -> dict[str, Any]:
    return {"case_id": world.supervised_case.pk}


def _alert(world: World) -> dict[str, Any]:
    return {"alert_id": world.alert.pk}


def _alert_action(action: str) -> Kwargs:
    return lambda world: {"alert_id": world.alert.pk, "action": action}


def _source_action(action: str) -> Kwargs:
    return lambda world: {"source_id": world.source.pk, "action": action}


def _department(world: World) -> dict[str, Any]:
    return {"department_id": world.market.pk}


def _sharing(attribute: str, key: str, field_name: str = "pk") -> Kwargs:
    return lambda w: {key: getattr(getattr(w.sharing, attribute), field_name)}


def _resource(world: World) -> dict[str, Any]:
    return {"code": world.sharing.resource.code}


def _resource_version(number: int) -> Kwargs:
    return lambda w: {"code": w.sharing.resource.code, "number": number}


def _doc(attribute: str, key: str, field_name: str = "pk") -> Kwargs:
    return lambda w: {key: getattr(getattr(w.documents, attribute), field_name)}


def _doc_action(attribute: str, key: str, action: str) -> Kwargs:
    return lambda w: {key: getattr(w.documents, attribute).pk, "action": action}


def _attachment(world: World) -> dict[str, Any]:
    attachment = world.documents.attachment
    return {"document_id": attachment.document_id, "attachment_id": attachment.pk}


#: route-name prefixes left out of the matrix, with the reason
EXCLUDED: dict[str, str] = {
    "admin:": (
        "the admin: every changelist is in the matrix (refused to everyone who is not an "
        "administrator); what each administrator may do there (三权分立) is "
        "tongban/platform/access/tests/test_admin_pages.py; the other admin views sit "
        "behind the same AdminSite.has_permission gate"
    ),
    ":<unnamed ^media/": "only with DEBUG (never in production)",
}

#: models whose rows a denied request may add: the audit trail of the denial itself,
#: django-axes' access records, sessions
UNCOUNTED_MODELS = frozenset(
    {
        "audit.AuditEntry",
        "axes.AccessAttempt",
        "axes.AccessLog",
        "axes.AccessFailureLog",
        "sessions.Session",
    }
)


def _page(method: str = "GET", kwargs: Kwargs | None = None, **extra: Any) -> Expect:
    return Expect(allowed=NOBODY, method=method, kwargs=kwargs, **extra)


_PAGE_SHAPES: dict[str, Expect] = {
    "set_language": _page("POST", data=lambda w: {"language": "en"}),
    "api:openapi-json": _page(),
    "api:openapi-view": _page(),
    "accounts:login": _page(),
    "accounts:logout": _page("POST"),
    "accounts:mfa": _page(),
    "accounts:mfa_setup": _page(),
    "accounts:mfa_sm2": _page(),
    "accounts:register": _page(),
    "accounts:security": _page(),
    "accounts:password_change": _page(),
    "accounts:act_for": _page(),
    "notify:inbox": _page(),
    "notify:detail": _page(kwargs=_message),
    "notify:mark_read": _page("POST", _message),
    "notify:mark_all_read": _page("POST"),
    "notify:preferences": _page(),
    "files:download": _page(kwargs=_file),
    "calendar:index": _page(),
    "catalog:home": _page(),
    "catalog:search": _page(),
    "catalog:browse": _page(),
    "catalog:item": _page(kwargs=_item),
    "catalog:apply": _page(kwargs=_item),
    "catalog:version": _page(kwargs=_version),
    "catalog:bundle": _page(kwargs=lambda w: {"code": "no-such-bundle"}),
    "catalog:powers": _page(),
    "catalog:power": _page(kwargs=lambda w: {"code": "NO-SUCH-POWER"}),
    "catalog:file": _page(kwargs=_file),
    "catalog:negative_list": _page(),
    "catalog:editor": _page(),
    "catalog:draft_open": _page("POST", _item),
    "approvals:home": _page(),
    "approvals:apply": _page(kwargs=_item),
    "approvals:apply_bundle": _page(kwargs=lambda w: {"code": "no-such-bundle"}),
    "approvals:mine": _page(),
    "approvals:queue": _page(),
    "approvals:inbox": _page(),
    "approvals:staff_cases": _page(),
    "approvals:case": _page(kwargs=_case),
    "approvals:act": _page(
        "POST", _case_action("case_opinion_add"), data=lambda w: {"opinion": "同意"}
    ),
    "approvals:notice_pdf": _page(kwargs=_notice),
    "licences:verify_form": _page(),
    "licences:verify": _page(kwargs=_licence),
    "licences:verify_qr": _page(kwargs=_licence),
    "licences:mine": _page(),
    "licences:manage": _page(),
    "licences:revoke": _page("POST", _licence, data=lambda w: {"reason": "测试"}),
    "licences:pdf": _page(kwargs=_licence),
    "supervision:home": _page(),
    "supervision:home_figures": _page(),
    "supervision:cases": _page(),
    "supervision:case": _page(kwargs=_supervised_case),
    "supervision:alerts": _page(),
    "supervision:alert_new": _page(),
    "supervision:alert": _page(kwargs=_alert),
    "supervision:alert_act": _page("POST", _alert_action("remind")),
    "supervision:corrections": _page(),
    "supervision:rules": _page(),
    "supervision:sources": _page(),
    "supervision:source_act": _page("POST", _source_action("deactivate")),
    "supervision:evaluation": _page(),
    "supervision:ranking": _page(),
    "supervision:evaluation_export": _page(),
    "supervision:evaluation_department": _page(kwargs=_department),
    "workflow:definition_xml": _page(kwargs=_definition),
    "catalog_import:upload": _page(),
    "catalog_import:job": _page(kwargs=lambda w: {"job_id": 999999}),
    "catalog_import:progress": _page(kwargs=lambda w: {"job_id": 999999}),
    "catalog_import:template": _page(),
    "catalog_import:export_xlsx": _page(),
    "catalog_import:export_csv": _page(),
    "sharing:catalogue": _page(),
    "sharing:catalogue_new": _page(),
    "sharing:catalogue_mine": _page(),
    "sharing:catalogue_review": _page(),
    "sharing:catalogue_item_row": _page(),
    "sharing:catalogue_resource": _page(kwargs=_resource),
    "sharing:catalogue_diff": _page(kwargs=_resource, data=lambda w: {"from": 1, "to": 2}),
    "sharing:catalogue_version_new": _page("POST", _resource),
    "sharing:catalogue_withdraw": _page("POST", _resource, data=lambda w: {"reason": "测试"}),
    "sharing:catalogue_version": _page(kwargs=_resource_version(1)),
    "sharing:catalogue_version_edit": _page(kwargs=_resource_version(2)),
    "sharing:catalogue_version_submit": _page("POST", _resource_version(2)),
    "sharing:catalogue_version_publish": _page("POST", _resource_version(2)),
    "sharing:catalogue_version_reject": _page(
        "POST", _resource_version(2), data=lambda w: {"reasons": "测试"}
    ),
    "sharing:systems": _page(),
    "sharing:system": _page(kwargs=_sharing("system", "system_id")),
    "sharing:system_act": _page(
        "POST", lambda w: {"system_id": w.sharing.system.pk, "action": "deactivate"}
    ),
    "sharing:requests": _page(),
    "sharing:request_new": _page(),
    "sharing:request": _page(kwargs=_sharing("request", "request_id")),
    "sharing:request_act": _page(
        "POST",
        lambda w: {"request_id": w.sharing.request.pk, "action": "refuse"},
        data=lambda w: {"reasons": "测试"},
    ),
    "sharing:grants": _page(),
    "sharing:grant": _page(kwargs=_sharing("grant", "grant_id")),
    "sharing:grant_revoke": _page(
        "POST", _sharing("grant", "grant_id"), data=lambda w: {"reason": "测试"}
    ),
    "sharing:stats": _page(),
    "sharing:stats_table": _page(),
    "sharing:stats_export": _page(),
    "sharing:call_log": _page(),
    "sharing:my_data": _page(),
    "sharing:my_data_report": _page(kwargs=_sharing("call", "call_id")),
    "basedata:search": _page(),
    "basedata:record": _page(
        kwargs=lambda w: {"dataset": "address", "record_id": w.sharing.address.pk}
    ),
    "basedata:upload": _page(),
    "basedata:upload_template": _page(kwargs=lambda w: {"dataset": "address"}),
    "basedata:issues": _page(),
    "basedata:issue": _page(kwargs=_sharing("issue", "issue_id")),
    "exchange:home": _page(),
    "exchange:jobs": _page(),
    "exchange:job_new": _page(),
    "exchange:job": _page(kwargs=_sharing("job", "job_id")),
    "exchange:job_upload": _page("POST", _sharing("job", "job_id")),
    "exchange:job_toggle": _page("POST", _sharing("job", "job_id")),
    "exchange:dataset_download": _page(kwargs=_sharing("dataset", "dataset_id")),
    "exchange:delivery_retry": _page("POST", _sharing("delivery", "delivery_id")),
    "exchange:inbox": _page(),
    "exchange:delivery_download": _page(kwargs=_sharing("delivery", "delivery_id")),
    "exchange:delivery_confirm": _page(
        "POST", _sharing("delivery", "delivery_id"), data=lambda w: {"sm3": "0" * 64}
    ),
    "exchange:subscription_webhook": _page(
        "POST",
        _sharing("subscription", "subscription_id"),
        data=lambda w: {"webhook_url": "https://example.invalid/hook"},
    ),
    "exchange:monitor": _page(),
    "exchange:monitor_job": _page(kwargs=_sharing("job", "job_id")),
    "gateway:api-root": _page(),
    "gateway:openapi-json": _page(),
    "gateway:openapi-view": _page(),
    "gateway:token": _page("POST", data=lambda w: {"grant_type": "client_credentials"}),
    "gateway:ping": _page(),
    "gateway:resource_call": _page(kwargs=_resource),
    "documents:home": _page(),
    "documents:drafts": _page(),
    "documents:document_new": _page(),
    "documents:document_detail": _page(kwargs=_doc("draft", "document_id")),
    "documents:document_edit": _page(kwargs=_doc("draft", "document_id")),
    "documents:document_diff": _page(
        kwargs=_doc("draft", "document_id"), data=lambda w: {"a": 1, "b": 2}
    ),
    "documents:document_submit": _page("POST", _doc("draft", "document_id")),
    "documents:document_decide": _page(
        "POST", _doc("checking", "document_id"), data=lambda w: {"decision": "agree"}
    ),
    "documents:document_number": _page("POST", _doc("numbering", "document_id")),
    "documents:document_seal": _page("POST", _doc("numbering", "document_id")),
    "documents:document_cancel": _page(
        "POST", _doc("draft", "document_id"), data=lambda w: {"reason": "测试"}
    ),
    "documents:document_preview": _page(kwargs=_doc("draft", "document_id")),
    "documents:attachment_add": _page(
        "POST", _doc("draft", "document_id"), data=lambda w: {"title": "补充材料"}
    ),
    "documents:attachment_download": _page(kwargs=_attachment),
    "documents:attachment_remove": _page("POST", _attachment),
    "documents:seals": _page(),
    "documents:seal_image": _page(kwargs=lambda w: {"seal_id": _seal_id(w)}),
    "documents:seal_rotate": _page("POST", lambda w: {"seal_id": _seal_id(w)}),
    "documents:seal_retire": _page("POST", lambda w: {"seal_id": _seal_id(w)}),
    "documents:verify": _page(),
    "documents:verify_document": _page(kwargs=_doc("sent", "public_id", "public_id")),
    "documents:document_pdf": _page(kwargs=_doc("sent", "document_id")),
    "documents:archive": _page(),
    "documents:archive_detail": _page(kwargs=_doc("archive", "record_id")),
    "documents:document_archive": _page(
        "POST", _doc("sent", "document_id"), data=lambda w: {"retention": "30y"}
    ),
    "documents:receipt_archive": _page(
        "POST", _doc("closed_receipt", "receipt_id"), data=lambda w: {"retention": "10y"}
    ),
    "documents:document_send": _page(kwargs=_doc("sent", "document_id")),
    "documents:dispatch_detail": _page(kwargs=_doc("dispatch", "dispatch_id")),
    "documents:dispatch_csv": _page(kwargs=_doc("dispatch", "dispatch_id")),
    "documents:dispatch_remind": _page("POST", _doc("dispatch", "dispatch_id")),
    "documents:delivery_recall": _page("POST", _doc("delivery", "delivery_id")),
    "documents:delivery_return_notice": _page(kwargs=_doc("returned", "delivery_id")),
    "documents:inbox": _page(),
    "documents:delivery_detail": _page(kwargs=_doc("delivery", "delivery_id")),
    "documents:delivery_sign": _page("POST", _doc("delivery", "delivery_id")),
    "documents:delivery_return": _page(
        "POST", _doc("delivery", "delivery_id"), data=lambda w: {"reason": "测试"}
    ),
    "documents:groups": _page(),
    "documents:group_detail": _page(kwargs=_doc("group", "group_id")),
    "documents:group_delete": _page("POST", _doc("group", "group_id")),
    "documents:receipts": _page(),
    "documents:receipt_new": _page(),
    "documents:receipt_register": _page("POST", _doc("delivery", "delivery_id")),
    "documents:receipt_detail": _page(kwargs=_doc("receipt", "receipt_id")),
    "documents:receipt_act": _page(
        "POST",
        _doc_action("receipt", "receipt_id", "propose"),
        data=lambda w: {"proposal": "拟请办公室阅处"},
    ),
    "documents:tasks": _page(),
    "documents:task_new": _page(),
    "documents:task_detail": _page(kwargs=_doc("task", "task_id")),
    "documents:task_act": _page(
        "POST",
        _doc_action("task", "task_id", "report"),
        data=lambda w: {"text": "正在推进", "percent": 50},
    ),
    "ui:home": _page(),
    "ui:workbench": _page(),
    "ui:workbench_tab": _page(kwargs=lambda w: {"tab": "todo"}),
    "ui:personal": _page(),
    "ui:healthz": _page(),
    "ui:metrics": _page(),
}


def _op(kwargs: Kwargs | None = None, **extra: Any) -> Expect:
    return Expect(allowed=NOBODY, kwargs=kwargs, **extra)


def _seal_id(world: World) -> int:
    from tongban.apps.documents.seals import active_seal

    seal = active_seal(world.market)
    assert seal is not None
    return seal.pk


_API_SHAPES: dict[str, Expect] = {
    "tongban_platform_api_endpoints_me": _op(),
    "tongban_platform_api_endpoints_departments": _op(),
    "tongban_platform_api_endpoints_audit_entries": _op(),
    "catalog_item_list": _op(),
    "catalog_item_create": _op(),
    "catalog_item_get": _op(_item),
    "catalog_version_get": _op(_version),
    "catalog_version_update": _op(_version),
    "catalog_search": _op(),
    "catalog_route": _op(),
    "catalog_theme_list": _op(),
    "catalog_life_event_list": _op(),
    "catalog_bundle_list": _op(),
    "catalog_power_list": _op(),
    "catalog_power_get": _op(lambda w: {"code": "NO-SUCH-POWER"}),
    "catalog_power_save": _op(lambda w: {"code": "NO-SUCH-POWER"}),
    "catalog_negative_list": _op(),
    "catalog_version_draft_open": _op(_item),
    "catalog_version_submit": _op(_version),
    "catalog_version_review": _op(_version),
    "catalog_item_retire": _op(_item),
    "approvals_case_submit": _op(),
    "approvals_case_submit_bundle": _op(lambda w: {"code": "no-such-bundle"}),
    "approvals_case_list_mine": _op(),
    "approvals_case_get": _op(_case),
    "approvals_notice_pdf": _op(_notice),
    "approvals_case_withdraw": _op(_case),
    "approvals_case_correction_answer": _op(_case),
    "approvals_case_rate": _op(_case),
    "approvals_task_inbox": _op(),
    "approvals_case_queue": _op(),
    "approvals_case_accept": _op(_case),
    "approvals_case_refuse_acceptance": _op(_case),
    "approvals_case_correction_request": _op(_case),
    "approvals_case_task_claim": _op(_task),
    "approvals_case_task_complete": _op(_task),
    "approvals_case_decide": _op(_case),
    "approvals_case_deliver": _op(_case),
    "licences_licence_verify": _op(lambda w: {"query": w.licence.identifier}),
    "licences_licence_mine": _op(),
    "licences_licence_issue": _op(),
    "licences_licence_revoke": _op(_licence),
    "tongban_apps_supervision_api_intake": _op(),
    "sharing_catalogue_resource_list": _op(),
    "sharing_catalogue_resource_get": _op(_resource),
    "sharing_request_list": _op(),
    "sharing_request_create": _op(),
    "sharing_request_get": _op(_sharing("request", "request_id")),
    "sharing_request_approve": _op(_sharing("request", "request_id")),
    "sharing_request_refuse": _op(_sharing("request", "request_id")),
    "sharing_request_withdraw": _op(_sharing("request", "request_id")),
    "sharing_grant_list": _op(),
    "sharing_grant_get": _op(_sharing("grant", "grant_id")),
    "sharing_grant_revoke": _op(_sharing("grant", "grant_id")),
    "basedata_records_load": _op(lambda w: {"dataset": "address"}),
    "exchange_delivery_list": _op(),
    "exchange_delivery_download": _op(_sharing("delivery", "delivery_id")),
    "exchange_delivery_receipt": _op(_sharing("delivery", "delivery_id")),
    "documents_drafts_pending": _op(),
    "documents_draft_get": _op(_doc("draft", "document_id")),
    "documents_draft_create": _op(),
    "documents_draft_submit": _op(_doc("draft", "document_id")),
    "documents_draft_decide": _op(_doc("checking", "document_id")),
    "documents_draft_number": _op(_doc("numbering", "document_id")),
    "documents_archive_list": _op(),
    "documents_archive_get": _op(_doc("archive", "record_id")),
    "documents_document_archive": _op(_doc("sent", "document_id")),
    "documents_receipt_archive": _op(_doc("closed_receipt", "receipt_id")),
    "documents_search": _op(data=lambda w: {"q": "年度报告"}),
    "documents_seal_list": _op(),
    "documents_verify": _op(_doc("sent", "public_id", "public_id")),
    "documents_inbox_list": _op(),
    "documents_inbox_get": _op(_doc("delivery", "delivery_id")),
    "documents_delivery_sign": _op(_doc("delivery", "delivery_id")),
    "documents_delivery_return": _op(_doc("delivery", "delivery_id")),
    "documents_document_send": _op(_doc("sent", "document_id")),
    "documents_dispatch_get": _op(_doc("dispatch", "dispatch_id")),
    "documents_dispatch_deliveries": _op(_doc("dispatch", "dispatch_id")),
    "documents_dispatch_remind": _op(_doc("dispatch", "dispatch_id")),
    "documents_delivery_recall": _op(_doc("delivery", "delivery_id")),
    "documents_receipt_list": _op(),
    "documents_receipt_register": _op(_doc("delivery", "delivery_id")),
    "documents_receipt_register_paper": _op(),
    "documents_receipt_get": _op(_doc("receipt", "receipt_id")),
    "documents_receipt_propose": _op(_doc("receipt", "receipt_id")),
    "documents_receipt_instruct": _op(_doc("receipt", "receipt_id")),
    "documents_receipt_circulate": _op(_doc("receipt", "receipt_id")),
    "documents_receipt_assign": _op(_doc("receipt", "receipt_id")),
    "documents_receipt_task_done": _op(
        lambda w: {"receipt_id": w.documents.receipt.pk, "task_id": w.documents.circulation.pk}
    ),
    "documents_receipt_close": _op(_doc("receipt", "receipt_id")),
    "documents_task_list": _op(),
    "documents_task_create": _op(),
    "documents_task_get": _op(_doc("task", "task_id")),
    "documents_task_report": _op(_doc("task", "task_id")),
    "documents_task_remind": _op(_doc("task", "task_id")),
    "documents_task_close": _op(_doc("task", "task_id")),
    "documents_task_cancel": _op(_doc("task", "task_id")),
}


STAFF_PERSONAS = _set(
    CLERK, OFFICER, OTHER_OFFICER, LEADER, SUPERVISOR, SYSTEM_ADMIN, SECURITY_ADMIN, AUDITOR
)
#: who reads citizen A's case: A, the handling department's clerk/officer/leader and the
#: city-wide supervisor; never citizen B, the enterprise's agents, another department or
#: the administrators (三权分立: they run the system, they do not read cases)
CASE_READERS = _set(CITIZEN_A, CLERK, OFFICER, LEADER, SUPERVISOR)
BODY_AFTER_PERMISSION = object()
#: API writes without a permission gate, and why: the actor is known only from the object
#: (the operation loads it, 404 for anyone else, before it reads the body)
WRITES_CHECKED_ON_THE_OBJECT = {
    "documents_receipt_task_done": "传阅/承办 is done by whoever it was assigned to, any role",
}
#: sharing (tests/security/world_sharing.py): the two departments' officers hold the
#: departmental sharing, base-data and exchange permissions; the leader reviews the
#: catalogue and stewards base data city-wide
DEPARTMENT_OFFICERS = _set(OFFICER, OTHER_OFFICER)
#: official documents (tests/security/world_documents.py)
DOCUMENT_STAFF = _set(OFFICER, OTHER_OFFICER, LEADER)
DOCUMENT_PEOPLE = DOCUMENT_STAFF | _set(SUPERVISOR, SYSTEM_ADMIN)
MARKET_READERS = _set(OFFICER, LEADER)
CATALOGUE_READERS = _set(OFFICER, OTHER_OFFICER, LEADER)

_PAGE_ALLOWED: dict[str, Any] = {
    "set_language": EVERYONE,
    "api:openapi-json": EVERYONE,
    "api:openapi-view": EVERYONE,
    "accounts:login": EVERYONE,
    "accounts:logout": NOBODY,
    "accounts:mfa": SIGNED_IN,
    "accounts:mfa_setup": SIGNED_IN,
    "accounts:mfa_sm2": SIGNED_IN,
    "accounts:register": EVERYONE,
    "accounts:security": SIGNED_IN,
    "accounts:password_change": SIGNED_IN,
    "accounts:act_for": SIGNED_IN,
    "notify:inbox": SIGNED_IN,
    "notify:detail": _set(CITIZEN_A),
    "notify:mark_read": _set(CITIZEN_A),
    "notify:mark_all_read": SIGNED_IN,
    "notify:preferences": SIGNED_IN,
    "files:download": _set(CITIZEN_A),
    "calendar:index": _set(SYSTEM_ADMIN),
    "catalog:home": EVERYONE,
    "catalog:search": EVERYONE,
    "catalog:browse": EVERYONE,
    "catalog:item": EVERYONE,
    "catalog:apply": SIGNED_IN,
    "catalog:version": EVERYONE,
    "catalog:bundle": NOBODY,
    "catalog:powers": EVERYONE,
    "catalog:power": NOBODY,
    "catalog:file": NOBODY,  # citizen A's private upload is no public catalogue file
    "catalog:negative_list": EVERYONE,
    "catalog:editor": NOBODY,
    "catalog:draft_open": NOBODY,
    "approvals:home": SIGNED_IN,
    "approvals:apply": SIGNED_IN,
    "approvals:apply_bundle": NOBODY,
    "approvals:mine": SIGNED_IN,
    "approvals:queue": STAFF_PERSONAS,
    "approvals:inbox": STAFF_PERSONAS,
    "approvals:staff_cases": STAFF_PERSONAS,
    "approvals:case": CASE_READERS,
    "approvals:act": _set(OFFICER, LEADER),  # an opinion on the open review step
    "approvals:notice_pdf": CASE_READERS,
    "licences:verify_form": EVERYONE,
    "licences:verify": EVERYONE,
    "licences:verify_qr": EVERYONE,
    "licences:mine": SIGNED_IN,
    "licences:manage": NOBODY,
    "licences:revoke": NOBODY,
    "licences:pdf": _set(CITIZEN_A),
    "supervision:home": _set(SUPERVISOR),
    "supervision:home_figures": _set(SUPERVISOR),
    "supervision:cases": _set(SUPERVISOR),
    "supervision:case": _set(SUPERVISOR),
    "supervision:alerts": _set(SUPERVISOR),
    "supervision:alert_new": _set(SUPERVISOR),
    "supervision:alert": _set(SUPERVISOR),
    "supervision:alert_act": _set(SUPERVISOR),
    "supervision:corrections": _set(SUPERVISOR),
    "supervision:rules": _set(SUPERVISOR),
    "supervision:sources": _set(SYSTEM_ADMIN),
    "supervision:source_act": _set(SYSTEM_ADMIN),
    "supervision:evaluation": _set(SUPERVISOR),
    "supervision:ranking": _set(SUPERVISOR),
    "supervision:evaluation_export": _set(SUPERVISOR),
    "supervision:evaluation_department": _set(SUPERVISOR),
    "workflow:definition_xml": STAFF_PERSONAS,
    "catalog_import:upload": NOBODY,
    "catalog_import:job": NOBODY,
    "catalog_import:progress": NOBODY,
    "catalog_import:template": NOBODY,
    "catalog_import:export_xlsx": NOBODY,
    "catalog_import:export_csv": NOBODY,
    "sharing:catalogue": CATALOGUE_READERS,
    "sharing:catalogue_new": DEPARTMENT_OFFICERS,
    "sharing:catalogue_mine": DEPARTMENT_OFFICERS,
    "sharing:catalogue_review": _set(LEADER),
    "sharing:catalogue_item_row": DEPARTMENT_OFFICERS,
    "sharing:catalogue_resource": CATALOGUE_READERS,
    # version 2 is a draft: the provider's editor and the reviewer only
    "sharing:catalogue_diff": _set(OFFICER, LEADER),
    "sharing:catalogue_version_new": _set(OFFICER),
    "sharing:catalogue_withdraw": _set(LEADER),
    "sharing:catalogue_version": CATALOGUE_READERS,
    "sharing:catalogue_version_edit": _set(OFFICER),
    "sharing:catalogue_version_submit": _set(OFFICER),
    "sharing:catalogue_version_publish": _set(LEADER),
    "sharing:catalogue_version_reject": _set(LEADER),
    "sharing:systems": _set(OFFICER, OTHER_OFFICER, SYSTEM_ADMIN),
    "sharing:system": _set(OFFICER, SYSTEM_ADMIN),
    "sharing:system_act": _set(OFFICER, SYSTEM_ADMIN),
    "sharing:requests": DEPARTMENT_OFFICERS,
    "sharing:request_new": DEPARTMENT_OFFICERS,
    # the other department asked; the market regulator provides
    "sharing:request": DEPARTMENT_OFFICERS,
    "sharing:request_act": _set(OFFICER),
    "sharing:grants": DEPARTMENT_OFFICERS,
    "sharing:grant": DEPARTMENT_OFFICERS,
    "sharing:grant_revoke": _set(OFFICER),
    "sharing:stats": _set(OFFICER, OTHER_OFFICER, SUPERVISOR),
    "sharing:stats_table": _set(OFFICER, OTHER_OFFICER, SUPERVISOR),
    "sharing:stats_export": _set(OFFICER, OTHER_OFFICER, SUPERVISOR),
    "sharing:call_log": _set(OFFICER, OTHER_OFFICER, AUDITOR),
    "sharing:my_data": SIGNED_IN,
    # the call read citizen A's data: A alone may report it
    "sharing:my_data_report": _set(CITIZEN_A),
    "basedata:search": CATALOGUE_READERS,
    "basedata:record": CATALOGUE_READERS,
    "basedata:upload": DEPARTMENT_OFFICERS,
    "basedata:upload_template": DEPARTMENT_OFFICERS,
    "basedata:issues": _set(LEADER),
    "basedata:issue": _set(LEADER),
    "exchange:home": _set(OFFICER, OTHER_OFFICER, SUPERVISOR),
    "exchange:jobs": DEPARTMENT_OFFICERS,
    "exchange:job_new": DEPARTMENT_OFFICERS,
    "exchange:job": _set(OFFICER),
    "exchange:job_upload": _set(OFFICER),
    "exchange:job_toggle": _set(OFFICER),
    "exchange:dataset_download": _set(OFFICER),
    "exchange:delivery_retry": _set(OFFICER),
    "exchange:inbox": DEPARTMENT_OFFICERS,
    "exchange:delivery_download": _set(OTHER_OFFICER),
    "exchange:delivery_confirm": _set(OTHER_OFFICER),
    "exchange:subscription_webhook": _set(OTHER_OFFICER),
    "exchange:monitor": _set(SUPERVISOR),
    "exchange:monitor_job": _set(SUPERVISOR),
    # the gateway takes machine credentials only (OAuth2 client credentials or SM2-signed
    # requests; tongban/apps/sharing/tests/test_gateway*.py): every session persona gets 401
    "gateway:api-root": NOBODY,
    "gateway:openapi-json": EVERYONE,
    "gateway:openapi-view": EVERYONE,
    "gateway:token": NOBODY,
    "gateway:ping": NOBODY,
    "gateway:resource_call": NOBODY,
    # official documents (tests/security/world_documents.py): each department's officer is
    # its 文书 (draft, check, number and seal, receive, handle, archive, seals, reports);
    # the leader signs off, countersigns and instructs for the market regulator; the
    # supervisor supervises tasks city-wide; the system administrator keeps city groups
    "documents:home": DOCUMENT_PEOPLE,
    "documents:drafts": DOCUMENT_STAFF,
    "documents:document_new": DEPARTMENT_OFFICERS,
    "documents:document_detail": MARKET_READERS,
    "documents:document_edit": _set(OFFICER),
    "documents:document_diff": MARKET_READERS,
    "documents:document_submit": _set(OFFICER),
    "documents:document_decide": _set(OFFICER),
    "documents:document_number": _set(OFFICER),
    # the draft is at 编号: no 用印 step is open, so nobody may seal it yet (who may seal
    # at 用印: tongban/apps/documents/tests/test_drafting_process.py)
    "documents:document_seal": NOBODY,
    "documents:document_cancel": _set(OFFICER),
    "documents:document_preview": MARKET_READERS,
    "documents:attachment_add": _set(OFFICER),
    "documents:attachment_remove": _set(OFFICER),
    "documents:attachment_download": MARKET_READERS,
    "documents:seals": DEPARTMENT_OFFICERS,
    "documents:seal_image": _set(OFFICER),
    "documents:seal_rotate": _set(OFFICER),
    "documents:seal_retire": _set(OFFICER),
    "documents:verify": EVERYONE,
    "documents:verify_document": EVERYONE,
    "documents:document_pdf": _set(OFFICER, OTHER_OFFICER, LEADER),
    "documents:archive": DOCUMENT_STAFF,
    "documents:archive_detail": MARKET_READERS,
    "documents:document_archive": _set(OFFICER),
    "documents:receipt_archive": _set(OTHER_OFFICER),
    "documents:document_send": _set(OFFICER),
    "documents:dispatch_detail": MARKET_READERS,
    "documents:dispatch_csv": MARKET_READERS,
    "documents:dispatch_remind": _set(OFFICER),
    "documents:delivery_recall": _set(OFFICER),
    "documents:delivery_return_notice": _set(OFFICER, OTHER_OFFICER, LEADER),
    "documents:inbox": DEPARTMENT_OFFICERS,
    "documents:delivery_detail": _set(OTHER_OFFICER),
    "documents:delivery_sign": _set(OTHER_OFFICER),
    "documents:delivery_return": _set(OTHER_OFFICER),
    "documents:groups": _set(OFFICER, OTHER_OFFICER, SYSTEM_ADMIN),
    # department senders see the city's groups they send to; only the keeper changes them
    "documents:group_detail": _set(OFFICER, OTHER_OFFICER, SYSTEM_ADMIN),
    "documents:group_delete": _set(SYSTEM_ADMIN),
    "documents:receipts": DOCUMENT_STAFF,
    "documents:receipt_new": DEPARTMENT_OFFICERS,
    "documents:receipt_register": _set(OTHER_OFFICER),
    "documents:receipt_detail": _set(OTHER_OFFICER),
    "documents:receipt_act": _set(OTHER_OFFICER),
    "documents:tasks": _set(OFFICER, OTHER_OFFICER, SUPERVISOR),
    "documents:task_new": _set(SUPERVISOR),
    "documents:task_detail": _set(OTHER_OFFICER, SUPERVISOR),
    "documents:task_act": _set(OTHER_OFFICER),
    "ui:home": EVERYONE,
    "ui:workbench": STAFF_PERSONAS,
    "ui:workbench_tab": STAFF_PERSONAS,
    "ui:personal": SIGNED_IN,
    "ui:healthz": EVERYONE,
    "ui:metrics": EVERYONE,
}

_API_ALLOWED: dict[str, Any] = {
    "documents_drafts_pending": DOCUMENT_STAFF,
    "documents_draft_get": MARKET_READERS,
    "documents_draft_create": BODY_AFTER_PERMISSION,
    "documents_draft_submit": _set(OFFICER),
    "documents_draft_decide": BODY_AFTER_PERMISSION,
    "documents_draft_number": _set(OFFICER),
    "documents_archive_list": DOCUMENT_STAFF,
    "documents_archive_get": MARKET_READERS,
    "documents_document_archive": BODY_AFTER_PERMISSION,
    "documents_receipt_archive": BODY_AFTER_PERMISSION,
    "documents_search": DOCUMENT_STAFF,
    "documents_seal_list": DEPARTMENT_OFFICERS,
    "documents_verify": EVERYONE,
    "documents_inbox_list": DEPARTMENT_OFFICERS,
    "documents_inbox_get": _set(OTHER_OFFICER),
    "documents_delivery_sign": _set(OTHER_OFFICER),
    "documents_delivery_return": _set(OTHER_OFFICER),
    "documents_document_send": _set(OFFICER),
    "documents_dispatch_get": MARKET_READERS,
    "documents_dispatch_deliveries": MARKET_READERS,
    "documents_dispatch_remind": _set(OFFICER),
    "documents_delivery_recall": _set(OFFICER),
    "documents_receipt_list": DOCUMENT_STAFF,
    "documents_receipt_register": _set(OTHER_OFFICER),
    "documents_receipt_register_paper": BODY_AFTER_PERMISSION,
    "documents_receipt_get": _set(OTHER_OFFICER),
    "documents_receipt_propose": BODY_AFTER_PERMISSION,
    "documents_receipt_instruct": BODY_AFTER_PERMISSION,
    "documents_receipt_circulate": BODY_AFTER_PERMISSION,
    "documents_receipt_assign": BODY_AFTER_PERMISSION,
    "documents_receipt_task_done": _set(OTHER_OFFICER),
    "documents_receipt_close": BODY_AFTER_PERMISSION,
    "documents_task_list": _set(OFFICER, OTHER_OFFICER, SUPERVISOR),
    "documents_task_create": BODY_AFTER_PERMISSION,
    "documents_task_get": _set(OTHER_OFFICER, SUPERVISOR),
    "documents_task_report": BODY_AFTER_PERMISSION,
    "documents_task_remind": _set(SUPERVISOR),
    "documents_task_close": _set(SUPERVISOR),
    "documents_task_cancel": BODY_AFTER_PERMISSION,
    "tongban_platform_api_endpoints_me": SIGNED_IN,
    "tongban_platform_api_endpoints_departments": ADMINS,
    "tongban_platform_api_endpoints_audit_entries": _set(AUDITOR),
    "catalog_item_list": EVERYONE,
    "catalog_item_create": BODY_AFTER_PERMISSION,
    "catalog_item_get": EVERYONE,
    "catalog_version_get": EVERYONE,
    "catalog_version_update": BODY_AFTER_PERMISSION,
    "catalog_search": EVERYONE,
    "catalog_route": EVERYONE,
    "catalog_theme_list": EVERYONE,
    "catalog_life_event_list": EVERYONE,
    "catalog_bundle_list": EVERYONE,
    "catalog_power_list": EVERYONE,
    "catalog_power_get": NOBODY,
    "catalog_power_save": BODY_AFTER_PERMISSION,
    "catalog_negative_list": EVERYONE,
    "catalog_version_draft_open": NOBODY,
    "catalog_version_submit": NOBODY,
    "catalog_version_review": BODY_AFTER_PERMISSION,
    "catalog_item_retire": BODY_AFTER_PERMISSION,
    "approvals_case_submit": BODY_AFTER_PERMISSION,
    "approvals_case_submit_bundle": BODY_AFTER_PERMISSION,
    "approvals_case_list_mine": SIGNED_IN,
    "approvals_case_get": CASE_READERS,
    "approvals_notice_pdf": CASE_READERS,
    "approvals_case_withdraw": _set(CITIZEN_A),
    "approvals_case_correction_answer": _set(CITIZEN_A),
    "approvals_case_rate": BODY_AFTER_PERMISSION,
    # staff lists: who holds none of their permissions is refused (like the pages)
    "approvals_task_inbox": _set(CLERK, OFFICER, OTHER_OFFICER, LEADER),
    "approvals_case_queue": _set(CLERK),
    "approvals_case_accept": _set(CLERK),
    "approvals_case_refuse_acceptance": BODY_AFTER_PERMISSION,
    "approvals_case_correction_request": BODY_AFTER_PERMISSION,
    "approvals_case_task_claim": _set(OFFICER, LEADER),
    "approvals_case_task_complete": BODY_AFTER_PERMISSION,
    "approvals_case_decide": BODY_AFTER_PERMISSION,
    "approvals_case_deliver": BODY_AFTER_PERMISSION,
    "licences_licence_verify": EVERYONE,
    "licences_licence_mine": SIGNED_IN,
    "licences_licence_issue": BODY_AFTER_PERMISSION,
    "licences_licence_revoke": BODY_AFTER_PERMISSION,
    # machines only, with the source's own key (tongban/apps/supervision/tests/test_intake_api.py)
    "tongban_apps_supervision_api_intake": NOBODY,
    "sharing_catalogue_resource_list": CATALOGUE_READERS,
    "sharing_catalogue_resource_get": CATALOGUE_READERS,
    "sharing_request_list": DEPARTMENT_OFFICERS,
    "sharing_request_create": BODY_AFTER_PERMISSION,
    "sharing_request_get": DEPARTMENT_OFFICERS,
    "sharing_request_approve": _set(OFFICER),
    "sharing_request_refuse": BODY_AFTER_PERMISSION,
    "sharing_request_withdraw": _set(OTHER_OFFICER),
    "sharing_grant_list": DEPARTMENT_OFFICERS,
    "sharing_grant_get": DEPARTMENT_OFFICERS,
    "sharing_grant_revoke": BODY_AFTER_PERMISSION,
    "basedata_records_load": BODY_AFTER_PERMISSION,
    "exchange_delivery_list": DEPARTMENT_OFFICERS,
    "exchange_delivery_download": _set(OTHER_OFFICER),
    "exchange_delivery_receipt": BODY_AFTER_PERMISSION,
}

_NOTES = {
    "accounts:logout": "signing out ends at the login page for everyone",
}
_UNCHECKED = {"accounts:logout": SIGNED_IN}
_DATA: dict[str, Kwargs] = {
    "catalog_search": lambda w: {"q": "食品"},
    "catalog_route": lambda w: {"q": "我要开餐馆"},
}


def _merge(shape: Expect, allowed: Any, name: str) -> Expect:
    from dataclasses import replace

    if allowed is BODY_AFTER_PERMISSION:
        return replace(shape, allowed=NOBODY, body_after_permission=True)
    return replace(
        shape,
        allowed=allowed,
        unchecked=_UNCHECKED.get(name, shape.unchecked),
        note=_NOTES.get(name, shape.note),
        data=_DATA.get(name, shape.data),
    )


def _admin_changelists() -> dict[str, Expect]:
    """The admin index for every persona who is no administrator; each changelist for one
    persona of each kind (the admin's gate is one for the whole site)."""
    from django.contrib import admin

    sample = _set(ANONYMOUS, CITIZEN_A, AGENT, CLERK, SUPERVISOR)
    return {
        f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist": Expect(
            allowed=NOBODY, unchecked=EVERYONE - sample
        )
        for model in admin.site._registry
    } | {"admin:index": Expect(allowed=NOBODY, unchecked=ADMINS)}


#: route names (namespace:name) → expectation
PAGES: dict[str, Expect] = {
    name: _merge(shape, _PAGE_ALLOWED[name], name) for name, shape in _PAGE_SHAPES.items()
} | _admin_changelists()

#: API operationId → expectation
API: dict[str, Expect] = {
    name: _merge(shape, _API_ALLOWED[name], name) for name, shape in _API_SHAPES.items()
}
