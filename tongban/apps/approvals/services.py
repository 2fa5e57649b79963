"""Every write to a case, from the draft to the rating.

Each service checks the actor's right before opening its transaction (a refusal is
audited and raises ``PermissionDenied``), then in ONE transaction: locks the case row
(``select_for_update``; a joint parent is locked before its children, always in that
order), validates the transition, writes, records a timeline row, an audit entry and an
event, and notifies the applicant (in-app at once, SMS/email after commit). Bad input
raises ``ValidationError`` with Chinese messages and nothing is half-saved.

The process of an accepted case runs on the platform's BPMN engine
(``tongban.platform.workflow``): see ``_process_*`` below. Licences are issued through
``tongban.apps.licences.public``. States and transitions: docs/decisions/0013.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tongban.apps.approvals import events, once_only, permissions
from tongban.apps.approvals.access import CASE_SCOPE, COUNTERSIGN_SCOPE, acts_for_case
from tongban.apps.approvals.clock import Clock, case_clock, case_extension_days, step_clock
from tongban.apps.approvals.models import (
    BAD_RATING_MAX,
    FINAL_STATES,
    RECEIVED_STATES,
    RUNNING_STATES,
    TIMELINE_LABELS,
    WITHDRAWABLE_STATES,
    ApplicantKind,
    Case,
    CaseCounter,
    CaseEvent,
    CaseMaterial,
    CaseState,
    CaseType,
    CorrectionRequest,
    Countersign,
    CountersignState,
    DeliveryMethod,
    Extension,
    ExtensionState,
    MaterialSource,
    Notice,
    NoticeKind,
    Opinion,
    Outcome,
    Pause,
    PauseKind,
    Rating,
)
from tongban.apps.catalog import public as catalog
from tongban.platform.access.services import can_access, deny
from tongban.platform.accounts.models import AgentAuthorisation, LegalPerson
from tongban.platform.audit.services import audit_record
from tongban.platform.calendar.services import working_days_between
from tongban.platform.crypto.masking import mask_phone
from tongban.platform.events.services import event_publish
from tongban.platform.files.models import StoredFile
from tongban.platform.notify.services import notify_send
from tongban.platform.orgs.models import Department, Unit

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User

# 行政许可法 art. 42 (single item: +10) and art. 26 (joint handling: +15)
MAX_EXTENSION_DAYS = 10
MAX_JOINT_EXTENSION_DAYS = 15
DEFAULT_JOINT_LIMIT_DAYS = 45
APPLICANT_LINK = "/cases/{id}/"
NOTIFY_CATEGORY = "approvals"
OFFICIAL_LANGUAGE = "zh-hans"
# process data (stored in the generated BPMN definitions): never translated
LANE_WINDOW = "窗口"
LANE_DEPARTMENT = "业务科室"
LANE_LEADER = "分管领导"
DEFAULT_ACCEPT = "受理"
DEFAULT_DECIDE = "决定"
DEFAULT_DELIVER = "送达"
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:\-]{8,80}$")
FORM_MATERIAL = "申请表"  # a correction item may name the application form itself


def appeal_rights_default(department_name: str) -> str:
    """The remedies a refusal must state (行政复议法 art. 20, 行政诉讼法 art. 46)."""
    return _(
        "如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，"
        "或者自收到本决定书之日起六个月内依法向人民法院提起行政诉讼。（作出决定机关：%(name)s）"
    ) % {"name": department_name}


# ----------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class MaterialInput:
    """One material handed in: an uploaded file, or a reference to shared data/an
    e-licence (a placeholder until data sharing lands). ``item_id`` picks the child of a
    joint application the material belongs to."""

    name: str
    file_id: uuid.UUID | str | None = None
    reference: str = ""
    item_id: int | None = None


@dataclass(frozen=True)
class CorrectionItem:
    material: str  # a material's name, or "申请表"
    reason: str
    item_id: int | None = None


@dataclass(frozen=True)
class ApplicantInput:
    kind: str = ApplicantKind.NATURAL_PERSON
    legal_person: LegalPerson | None = None
    contact_phone: str = ""


@dataclass
class _Step:
    name: str = ""
    role: str = ""
    limit_days: int = 0
    days_used: int | None = None


# ----------------------------------------------------------------------------- helpers


def _now() -> dt.datetime:
    return timezone.now()


def _lock(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def _lock_family(case: Case) -> tuple[Case, list[Case]]:
    """The case (or, for a child, still the case itself) and its children, locked
    parent-first so two services never deadlock on one application."""
    locked = _lock(case)
    children = list(Case.objects.select_for_update().filter(parent=locked).order_by("pk"))
    return locked, children


def _label(verb: str) -> str:
    return str(TIMELINE_LABELS.get(verb, verb))


EVENT_TYPES: dict[str, type[events.CasePayload]] = {
    "submitted": events.CaseSubmitted,
    "correction_requested": events.CaseCorrectionRequested,
    "correction_answered": events.CaseCorrectionAnswered,
    "accepted": events.CaseAccepted,
    "not_accepted": events.CaseNotAccepted,
    "sent_back": events.CaseReturnedToApplicant,
    "step_completed": events.CaseStepCompleted,
    "returned": events.CaseReturned,
    "paused": events.CasePaused,
    "resumed": events.CaseResumed,
    "extended": events.CaseExtended,
    "decided": events.CaseDecided,
    "closed": events.CaseClosed,
    "delivered": events.CaseDelivered,
    "withdrawn": events.CaseWithdrawn,
    "rated": events.CaseRated,
}


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _department_codes(case: Case) -> tuple[str, ...]:
    if not case.is_joint:
        return (case.department_code,)
    codes = [case.department_code]
    for code in case.children.order_by("pk").values_list("department_code", flat=True):
        if code not in codes:
            codes.append(code)
    return tuple(codes)


def _payload(
    case: Case,
    event_type: type[events.CasePayload],
    *,
    previous_state: str,
    clock: Clock,
    step: _Step | None,
    detail: str,
    occurred_at: dt.datetime,
    extra: Mapping[str, Any] | None = None,
) -> events.CasePayload:
    step = step or _Step()
    return event_type(
        case_id=case.pk,
        case_number=case.number,
        parent_number=case.parent.number if case.parent_id and case.parent else "",
        is_joint=case.is_joint,
        item_id=case.item_id,
        item_version_id=case.item_version_id,
        item_name=case.item_name,
        bundle_code=case.bundle_code,
        department_code=case.department_code,
        department_codes=_department_codes(case),
        division_path=case.division_path,
        case_type=case.case_type,
        state=case.state,
        previous_state=previous_state,
        occurred_at=occurred_at.isoformat(),
        submitted_at=_iso(case.submitted_at),
        accepted_at=_iso(case.accepted_at),
        decided_at=_iso(case.decided_at),
        closed_at=_iso(case.closed_at),
        delivered_at=_iso(case.delivered_at),
        legal_limit_days=case.legal_limit_days,
        promised_limit_days=case.promised_limit_days,
        legal_deadline=_iso(clock.legal_deadline),
        promised_deadline=_iso(clock.promised_deadline),
        working_days_used=clock.used_days if clock.is_started else None,
        working_days_left=clock.promised_days_left,
        legal_days_left=clock.legal_days_left,
        paused_days=clock.paused_days,
        extension_days=clock.extension_days,
        correction_count=case.corrections.count(),
        outcome=case.outcome,
        step_name=step.name,
        step_role=step.role,
        step_limit_days=step.limit_days,
        step_days_used=step.days_used,
        detail=detail,
        extra=dict(extra or {}),
    )


def _message(case: Case, verb: str, detail: str, clock: Clock) -> str | None:
    """The applicant's message for a step (in the active language); None: no message."""
    context = {
        "number": case.number,
        "item": case.item_name,
        "detail": detail,
        "deadline": _iso(clock.promised_deadline) or "",
    }
    texts = {
        "submitted": _("您的办件 %(number)s（%(item)s）已收件，等待窗口审核受理。"),
        "correction_requested": _(
            "您的办件 %(number)s（%(item)s）需要补正材料，请按补正告知书一次性补齐：%(detail)s"
        ),
        "correction_answered": _("您的办件 %(number)s 的补正材料已收到，等待窗口审核受理。"),
        "accepted": _(
            "您的办件 %(number)s（%(item)s）已受理，承诺办结期限为 %(deadline)s，"
            "受理通知书可在办件详情中下载。"
        ),
        "not_accepted": _("您的办件 %(number)s（%(item)s）不予受理，理由：%(detail)s"),
        "sent_back": _("您的办件 %(number)s（%(item)s）已退件，理由：%(detail)s"),
        "step_completed": _("您的办件 %(number)s 已完成“%(detail)s”环节。"),
        "paused": _(
            "您的办件 %(number)s 进入特别程序（%(detail)s），所需时间不计入办理时限，"
            "书面告知书可在办件详情中下载。"
        ),
        "resumed": _(
            "您的办件 %(number)s 的特别程序（%(detail)s）已结束，承诺办结期限顺延至 %(deadline)s。"
        ),
        "extended": _(
            "您的办件 %(number)s 经批准延长办理期限 %(detail)s 个工作日，"
            "承诺办结期限为 %(deadline)s。"
        ),
        "decided": _("您的办件 %(number)s（%(item)s）已作出决定：%(detail)s。"),
        "closed": _("您的办件 %(number)s（%(item)s）已办结。"),
        "delivered": _("您的办件 %(number)s（%(item)s）的办理结果已送达（%(detail)s）。"),
        "withdrawn": _("您的办件 %(number)s（%(item)s）已撤回。"),
    }
    text = texts.get(verb)
    return text % context if text else None


def _notify(case: Case, verb: str, detail: str, clock: Clock, actor: Any) -> None:
    applicant = case.applicant
    language = str(getattr(applicant, "preferred_language", "") or "zh-hans")
    with translation.override(language):
        body = _message(case, verb, detail, clock)
        if body is None:
            return
        subject = _("办件进度：%(label)s") % {"label": _label(verb)}
    notify_send(
        recipients=[applicant],
        template_code="platform.generic",
        context={"subject": subject, "body": body},
        category=NOTIFY_CATEGORY,
        link=APPLICANT_LINK.format(id=(case.parent_id or case.pk)),
        actor=actor,
    )


def _record(
    case: Case,
    verb: str,
    *,
    actor: Any,
    previous_state: str,
    note: str = "",
    detail: str = "",
    step: _Step | None = None,
    publish: bool = True,
    notify: bool = True,
    extra: Mapping[str, Any] | None = None,
) -> CaseEvent:
    """Timeline row + audit entry + event + applicant message for one step of one case."""
    moment = _now()
    clock = case_clock(case, now=moment)
    actor_obj = actor if getattr(actor, "pk", None) else None
    with translation.override(OFFICIAL_LANGUAGE):
        stored_label = _label(verb)
    row = CaseEvent.objects.create(
        case=case,
        verb=verb,
        label=stored_label,
        actor=actor_obj,
        actor_label=(actor_obj.display_name or actor_obj.username) if actor_obj else "",
        occurred_at=moment,
        state_from=previous_state,
        state_to=case.state,
        step_name=step.name if step else "",
        note=note,
        working_days_used=clock.used_days if clock.is_started else None,
        working_days_left=clock.promised_days_left,
    )
    audit_record(
        action=f"approvals.case.{verb}",
        actor=actor_obj,
        target=case,
        object_label=f"{case.number} {case.item_name}",
        detail={
            "state": case.state,
            "previous_state": previous_state,
            **({"step": step.name} if step else {}),
            **(extra or {}),
        },
    )
    event_type = EVENT_TYPES.get(verb)
    if publish and event_type is not None:
        if verb in STEP_OPENING_VERBS:
            extra = {**(extra or {}), "open_steps": _open_steps(case)}
        event_publish(
            _payload(
                case,
                event_type,
                previous_state=previous_state,
                clock=clock,
                step=step,
                detail=detail,
                occurred_at=moment,
                extra=extra,
            ),
            actor=actor_obj,
        )
    if notify:
        _notify(case, verb, detail, clock, actor_obj)
    return row


# events after which new process steps may be open: their payload lists the open steps
# (``extra["open_steps"]``) so supervision can time each step while it runs
STEP_OPENING_VERBS = frozenset({"accepted", "step_completed", "returned"})


def _open_steps(case: Case) -> list[dict[str, Any]]:
    """The case's open process steps: name, role, limit (working days) and start."""
    if case.process_instance_id is None:
        return []
    from tongban.platform.workflow.models import WorkTask

    return [
        {
            "name": task.name,
            "role": task.role,
            "limit_days": task.due_days or 0,
            "started_at": task.created_at.isoformat(),
        }
        for task in WorkTask.objects.filter(
            instance_id=case.process_instance_id, state__in=["ready", "claimed"]
        ).order_by("created_at", "pk")
    ]


def _check_staff(actor: Any, case: Case, permission: str) -> None:
    """Before any transaction: the actor holds ``permission`` over the case's department."""
    if not can_access(actor, case, permission, CASE_SCOPE):
        deny(actor, permission, target=case)


def _check_any_staff(actor: Any, case: Case, codes: Sequence[str]) -> None:
    if not any(can_access(actor, case, code, CASE_SCOPE) for code in codes):
        deny(actor, codes[0], target=case)


def _check_applicant(actor: Any, case: Case) -> None:
    if not acts_for_case(actor, case):
        deny(actor, "approvals.case.applicant", target=case)


def _state_label(state: str) -> str:
    return str(CaseState(state).label)


def _require_state(case: Case, allowed: Iterable[str], action: str) -> None:
    if case.state not in tuple(allowed):
        raise ValidationError(
            _("办件当前状态为“%(state)s”，不能%(action)s")
            % {"state": _state_label(case.state), "action": action}
        )


def _next_number(department: Department, day: dt.date) -> str:
    """``<12-digit area code><yyyymmdd><6-digit serial>``: gapless per area and day
    because the counter row stays locked until the submitting transaction ends."""
    area = department.division.code
    updated = CaseCounter.objects.filter(area_code=area, day=day).update(last=F("last") + 1)
    if not updated:
        try:
            with transaction.atomic():
                CaseCounter.objects.create(area_code=area, day=day, last=1)
        except IntegrityError:  # another submission created the row first
            CaseCounter.objects.filter(area_code=area, day=day).update(last=F("last") + 1)
    last = CaseCounter.objects.get(area_code=area, day=day).last
    if last > 999999:
        raise ValidationError(_("今日办件编号已用完，请联系系统管理员"))
    return f"{area}{day:%Y%m%d}{last:06d}"


def _official() -> Any:
    """Notices are official documents in Chinese, whatever the clerk's screen language."""
    return translation.override(OFFICIAL_LANGUAGE)


def _notice(
    case: Case,
    kind: str,
    *,
    paragraphs: Sequence[str],
    fields: Sequence[tuple[str, str]] = (),
) -> Notice:
    sequence = Notice.objects.filter(case=case, kind=kind).count() + 1
    codes = {
        NoticeKind.ACCEPTANCE: "SL",
        NoticeKind.NOT_ACCEPTED: "BSL",
        NoticeKind.CORRECTION: "BZ",
        NoticeKind.SPECIAL_PROCEDURE: "TB",
        NoticeKind.EXTENSION: "YQ",
        NoticeKind.APPROVAL: "ZY",
        NoticeKind.REFUSAL: "BY",
        NoticeKind.RETURNED: "TJ",
    }
    return Notice.objects.create(
        case=case,
        kind=kind,
        number=f"{case.number}-{codes[NoticeKind(kind)]}{sequence:02d}",
        title=str(NoticeKind(kind).label),
        issuer=case.department_name,
        recipient=case.applicant_name,
        paragraphs=list(paragraphs),
        fields=[list(pair) for pair in fields],
        issued_on=timezone.localdate(),
    )


# ----------------------------------------------------------------------------- the applicant


def _applicant_fields(
    actor: Any, applicant: ApplicantInput, version: catalog.ItemVersionInfo | None
):
    """Who applies: the signed-in person, or the legal person an agent acts for."""
    errors: dict[str, list[str]] = {}
    if getattr(actor, "kind", "") != "public":
        raise PermissionDenied(_("只有公众用户可以提交办件申请"))
    phone = applicant.contact_phone.strip() or (getattr(actor, "mobile", "") or "")
    if phone and not PHONE.match(phone):
        errors["contact_phone"] = [_("请填写正确的手机号码或固定电话")]
    fields: dict[str, Any] = {
        "applicant": actor,
        "applicant_kind": applicant.kind,
        "contact_phone": phone or None,
        "contact_phone_masked": mask_phone(phone) if phone else "",
        "legal_person": None,
        "agent_name": "",
    }
    if applicant.kind == ApplicantKind.LEGAL_PERSON:
        legal_person = applicant.legal_person
        live = legal_person is not None and any(
            authorisation.is_live()
            for authorisation in AgentAuthorisation.objects.filter(
                agent=actor, legal_person=legal_person, revoked_at__isnull=True
            )
        )
        if not live:
            raise PermissionDenied(_("您没有代表该法人办理业务的有效授权"))
        assert legal_person is not None
        fields.update(
            legal_person=legal_person,
            applicant_name=legal_person.name,
            agent_name=actor.display_name,
        )
        if version is not None and not version.for_legal_persons:
            errors["applicant_kind"] = [_("该事项不接受法人申请")]
    elif applicant.kind == ApplicantKind.NATURAL_PERSON:
        person = getattr(actor, "person", None)
        if person is None:
            errors["applicant_kind"] = [_("请先完成实名认证再申请")]
        fields["applicant_name"] = person.name if person is not None else actor.display_name
        if version is not None and not version.for_natural_persons:
            errors["applicant_kind"] = [_("该事项不接受个人申请")]
    else:
        errors["applicant_kind"] = [_("申请人类型不正确")]
    if errors:
        raise ValidationError(errors)
    return fields


def _check_form(version: catalog.ItemVersionInfo, data: dict[str, Any], prefix: str = "") -> None:
    if not version.form_schema:
        return
    problems = catalog.form_errors(version.form_schema, data)
    if problems:
        raise ValidationError(
            {
                f"{prefix}form_data" + (f".{path}" if path else ""): messages
                for path, messages in problems.items()
            }
        )


def _version_for(item_id: int) -> catalog.ItemVersionInfo:
    version = catalog.item_current(item_id)
    if version is None:
        raise ValidationError({"item_id": [_("该事项不存在或已停止办理")]})
    return version


def _snapshot(version: catalog.ItemVersionInfo) -> dict[str, Any]:
    department = Department.objects.select_related("division").get(pk=version.department_id)
    return {
        "item_id": version.item_id,
        "item_version_id": version.version_id,
        "item_name": version.name,
        "implementation_code": version.implementation_code,
        "item_type": version.item_type,
        # ItemVersionInfo.result_name is asked of the catalogue (see the ADR)
        "result_name": str(getattr(version, "result_name", "") or ""),
        "case_type": version.case_type,
        "legal_limit_days": version.legal_limit_days,
        "promised_limit_days": version.promised_limit_days,
        "special_procedures": list(version.special_procedures),
        "process_steps": [[name, days] for name, days in version.steps],
        "department": department,
        "department_code": department.code,
        "department_name": department.name,
        "department_path": department.path,
        "division_path": department.division_path,
    }


def _material_rows(
    actor: Any,
    version: catalog.ItemVersionInfo,
    materials: Sequence[MaterialInput],
    *,
    complete: bool,
    prefix: str = "",
) -> list[CaseMaterial]:
    """Unsaved material rows for the version's list; ``complete``: every required one
    handed in (an upload, or a shared-data/e-licence source)."""
    listed = {material.name: material for material in version.materials}
    errors: list[str] = []
    rows: list[CaseMaterial] = []
    seen: set[str] = set()
    file_ids = {str(material.file_id) for material in materials if material.file_id}
    files = {
        str(stored.pk): stored
        for stored in StoredFile.objects.filter(pk__in=_uuids(file_ids), uploaded_by=actor)
    }
    for material in materials:
        spec = listed.get(material.name)
        if spec is None:
            errors.append(_("“%s”不在该事项的材料清单中") % material.name)
            continue
        if material.name in seen:
            errors.append(_("材料“%s”重复提交") % material.name)
            continue
        seen.add(material.name)
        stored = files.get(str(material.file_id)) if material.file_id else None
        if material.file_id and stored is None:
            errors.append(_("材料“%s”的文件不存在或不是您上传的") % material.name)
            continue
        source = (
            spec.source
            if spec.source in (MaterialSource.SHARED, MaterialSource.ELICENCE) and stored is None
            else MaterialSource.APPLICANT
        )
        if source == MaterialSource.APPLICANT and stored is None:
            continue  # named without a file: not handed in
        rows.append(
            CaseMaterial(
                name=spec.name,
                is_required=spec.is_required,
                source=source,
                file=stored,
                reference=material.reference[:200],
            )
        )
    if complete:
        handed_in = {row.name for row in rows}
        for spec in version.materials:
            if spec.is_required and spec.name not in handed_in:
                if spec.source in (MaterialSource.SHARED, MaterialSource.ELICENCE):
                    # fetched from shared data / e-licences instead of uploaded
                    rows.append(CaseMaterial(name=spec.name, is_required=True, source=spec.source))
                else:
                    errors.append(_("请上传必要材料“%s”") % spec.name)
    if errors:
        raise ValidationError({f"{prefix}materials": errors})
    return rows


def _uuids(values: Iterable[str]) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return found


def _save_materials(case: Case, rows: Sequence[CaseMaterial], *, round_number: int) -> None:
    names = [row.name for row in rows]
    CaseMaterial.objects.filter(case=case, name__in=names, is_current=True).update(is_current=False)
    for row in rows:
        row.case = case
        row.round = round_number
    CaseMaterial.objects.bulk_create(rows)


def case_draft_save(
    *,
    actor: User,
    item_id: int,
    case: Case | None = None,
    applicant: ApplicantInput = ApplicantInput(),
    form_data: dict[str, Any] | None = None,
    materials: Sequence[MaterialInput] = (),
) -> Case:
    """Create or update a draft (not validated as a whole; nothing is numbered yet)."""
    if case is not None:
        _check_applicant(actor, case)
    version = _version_for(item_id)
    fields = _applicant_fields(actor, applicant, version)
    rows = _material_rows(actor, version, materials, complete=False)
    with transaction.atomic():
        if case is None:
            case = Case.objects.create(
                state=CaseState.DRAFT, form_data=form_data or {}, **_snapshot(version), **fields
            )
        else:
            case = _lock(case)
            _require_state(case, [CaseState.DRAFT], _("修改草稿"))
            for name, value in {**_snapshot(version), **fields}.items():
                setattr(case, name, value)
            case.form_data = form_data if form_data is not None else case.form_data
            case.save()
            CaseMaterial.objects.filter(case=case).delete()
        CaseMaterial.objects.bulk_create([_with_case(row, case) for row in rows])
        _record(case, "draft_saved", actor=actor, previous_state="", notify=False, publish=False)
    return case


def _with_case(row: CaseMaterial, case: Case) -> CaseMaterial:
    row.case = case
    return row


def case_draft_delete(*, actor: User, case: Case) -> None:
    _check_applicant(actor, case)
    with transaction.atomic():
        locked = _lock(case)
        _require_state(locked, [CaseState.DRAFT], _("删除草稿"))
        audit_record(action="approvals.case.draft_delete", actor=actor, target=locked)
        locked.delete()


def _existing_submission(actor: Any, key: str) -> Case | None:
    if not key:
        return None
    return Case.objects.filter(applicant=actor, idempotency_key=key).first()


def _check_key(key: str) -> None:
    if key and not IDEMPOTENCY_KEY.match(key):
        raise ValidationError({"idempotency_key": [_("幂等键格式不正确")]})


def case_submit(
    *,
    actor: User,
    item_id: int | None = None,
    case: Case | None = None,
    idempotency_key: str = "",
    applicant: ApplicantInput | None = None,
    form_data: dict[str, Any] | None = None,
    materials: Sequence[MaterialInput] | None = None,
) -> Case:
    """Submit an application (收件): a saved draft, or directly with ``item_id``.

    Idempotent: the same ``idempotency_key`` from the same applicant (a double click, a
    retried request, two racing requests) returns the one case created first; so does
    submitting a draft that was already submitted.
    """
    _check_key(idempotency_key)
    existing = _existing_submission(actor, idempotency_key)
    if existing is not None:
        return existing
    if case is not None:
        _check_applicant(actor, case)
        if case.state != CaseState.DRAFT:
            return case
        item_id = case.item_id
    if item_id is None:
        raise ValidationError({"item_id": [_("请选择要办理的事项")]})
    version = _version_for(item_id)
    if applicant is None and case is not None:
        applicant = ApplicantInput(
            kind=case.applicant_kind,
            legal_person=case.legal_person,
            contact_phone=str(case.contact_phone or ""),
        )
    fields = _applicant_fields(actor, applicant or ApplicantInput(), version)
    data = form_data if form_data is not None else (case.form_data if case is not None else {})
    _check_form(version, data)
    if materials is None and case is not None:
        materials = [
            MaterialInput(name=row.name, file_id=row.file_id, reference=row.reference)
            for row in case.materials.filter(is_current=True)
        ]
    rows = _material_rows(actor, version, materials or (), complete=True)
    try:
        with transaction.atomic():
            submitted = _submit_one(
                actor=actor,
                version=version,
                draft=case,
                fields=fields,
                form_data=data,
                rows=rows,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        existing = _existing_submission(actor, idempotency_key)
        if existing is None:
            raise
        return existing
    return submitted


def _submit_one(
    *,
    actor: Any,
    version: catalog.ItemVersionInfo,
    draft: Case | None,
    fields: dict[str, Any],
    form_data: dict[str, Any],
    rows: Sequence[CaseMaterial],
    idempotency_key: str,
    parent: Case | None = None,
    notify: bool = True,
) -> Case:
    moment = _now()
    snapshot = _snapshot(version)
    values = {
        **snapshot,
        **fields,
        "form_data": form_data,
        "state": CaseState.SUBMITTED,
        "submitted_at": moment,
        "idempotency_key": idempotency_key,
        "parent": parent,
        "bundle_code": parent.bundle_code if parent else "",
    }
    if draft is not None:
        case = _lock(draft)
        if case.state != CaseState.DRAFT:
            return case
        for name, value in values.items():
            setattr(case, name, value)
        case.number = _next_number(snapshot["department"], timezone.localdate(moment))
        case.save()
        CaseMaterial.objects.filter(case=case).delete()
    else:
        case = Case(**values)
        case.number = _next_number(snapshot["department"], timezone.localdate(moment))
        case.save(force_insert=True)
    _save_materials(case, rows, round_number=0)
    # once-only: the department fetches shared-data/e-licence materials now (the case has
    # its number); one that cannot be fetched is asked of the applicant instead
    once_only.case_shared_materials_fetch(actor=actor, case=case, version=version)
    _record(case, "submitted", actor=actor, previous_state=CaseState.DRAFT, notify=notify)
    return case


def case_submit_bundle(
    *,
    actor: User,
    bundle_code: str,
    idempotency_key: str = "",
    applicant: ApplicantInput = ApplicantInput(),
    item_ids: Sequence[int] | None = None,
    forms: Mapping[int, dict[str, Any]] | None = None,
    materials: Sequence[MaterialInput] = (),
) -> Case:
    """Submit a 一件事 application: a parent joint case (联办件, the joint limit) and one
    child per item, all submitted together. ``forms`` and ``materials`` are keyed by
    item id (``MaterialInput.item_id``). Idempotent like ``case_submit``."""
    _check_key(idempotency_key)
    existing = _existing_submission(actor, idempotency_key)
    if existing is not None:
        return existing
    found = catalog.bundle(bundle_code)
    if found is None:
        raise ValidationError({"bundle_code": [_("该“一件事”不存在或已停用")]})
    chosen = list(item_ids) if item_ids is not None else list(found.item_ids)
    outside = [item for item in chosen if item not in found.item_ids]
    if outside or not chosen:
        raise ValidationError({"item_ids": [_("请选择该“一件事”包含的事项")]})
    forms = forms or {}
    prepared = []
    for item_id in dict.fromkeys(chosen):
        version = _version_for(item_id)
        fields = _applicant_fields(actor, applicant, version)
        data = forms.get(item_id, {})
        _check_form(version, data, prefix=f"items.{item_id}.")
        rows = _material_rows(
            actor,
            version,
            [material for material in materials if material.item_id == item_id],
            complete=True,
            prefix=f"items.{item_id}.",
        )
        prepared.append((version, fields, data, rows))
    lead = Department.objects.select_related("division").filter(code=found.lead_department_code)
    lead_department = lead.first()
    if lead_department is None:
        raise ValidationError({"bundle_code": [_("该“一件事”的牵头部门不存在")]})
    parent_fields = _applicant_fields(actor, applicant, None)
    joint_days = found.joint_limit_days or DEFAULT_JOINT_LIMIT_DAYS
    try:
        with transaction.atomic():
            moment = _now()
            parent = Case(
                state=CaseState.SUBMITTED,
                item_name=found.name,
                bundle_code=found.code,
                case_type=CaseType.JOINT,
                is_joint=True,
                legal_limit_days=joint_days,
                promised_limit_days=joint_days,
                department=lead_department,
                department_code=lead_department.code,
                department_name=lead_department.name,
                department_path=lead_department.path,
                division_path=lead_department.division_path,
                submitted_at=moment,
                idempotency_key=idempotency_key,
                **parent_fields,
            )
            parent.number = _next_number(lead_department, timezone.localdate(moment))
            parent.save(force_insert=True)
            for version, fields, data, rows in prepared:
                _submit_one(
                    actor=actor,
                    version=version,
                    draft=None,
                    fields=fields,
                    form_data=data,
                    rows=rows,
                    idempotency_key="",
                    parent=parent,
                    notify=False,
                )
            _record(parent, "submitted", actor=actor, previous_state=CaseState.DRAFT)
    except IntegrityError:
        existing = _existing_submission(actor, idempotency_key)
        if existing is None:
            raise
        return existing
    return parent


def case_correction_answer(
    *,
    actor: User,
    case: Case,
    materials: Sequence[MaterialInput] = (),
    form_data: dict[str, Any] | None = None,
    forms: Mapping[int, dict[str, Any]] | None = None,
    note: str = "",
) -> Case:
    """Hand in what the correction notice asked for; the case is received again.

    For a joint case ``materials`` carry ``item_id`` and ``forms`` maps item ids to
    corrected forms (``form_data`` is for a single case)."""
    _check_applicant(actor, case)
    if case.parent_id:
        raise ValidationError(_("联办件请在主件上补正"))
    with transaction.atomic():
        locked, children = _lock_family(case)
        _require_state(locked, [CaseState.CORRECTION], _("提交补正材料"))
        request = CorrectionRequest.objects.select_for_update().get(
            case=locked, answered_at__isnull=True
        )
        targets = children if locked.is_joint else [locked]
        given = list(materials)
        if not given and form_data is None and not forms:
            raise ValidationError({"materials": [_("请提交补正的材料或修改申请表")]})
        for target in targets:
            version = catalog.item_version(target.item_version_id or 0)
            if version is None:  # a published version is never deleted
                raise ValidationError(_("办件所依据的事项版本不存在"))
            mine = [
                material
                for material in given
                if not locked.is_joint or material.item_id == target.item_id
            ]
            prefix = f"items.{target.item_id}." if locked.is_joint else ""
            rows = _material_rows(actor, version, mine, complete=False, prefix=prefix)
            data = (forms or {}).get(target.item_id or 0) if locked.is_joint else form_data
            if data is not None:
                _check_form(version, dict(data), prefix=prefix)
                target.form_data = dict(data)
            if rows:
                _save_materials(target, rows, round_number=request.sequence)
        request.answered_at = _now()
        request.answer_note = note
        request.save(update_fields=["answered_at", "answer_note"])
        for child in children:
            child.state = CaseState.SUBMITTED
            child.save(update_fields=["state", "form_data", "updated_at"])
            _record(
                child,
                "correction_answered",
                actor=actor,
                previous_state=CaseState.CORRECTION,
                notify=False,
            )
        locked.state = CaseState.SUBMITTED
        locked.save(update_fields=["state", "form_data", "updated_at"])
        _record(
            locked,
            "correction_answered",
            actor=actor,
            previous_state=CaseState.CORRECTION,
            note=note,
            detail=str(request.sequence),
            extra={"sequence": request.sequence},
        )
    return locked


def case_withdraw(*, actor: User, case: Case, reason: str = "") -> Case:
    """撤回: the applicant withdraws before the decision (a joint case as a whole)."""
    _check_applicant(actor, case)
    if case.parent_id:
        raise ValidationError(_("联办件只能整件撤回，请在主件上操作"))
    with transaction.atomic():
        locked, children = _lock_family(case)
        _require_state(
            locked, [state for state in WITHDRAWABLE_STATES if state != CaseState.DRAFT], _("撤回")
        )
        moment = _now()
        for target in [*children, locked]:
            if target.state in FINAL_STATES or target.state == CaseState.DECIDED:
                continue
            previous = target.state
            _process_cancel(target, actor=actor, reason=reason or _("申请人撤回"))
            target.state = CaseState.WITHDRAWN
            target.ended_at = moment
            target.end_reason = reason
            target.save(update_fields=["state", "ended_at", "end_reason", "updated_at"])
            _record(
                target,
                "withdrawn",
                actor=actor,
                previous_state=previous,
                note=reason,
                notify=target is locked,
            )
    return locked


def case_rate(*, actor: User, case: Case, level: int, comment: str = "") -> Rating:
    """好差评 (一事一评): once per case, after it was closed; 1–2 are 差评, followed up."""
    _check_applicant(actor, case)
    if case.parent_id:
        raise ValidationError(_("联办件请对整件进行评价"))
    if level not in (1, 2, 3, 4, 5):
        raise ValidationError({"level": [_("评价等级应为1到5")]})
    if level <= BAD_RATING_MAX and not comment.strip():
        raise ValidationError({"comment": [_("差评请写明不满意的原因，以便整改")]})
    try:
        with transaction.atomic():
            locked = _lock(case)
            _require_state(locked, [CaseState.CLOSED, CaseState.DELIVERED], _("评价"))
            rating = Rating.objects.create(
                case=locked,
                level=level,
                comment=comment.strip(),
                rated_by=actor,
                needs_follow_up=level <= BAD_RATING_MAX,
            )
            _record(
                locked,
                "rated",
                actor=actor,
                previous_state=locked.state,
                note=comment,
                detail=str(level),
                notify=False,
                extra={"level": level, "needs_follow_up": level <= BAD_RATING_MAX},
            )
    except IntegrityError as error:
        raise ValidationError(_("该办件已评价，每件只能评价一次")) from error
    return rating


# ----------------------------------------------------------------------------- the window


def _check_materials(case: Case, checked: Iterable[str] | None, actor: Any) -> None:
    if checked is None:
        return
    names = set(checked)
    unknown = names - set(
        CaseMaterial.objects.filter(case=case, is_current=True).values_list("name", flat=True)
    )
    if unknown:
        raise ValidationError({"checked": [_("“%s”不是该办件的材料") % "、".join(sorted(unknown))]})
    CaseMaterial.objects.filter(case=case, is_current=True, name__in=names).update(
        is_checked=True, checked_by=actor, checked_at=_now()
    )


def case_receive(
    *,
    actor: User,
    case: Case,
    checked: Iterable[str],
    item_checks: Mapping[int, Iterable[str]] | None = None,
) -> Case:
    """The window checks materials against the item's list (收件核验). ``checked`` names
    the current materials found in order; for a joint case ``item_checks`` maps child
    item ids to theirs."""
    _check_staff(actor, case, permissions.CASE_RECEIVE)
    with transaction.atomic():
        locked, children = _lock_family(case)
        _require_state(locked, [CaseState.SUBMITTED], _("收件核验"))
        _check_materials(locked, checked, actor)
        for child in children:
            _check_materials(child, (item_checks or {}).get(child.item_id or 0, ()), actor)
        locked.received_by = actor
        locked.save(update_fields=["received_by", "updated_at"])
        _record(
            locked,
            "received",
            actor=actor,
            previous_state=locked.state,
            publish=False,
            notify=False,
            note="、".join(sorted(set(checked))),
        )
    return locked


def _unchecked(cases: Iterable[Case]) -> list[str]:
    missing = []
    for target in cases:
        for material in target.materials.filter(is_current=True, is_required=True):
            if not material.is_checked and material.source == MaterialSource.APPLICANT:
                missing.append(material.name)
    return missing


def _acceptance_paragraphs(case: Case, clock: Clock, children: Sequence[Case]) -> list[str]:
    paragraphs = [
        _(
            "你（单位）于 %(date)s 提出的“%(item)s”申请，申请材料齐全、符合法定形式，"
            "根据《中华人民共和国行政许可法》第三十二条的规定，决定予以受理。"
        )
        % {"date": timezone.localdate(case.submitted_at).isoformat(), "item": case.item_name},
        _("本机关将在法定期限内作出决定，承诺办结期限为 %(promised)s，法定办结期限为 %(legal)s。")
        % {
            "promised": _iso(clock.promised_deadline) or "",
            "legal": _iso(clock.legal_deadline) or "",
        },
    ]
    if children:
        paragraphs.append(_("本申请由下列部门同时办理，各自在其办理期限内作出决定："))
        for index, child in enumerate(children, start=1):
            child_clock = case_clock(child, now=clock.accepted_at)
            paragraphs.append(
                _(
                    "%(index)d. %(item)s（%(department)s，办件编号 %(number)s），"
                    "承诺办结期限 %(date)s"
                )
                % {
                    "index": index,
                    "item": child.item_name,
                    "department": child.department_name,
                    "number": child.number,
                    "date": _iso(child_clock.promised_deadline) or "",
                }
            )
    return paragraphs


def case_accept(
    *,
    actor: User,
    case: Case,
    checked: Iterable[str] | None = None,
    item_checks: Mapping[int, Iterable[str]] | None = None,
    note: str = "",
) -> Case:
    """受理: the clock starts. Every required uploaded material must have been checked
    (pass ``checked`` to check them here). Accepting a joint case accepts every child
    at once, each starting its own clock and its own process."""
    _check_staff(actor, case, permissions.CASE_ACCEPT)
    if case.parent_id:
        raise ValidationError(_("联办件由牵头窗口在主件上统一受理"))
    with transaction.atomic():
        locked, children = _lock_family(case)
        _require_state(locked, [CaseState.SUBMITTED], _("受理"))
        if locked.case_type == CaseType.INSTANT:
            raise ValidationError(_("即办件请当场办结"))
        _check_materials(locked, checked, actor)
        for child in children:
            _check_materials(child, (item_checks or {}).get(child.item_id or 0), actor)
        missing = _unchecked([locked, *children])
        if missing:
            raise ValidationError({"checked": [_("以下材料尚未核验：%s") % "、".join(missing)]})
        moment = _now()
        for target in [*children, locked]:
            target.state = CaseState.ACCEPTED
            target.accepted_at = moment
            target.accepted_by = actor
            target.received_by = target.received_by or actor
            target.save(
                update_fields=["state", "accepted_at", "accepted_by", "received_by", "updated_at"]
            )
            if not target.is_joint:
                _process_start(target, actor=actor, note=note)
            if target is locked:  # one notice for the whole application
                with _official():
                    _notice(
                        target,
                        NoticeKind.ACCEPTANCE,
                        paragraphs=_acceptance_paragraphs(
                            target, case_clock(target, now=moment), children
                        ),
                        fields=[(_("办件编号"), target.number), (_("事项名称"), target.item_name)],
                    )
            _record(
                target,
                "accepted",
                actor=actor,
                previous_state=CaseState.SUBMITTED,
                note=note,
                notify=target is locked,
            )
    return locked


def case_refuse_acceptance(*, actor: User, case: Case, reasons: str) -> Case:
    """不予受理: written reasons and the remedies; the case ends."""
    _check_staff(actor, case, permissions.CASE_ACCEPT)
    if case.parent_id:
        raise ValidationError(_("联办件由牵头窗口在主件上统一办理"))
    if not reasons.strip():
        raise ValidationError({"reasons": [_("不予受理必须写明理由")]})
    return _end_before_acceptance(
        actor=actor,
        case=case,
        state=CaseState.NOT_ACCEPTED,
        verb="not_accepted",
        reason=reasons.strip(),
        notice_kind=NoticeKind.NOT_ACCEPTED,
    )


def case_send_back(*, actor: User, case: Case, reason: str) -> Case:
    """退件: the window returns an online application it will not process here (e.g.
    wrong department or item); the applicant may apply again."""
    _check_staff(actor, case, permissions.CASE_ACCEPT)
    if case.parent_id:
        raise ValidationError(_("联办件由牵头窗口在主件上统一办理"))
    if not reason.strip():
        raise ValidationError({"reason": [_("退件必须写明理由")]})
    return _end_before_acceptance(
        actor=actor,
        case=case,
        state=CaseState.RETURNED,
        verb="sent_back",
        reason=reason.strip(),
        notice_kind=NoticeKind.RETURNED,
    )


def _end_before_acceptance(
    *, actor: Any, case: Case, state: str, verb: str, reason: str, notice_kind: str
) -> Case:
    with transaction.atomic():
        locked, children = _lock_family(case)
        _require_state(locked, RECEIVED_STATES, str(_label(verb)))
        moment = _now()
        for target in [*children, locked]:
            previous = target.state
            target.state = state
            target.ended_at = moment
            target.end_reason = reason
            target.save(update_fields=["state", "ended_at", "end_reason", "updated_at"])
            if target is locked:
                with _official():
                    _notice(
                        target,
                        notice_kind,
                        paragraphs=[
                            _("你（单位）于 %(date)s 提出的“%(item)s”申请，因下列理由不予办理：")
                            % {
                                "date": timezone.localdate(target.submitted_at).isoformat(),
                                "item": target.item_name,
                            },
                            reason,
                            appeal_rights_default(target.department_name),
                        ],
                        fields=[(_("办件编号"), target.number)],
                    )
            _record(
                target,
                verb,
                actor=actor,
                previous_state=previous,
                note=reason,
                detail=reason,
                notify=target is locked,
            )
    return locked


def case_correction_request(
    *, actor: User, case: Case, items: Sequence[CorrectionItem], note: str = ""
) -> CorrectionRequest:
    """一次性告知: ONE notice listing every missing or defective material with its reason.
    Another request on the same case is possible only after this one was answered; it is
    recorded with its sequence number (supervision flags repeated requests)."""
    _check_staff(actor, case, permissions.CASE_ACCEPT)
    if case.parent_id:
        raise ValidationError(_("联办件由牵头窗口在主件上一次性告知"))
    problems = [
        index
        for index, item in enumerate(items)
        if not item.material.strip() or not item.reason.strip()
    ]
    if not items:
        raise ValidationError({"items": [_("请列明需要补正的全部材料")]})
    if problems:
        raise ValidationError({"items": [_("每项补正内容都要写明材料和理由")]})
    with transaction.atomic():
        locked, children = _lock_family(case)
        if locked.state == CaseState.CORRECTION:
            raise ValidationError(_("上一次补正告知尚未答复，不能再次告知"))
        _require_state(locked, [CaseState.SUBMITTED], _("补正告知"))
        by_item = {child.item_id: child for child in children}
        known: dict[int | None, set[str]] = {}
        for target in [locked, *children]:
            version = catalog.item_version(target.item_version_id or 0)
            names = {m.name for m in version.materials} if version else set()
            known[target.item_id if target.parent_id else None] = names | {FORM_MATERIAL}
        unknown = [
            item.material
            for item in items
            if item.material not in known.get(item.item_id if locked.is_joint else None, set())
        ]
        if unknown:
            raise ValidationError({"items": [_("以下内容不在材料清单中：%s") % "、".join(unknown)]})
        sequence = locked.corrections.count() + 1
        moment = _now()
        # 一次性告知 is due on the spot or within 5 working days of receipt (supervision)
        after_receipt = working_days_between(locked.submitted_at or moment, moment)
        listing = [
            (
                f"{index}. "
                + (f"{by_item[item.item_id].item_name}：" if item.item_id in by_item else "")
                + f"{item.material} —— {item.reason}"
            )
            for index, item in enumerate(items, start=1)
        ]
        with _official():
            notice = _notice(
                locked,
                NoticeKind.CORRECTION,
                paragraphs=[
                    _(
                        "你（单位）于 %(date)s 提出的“%(item)s”申请，经审查，申请材料不齐全或者"
                        "不符合法定形式。根据《中华人民共和国行政许可法》第三十二条的规定，"
                        "现一次性告知需要补正的全部内容如下："
                    )
                    % {
                        "date": timezone.localdate(locked.submitted_at).isoformat(),
                        "item": locked.item_name,
                    },
                    *listing,
                    *([note] if note else []),
                    _("请补齐上述材料后重新提交，补正期间不计入办理时限。"),
                ],
                fields=[(_("办件编号"), locked.number), (_("第几次补正"), str(sequence))],
            )
        request = CorrectionRequest.objects.create(
            case=locked,
            sequence=sequence,
            items=[
                {"material": item.material, "reason": item.reason, "item_id": item.item_id}
                for item in items
            ],
            note=note,
            requested_by=actor,
            opened_at=moment,
            notice=notice,
        )
        for target in [locked, *children]:
            flagged = [
                item.material
                for item in items
                if (item.item_id == target.item_id if target.parent_id else not locked.is_joint)
            ]
            CaseMaterial.objects.filter(case=target, is_current=True, name__in=flagged).update(
                is_checked=False
            )
        for target in [*children, locked]:
            target.state = CaseState.CORRECTION
            target.save(update_fields=["state", "updated_at"])
            _record(
                target,
                "correction_requested",
                actor=actor,
                previous_state=CaseState.SUBMITTED,
                note=note,
                detail="；".join(f"{item.material}（{item.reason}）" for item in items),
                notify=target is locked,
                extra={
                    "sequence": sequence,
                    "items": len(items),
                    "working_days_after_receipt": after_receipt,
                },
            )
    return request


def case_decide_on_the_spot(
    *,
    actor: User,
    case: Case,
    approve: bool,
    reasons: str = "",
    appeal_rights: str = "",
    checked: Iterable[str] | None = None,
    delivery_method: str = DeliveryMethod.COLLECT,
) -> Case:
    """即办件: received, accepted, decided, closed and delivered at the window at once."""
    _check_staff(actor, case, permissions.CASE_ACCEPT)
    if case.case_type != CaseType.INSTANT or case.is_joint or case.parent_id:
        raise ValidationError(_("只有即办件可以当场办结"))
    _check_decision(approve, reasons, appeal_rights)
    _check_delivery_method(delivery_method)
    with transaction.atomic():
        locked = _lock(case)
        _require_state(locked, [CaseState.SUBMITTED], _("当场办结"))
        _check_materials(locked, checked, actor)
        missing = _unchecked([locked])
        if missing:
            raise ValidationError({"checked": [_("以下材料尚未核验：%s") % "、".join(missing)]})
        moment = _now()
        locked.state = CaseState.ACCEPTED
        locked.accepted_at = moment
        locked.accepted_by = actor
        locked.received_by = locked.received_by or actor
        locked.save()
        _record(locked, "accepted", actor=actor, previous_state=CaseState.SUBMITTED, notify=False)
        _decide(locked, actor=actor, approve=approve, reasons=reasons, appeal_rights=appeal_rights)
        _close(locked, actor=actor, notify=False)
        _deliver(locked, actor=actor, method=delivery_method, note="")
    return locked


# ----------------------------------------------------------------------------- officers


def _running(case: Case, action: str) -> None:
    _require_state(case, RUNNING_STATES, action)
    if case.pauses.filter(ended_at__isnull=True).exists():
        raise ValidationError(_("特别程序进行中，请先结束特别程序"))


def case_task_claim(*, actor: User, case: Case, task_id: int) -> Any:
    """签收 a ready task of the case's process (a second claimer is refused)."""
    task = _task_of(case, task_id)
    _check_staff(actor, case, _role_permission(task.role))
    _check_task_actor(actor, task)
    with transaction.atomic():
        locked = _lock(case)
        _require_state(locked, RUNNING_STATES + (CaseState.DECIDED, CaseState.CLOSED), _("签收"))
        claimed = _workflow().task_claim(actor=actor, task=_fresh_task(locked, task_id))
        _record(
            locked,
            "claimed",
            actor=actor,
            previous_state=locked.state,
            step=_Step(name=task.name, role=task.role, limit_days=task.due_days),
            publish=False,
            notify=False,
        )
    return claimed


def case_task_complete(
    *, actor: User, case: Case, task_id: int, opinion: str, data: Mapping[str, Any] | None = None
) -> Case:
    """Complete a review step with the officer's opinion; the next steps become ready.

    Two officers completing the same task at once: the case row lock orders them and the
    second gets a ValidationError."""
    task = _task_of(case, task_id)
    if task.role != "review":
        raise ValidationError(_("受理、决定和送达环节请使用对应的操作"))
    _check_staff(actor, case, permissions.CASE_REVIEW)
    _check_task_actor(actor, task)
    if not opinion.strip():
        raise ValidationError({"opinion": [_("请填写审查意见")]})
    with transaction.atomic():
        locked = _lock(case)
        _running(locked, _("办理审查环节"))
        if locked.countersigns.filter(state=CountersignState.OPEN).exists():
            raise ValidationError(_("会签尚未完成，请等待会签意见"))
        fresh = _fresh_task(locked, task_id)
        step = _task_step(locked, fresh)
        Opinion.objects.create(
            case=locked, author=actor, step_name=fresh.name, task_id=fresh.pk, text=opinion.strip()
        )
        _workflow().task_complete(
            actor=actor, task=fresh, data={**(data or {}), "opinion": opinion.strip()}
        )
        previous = locked.state
        locked.state = CaseState.IN_REVIEW
        locked.save(update_fields=["state", "updated_at"])
        _record(
            locked,
            "step_completed",
            actor=actor,
            previous_state=previous,
            step=step,
            note=opinion.strip(),
            detail=fresh.name,
        )
    return locked


def case_return(*, actor: User, case: Case, task_id: int, to_spec_id: str, reason: str) -> Case:
    """Send the case back to an earlier step of its process, with the reason."""
    task = _task_of(case, task_id)
    _check_staff(actor, case, _role_permission(task.role))
    _check_task_actor(actor, task)
    if not reason.strip():
        raise ValidationError({"reason": [_("退回必须写明理由")]})
    with transaction.atomic():
        locked = _lock(case)
        _running(locked, _("退回"))
        fresh = _fresh_task(locked, task_id)
        step = _task_step(locked, fresh)
        new_tasks = _workflow().task_return(
            actor=actor, task=fresh, to_spec_id=to_spec_id, reason=reason.strip()
        )
        Opinion.objects.create(
            case=locked,
            author=actor,
            step_name=fresh.name,
            task_id=fresh.pk,
            text=_("退回：%s") % reason.strip(),
        )
        target = ", ".join(task.name for task in new_tasks)
        _record(
            locked,
            "returned",
            actor=actor,
            previous_state=locked.state,
            step=step,
            note=reason.strip(),
            detail=_("退回至“%(step)s”：%(reason)s") % {"step": target, "reason": reason.strip()},
            notify=False,
            extra={"to_spec_id": to_spec_id},
        )
    return locked


def case_opinion_add(*, actor: User, case: Case, text: str, step_name: str = "") -> Opinion:
    _check_any_staff(actor, case, (permissions.CASE_REVIEW, permissions.CASE_DECIDE))
    if not text.strip():
        raise ValidationError({"text": [_("请填写意见")]})
    with transaction.atomic():
        locked = _lock(case)
        opinion = Opinion.objects.create(
            case=locked, author=actor, step_name=step_name, text=text.strip()
        )
        _record(
            locked,
            "opinion",
            actor=actor,
            previous_state=locked.state,
            note=text.strip(),
            publish=False,
            notify=False,
        )
    return opinion


def case_countersign_request(
    *,
    actor: User,
    case: Case,
    department: Department,
    question: str,
    unit: Unit | None = None,
) -> Countersign:
    """会签: ask another department (or unit) for its opinion; the clock keeps running."""
    _check_staff(actor, case, permissions.CASE_REVIEW)
    if not question.strip():
        raise ValidationError({"question": [_("请写明会签事项")]})
    if unit is not None and unit.department_id != department.pk:
        raise ValidationError({"unit": [_("科室不属于所选部门")]})
    with transaction.atomic():
        locked = _lock(case)
        _running(locked, _("发起会签"))
        countersign = Countersign.objects.create(
            case=locked,
            department=department,
            unit=unit,
            question=question.strip(),
            requested_by=actor,
            requested_at=_now(),
        )
        _record(
            locked,
            "countersign_requested",
            actor=actor,
            previous_state=locked.state,
            note=f"{department.name}：{question.strip()}",
            publish=False,
            notify=False,
        )
    return countersign


def case_countersign_answer(
    *, actor: User, countersign: Countersign, agrees: bool, answer: str
) -> Countersign:
    if not can_access(actor, countersign, permissions.CASE_REVIEW, COUNTERSIGN_SCOPE):
        deny(actor, permissions.CASE_REVIEW, target=countersign)
    if not answer.strip():
        raise ValidationError({"answer": [_("请填写会签意见")]})
    with transaction.atomic():
        locked_case = _lock(countersign.case)
        locked = Countersign.objects.select_for_update().get(pk=countersign.pk)
        if locked.state != CountersignState.OPEN:
            raise ValidationError(_("该会签已答复"))
        locked.state = CountersignState.ANSWERED
        locked.agrees = agrees
        locked.answer = answer.strip()
        locked.answered_by = actor
        locked.answered_at = _now()
        locked.save()
        Opinion.objects.create(
            case=locked_case,
            author=actor,
            step_name=_("会签"),
            text=(_("同意：") if agrees else _("不同意：")) + answer.strip(),
        )
        _record(
            locked_case,
            "countersign_answered",
            actor=actor,
            previous_state=locked_case.state,
            note=answer.strip(),
            publish=False,
            notify=False,
        )
    return locked


def case_pause_start(
    *, actor: User, case: Case, kind: str, reason: str, planned_days: int = 0
) -> Pause:
    """特别程序 (art. 45): the clock stops; the applicant is told in writing."""
    _check_staff(actor, case, permissions.CASE_REVIEW)
    if kind not in PauseKind.values:
        raise ValidationError({"kind": [_("特别程序类型不正确")]})
    if case.special_procedures and kind not in case.special_procedures:
        raise ValidationError({"kind": [_("该事项的办事指南未列明此特别程序")]})
    if not reason.strip():
        raise ValidationError({"reason": [_("请写明启动特别程序的理由")]})
    if planned_days < 0:
        raise ValidationError({"planned_days": [_("预计所需时间不能为负数")]})
    with transaction.atomic():
        locked = _lock(case)
        _running(locked, _("启动特别程序"))
        label = str(PauseKind(kind).label)
        with _official():
            official_label = str(PauseKind(kind).label)
            notice = _notice(
                locked,
                NoticeKind.SPECIAL_PROCEDURE,
                paragraphs=[
                    _(
                        "你（单位）申请的“%(item)s”（办件编号 %(number)s）需要进行%(kind)s。"
                        "根据《中华人民共和国行政许可法》第四十五条的规定，%(kind)s所需时间"
                        "不计算在办理期限内。"
                    )
                    % {
                        "item": locked.item_name,
                        "number": locked.number,
                        "kind": official_label,
                    },
                    _("理由：%s") % reason.strip(),
                    *([_("预计所需时间：%d个工作日。") % planned_days] if planned_days else []),
                ],
                fields=[(_("特别程序"), official_label)],
            )
        pause = Pause.objects.create(
            case=locked,
            kind=kind,
            reason=reason.strip(),
            planned_days=planned_days,
            started_at=_now(),
            started_by=actor,
            notice=notice,
        )
        _record(
            locked,
            "paused",
            actor=actor,
            previous_state=locked.state,
            note=reason.strip(),
            detail=label,
            extra={"kind": kind, "planned_days": planned_days},
        )
    return pause


def case_pause_end(*, actor: User, case: Case, result: str = "") -> Pause:
    """End the open special procedure; the deadline moves by its working days."""
    _check_staff(actor, case, permissions.CASE_REVIEW)
    with transaction.atomic():
        locked = _lock(case)
        pause = Pause.objects.select_for_update().filter(case=locked, ended_at__isnull=True).first()
        if pause is None:
            raise ValidationError(_("该办件没有进行中的特别程序"))
        pause.ended_at = _now()
        pause.ended_by = actor
        pause.result = result.strip()
        pause.save(update_fields=["ended_at", "ended_by", "result"])
        _record(
            locked,
            "resumed",
            actor=actor,
            previous_state=locked.state,
            note=result.strip(),
            detail=str(PauseKind(pause.kind).label),
            extra={
                "kind": pause.kind,
                "planned_days": pause.planned_days,
                "pause_days": working_days_between(pause.started_at, pause.ended_at),
            },
        )
    return pause


def _max_extension(case: Case) -> int:
    return MAX_JOINT_EXTENSION_DAYS if case.is_joint else MAX_EXTENSION_DAYS


def case_extension_request(*, actor: User, case: Case, days: int, reason: str) -> Extension:
    """Ask a leader for more working days (延期), with written reasons."""
    _check_any_staff(actor, case, (permissions.CASE_REVIEW, permissions.CASE_DECIDE))
    if not reason.strip():
        raise ValidationError({"reason": [_("请写明延期理由")]})
    with transaction.atomic():
        locked = _lock(case)
        _require_state(locked, RUNNING_STATES, _("申请延期"))
        _check_extension_days(locked, days)
        if locked.extensions.filter(state=ExtensionState.REQUESTED).exists():
            raise ValidationError(_("已有待批准的延期申请"))
        extension = Extension.objects.create(
            case=locked,
            days=days,
            reason=reason.strip(),
            requested_by=actor,
            requested_at=_now(),
        )
        _record(
            locked,
            "extension_requested",
            actor=actor,
            previous_state=locked.state,
            note=reason.strip(),
            detail=str(days),
            publish=False,
            notify=False,
        )
    return extension


def _check_extension_days(case: Case, days: int) -> None:
    limit = _max_extension(case)
    already = case_extension_days(case)
    if days < 1 or already + days > limit:
        raise ValidationError(
            {
                "days": [
                    _("延长期限最多%(limit)d个工作日（已延长%(already)d个工作日）")
                    % {"limit": limit, "already": already}
                ]
            }
        )


def case_extension_approve(
    *, actor: User, extension: Extension, approve: bool = True, comment: str = ""
) -> Extension:
    """The leader (``approvals.case.extend_approve``) approves or refuses an extension;
    an approval moves both deadlines and the applicant is told in writing."""
    _check_staff(actor, extension.case, permissions.CASE_EXTEND_APPROVE)
    if extension.requested_by_id == actor.pk:
        raise ValidationError(_("不能批准自己提出的延期申请"))
    with transaction.atomic():
        locked_case = _lock(extension.case)
        locked = Extension.objects.select_for_update().get(pk=extension.pk)
        if locked.state != ExtensionState.REQUESTED:
            raise ValidationError(_("该延期申请已处理"))
        _require_state(locked_case, RUNNING_STATES, _("批准延期"))
        if approve:
            _check_extension_days(locked_case, locked.days)
        locked.state = ExtensionState.APPROVED if approve else ExtensionState.REFUSED
        locked.approver = actor
        locked.approved_at = _now()
        locked.comment = comment.strip()
        locked.save(update_fields=["state", "approver", "approved_at", "comment"])
        if approve:
            clock = case_clock(locked_case)
            with _official():
                _notice(
                    locked_case,
                    NoticeKind.EXTENSION,
                    paragraphs=[
                        _(
                            "你（单位）申请的“%(item)s”（办件编号 %(number)s），因%(reason)s，"
                            "经本机关负责人批准，办理期限延长%(days)d个工作日。"
                        )
                        % {
                            "item": locked_case.item_name,
                            "number": locked_case.number,
                            "reason": locked.reason,
                            "days": locked.days,
                        },
                        _("延长后的办结期限为 %s。") % (_iso(clock.legal_deadline) or ""),
                    ],
                    fields=[(_("延长工作日"), str(locked.days))],
                )
        _record(
            locked_case,
            "extended" if approve else "extension_refused",
            actor=actor,
            previous_state=locked_case.state,
            note=comment.strip() or locked.reason,
            detail=str(locked.days),
            notify=approve,
            extra={"days": locked.days, "approved": approve},
        )
    return locked


def _check_decision(approve: bool, reasons: str, appeal_rights: str) -> None:
    if approve:
        return
    errors = {}
    if not reasons.strip():
        errors["reasons"] = [_("不予许可必须说明理由")]
    if not appeal_rights.strip():
        errors["appeal_rights"] = [_("不予许可必须告知申请复议或提起诉讼的权利")]
    if errors:
        raise ValidationError(errors)


def case_decide(
    *,
    actor: User,
    case: Case,
    approve: bool,
    reasons: str = "",
    appeal_rights: str = "",
    opinion: str = "",
    licence_type_code: str = "",
    licence_valid_until: dt.date | None = None,
) -> Case:
    """决定 (准予 / 不予许可) on the case's decision step; the clock stops. An approval
    with ``licence_type_code`` issues that electronic licence (through licences.public,
    in this transaction); refusal needs reasons AND the remedies
    (``appeal_rights_default`` gives the usual text). When the last child of a joint case
    is decided, the parent is decided too."""
    _check_staff(actor, case, permissions.CASE_DECIDE)
    if case.is_joint:
        raise ValidationError(_("联办件由各部门分别对子件作出决定"))
    _check_decision(approve, reasons, appeal_rights)
    pending = _ready_task(case, role="decide")
    if pending is not None:
        _check_task_actor(actor, pending)
    with transaction.atomic():
        locked = _lock(case)
        _running(locked, _("作出决定"))
        task = _decision_task(locked)
        step = _task_step(locked, task) if task is not None else None
        if task is not None:
            _workflow().task_complete(
                actor=actor,
                task=task,
                data={"approve": approve, "opinion": opinion or reasons},
            )
        if opinion.strip() or reasons.strip():
            Opinion.objects.create(
                case=locked,
                author=actor,
                step_name=task.name if task is not None else DEFAULT_DECIDE,
                task_id=task.pk if task is not None else None,
                text=(opinion or reasons).strip(),
            )
        _decide(
            locked,
            actor=actor,
            approve=approve,
            reasons=reasons,
            appeal_rights=appeal_rights,
            step=step,
            licence_type_code=licence_type_code,
            licence_valid_until=licence_valid_until,
        )
        if locked.parent_id:
            _parent_after_child_decision(locked, actor=actor)
    return locked


def _decide(
    case: Case,
    *,
    actor: Any,
    approve: bool,
    reasons: str,
    appeal_rights: str,
    step: _Step | None = None,
    licence_type_code: str = "",
    licence_valid_until: dt.date | None = None,
) -> None:
    previous = case.state
    case.state = CaseState.DECIDED
    case.outcome = Outcome.APPROVED if approve else Outcome.REFUSED
    case.decided_at = _now()
    case.decided_by = actor
    case.decision_reasons = reasons.strip()
    case.appeal_rights = "" if approve else appeal_rights.strip()
    if approve:
        case.licence_identifiers = _licence_issue(
            case, actor=actor, type_code=licence_type_code, valid_until=licence_valid_until
        )
    case.save()
    if approve:
        with _official():
            paragraphs = [
                _(
                    "你（单位）申请的“%(item)s”（办件编号 %(number)s），经审查，符合法定条件、"
                    "标准，根据《中华人民共和国行政许可法》第三十八条第一款的规定，决定准予。"
                )
                % {"item": case.item_name, "number": case.number},
                *([reasons.strip()] if reasons.strip() else []),
                *(
                    [_("电子证照标识：%s") % "、".join(case.licence_identifiers)]
                    if case.licence_identifiers
                    else []
                ),
            ]
            _notice(case, NoticeKind.APPROVAL, paragraphs=paragraphs)
    else:
        with _official():
            _notice(
                case,
                NoticeKind.REFUSAL,
                paragraphs=[
                    _(
                        "你（单位）申请的“%(item)s”（办件编号 %(number)s），经审查，"
                        "决定不予许可。理由如下："
                    )
                    % {"item": case.item_name, "number": case.number},
                    reasons.strip(),
                    appeal_rights.strip(),
                ],
            )
    _record(
        case,
        "decided",
        actor=actor,
        previous_state=previous,
        step=step,
        note=reasons.strip(),
        detail=str(Outcome(case.outcome).label),
        extra={"outcome": case.outcome, "licences": list(case.licence_identifiers)},
    )


def _parent_after_child_decision(child: Case, *, actor: Any) -> None:
    parent = Case.objects.select_for_update().get(pk=child.parent_id or 0)
    outcomes = list(parent.children.values_list("state", "outcome"))
    if any(state not in (CaseState.DECIDED, CaseState.CLOSED) for state, _o in outcomes):
        return
    results = {outcome for _state, outcome in outcomes}
    previous = parent.state
    parent.state = CaseState.DECIDED
    parent.decided_at = _now()
    parent.decided_by = actor
    if results == {Outcome.APPROVED}:
        parent.outcome = Outcome.APPROVED
    elif results == {Outcome.REFUSED}:
        parent.outcome = Outcome.REFUSED
    else:
        parent.outcome = Outcome.PARTIAL
    parent.save(update_fields=["state", "decided_at", "decided_by", "outcome", "updated_at"])
    _record(
        parent,
        "decided",
        actor=actor,
        previous_state=previous,
        detail=str(Outcome(parent.outcome).label),
        extra={"outcome": parent.outcome},
    )


def case_close(*, actor: User, case: Case) -> Case:
    """办结: the result is ready (a joint case closes with all its children)."""
    _check_any_staff(actor, case, (permissions.CASE_DECIDE, permissions.CASE_DELIVER))
    if case.parent_id:
        raise ValidationError(_("联办件由牵头窗口在主件上统一办结"))
    with transaction.atomic():
        locked, children = _lock_family(case)
        _require_state(locked, [CaseState.DECIDED], _("办结"))
        for child in children:
            if child.state == CaseState.DECIDED:
                _close(child, actor=actor, notify=False)
        _close(locked, actor=actor, notify=True)
    return locked


def _close(case: Case, *, actor: Any, notify: bool) -> None:
    previous = case.state
    case.state = CaseState.CLOSED
    case.closed_at = _now()
    case.save(update_fields=["state", "closed_at", "updated_at"])
    _record(case, "closed", actor=actor, previous_state=previous, notify=notify)


def _check_delivery_method(method: str) -> None:
    if method not in DeliveryMethod.values:
        raise ValidationError({"method": [_("送达方式不正确")]})


def case_deliver(*, actor: User, case: Case, method: str, note: str = "") -> Case:
    """送达 (closing first if needed). The lead window delivers a joint case's results
    together; a child is never delivered on its own."""
    _check_staff(actor, case, permissions.CASE_DELIVER)
    _check_delivery_method(method)
    if case.parent_id:
        raise ValidationError(_("联办件的结果由牵头窗口统一送达"))
    with transaction.atomic():
        locked, children = _lock_family(case)
        _require_state(locked, [CaseState.DECIDED, CaseState.CLOSED], _("送达"))
        for child in children:
            if child.state == CaseState.DECIDED:
                _close(child, actor=actor, notify=False)
            _deliver(child, actor=actor, method=method, note=note, notify=False)
        if locked.state == CaseState.DECIDED:
            _close(locked, actor=actor, notify=False)
        _deliver(locked, actor=actor, method=method, note=note)
    return locked


def _deliver(case: Case, *, actor: Any, method: str, note: str, notify: bool = True) -> None:
    task = _ready_task(case, role="deliver")
    if task is not None:
        _workflow().task_complete(
            actor=_window_actor(actor, task),
            task=task,
            data={"method": method, "by": actor.pk if actor else None},
        )
    previous = case.state
    case.state = CaseState.DELIVERED
    case.delivered_at = _now()
    case.delivery_method = method
    case.save(update_fields=["state", "delivered_at", "delivery_method", "updated_at"])
    _record(
        case,
        "delivered",
        actor=actor,
        previous_state=previous,
        note=note,
        detail=str(DeliveryMethod(method).label),
        step=_Step(name=task.name, role=task.role, limit_days=task.due_days) if task else None,
        notify=notify,
        extra={"method": method},
    )


# ----------------------------------------------------------------------------- the process


def _workflow() -> Any:
    from tongban.platform.workflow import services as workflow

    return workflow


def _check_task_actor(actor: Any, task: Any) -> None:
    """Before the transaction: the task's target (department/unit/position) matches one
    of the actor's postings, as the engine will require (refusal audited)."""
    from tongban.platform.workflow.selectors import task_is_for

    if not task_is_for(actor, task):
        deny(actor, f"approvals.case.task.{task.role or 'task'}", target=task)


def _window_actor(actor: Any, task: Any) -> Any:
    """Who completes a window-lane task the approvals service already authorised: the
    clerk when the task targets their posting, else the system (a comprehensive window
    accepts for departments it is not posted in; the case's own audit names the clerk)."""
    from tongban.platform.workflow.selectors import task_is_for

    return actor if actor is not None and task_is_for(actor, task) else None


def _role_permission(role: str) -> str:
    from tongban.apps.approvals.selectors import TASK_ROLE_PERMISSIONS

    return TASK_ROLE_PERMISSIONS.get(role, permissions.CASE_REVIEW)


def _step_role(name: str) -> str:
    if "受理" in name or "收件" in name:
        return "accept"
    if "决定" in name or "审批" in name or "批准" in name:
        return "decide"
    if "送达" in name or "发证" in name or "办结" in name or "出件" in name:
        return "deliver"
    return "review"


def process_steps(case: Case) -> list[Any]:
    """The default process of the case's item version as workflow ``DefaultStep``s:
    window acceptance → the guide's review steps (the department) → decision (leader) →
    delivery (window). A joint child skips acceptance and delivery: the lead window does
    both once for the whole application."""
    workflow = _workflow()
    target = workflow.TaskTarget(department_code=case.department_code)
    by_role: dict[str, list[tuple[str, int]]] = {
        "accept": [],
        "review": [],
        "decide": [],
        "deliver": [],
    }
    for name, days in case.process_steps:
        by_role[_step_role(str(name))].append((str(name), int(days)))
    accept = by_role["accept"][:1] or [(DEFAULT_ACCEPT, 0)]
    decide = by_role["decide"][:1] or [(DEFAULT_DECIDE, 0)]
    deliver = by_role["deliver"][:1] or [(DEFAULT_DELIVER, 0)]
    steps = []
    if not case.parent_id:
        steps.append(
            workflow.DefaultStep(
                spec_id="accept",
                name=accept[0][0],
                role="accept",
                lane=LANE_WINDOW,
                target=target,
                days=accept[0][1],
            )
        )
    for index, (name, days) in enumerate(by_role["review"], start=1):
        steps.append(
            workflow.DefaultStep(
                spec_id=f"review_{index}",
                name=name,
                role="review",
                lane=LANE_DEPARTMENT,
                target=target,
                days=days,
            )
        )
    steps.append(
        workflow.DefaultStep(
            spec_id="decide",
            name=decide[0][0],
            role="decide",
            lane=LANE_LEADER,
            target=target,
            days=decide[0][1],
        )
    )
    if not case.parent_id:
        steps.append(
            workflow.DefaultStep(
                spec_id="deliver",
                name=deliver[0][0],
                role="deliver",
                lane=LANE_WINDOW,
                target=target,
                days=deliver[0][1],
            )
        )
    return steps


# (key, steps) → ProcessDefinition id: generated definitions never change, so a process
# asks the workflow module to build one only once per item version (a miss re-asks).
_definitions: dict[tuple[str, tuple[Any, ...]], int] = {}


def _definition_for(case: Case) -> Any:
    from tongban.apps.approvals.processes import bound_definition
    from tongban.platform.workflow.models import ProcessDefinition

    if not case.parent_id:  # an uploaded process bound to the item (single cases only)
        uploaded = bound_definition(case.item_id)
        if uploaded is not None:
            return uploaded
    kind = "joint" if case.parent_id else "single"
    key = f"approvals.{case.item_version_id}.{kind}"
    steps = tuple(process_steps(case))
    cached = _definitions.get((key, steps))
    if cached is not None:
        found = ProcessDefinition.objects.filter(pk=cached, key=key).first()
        if found is not None:
            return found
    definition = _workflow().definition_default(
        actor=None, key=key, name=case.item_name, steps=steps
    )
    _definitions[(key, steps)] = definition.pk
    return definition


def _process_start(case: Case, *, actor: Any, note: str) -> None:
    workflow = _workflow()
    definition = _definition_for(case)
    instance = workflow.instance_start(
        actor=actor,
        definition=definition,
        subject=f"approvals.case:{case.pk}",
        data={"case_number": case.number},
    )
    case.process_instance_id = instance.pk
    case.save(update_fields=["process_instance_id", "updated_at"])
    accept = _ready_task(case, role="accept")
    if accept is not None:
        workflow.task_complete(
            actor=_window_actor(actor, accept),
            task=accept,
            data={"opinion": note or DEFAULT_ACCEPT, "by": actor.pk if actor else None},
        )


def _process_cancel(case: Case, *, actor: Any, reason: str) -> None:
    if case.process_instance_id is None:
        return
    workflow = _workflow()
    from tongban.platform.workflow.models import ProcessInstance

    instance = ProcessInstance.objects.filter(pk=case.process_instance_id).first()
    if instance is not None and not instance.is_finished:
        workflow.instance_cancel(actor=actor, instance=instance, reason=reason)


def _tasks(case: Case) -> Any:
    from tongban.platform.workflow.models import WorkTask

    if case.process_instance_id is None:
        return WorkTask.objects.none()
    return WorkTask.objects.filter(instance_id=case.process_instance_id)


def _ready_task(case: Case, *, role: str) -> Any:
    return _tasks(case).filter(role=role, state__in=["ready", "claimed"]).order_by("pk").first()


def _decision_task(case: Case) -> Any:
    if case.process_instance_id is None:
        return None
    task = _ready_task(case, role="decide")
    if task is None:
        raise ValidationError(_("审查环节尚未完成，还不能作出决定"))
    return task


def _task_of(case: Case, task_id: int) -> Any:
    task = _tasks(case).filter(pk=task_id).first()
    if task is None:
        raise ValidationError(_("该任务不属于此办件"))
    return task


def _fresh_task(case: Case, task_id: int) -> Any:
    """The task re-read under the case lock: a task someone completed meanwhile is refused."""
    task = _tasks(case).select_for_update().get(pk=task_id)
    if task.state not in ("ready", "claimed"):
        raise ValidationError(_("该环节已由他人办理，请刷新后查看最新进度"))
    return task


def _task_step(case: Case, task: Any) -> _Step:
    clock = step_clock(
        started_at=task.created_at,
        ended_at=None,
        now=_now(),
        limit_days=task.due_days or 0,
        pauses=[(pause.started_at, pause.ended_at) for pause in case.pauses.all()],
    )
    return _Step(
        name=task.name, role=task.role, limit_days=task.due_days or 0, days_used=clock.used_days
    )


# ----------------------------------------------------------------------------- licences


def _licence_issue(
    case: Case, *, actor: Any, type_code: str, valid_until: dt.date | None
) -> list[str]:
    """Issue the e-licence through ``licences.public`` (idempotent per case and type).

    The type is ``type_code`` when the decider names one; for a licensing item it is
    otherwise the item's 基本编码 (the national code of the item, the same licence kind in
    every area: the implementation code minus its 12-digit area, 18-character USCC and
    3-digit suffix). Other items issue no licence unless a type is named."""
    if not type_code and case.item_type == "licensing" and len(case.implementation_code) > 33:
        type_code = case.implementation_code[:-33]
    if not type_code:
        return []
    from tongban.apps.licences import public as licences

    holder_id_type, holder_id_number, holder_name = _holder(case)
    issued = licences.licence_issue(
        actor=actor,
        type_code=type_code,
        name=case.result_name or case.item_name,
        holder_name=holder_name,
        holder_id_type=holder_id_type,
        holder_id_number=holder_id_number,
        issuer_department_id=case.department_id,
        valid_until=valid_until,
        fields={"办件编号": case.number, "事项名称": case.item_name},
        source=f"approvals.case:{case.pk}",
    )
    return [issued.identifier]


def _holder(case: Case) -> tuple[str, str, str]:
    if case.legal_person_id and case.legal_person is not None:
        return "uscc", case.legal_person.uscc, case.legal_person.name
    person = getattr(case.applicant, "person", None)
    if person is not None:
        return "resident_id", person.id_number, person.name
    return "other", "", case.applicant_name
