"""Every write of drafting and sign-off (发文办理): drafts, revisions, opinions and the steps
of the drafting process (``process.py``), 编号 (``numbering.py``), 用印 (``seals.py``) and
the hook the exchange calls when a document has been sent (``distribution_complete``).

Each service checks the actor's permission for the step (scoped to the department whose
task it is) and that the step's work task is theirs *before* opening its transaction,
validates everything, then locks the document and writes the rows, the workflow transition,
the audit entry and the event in one transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.documents import events, numbering, process, seals, step_notices
from tongban.apps.documents import permissions as p
from tongban.apps.documents.models import (
    Classification,
    Direction,
    Document,
    DocumentAttachment,
    DocumentState,
    Kind,
    Opinion,
    OpinionDecision,
    Retention,
    Revision,
    Urgency,
)
from tongban.platform.access.services import ScopePaths, deny, require, scope_queryset
from tongban.platform.audit.services import audit_record
from tongban.platform.events.services import event_publish
from tongban.platform.files import detection
from tongban.platform.files.services import FileRejected, file_store
from tongban.platform.orgs.models import Department, Posting
from tongban.platform.workflow import services as workflow
from tongban.platform.workflow.models import ProcessInstance, WorkTask, WorkTaskState
from tongban.platform.workflow.selectors import task_is_for

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User

DEPARTMENT_SCOPE = ScopePaths(department="")
ISSUER_SCOPE = ScopePaths(department="issuer")
MAX_BODY = 100_000
MAX_TEXT = 2000
MAX_LIST_ITEMS = 50
MAX_COUNTERSIGNERS = 30
MAX_ATTACHMENTS = 20
MAX_ATTACHMENT_TITLE = 200
#: what may be attached to a document: PDF, OFD and the Office formats the platform's
#: content detection recognises (Word and Excel; WPS saves in these formats too)
ATTACHMENT_TYPES = frozenset({detection.PDF, detection.OFD, detection.DOCX, detection.XLSX})
EDITABLE = {DocumentState.DRAFTING: p.DRAFT, DocumentState.CHECKING: p.CHECK}
CANCELLABLE = (
    DocumentState.DRAFTING,
    DocumentState.CHECKING,
    DocumentState.COUNTERSIGNING,
    DocumentState.SIGNING,
)
LIST_FIELDS = ("signers", "attachment_notes", "cc", "attendees", "absentees", "observers")
TEXT_FIELDS: dict[str, int] = {
    "copy_number": 6,
    "secrecy_period": 20,
    "issuer_mark": 60,
    "issuer_code": 20,
    "signer_title": 40,
    "title": 200,
    "addressees": 500,
    "signature": 100,
    "notes": 500,
    "printed_by": 100,
}
CHOICE_FIELDS: dict[str, Any] = {
    "kind": Kind,
    "direction": Direction,
    "classification": Classification,
    "urgency": Urgency,
    "retention": Retention,
}
FIELDS = (*TEXT_FIELDS, "body", *LIST_FIELDS, *CHOICE_FIELDS, "printed_on")


# --------------------------------------------------------------------------- checks


def may_use(actor: Any, department_id: int, permission: str) -> bool:
    """Does ``actor`` hold ``permission`` over the department (any scope reaching it)?"""
    return scope_queryset(
        actor, Department.objects.filter(pk=department_id), permission, DEPARTMENT_SCOPE
    ).exists()


def task_department_id(document: Document, task: WorkTask) -> int:
    return process.countersign_department_id(task.spec_id) or document.issuer_id


def may_act(actor: Any, document: Document, task: WorkTask) -> bool:
    """The task is in the actor's inbox and they hold the step's permission over its
    department (the issuer, or the countersigning department)."""
    permission = process.step_permission(task.spec_id)
    return task_is_for(actor, task) and may_use(
        actor, task_department_id(document, task), permission
    )


def _require_task(actor: Any, document: Document, task: WorkTask | None, permission: str) -> None:
    if task is None or not may_act(actor, document, task):
        deny(actor, permission, target=document)


def actionable_tasks(actor: Any, document: Document) -> list[WorkTask]:
    """The document's open tasks ``actor`` may do now."""
    return [task for task in process.open_tasks(document) if may_act(actor, document, task)]


def _task_for(actor: Any, document: Document, specs: Sequence[str]) -> WorkTask | None:
    """The first open task of ``specs`` the actor may do."""
    for task in process.open_tasks(document):
        if task.spec_id in specs and may_act(actor, document, task):
            return task
    return None


def _clean_list(value: Any, label: str, errors: dict[str, list[str]], name: str) -> list[str]:
    if isinstance(value, str):
        value = re.split(r"[\n、，,；;]+", value)
    if value is None:
        value = []
    if not isinstance(value, list | tuple):
        errors[name] = [_("%(label)s格式不正确") % {"label": label}]
        return []
    items = [" ".join(str(item).split()) for item in value]
    items = [item for item in items if item]
    if len(items) > MAX_LIST_ITEMS or any(len(item) > 100 for item in items):
        errors[name] = [_("%(label)s最多50项，每项不超过100个字符") % {"label": label}]
    return items


def _field(name: str) -> models.Field[Any, Any]:
    field = Document._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def _labels() -> dict[str, str]:
    return {name: str(_field(name).verbose_name) for name in FIELDS}


def clean_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The document's elements from ``values`` checked and normalised; ``ValidationError``
    (field → Chinese messages) when anything is wrong."""
    labels = _labels()
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, limit in TEXT_FIELDS.items():
        text = " ".join(str(values.get(name) or "").split())
        if len(text) > limit:
            errors[name] = [_("%(label)s不能超过%(n)d个字符") % {"label": labels[name], "n": limit}]
        cleaned[name] = text
    body = str(values.get("body") or "").replace("\r\n", "\n").replace("\r", "\n")
    body = "\n".join(line.strip() for line in body.split("\n") if line.strip())
    if len(body) > MAX_BODY:
        errors["body"] = [_("正文不能超过10万个字符")]
    cleaned["body"] = body
    for name, choices in CHOICE_FIELDS.items():
        default = _field(name).get_default()
        raw = values.get(name)
        value = str(default if raw is None else raw).strip()
        if value not in choices.values:
            errors[name] = [_("%(label)s的取值不正确") % {"label": labels[name]}]
        cleaned[name] = value
    for name in LIST_FIELDS:
        cleaned[name] = _clean_list(values.get(name), labels[name], errors, name)
    printed_on = values.get("printed_on")
    if printed_on in (None, ""):
        cleaned["printed_on"] = None
    elif isinstance(printed_on, dt.date):
        cleaned["printed_on"] = printed_on
    else:
        try:
            cleaned["printed_on"] = dt.date.fromisoformat(str(printed_on))
        except ValueError:
            errors["printed_on"] = [_("印发日期格式应为 YYYY-MM-DD")]
    if not cleaned["title"]:
        errors["title"] = [_("请填写标题")]
    if cleaned["copy_number"] and not re.fullmatch(r"\d{6}", cleaned["copy_number"]):
        errors["copy_number"] = [_("份号应为6位阿拉伯数字")]
    if cleaned["kind"] != Kind.ORDER and not cleaned["issuer_code"]:
        errors["issuer_code"] = [_("请填写机关代字（如“示范府”）")]
    if cleaned["secrecy_period"] and not cleaned["classification"]:
        errors["secrecy_period"] = [_("非密公文不标注保密期限")]
    if cleaned["direction"] == Direction.UPWARD and not cleaned["signers"]:
        errors["signers"] = [_("上行文应标注签发人姓名")]
    if cleaned["kind"] == Kind.ORDER and not cleaned["signer_title"]:
        errors["signer_title"] = [_("命令应填写签发人职务")]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _countersigners(ids: Sequence[int] | None, issuer_id: int) -> list[Department]:
    wanted = {int(value) for value in ids or ()}
    if not wanted:
        return []
    if len(wanted) > MAX_COUNTERSIGNERS:
        raise ValidationError({"countersign": [_("会签单位最多30个")]})
    if issuer_id in wanted:
        raise ValidationError({"countersign": [_("发文单位不需要会签本部门的公文")]})
    departments = list(Department.objects.filter(pk__in=wanted).order_by("code"))
    if len(departments) != len(wanted):
        raise ValidationError({"countersign": [_("会签单位不存在")]})
    return departments


def _action(spec_id: str) -> str:
    if process.is_countersign(spec_id):
        return "countersign"
    return {process.CHECK: "check", process.SIGN: "sign_off"}.get(spec_id, spec_id)


def _revise(document: Document, *, actor: User, step: str, note: str) -> Revision:
    last = document.revisions.aggregate(last=Max("number"))["last"] or 0
    return Revision.objects.create(
        document=document,
        number=last + 1,
        title=document.title,
        body=document.body,
        author=actor,
        step=step,
        note=note[:200],
    )


def _lock(document: Document) -> Document:
    return Document.objects.select_for_update().select_related("issuer").get(pk=document.pk)


def _refresh(target: Document, source: Document) -> None:
    for field in Document._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


def _sync_state(document: Document) -> list[WorkTask]:
    """Set ``document.state`` from its process's open tasks; return those tasks."""
    tasks = process.open_tasks(document)
    if document.process_id is not None:
        instance = ProcessInstance.objects.get(pk=document.process_id)
        document.state = process.state_for(instance, tasks)
    return tasks


# --------------------------------------------------------------------------- drafts


def document_create(
    *,
    actor: User,
    issuer_id: int | None,
    values: Mapping[str, Any],
    countersign_ids: Sequence[int] = (),
) -> Document:
    """A new draft of the issuer department (the actor holds DRAFT over it): revision 1."""
    issuer = (
        scope_queryset(
            actor, Department.objects.filter(pk=issuer_id or 0), p.DRAFT, DEPARTMENT_SCOPE
        ).first()
        if issuer_id
        else None
    )
    if issuer is None:
        require(actor, p.DRAFT)  # no grant at all: a denial (audited)
        raise ValidationError({"issuer": [_("请选择本部门作为发文单位")]})
    cleaned = clean_values(values)
    countersigners = _countersigners(countersign_ids, issuer.pk)
    unit = (
        Posting.objects.filter(user=actor, unit__department=issuer).select_related("unit").first()
    )
    with transaction.atomic():
        document = Document.objects.create(
            issuer=issuer,
            drafter=actor,
            drafting_unit=unit.unit if unit is not None else None,
            state=DocumentState.DRAFTING,
            **cleaned,
        )
        document.countersign_departments.set(countersigners)
        _revise(document, actor=actor, step=DocumentState.DRAFTING, note=_("初稿"))
        audit_record(
            action="documents.document.create",
            actor=actor,
            target=document,
            detail={
                "issuer": issuer.code,
                "kind": document.kind,
                "title": document.title,
                "countersign": [d.code for d in countersigners],
            },
        )
    return document


def require_editor(actor: User, document: Document) -> None:
    """Refuse (audited) anyone who may not change the document's elements now: the
    drafting department's DRAFT holders before it is submitted, then whoever holds the
    open 拟稿 (DRAFT) or 核稿 (CHECK) task; ``ValidationError`` at any other step."""
    permission = EDITABLE.get(DocumentState(document.state))
    if permission is None:
        raise ValidationError(_("当前环节不能修改公文内容"))
    if document.process_id is None and document.state == DocumentState.DRAFTING:
        # not submitted yet: the drafting department's DRAFT holders edit it
        if not may_use(actor, document.issuer_id, p.DRAFT):
            deny(actor, p.DRAFT, target=document)
        return
    spec = process.DRAFT if document.state == DocumentState.DRAFTING else process.CHECK
    _require_task(actor, document, _task_for(actor, document, [spec]), permission)


def document_update(
    *,
    actor: User,
    document: Document,
    values: Mapping[str, Any],
    countersign_ids: Sequence[int] | None = None,
    note: str = "",
) -> Document:
    """Change the elements while drafting (DRAFT) or checking (CHECK). A changed title or
    body saves a new revision; 会签单位 may change only while drafting."""
    require_editor(actor, document)
    cleaned = clean_values(values)
    if cleaned["kind"] != document.kind and document.state != DocumentState.DRAFTING:
        raise ValidationError({"kind": [_("核稿环节不能更改文种")]})
    countersigners: list[Department] | None = None
    if countersign_ids is not None and document.state == DocumentState.DRAFTING:
        countersigners = _countersigners(countersign_ids, document.issuer_id)
    note = " ".join(note.split())[:200]
    with transaction.atomic():
        locked = _lock(document)
        if locked.state != document.state:
            raise ValidationError(_("公文状态已变化，请刷新后重试"))
        changed = sorted(name for name, value in cleaned.items() if getattr(locked, name) != value)
        text_changed = locked.title != cleaned["title"] or locked.body != cleaned["body"]
        for name, value in cleaned.items():
            setattr(locked, name, value)
        locked.save()
        if countersigners is not None:
            before = set(locked.countersign_departments.values_list("pk", flat=True))
            if before != {d.pk for d in countersigners}:
                locked.countersign_departments.set(countersigners)
                changed.append("countersign_departments")
        revision = None
        if text_changed:
            revision = _revise(locked, actor=actor, step=locked.state, note=note)
        audit_record(
            action="documents.document.update",
            actor=actor,
            target=locked,
            detail={
                "step": locked.state,
                "changed": changed,
                "revision": revision.number if revision else None,
            },
        )
    _refresh(document, locked)
    return document


# --------------------------------------------------------------------------- attachments


def _attachment_title(title: str) -> str:
    cleaned = " ".join((title or "").split())
    if not cleaned:
        raise ValidationError({"title": [_("请填写附件名称")]})
    if len(cleaned) > MAX_ATTACHMENT_TITLE:
        raise ValidationError({"title": [_("附件名称不能超过200个字符")]})
    return cleaned


def _too_many() -> ValidationError:
    return ValidationError(_("每份公文最多%(count)s个附件") % {"count": MAX_ATTACHMENTS})


def attachment_add(
    *, actor: User, document: Document, title: str, upload: File[Any] | None
) -> DocumentAttachment:
    """Attach a file (附件) while the document may be edited (拟稿/核稿, as
    ``document_update``); it is numbered after the last one. The bytes are checked and kept
    by the platform's ``file_store`` (a refusal is audited there); no revision is saved."""
    require_editor(actor, document)
    cleaned = _attachment_title(title)
    if upload is None or not getattr(upload, "size", 0):
        raise ValidationError({"file": [_("请选择要上传的附件文件")]})
    if document.attachments.count() >= MAX_ATTACHMENTS:
        raise _too_many()
    try:
        # outside the transaction below, so that a refused file's audit entry is kept
        stored = file_store(actor=actor, upload=upload, allowed_types=ATTACHMENT_TYPES)
    except FileRejected as rejected:
        raise ValidationError({"file": [rejected.message]}) from None
    with transaction.atomic():
        locked = _lock(document)
        if locked.state != document.state:
            raise ValidationError(_("公文状态已变化，请刷新后重试"))
        positions = list(locked.attachments.values_list("position", flat=True))
        if len(positions) >= MAX_ATTACHMENTS:
            raise _too_many()
        attachment = DocumentAttachment.objects.create(
            document=locked, position=max(positions, default=0) + 1, title=cleaned, file=stored
        )
        audit_record(
            action="documents.attachment.add",
            actor=actor,
            target=locked,
            detail={
                "step": locked.state,
                "attachment": attachment.pk,
                "position": attachment.position,
                "title": cleaned,
                "file": str(stored.pk),
                "sm3": stored.sm3,
            },
        )
    return attachment


def attachment_remove(*, actor: User, document: Document, attachment: DocumentAttachment) -> None:
    """Take an attachment off the document while it may be edited. The row goes; the stored
    file stays (the platform keeps every file)."""
    require_editor(actor, document)
    if attachment.document_id != document.pk:
        raise ValidationError(_("该附件不属于这份公文"))
    with transaction.atomic():
        locked = _lock(document)
        if locked.state != document.state:
            raise ValidationError(_("公文状态已变化，请刷新后重试"))
        row = locked.attachments.filter(pk=attachment.pk).first()
        if row is None:
            raise ValidationError(_("该附件已被删除"))
        row.delete()
        audit_record(
            action="documents.attachment.remove",
            actor=actor,
            target=locked,
            detail={
                "step": locked.state,
                "attachment": attachment.pk,
                "position": row.position,
                "title": row.title,
                "file": str(row.file_id) if row.file_id else None,
            },
        )


def document_submit(*, actor: User, document: Document) -> Document:
    """拟稿 done: start (or resume) the process and send the draft to 核稿.

    When the draft came back (退回修改) and its 会签单位 changed since, the old process is
    stopped and a new one started for the new set.
    """
    probe = WorkTask(department_code=document.issuer.code, state=WorkTaskState.READY)
    task = _task_for(actor, document, [process.DRAFT])
    if task is None and not (
        may_use(actor, document.issuer_id, p.DRAFT) and task_is_for(actor, probe)
    ):
        deny(actor, p.DRAFT, target=document)
    if document.state != DocumentState.DRAFTING:
        raise ValidationError(_("只有拟稿中的公文可以送核稿"))
    if not document.title or not document.body:
        raise ValidationError(_("请填写标题和正文后再送核稿"))
    with transaction.atomic():
        locked = _lock(document)
        if locked.state != DocumentState.DRAFTING:
            raise ValidationError(_("公文状态已变化，请刷新后重试"))
        countersigners = list(locked.countersign_departments.order_by("code"))
        instance = (
            ProcessInstance.objects.select_related("definition").get(pk=locked.process_id)
            if locked.process_id is not None
            else None
        )
        restarted = False
        if instance is not None and (
            instance.is_finished
            or process.instance_countersigners(instance) != {d.pk for d in countersigners}
        ):
            if not instance.is_finished:
                workflow.instance_cancel(
                    actor=actor, instance=instance, reason=_("会签单位已变更，重新发起流程")
                )
            instance = None
        if instance is None:
            definition = process.definition_for(
                kind=locked.kind, issuer=locked.issuer, countersigners=countersigners
            )
            instance = workflow.instance_start(
                actor=actor, definition=definition, subject=process.subject_of(locked)
            )
            locked.process = instance
            restarted = True
        before = step_notices.open_task_ids(locked)
        draft = next((t for t in process.open_tasks(locked) if t.spec_id == process.DRAFT), None)
        if draft is None:
            raise ValidationError(_("流程状态已变化，请刷新后重试"))
        workflow.task_complete(actor=actor, task=draft)
        _sync_state(locked)
        locked.save(update_fields=["process", "state", "updated_at"])
        step_notices.announce_new_tasks(locked, before, actor=actor)
        audit_record(
            action="documents.document.submit",
            actor=actor,
            target=locked,
            detail={"process": instance.pk, "restarted": restarted, "state": locked.state},
        )
    _refresh(document, locked)
    return document


def document_decide(
    *,
    actor: User,
    document: Document,
    decision: str,
    text: str = "",
    department_id: int | None = None,
) -> Document:
    """An opinion at 核稿, 会签 (one department's) or 签发.

    ``agree`` completes the actor's task (签发: records the leader and the time and
    publishes ``documents.document.signed_off``); ``return`` sends the draft back to 拟稿
    with the reasons, withdrawing every other open task; ``comment`` only records the text.
    """
    tasks = [
        task
        for task in process.open_tasks(document)
        if task.spec_id == process.CHECK
        or task.spec_id == process.SIGN
        or process.is_countersign(task.spec_id)
    ]
    if department_id is not None:
        tasks = [t for t in tasks if task_department_id(document, t) == department_id]
    task = next((t for t in tasks if may_act(actor, document, t)), None)
    permission = process.step_permission(tasks[0].spec_id) if tasks else p.CHECK
    _require_task(actor, document, task, permission)
    assert task is not None
    text = (text or "").strip()
    if decision not in OpinionDecision.values:
        raise ValidationError({"decision": [_("请选择意见")]})
    if decision == OpinionDecision.RETURN and not text:
        raise ValidationError({"text": [_("退回修改请写明理由")]})
    if decision == OpinionDecision.COMMENT and not text:
        raise ValidationError({"text": [_("请填写意见")]})
    if len(text) > MAX_TEXT:
        raise ValidationError({"text": [_("意见不能超过2000个字符")]})
    step = process.step_state(task.spec_id)
    with transaction.atomic():
        locked = _lock(document)
        if locked.state != step:
            raise ValidationError(_("公文状态已变化，请刷新后重试"))
        before = step_notices.open_task_ids(locked)
        opinion = Opinion.objects.create(
            document=locked,
            step=step,
            author=actor,
            department_id=task_department_id(locked, task),
            decision=decision,
            text=text or str(OpinionDecision(decision).label),
        )
        fields = ["state", "updated_at"]
        if decision == OpinionDecision.AGREE:
            workflow.task_complete(
                actor=actor, task=task, data={"decision": decision, "opinion": opinion.pk}
            )
            if task.spec_id == process.SIGN:
                locked.signed_off_by = actor
                locked.signed_off_at = timezone.now()
                fields += ["signed_off_by", "signed_off_at"]
        elif decision == OpinionDecision.RETURN:
            workflow.task_return(actor=actor, task=task, to_spec_id=process.DRAFT, reason=text)
        _sync_state(locked)
        locked.save(update_fields=fields)
        if decision == OpinionDecision.AGREE:
            step_notices.announce_new_tasks(locked, before, actor=actor)
        elif decision == OpinionDecision.RETURN:
            step_notices.announce_return(locked, actor=actor, reason=text)
        audit_record(
            action=f"documents.document.{_action(task.spec_id)}",
            actor=actor,
            target=locked,
            detail={
                "step": step,
                "decision": decision,
                "department": task.department_code,
                "opinion": opinion.pk,
                "state": locked.state,
            },
        )
        if decision == OpinionDecision.AGREE and task.spec_id == process.SIGN:
            event_publish(
                events.DOCUMENT_SIGNED_OFF,
                {
                    "document": str(locked.public_id),
                    "issuer": locked.issuer.code,
                    "number": locked.number,
                    "title": locked.title,
                },
                actor=actor,
            )
    _refresh(document, locked)
    return document


def document_sign_off(*, actor: User, document: Document, text: str = "") -> Document:
    """签发 (the leader agrees); the opinion text is optional."""
    task = _task_for(actor, document, [process.SIGN])
    _require_task(actor, document, task, p.SIGN_OFF)
    return document_decide(actor=actor, document=document, decision="agree", text=text)


def document_number(*, actor: User, document: Document) -> Document:
    """编号: the next 发文字号 of the issuer, kind and year; 成文日期 = the sign-off date."""
    task = _task_for(actor, document, [process.NUMBER])
    _require_task(actor, document, task, p.NUMBER_SEAL)
    assert task is not None
    with transaction.atomic():
        locked = _lock(document)
        if locked.state != DocumentState.NUMBERING:
            raise ValidationError(_("公文状态已变化，请刷新后重试"))
        numbering.assign_number(document=locked)
        workflow.task_complete(actor=actor, task=task, data={"number": locked.number})
        _sync_state(locked)
        locked.save(update_fields=["state", "updated_at"])
        audit_record(
            action="documents.document.number",
            actor=actor,
            target=locked,
            detail={
                "number": locked.number,
                "year": locked.year,
                "serial": locked.serial,
                "date": locked.date.isoformat() if locked.date else "",
            },
        )
    _refresh(document, locked)
    return document


def document_seal_step(*, actor: User, document: Document) -> Document:
    """用印 (NUMBER_SEAL): the sealed, signed PDF (``seals.document_seal``), then 分发.

    纪要 has no 用印 step: for them this only produces the signed PDF (without a seal
    image) once they wait for 分发.
    """
    minutes_pdf = (
        document.kind == Kind.MINUTES
        and document.state == DocumentState.DISTRIBUTING
        and document.sealed_pdf_id is None
    )
    if minutes_pdf:
        if not may_use(actor, document.issuer_id, p.NUMBER_SEAL):
            deny(actor, p.NUMBER_SEAL, target=document)
        task = None
    else:
        task = _task_for(actor, document, [process.SEAL])
        _require_task(actor, document, task, p.NUMBER_SEAL)
    if document.serial is None and document.kind != Kind.MINUTES:
        raise ValidationError(_("请先编号再用印"))
    sealed = seals.document_seal(actor=actor, document=document)  # renders and signs: outside
    with transaction.atomic():
        locked = _lock(document)
        if task is not None:
            if locked.state != DocumentState.SEALING:
                raise ValidationError(_("公文状态已变化，请刷新后重试"))
            workflow.task_complete(actor=actor, task=task, data={"sm3": sealed.content_sm3})
            _sync_state(locked)
            locked.save(update_fields=["state", "updated_at"])
        audit_record(
            action="documents.document.seal_step",
            actor=actor,
            target=locked,
            detail={"state": locked.state, "content_sm3": locked.content_sm3},
        )
    _refresh(document, locked)
    return document


def distribution_complete(*, actor: Any, document: Document) -> None:
    """分发 done: the exchange calls this inside its send transaction.

    Completes the open 分发 task (as the system: the sender's NUMBER_SEAL was checked by
    the exchange), sets DISTRIBUTED; later sends of a distributed document change nothing.
    """
    with transaction.atomic():
        locked = _lock(document)
        if locked.state in (DocumentState.DISTRIBUTED, DocumentState.ARCHIVED):
            return
        if locked.state != DocumentState.DISTRIBUTING:
            raise ValidationError(_("公文尚未用印，不能分发"))
        task = next(
            (t for t in process.open_tasks(locked) if t.spec_id == process.DISTRIBUTE), None
        )
        if task is not None:
            workflow.task_complete(actor=None, task=task, data={"distributed": True})
        locked.state = DocumentState.DISTRIBUTED
        locked.save(update_fields=["state", "updated_at"])
        audit_record(
            action="documents.document.distributed",
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            target=locked,
            detail={"number": locked.number, "task": task.pk if task else None},
        )
    document.state = DocumentState.DISTRIBUTED


def document_cancel(*, actor: User, document: Document, reason: str) -> Document:
    """撤销 a draft that has not been signed off (DRAFT over the issuer)."""
    if not may_use(actor, document.issuer_id, p.DRAFT):
        deny(actor, p.DRAFT, target=document)
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": [_("请填写撤销原因")]})
    if len(reason) > MAX_TEXT:
        raise ValidationError({"reason": [_("原因不能超过2000个字符")]})
    if document.state not in CANCELLABLE:
        raise ValidationError(_("已签发的公文不能撤销"))
    with transaction.atomic():
        locked = _lock(document)
        if locked.state not in CANCELLABLE:
            raise ValidationError(_("公文状态已变化，请刷新后重试"))
        if locked.process_id is not None:
            instance = ProcessInstance.objects.get(pk=locked.process_id)
            if not instance.is_finished:
                workflow.instance_cancel(actor=actor, instance=instance, reason=reason)
        locked.state = DocumentState.CANCELLED
        locked.save(update_fields=["state", "updated_at"])
        audit_record(
            action="documents.document.cancel",
            actor=actor,
            target=locked,
            detail={"reason": reason},
        )
    _refresh(document, locked)
    return document


# --------------------------------------------------------------------------- start-up


def register() -> None:
    """The workbench lines (待核稿/待会签/待签发/待编号/待用印); called from
    ``setup.register_all``."""
    from django.utils.translation import gettext_lazy

    from tongban.apps.documents import selectors_drafting
    from tongban.platform.ui.workbench import WorkbenchProvider, register_provider

    register_provider(
        WorkbenchProvider(
            key="documents.drafting",
            label=gettext_lazy("发文办理"),
            todo=selectors_drafting.workbench_todo,
        )
    )
