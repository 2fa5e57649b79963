"""Reading the base databases for the pages: masked field rows with their provenance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from tongban.apps.basedata import datasets
from tongban.apps.basedata.datasets import DATASETS
from tongban.apps.basedata.models import IssueStatus, LicenceRecord, QualityIssue
from tongban.apps.basedata.services import record_value
from tongban.platform.crypto.masking import mask_id_number, mask_middle, mask_name, mask_phone

DATASET_LABELS: dict[str, Any] = {
    **{code: dataset.label for code, dataset in DATASETS.items()},
    "licence": _("电子证照目录"),
}
SEARCHABLE = [
    ("person", _("人口（公民身份号码）")),
    ("legal_person", _("法人（统一社会信用代码）")),
    ("birth", _("出生医学证明（证明编号）")),
    ("licence", _("电子证照（证照标识或编号）")),
    ("address", _("地名地址（地址编码）")),
]
NAMES = {"name", "newborn_name", "mother_name", "father_name", "legal_representative"}
IDS = {"id_number", "legal_representative_id_number", "mother_id_number", "father_id_number"}
ADDRESSES = {"household_address", "residence_address"}
LICENCE_FIELDS = [
    ("identifier", _("证照标识")),
    ("number", _("证照编号")),
    ("name", _("证照名称")),
    ("type_code", _("证照类型代码")),
    ("holder_name", _("持证主体")),
    ("holder_id_number", _("持证主体证件号码")),
    ("issuer_name", _("发证机关")),
    ("issued_on", _("发证日期")),
    ("valid_until", _("有效期截止")),
    ("status", _("状态")),
]


def masked(field: str, value: Any, *, person_holder: bool = True) -> str:
    text = datasets.comparable(value)
    if not text:
        return ""
    if field in IDS or field == "holder_id_number":
        return mask_id_number(text) if person_holder else text
    if field == "phone":
        return mask_phone(text)
    if field in NAMES or (field == "holder_name" and person_holder):
        return mask_name(text)
    if field in ADDRESSES:
        return mask_middle(text, keep_start=min(6, len(text)), keep_end=0)
    return text


@dataclass(frozen=True)
class FieldRow:
    name: str
    label: Any
    value: str
    department: str
    at: str


def field_rows(dataset_code: str, obj: models.Model) -> list[FieldRow]:
    sources: dict[str, Any] = obj.sources or {}  # type: ignore[attr-defined]
    pairs: list[tuple[str, Any]]
    values: dict[str, Any] = {}
    person_holder = True
    if isinstance(obj, LicenceRecord):
        pairs = list(LICENCE_FIELDS)
        person_holder = obj.holder_id_type != "uscc"
        values = {name: getattr(obj, name) for name, _label in pairs if name != "holder_id_number"}
        values["holder_id_number"] = obj.holder_id
    else:
        dataset = DATASETS[dataset_code]
        key_spec = (dataset.key, _("标识"))
        pairs = [key_spec] + [(spec.name, spec.label) for spec in dataset.fields]
        for name, _label in pairs:
            values[name] = (
                obj.id_number  # type: ignore[attr-defined]
                if dataset_code == "person" and name == "id_number"
                else record_value(obj, name)
            )
    rows = []
    for name, label in pairs:
        source = sources.get(name) or {}
        rows.append(
            FieldRow(
                name=name,
                label=label,
                value=masked(name, values.get(name), person_holder=person_holder),
                department=str(source.get("department_name", "")),
                at=str(source.get("at", ""))[:19].replace("T", " "),
            )
        )
    return rows


def issues(status: str = IssueStatus.OPEN, kind: str = "") -> QuerySet[QualityIssue]:
    queryset = QualityIssue.objects.all()
    if status:
        queryset = queryset.filter(status=status)
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset.order_by("-detected_at", "-pk")


def issue_value_rows(issue: QualityIssue) -> list[dict[str, Any]]:
    """The issue's values for the page, masked like the record page."""
    from tongban.apps.basedata.services import issue_values

    rows = []
    for index, entry in enumerate(issue_values(issue)):
        value = entry.get("value", "")
        shown = value if issue.kind != "conflict" else masked(issue.field, value)
        rows.append(
            {
                "index": index,
                "value": shown,
                "department": entry.get("department_name", "")
                or (entry.get("source") or {}).get("department_name", ""),
                "at": str(entry.get("at", ""))[:19].replace("T", " "),
                "record_id": entry.get("record_id"),
            }
        )
    return rows
