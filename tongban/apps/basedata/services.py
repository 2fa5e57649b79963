"""Writing the base databases: provider loads (API and file), quality checks, stewards'
resolutions, the e-licence register. Every write is audited.

A load is validated as a whole first: any wrong line refuses the whole batch
(``LoadRejected`` with one Chinese message per line) and nothing is written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.basedata import datasets, permissions
from tongban.apps.basedata.datasets import DATASETS, Dataset, FieldError
from tongban.apps.basedata.models import (
    ID_PURPOSE,
    PREFIX_PURPOSE,
    AddressEntry,
    BirthRecord,
    IssueKind,
    IssueStatus,
    LegalPerson,
    LicenceRecord,
    NaturalPerson,
    QualityIssue,
)
from tongban.platform.access.models import Scope
from tongban.platform.access.services import (
    ScopePaths,
    deny,
    grants_for,
    has_permission,
    scope_queryset,
)
from tongban.platform.audit.services import audit_record
from tongban.platform.crypto.masking import mask_id_number, mask_middle, mask_name
from tongban.platform.crypto.sm import lookup_hmac
from tongban.platform.orgs.models import Department, Unit
from tongban.platform.orgs.selectors import primary_posting

DEPARTMENT_SELF = ScopePaths(department="", division="division")
MAX_RECORDS = 5000


class LoadRejected(ValidationError):
    """The batch was refused; ``lines`` are (line number, Chinese message)."""

    def __init__(self, lines: list[tuple[int, str]]) -> None:
        self.lines = lines
        super().__init__(
            [_("第%(line)s行：%(message)s") % {"line": n, "message": m} for n, m in lines]
        )


@dataclass
class LoadResult:
    dataset: str
    department_code: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    issues: int = 0
    record_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "department": self.department_code,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "issues": self.issues,
        }


def printable(text: str) -> str:
    """``text`` without control characters (PostgreSQL refuses NUL in a query)."""
    return "".join(char for char in text if ord(char) >= 32)


def id_hmac(value: str) -> str:
    return lookup_hmac(value, purpose=ID_PURPOSE)


# --- departments -------------------------------------------------------------------


def provider_department(actor: Any, department_code: str = "") -> Department:
    """The department the actor reports for: the one named, or their primary posting's.
    Refused (audited) unless their ``basedata.record.update`` grant covers it."""
    if not has_permission(actor, permissions.RECORD_UPDATE):
        deny(actor, permissions.RECORD_UPDATE)
    department: Department | None
    department_code = printable(department_code)
    if department_code:
        department = Department.objects.filter(code=department_code, is_active=True).first()
    else:
        posting = primary_posting(actor)
        department = posting.unit.department if posting is not None else None
    if department is None:
        raise ValidationError({"department": _("请指定报送部门")})
    if not department_covered(actor, department):
        deny(actor, permissions.RECORD_UPDATE, target=department)
    return department


def department_covered(actor: Any, department: Department) -> bool:
    """Whether the actor's ``basedata.record.update`` grants cover ``department``: its
    department, division or city-wide scopes, or a unit scope on one of its units (an
    officer reports for the department of their unit)."""
    if scope_queryset(
        actor,
        Department.objects.filter(pk=department.pk),
        permissions.RECORD_UPDATE,
        DEPARTMENT_SELF,
    ).exists():
        return True
    unit_ids = [
        grant.unit_id
        for grant in grants_for(actor, permissions.RECORD_UPDATE)
        if grant.scope in (Scope.UNIT, Scope.UNIT_TREE) and grant.unit_id
    ]
    return bool(unit_ids) and Unit.objects.filter(pk__in=unit_ids, department=department).exists()


def covered_departments(actor: Any) -> models.QuerySet[Department]:
    """The departments the actor may report for (for the upload form)."""
    direct = scope_queryset(
        actor, Department.objects.filter(is_active=True), permissions.RECORD_UPDATE, DEPARTMENT_SELF
    )
    unit_ids = [
        grant.unit_id
        for grant in grants_for(actor, permissions.RECORD_UPDATE)
        if grant.scope in (Scope.UNIT, Scope.UNIT_TREE) and grant.unit_id
    ]
    via_units = Department.objects.filter(is_active=True, units__pk__in=unit_ids)
    return Department.objects.filter(
        models.Q(pk__in=direct.values("pk")) | models.Q(pk__in=via_units.values("pk"))
    )


def writable_datasets(department: Department) -> list[Dataset]:
    kind = datasets.department_kind(department.code)
    return [dataset for dataset in DATASETS.values() if dataset.writable_by(kind)]


# --- reading and writing record values ----------------------------------------------


def record_key(dataset: Dataset, obj: models.Model) -> str:
    if dataset.code == "person":
        return str(obj.id_number)  # type: ignore[attr-defined]
    return str(getattr(obj, dataset.key))


def record_value(obj: models.Model, name: str) -> Any:
    attr = datasets.ID_FIELDS.get(name, name)
    value = getattr(obj, attr)
    return value if value is not None else ""


def _assign(obj: models.Model, name: str, value: Any) -> None:
    if name in datasets.ID_FIELDS:
        attr = datasets.ID_FIELDS[name]
        setattr(obj, attr, value or None)
        setattr(obj, f"{attr}_hmac", id_hmac(value) if value else "")
        setattr(obj, f"{attr}_masked", mask_id_number(value) if value else "")
        return
    if isinstance(obj, NaturalPerson) and name == "name":
        obj.name = value
        obj.name_masked = mask_name(value)
        return
    if isinstance(obj, NaturalPerson) and name == "phone":
        obj.phone = value or None
        return
    setattr(obj, name, value)


def _new_record(dataset: Dataset, key: str) -> models.Model:
    if dataset.code == "person":
        return NaturalPerson(
            id_number=key,
            id_number_hmac=id_hmac(key),
            id_prefix_hmac=lookup_hmac(key[:17], purpose=PREFIX_PURPOSE),
            id_number_masked=mask_id_number(key),
            id_check_ok=datasets.resident_check_ok(key),
        )
    if dataset.code == "legal_person":
        return LegalPerson(uscc=key, uscc_check_ok=datasets.uscc_check_ok(key))
    return dataset.model(**{dataset.key: key})


def _existing(dataset: Dataset, keys: Sequence[str]) -> dict[str, models.Model]:
    if not keys:
        return {}
    if dataset.code == "person":
        by_hmac = {id_hmac(key): key for key in keys}
        people = NaturalPerson.objects.filter(id_number_hmac__in=list(by_hmac))
        return {by_hmac[row.id_number_hmac]: row for row in people}
    rows = dataset.model._default_manager.filter(**{f"{dataset.key}__in": list(keys)})
    return {str(getattr(row, dataset.key)): row for row in rows}


def record_label(dataset: Dataset, obj: models.Model) -> str:
    if isinstance(obj, NaturalPerson):
        return f"{obj.name_masked}（{obj.id_number_masked}）"
    if isinstance(obj, BirthRecord):
        return f"{obj.certificate_number} {mask_name(obj.newborn_name)}"
    return str(obj)[:300]


# --- loads ---------------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    key: str
    values: dict[str, Any]


def _validate(
    dataset: Dataset, kind: str, lines: Sequence[tuple[int, dict[str, Any]]]
) -> tuple[list[_Row], dict[str, models.Model]]:
    errors: list[tuple[int, str]] = []
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    writable = set(dataset.writable_by(kind))
    for line, raw in lines:
        if not isinstance(raw, dict):
            errors.append((line, _("记录应为对象（字段名: 值）")))
            continue
        if "__columns__" in raw:
            errors.append((line, _("列数与表头不一致")))
            continue
        try:
            key = datasets.clean_key(dataset, raw.get(dataset.key))
        except FieldError as error:
            errors.append((line, str(error)))
            continue
        if key in seen:
            errors.append((line, _("与第%(line)s行的记录重复") % {"line": seen[key]}))
            continue
        seen[key] = line
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if name == dataset.key:
                continue
            spec = dataset.spec(name)
            if spec is None:
                errors.append((line, _("未知字段“%(field)s”") % {"field": name}))
                continue
            if name not in writable:
                errors.append((line, _("本部门无权报送字段“%(field)s”") % {"field": spec.label}))
                continue
            try:
                values[name] = datasets.clean_value(spec, value)
            except FieldError as error:
                errors.append((line, str(error)))
        rows.append(_Row(line, key, values))
    existing = _existing(dataset, [row.key for row in rows])
    if kind not in dataset.creators:
        for row in rows:
            if row.key not in existing:
                errors.append((row.line, _("基础库中没有这条记录，本部门不能新建")))
    if errors:
        raise LoadRejected(sorted(errors, key=lambda item: item[0]))
    return rows, existing


def records_load(
    *,
    actor: Any,
    dataset_code: str,
    records: Sequence[tuple[int, dict[str, Any]]],
    department_code: str = "",
    channel: str = "api",
) -> LoadResult:
    """Upsert ``records`` (line number, record dict) into one dataset for the actor's
    department: all or nothing. Each changed field records the department and the time;
    a field last supplied by another department with a different value opens a conflict."""
    department = provider_department(actor, department_code)
    dataset = DATASETS.get(dataset_code)
    if dataset is None:
        raise ValidationError({"dataset": _("未知的数据集")})
    if not records:
        raise ValidationError({"records": _("没有要报送的记录")})
    if len(records) > MAX_RECORDS:
        raise ValidationError({"records": _("一次最多报送%(max)s条记录") % {"max": MAX_RECORDS}})
    kind = datasets.department_kind(department.code)
    if not dataset.writable_by(kind):
        deny(actor, permissions.RECORD_UPDATE, target=department)
    rows, existing = _validate(dataset, kind, records)
    result = LoadResult(dataset=dataset.code, department_code=department.code)
    now = timezone.now()
    stamp = {
        "department": department.code,
        "department_name": department.name,
        "at": now.isoformat(),
    }
    with transaction.atomic():
        touched: list[models.Model] = []
        for row in rows:
            obj = existing.get(row.key)
            created = obj is None
            if obj is None:
                obj = _new_record(dataset, row.key)
            sources = dict(obj.sources or {})  # type: ignore[attr-defined]
            changed = False
            for name, value in row.values.items():
                old = datasets.comparable(record_value(obj, name)) if not created else ""
                new = datasets.comparable(value)
                if not created and old == new:
                    continue
                previous = sources.get(name) or {}
                if (
                    not created
                    and old
                    and previous.get("department")
                    and previous["department"] != department.code
                ):
                    _conflict(dataset, obj, name, previous, old, stamp, new)
                    result.issues += 1
                _assign(obj, name, value)
                sources[name] = dict(stamp)
                changed = True
            if created:
                sources[dataset.key] = dict(stamp)
            obj.sources = sources  # type: ignore[attr-defined]
            if created:
                obj.save()
                result.created += 1
            elif changed:
                obj.save()
                result.updated += 1
            else:
                result.unchanged += 1
            touched.append(obj)
        result.issues += quality_check_records(dataset, touched)
        result.record_ids = [int(obj.pk) for obj in touched]
        audit_record(
            action="basedata.record.load",
            actor=actor,
            target=department,
            object_label=f"{dataset.code} {department.name}",
            detail={**result.as_dict(), "channel": channel, "records": len(rows)},
        )
    return result


def _conflict(
    dataset: Dataset,
    obj: models.Model,
    name: str,
    previous: dict[str, Any],
    old: str,
    stamp: dict[str, Any],
    new: str,
) -> None:
    values = [
        {
            "department": previous.get("department", ""),
            "department_name": previous.get("department_name", ""),
            "at": previous.get("at", ""),
            "value": old,
        },
        {**stamp, "value": new},
    ]
    issue_open(
        kind=IssueKind.CONFLICT,
        dataset=dataset.code,
        record_id=int(obj.pk),
        label=record_label(dataset, obj),
        field=name,
        values=values,
    )


# --- quality checks ------------------------------------------------------------------


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256(":".join(str(part) for part in parts).encode()).hexdigest()


def issue_open(
    *,
    kind: str,
    dataset: str,
    record_id: int,
    label: str,
    field: str,
    values: list[dict[str, Any]],
    fingerprint: str = "",
) -> bool:
    """Open an issue, or refresh the open one with the same fingerprint. True if new."""
    fingerprint = fingerprint or _fingerprint(kind, dataset, record_id, field)
    payload = json.dumps(values, ensure_ascii=False, sort_keys=True)
    current = QualityIssue.objects.filter(fingerprint=fingerprint, status=IssueStatus.OPEN).first()
    if current is not None:
        if current.values != payload:
            current.values = payload
            current.save(update_fields=["values"])
        return False
    QualityIssue.objects.create(
        kind=kind,
        dataset=dataset,
        record_id=record_id,
        record_label=label[:300],
        field=field,
        values=payload,
        fingerprint=fingerprint,
    )
    return True


def _check_chars(dataset: Dataset, obj: models.Model) -> int:
    found = 0
    bad: list[tuple[str, str]] = []
    if isinstance(obj, NaturalPerson) and not obj.id_check_ok:
        bad.append(("id_number", str(obj.id_number)))
    if isinstance(obj, LegalPerson) and not obj.uscc_check_ok:
        bad.append(("uscc", obj.uscc))
    for name in datasets.ID_FIELDS:
        if dataset.spec(name) is None:
            continue
        value = str(record_value(obj, name))
        if value and not datasets.resident_check_ok(value):
            bad.append((name, value))
    for name, value in bad:
        masked = mask_middle(value, keep_start=4, keep_end=4) if name != "uscc" else value
        found += issue_open(
            kind=IssueKind.CHECK_CHAR,
            dataset=dataset.code,
            record_id=int(obj.pk),
            label=record_label(dataset, obj),
            field=name,
            values=[{"value": masked, "source": obj.source_of(name)}],  # type: ignore[attr-defined]
        )
    return found


def _duplicates_of(dataset: Dataset, obj: models.Model) -> list[models.Model]:
    if isinstance(obj, NaturalPerson):
        return list(NaturalPerson.objects.filter(id_prefix_hmac=obj.id_prefix_hmac).order_by("pk"))
    if isinstance(obj, LegalPerson):
        return list(LegalPerson.objects.filter(name=obj.name).order_by("pk"))
    if isinstance(obj, BirthRecord):
        if not obj.mother_id_hmac or obj.birth_date is None:
            return [obj]
        return list(
            BirthRecord.objects.filter(
                mother_id_hmac=obj.mother_id_hmac,
                birth_date=obj.birth_date,
                newborn_name=obj.newborn_name,
            ).order_by("pk")
        )
    if isinstance(obj, AddressEntry):
        return list(AddressEntry.objects.filter(full_address=obj.full_address).order_by("pk"))
    return [obj]


def _check_duplicates(dataset: Dataset, obj: models.Model) -> int:
    group = _duplicates_of(dataset, obj)
    if len(group) < 2:
        return 0
    first = group[0]
    return int(
        issue_open(
            kind=IssueKind.DUPLICATE,
            dataset=dataset.code,
            record_id=int(first.pk),
            label=record_label(dataset, first),
            field="",
            values=[
                {"record_id": int(item.pk), "value": record_label(dataset, item)} for item in group
            ],
            fingerprint=_fingerprint(
                IssueKind.DUPLICATE, dataset.code, *sorted(int(item.pk) for item in group)
            ),
        )
    )


def quality_check_records(dataset: Dataset, objs: Iterable[models.Model]) -> int:
    """Check character and duplicate checks for some records; returns new issues."""
    found = 0
    for obj in objs:
        found += _check_chars(dataset, obj)
        found += _check_duplicates(dataset, obj)
    return found


def quality_run(*, actor: Any = None) -> int:
    """The full sweep (management command ``basedata_quality``, daily job): every
    dataset's check characters and duplicates. Returns the number of new issues."""
    found = 0
    with transaction.atomic():
        people = DATASETS["person"]
        found += quality_check_records(people, NaturalPerson.objects.filter(id_check_ok=False))
        for prefix in _repeated(NaturalPerson.objects, "id_prefix_hmac"):
            first = NaturalPerson.objects.filter(id_prefix_hmac=prefix).order_by("pk").first()
            if first is not None:
                found += _check_duplicates(people, first)
        legal = DATASETS["legal_person"]
        found += quality_check_records(legal, LegalPerson.objects.filter(uscc_check_ok=False))
        for name in _repeated(LegalPerson.objects, "name"):
            first_legal = LegalPerson.objects.filter(name=name).order_by("pk").first()
            if first_legal is not None:
                found += _check_duplicates(legal, first_legal)
        births = DATASETS["birth"]
        found += quality_check_records(births, BirthRecord.objects.all())
        found += sum(
            _check_chars(legal, obj)
            for obj in LegalPerson.objects.exclude(legal_representative_id_hmac="")
        )
        addresses = DATASETS["address"]
        for text in _repeated(AddressEntry.objects, "full_address"):
            first_address = AddressEntry.objects.filter(full_address=text).order_by("pk").first()
            if first_address is not None:
                found += _check_duplicates(addresses, first_address)
        audit_record(
            action="basedata.quality.run",
            actor=actor,
            object_type="basedata.qualityissue",
            detail={"new_issues": found},
        )
    return found


def _repeated(manager: Any, column: str) -> list[Any]:
    return list(
        manager.values(column)
        .annotate(n=models.Count("pk"))
        .filter(n__gt=1)
        .values_list(column, flat=True)
    )


# --- stewards ------------------------------------------------------------------------


def issue_values(issue: QualityIssue) -> list[dict[str, Any]]:
    try:
        values = json.loads(str(issue.values or "[]"))
    except ValueError:
        return []
    return values if isinstance(values, list) else []


def record_of(dataset_code: str, record_id: int) -> models.Model | None:
    dataset = DATASETS.get(dataset_code)
    model: type[models.Model] = dataset.model if dataset else LicenceRecord
    return model._default_manager.filter(pk=record_id).first()


def issue_resolve(
    *,
    actor: Any,
    issue: QualityIssue,
    action: str,
    choice: int | None = None,
    note: str = "",
) -> QualityIssue:
    """``choose`` a conflict's value (written back with its department as the source),
    ``resolve`` (fixed at the source) or ``dismiss`` (with reasons)."""
    if not has_permission(actor, permissions.QUALITY_RESOLVE):
        deny(actor, permissions.QUALITY_RESOLVE, target=issue)
    note = note.strip()
    if issue.status != IssueStatus.OPEN:
        raise ValidationError({"action": _("该问题已处理")})
    if action not in ("choose", "resolve", "dismiss"):
        raise ValidationError({"action": _("未知的处理方式")})
    if action in ("resolve", "dismiss") and not note:
        raise ValidationError({"note": _("请填写处理意见")})
    values = issue_values(issue)
    chosen: dict[str, Any] | None = None
    if action == "choose":
        if issue.kind != IssueKind.CONFLICT:
            raise ValidationError({"action": _("只有来源冲突可以选择采用的值")})
        if choice is None or not 0 <= choice < len(values):
            raise ValidationError({"choice": _("请选择采用哪个来源的值")})
        chosen = values[choice]
    dataset = DATASETS.get(issue.dataset)
    now = timezone.now()
    with transaction.atomic():
        if chosen is not None and dataset is not None:
            obj = record_of(issue.dataset, issue.record_id)
            spec = dataset.spec(issue.field)
            if obj is None or spec is None:
                raise ValidationError({"action": _("记录已不存在")})
            _assign(obj, issue.field, datasets.clean_value(spec, chosen.get("value", "")))
            sources = dict(obj.sources or {})  # type: ignore[attr-defined]
            sources[issue.field] = {
                "department": chosen.get("department", ""),
                "department_name": chosen.get("department_name", ""),
                "at": now.isoformat(),
                "steward": actor.get_username(),
            }
            obj.sources = sources  # type: ignore[attr-defined]
            obj.save()
        issue.status = IssueStatus.DISMISSED if action == "dismiss" else IssueStatus.RESOLVED
        issue.resolution = note or _("采用%(department)s的值") % {
            "department": (chosen or {}).get("department_name", "")
        }
        issue.chosen_department = (chosen or {}).get("department", "")[:32]
        issue.resolved_by = actor
        issue.resolved_at = now
        issue.save()
        audit_record(
            action=f"basedata.quality.{action}",
            actor=actor,
            target=issue,
            detail={
                "kind": issue.kind,
                "dataset": issue.dataset,
                "record_id": issue.record_id,
                "field": issue.field,
                "chosen_department": issue.chosen_department,
            },
        )
    return issue


# --- reading personal data -----------------------------------------------------------


def record_find(dataset_code: str, query: str) -> models.Model | None:
    query = printable(query)
    text = query.strip().upper().replace(" ", "")
    if not text:
        return None
    if dataset_code == "person":
        return NaturalPerson.objects.filter(id_number_hmac=id_hmac(text)).first()
    if dataset_code == "legal_person":
        return LegalPerson.objects.filter(uscc=text).first()
    if dataset_code == "birth":
        return BirthRecord.objects.filter(certificate_number=query.strip()).first()
    if dataset_code == "licence":
        return (
            LicenceRecord.objects.filter(identifier=query.strip()).first()
            or LicenceRecord.objects.filter(number=query.strip()).first()
        )
    if dataset_code == "address":
        return AddressEntry.objects.filter(code=query.strip()).first()
    return None


def record_read(*, actor: Any, dataset_code: str, obj: models.Model) -> None:
    """Audit one view of a record (a personal-data read for people, births, licences and
    legal representatives). The caller checked ``basedata.record.view``."""
    if not has_permission(actor, permissions.RECORD_VIEW):
        raise PermissionDenied
    with transaction.atomic():
        audit_record(
            action=f"basedata.{dataset_code}.read",
            actor=actor,
            target=obj,
            object_label=record_label(DATASETS.get(dataset_code, DATASETS["person"]), obj)
            if dataset_code in DATASETS
            else str(obj),
            detail={"personal_data": dataset_code} if dataset_code != "address" else {},
        )


# --- the e-licence register ----------------------------------------------------------


def licence_register_sync(
    *, identifier: str, issuer_department_code: str = ""
) -> LicenceRecord | None:
    """Copy one licence from the licences app into the register (idempotent)."""
    from tongban.apps.licences.public import licence_register_entry

    entry = licence_register_entry(identifier)
    if entry is None:
        return None
    department = (
        Department.objects.filter(code=issuer_department_code).first()
        if issuer_department_code
        else None
    )
    now = timezone.now().isoformat()
    stamp = {
        "department": department.code if department else "",
        "department_name": department.name if department else entry["issuer_name"],
        "at": now,
    }
    holder = entry["holder_id_number"]
    values = {
        "number": entry["number"],
        "name": entry["name"],
        "type_code": entry["type_code"],
        "holder_name": entry["holder_name"],
        "holder_id_type": entry["holder_id_type"],
        "holder_id": holder,
        "holder_id_hmac": id_hmac(holder),
        "holder_id_masked": mask_id_number(holder),
        "issuer_name": entry["issuer_name"],
        "issued_on": entry["issued_on"],
        "valid_until": entry["valid_until"],
        "status": entry["status"],
    }
    with transaction.atomic():
        record = LicenceRecord.objects.select_for_update().filter(identifier=identifier).first()
        if record is None:
            record = LicenceRecord(identifier=identifier)
        sources = dict(record.sources or {})
        for name, value in values.items():
            setattr(record, name, value)
            if not name.endswith(("_hmac", "_masked")):
                sources["holder_id_number" if name == "holder_id" else name] = stamp
        record.sources = sources
        record.save()
        audit_record(
            action="basedata.licence.register",
            target=record,
            detail={"identifier": identifier, "status": record.status},
        )
    return record
