"""Once-only materials (一次不用跑、材料免提交): at submission the handling department
fetches an item's shared-data or e-licence materials through the sharing gateway, under
its platform system's grant, instead of the applicant uploading them.

A material qualifies when its catalogue source is "shared" or "elicence" and it names a
sharing resource (``catalog.Material.shared_resource_code``). The resource's first query
parameter receives the applicant's identity number (resident ID, or the USCC of the legal
person applied for). The record (granted items only, masked as granted) is stored
encrypted with its source on ``CaseSharedMaterial``; the gateway logs the call with the
case number. When the fetch is refused or finds nothing the case still submits: the
material is recorded as not handed in and the applicant is asked to upload it
(``case_shared_material_upload`` while the case waits for acceptance, or the correction
notice later).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.approvals.models import (
    Case,
    CaseEvent,
    CaseMaterial,
    CaseSharedMaterial,
    CaseState,
    MaterialSource,
    SharedFetchStatus,
)
from tongban.apps.catalog import public as catalog
from tongban.platform.audit.services import audit_record
from tongban.platform.files.models import StoredFile

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User

logger = logging.getLogger(__name__)

SHARED_SOURCES = (MaterialSource.SHARED, MaterialSource.ELICENCE)
# the gateway's purpose text is stored data: always in Chinese
PURPOSE = "办件{number}受理审查：{name}"


def shared_spec(material: Any) -> bool:
    """Whether a catalogue material (``catalog.public.MaterialInfo``) is fetched at
    submission (the apply page shows "由共享数据获取" for it)."""
    return material.source in SHARED_SOURCES and bool(getattr(material, "shared_resource_code", ""))


def applicant_identity(case: Case) -> str:
    """The identity number the providers are asked about: the legal person's USCC, or the
    applicant's resident ID (empty if the account has no verified person)."""
    if case.legal_person_id and case.legal_person is not None:
        return str(case.legal_person.uscc or "")
    person = getattr(case.applicant, "person", None)
    return str(getattr(person, "id_number", "") or "") if person is not None else ""


def _matching(records: list[dict[str, Any]], material_name: str) -> list[dict[str, Any]]:
    """Of an e-licence holder's licences, those that are the material (by name); all of
    them when the grant does not include the licence name."""
    if not records or not any("name" in record for record in records):
        return records
    return [
        record
        for record in records
        if record.get("name")
        and (str(record["name"]) in material_name or material_name in str(record["name"]))
    ]


def _fetch(case: Case, spec: Any, identity: str) -> dict[str, Any]:
    """Fetch one material; returns the CaseSharedMaterial fields (fetched or failed)."""
    from tongban.apps.sharing import public as sharing

    code = spec.shared_resource_code
    base: dict[str, Any] = {
        "material_name": spec.name,
        "source": spec.source,
        "resource_code": code,
    }
    if not identity:
        return {
            **base,
            "status": SharedFetchStatus.FAILED,
            "failure_reason": _("申请人未完成实名认证，无法查询共享数据"),
        }
    parameters = sharing.resource_parameters(code)
    if not parameters:
        return {
            **base,
            "status": SharedFetchStatus.FAILED,
            "failure_reason": _("共享资源%(code)s不存在或暂不提供接口服务") % {"code": code},
        }
    refused: Exception | None = None
    try:
        # a savepoint: a broken provider rolls back only its own writes; a refusal is no
        # error here, so the gateway's log row of a refused call stays
        with transaction.atomic():
            try:
                result = sharing.fetch_for_department(
                    department_id=case.department_id,
                    resource_code=code,
                    parameters={parameters[0]: identity},
                    purpose=PURPOSE.format(number=case.number, name=spec.name),
                    case_number=case.number,
                )
            except (sharing.SharingDenied, sharing.SharingUnavailable) as error:
                refused = error
    except Exception:  # the provider or gateway broke: the application still goes in
        logger.exception("once-only fetch of %s for case %s failed", code, case.number)
        return {
            **base,
            "status": SharedFetchStatus.FAILED,
            "failure_reason": _("共享数据服务暂时不可用"),
        }
    if refused is not None:
        return {**base, "status": SharedFetchStatus.FAILED, "failure_reason": str(refused)[:300]}
    records = list(result.records)
    if spec.source == MaterialSource.ELICENCE:
        records = _matching(records, spec.name)
    fetched = {
        **base,
        "resource_name": result.resource_name[:200],
        "provider_name": result.provider_name[:100],
        "call_id": result.call_id,
        "fetched_at": result.fetched_at,
        "items": [[item_code, item_name] for item_code, item_name in result.items],
    }
    if not records:
        return {
            **fetched,
            "status": SharedFetchStatus.FAILED,
            "failure_reason": _("共享数据中没有申请人的该项信息"),
        }
    return {
        **fetched,
        "status": SharedFetchStatus.FETCHED,
        "record": json.dumps(records, ensure_ascii=False, default=str),
        "record_count": len(records),
    }


def case_shared_materials_fetch(
    *, actor: Any, case: Case, version: catalog.ItemVersionInfo
) -> list[CaseSharedMaterial]:
    """Fetch the case's once-only materials (in the caller's submit transaction, after the
    case got its number). A failed fetch turns the material into one the applicant must
    upload; the case is submitted either way."""
    specs = {spec.name: spec for spec in version.materials if shared_spec(spec)}
    if not specs:
        return []
    rows = list(
        CaseMaterial.objects.filter(
            case=case, is_current=True, source__in=SHARED_SOURCES, name__in=list(specs)
        )
    )
    if not rows:
        return []
    identity = applicant_identity(case)
    actor_obj = actor if getattr(actor, "pk", None) else None
    stored = []
    for row in rows:
        spec = specs[row.name]
        fields = _fetch(case, spec, identity)
        shared = CaseSharedMaterial.objects.create(case=case, **fields)
        stored.append(shared)
        if shared.is_fetched:
            row.reference = f"{shared.resource_code}#{shared.call_id}"[:200]
            row.save(update_fields=["reference"])
            audit_record(
                action="approvals.case.shared_material_fetched",
                actor=actor_obj,
                target=case,
                object_label=f"{case.number} {case.item_name}",
                detail={
                    "material": row.name,
                    "resource_code": shared.resource_code,
                    "provider": shared.provider_name,
                    "call_id": shared.call_id,
                    "records": shared.record_count,
                },
            )
        else:
            # not obtained: the applicant hands it in (an uploaded file is checked as usual)
            row.source = MaterialSource.APPLICANT
            row.reference = ""
            row.save(update_fields=["source", "reference"])
            audit_record(
                action="approvals.case.shared_material_failed",
                actor=actor_obj,
                target=case,
                object_label=f"{case.number} {case.item_name}",
                detail={
                    "material": row.name,
                    "resource_code": shared.resource_code,
                    "call_id": shared.call_id,
                    "reason": shared.failure_reason,
                },
            )
    return stored


def _family(case: Case) -> list[Case]:
    return [case, *case.children.all().order_by("pk")]


def shared_materials_of(case: Case) -> list[CaseSharedMaterial]:
    """The latest fetch of each once-only material of the case (and its children)."""
    latest: dict[tuple[int, str], CaseSharedMaterial] = {}
    for shared in (
        CaseSharedMaterial.objects.filter(case__in=_family(case))
        .select_related("case")
        .order_by("pk")
    ):
        latest[(shared.case_id, shared.material_name)] = shared
    return list(latest.values())


def materials_to_upload(case: Case) -> list[CaseSharedMaterial]:
    """Once-only materials that could not be fetched and have no uploaded file yet."""
    waiting = []
    for shared in shared_materials_of(case):
        if shared.is_fetched:
            continue
        current = CaseMaterial.objects.filter(
            case_id=shared.case_id, name=shared.material_name, is_current=True
        ).first()
        if current is None or not current.file_id:
            waiting.append(shared)
    return waiting


def failure_messages(case: Case) -> list[str]:
    """What to tell the applicant right after submission, one line per material."""
    return [
        _("未能通过共享数据获取“%(name)s”（%(reason)s），请上传该材料。")
        % {"name": shared.material_name, "reason": shared.failure_reason}
        for shared in materials_to_upload(case)
    ]


def case_shared_material_upload(
    *, actor: User, case: Case, material_name: str, file_id: uuid.UUID | str, item_id: int = 0
) -> CaseMaterial:
    """The applicant uploads a once-only material that could not be fetched, while the
    case waits at the window (收件). For a joint case ``case`` is the parent and
    ``item_id`` picks the child."""
    from tongban.apps.approvals.services import _check_applicant, _lock

    _check_applicant(actor, case)
    with transaction.atomic():
        locked = _lock(case)
        if locked.state != CaseState.SUBMITTED:
            raise ValidationError({"materials": [_("办件当前状态不能补充材料，请按补正告知提交")]})
        target = locked
        if locked.is_joint:
            target = Case.objects.filter(parent=locked, item_id=item_id).first() or locked
        waiting = {
            shared.material_name
            for shared in materials_to_upload(locked)
            if shared.case_id == target.pk
        }
        if material_name not in waiting:
            raise ValidationError({"materials": [_("该材料无需补充上传")]})
        file_uuid = _uuid(file_id)
        stored = (
            StoredFile.objects.filter(pk=file_uuid, uploaded_by=actor).first()
            if file_uuid is not None
            else None
        )
        if stored is None:
            raise ValidationError(
                {"materials": [_("材料“%s”的文件不存在或不是您上传的") % material_name]}
            )
        current = CaseMaterial.objects.select_for_update().get(
            case=target, name=material_name, is_current=True
        )
        current.is_current = False
        current.save(update_fields=["is_current"])
        row = CaseMaterial.objects.create(
            case=target,
            name=material_name,
            is_required=current.is_required,
            source=MaterialSource.APPLICANT,
            file=stored,
            round=current.round,
        )
        CaseEvent.objects.create(
            case=target,
            verb="material_uploaded",
            label="补充上传材料",
            actor=actor,
            actor_label=actor.display_name or actor.username,
            occurred_at=timezone.now(),
            state_from=target.state,
            state_to=target.state,
            note=material_name,
        )
        audit_record(
            action="approvals.case.shared_material_uploaded",
            actor=actor,
            target=target,
            object_label=f"{target.number} {target.item_name}",
            detail={"material": material_name, "file": str(stored.pk)},
        )
    return row


def _uuid(value: uuid.UUID | str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def shared_names(materials: Sequence[Any]) -> set[str]:
    """Names of the once-only materials of a catalogue material list."""
    return {material.name for material in materials if shared_spec(material)}
