"""The datasets providers may update, declared in code: key, fields, who writes what.

A department's "kind" is the last part of its code (``GAJ``, ``990102-SCJ`` → ``SCJ``):
公安 (GAJ) writes identity and household fields, 民政 (MZJ) marital status, 卫健 (WJW)
births, 市场监管 (SCJ) legal persons … A field several departments may write can
conflict: the latest value is kept and a quality issue records both.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongban.apps.basedata.models import AddressEntry, BirthRecord, LegalPerson, NaturalPerson
from tongban.platform.accounts.idnumbers import (
    RESIDENT_PATTERN,
    USCC_PATTERN,
    resident_check_char,
    uscc_check_char,
)

GENDERS = ("男", "女")


class FieldError(ValueError):
    """A value that cannot be stored (message in Chinese, shown per line)."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: Any
    type: str = "text"  # text | date | gender | decimal | resident_id | uscc
    writers: frozenset[str] = frozenset()
    max_length: int = 300


@dataclass(frozen=True)
class Dataset:
    code: str
    label: Any
    model: type[models.Model]
    key: str  # the key field's name in the records (as in basedata.public)
    key_type: str  # resident_id | uscc | text
    creators: frozenset[str]  # department kinds that may create new records
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)

    def spec(self, name: str) -> FieldSpec | None:
        for spec in self.fields:
            if spec.name == name:
                return spec
        return None

    def writable_by(self, kind: str) -> list[str]:
        return [spec.name for spec in self.fields if kind in spec.writers]


def _w(*kinds: str) -> frozenset[str]:
    return frozenset(kinds)


GA, MZ, WJ, SC, RS, ZR, SW = "GAJ", "MZJ", "WJW", "SCJ", "RSJ", "ZRZYJ", "TSJ"

PERSON = Dataset(
    code="person",
    label=gettext_lazy("人口基础库"),
    model=NaturalPerson,
    key="id_number",
    key_type="resident_id",
    creators=_w(GA),
    fields=(
        FieldSpec("name", gettext_lazy("姓名"), writers=_w(GA), max_length=100),
        FieldSpec("gender", gettext_lazy("性别"), "gender", _w(GA)),
        FieldSpec("ethnicity", gettext_lazy("民族"), writers=_w(GA), max_length=20),
        FieldSpec("birth_date", gettext_lazy("出生日期"), "date", _w(GA)),
        FieldSpec("birth_place", gettext_lazy("出生地"), writers=_w(GA), max_length=200),
        FieldSpec("household_number", gettext_lazy("户号"), writers=_w(GA), max_length=40),
        FieldSpec("household_address", gettext_lazy("户籍地址"), writers=_w(GA)),
        FieldSpec("relation_to_head", gettext_lazy("与户主关系"), writers=_w(GA), max_length=20),
        FieldSpec("marital_status", gettext_lazy("婚姻状况"), writers=_w(MZ), max_length=20),
        FieldSpec("phone", gettext_lazy("联系电话"), writers=_w(GA, RS), max_length=20),
        FieldSpec("residence_address", gettext_lazy("居住地址"), writers=_w(GA, RS, MZ)),
        FieldSpec("death_date", gettext_lazy("死亡日期"), "date", _w(GA, MZ, WJ)),
    ),
)

LEGAL_PERSON = Dataset(
    code="legal_person",
    label=gettext_lazy("法人基础库"),
    model=LegalPerson,
    key="uscc",
    key_type="uscc",
    creators=_w(SC),
    fields=(
        FieldSpec("name", gettext_lazy("名称"), writers=_w(SC), max_length=200),
        FieldSpec("entity_type", gettext_lazy("主体类型"), writers=_w(SC), max_length=60),
        FieldSpec(
            "legal_representative", gettext_lazy("法定代表人"), writers=_w(SC), max_length=100
        ),
        FieldSpec(
            "legal_representative_id_number",
            gettext_lazy("法定代表人身份证件号码"),
            "resident_id",
            _w(SC),
        ),
        FieldSpec("registered_address", gettext_lazy("住所"), writers=_w(SC, SW)),
        FieldSpec("registered_capital", gettext_lazy("注册资本"), writers=_w(SC), max_length=60),
        FieldSpec("established_on", gettext_lazy("成立日期"), "date", _w(SC)),
        FieldSpec("business_scope", gettext_lazy("经营范围"), writers=_w(SC), max_length=4000),
        FieldSpec("status", gettext_lazy("登记状态"), writers=_w(SC, SW), max_length=20),
        FieldSpec(
            "registration_authority", gettext_lazy("登记机关"), writers=_w(SC), max_length=100
        ),
    ),
)

BIRTH = Dataset(
    code="birth",
    label=gettext_lazy("出生医学证明"),
    model=BirthRecord,
    key="certificate_number",
    key_type="text",
    creators=_w(WJ),
    fields=(
        FieldSpec("newborn_name", gettext_lazy("新生儿姓名"), writers=_w(WJ), max_length=100),
        FieldSpec("newborn_gender", gettext_lazy("新生儿性别"), "gender", _w(WJ)),
        FieldSpec("birth_date", gettext_lazy("出生日期"), "date", _w(WJ)),
        FieldSpec("birth_place", gettext_lazy("出生地点"), writers=_w(WJ), max_length=200),
        FieldSpec("hospital", gettext_lazy("接生机构"), writers=_w(WJ), max_length=200),
        FieldSpec("mother_id_number", gettext_lazy("母亲身份证件号码"), "resident_id", _w(WJ)),
        FieldSpec("mother_name", gettext_lazy("母亲姓名"), writers=_w(WJ), max_length=100),
        FieldSpec("father_id_number", gettext_lazy("父亲身份证件号码"), "resident_id", _w(WJ)),
        FieldSpec("father_name", gettext_lazy("父亲姓名"), writers=_w(WJ), max_length=100),
    ),
)

ADDRESS = Dataset(
    code="address",
    label=gettext_lazy("地名地址库"),
    model=AddressEntry,
    key="code",
    key_type="text",
    creators=_w(ZR, MZ, GA),
    fields=(
        FieldSpec("full_address", gettext_lazy("标准地址"), writers=_w(ZR, MZ, GA)),
        FieldSpec("district", gettext_lazy("区县"), writers=_w(ZR, MZ, GA), max_length=60),
        FieldSpec("street", gettext_lazy("街道（乡镇）"), writers=_w(ZR, MZ, GA), max_length=60),
        FieldSpec("community", gettext_lazy("社区（村）"), writers=_w(ZR, MZ, GA), max_length=60),
        FieldSpec("longitude", gettext_lazy("经度"), "decimal", _w(ZR)),
        FieldSpec("latitude", gettext_lazy("纬度"), "decimal", _w(ZR)),
    ),
)

DATASETS: dict[str, Dataset] = {
    dataset.code: dataset for dataset in (PERSON, LEGAL_PERSON, BIRTH, ADDRESS)
}

# record keys (as in basedata.public) → model attribute holding the plain value
ID_FIELDS = {
    "legal_representative_id_number": "legal_representative_id",
    "mother_id_number": "mother_id",
    "father_id_number": "father_id",
}


def department_kind(code: str) -> str:
    return code.rsplit("-", 1)[-1].upper()


def resident_format_ok(value: str) -> bool:
    """Well-formed (18 characters, a real birth date); the check character is not
    judged here: a wrong one is stored and flagged by the quality checks."""
    if not RESIDENT_PATTERN.match(value):
        return False
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return True


def resident_check_ok(value: str) -> bool:
    return resident_check_char(value[:17]) == value[17]


def uscc_check_ok(value: str) -> bool:
    return uscc_check_char(value[:17]) == value[17]


def _no_control(text: str) -> str:
    if any(ord(char) < 32 and char not in "\t\n\r" for char in text):
        raise FieldError(_("不能包含控制字符"))
    return text


def clean_key(dataset: Dataset, raw: Any) -> str:
    value = str(raw if raw is not None else "").strip().upper().replace(" ", "")
    if dataset.key_type == "text":
        value = _no_control(str(raw if raw is not None else "").strip())
        if not value or len(value) > 120:
            raise FieldError(_("缺少记录编码或编码过长"))
        return value
    if dataset.key_type == "resident_id":
        if not resident_format_ok(value):
            raise FieldError(_("公民身份号码格式不正确"))
        return value
    if len(value) != 18 or not USCC_PATTERN.match(value):
        raise FieldError(_("统一社会信用代码格式不正确"))
    return value


def clean_value(spec: FieldSpec, raw: Any) -> Any:
    """The stored value of one field (``None`` or ``""`` clears it)."""
    text = _no_control("" if raw is None else str(raw).strip())
    if spec.type == "date":
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError as error:
            raise FieldError(
                _("%(field)s应为日期（YYYY-MM-DD）") % {"field": spec.label}
            ) from error
    if spec.type == "decimal":
        if not text:
            return None
        try:
            number = decimal.Decimal(text)
        except decimal.InvalidOperation as error:
            raise FieldError(_("%(field)s应为数字") % {"field": spec.label}) from error
        if not number.is_finite() or abs(number) > 1000:
            raise FieldError(_("%(field)s应为数字") % {"field": spec.label})
        return number.quantize(decimal.Decimal("0.000001"))
    if spec.type == "gender":
        if text and text not in GENDERS:
            raise FieldError(_("%(field)s应为“男”或“女”") % {"field": spec.label})
        return text
    if spec.type == "resident_id":
        text = text.upper().replace(" ", "")
        if text and not resident_format_ok(text):
            raise FieldError(_("%(field)s格式不正确") % {"field": spec.label})
        return text
    if len(text) > spec.max_length:
        raise FieldError(
            _("%(field)s不能超过%(max)s个字符") % {"field": spec.label, "max": spec.max_length}
        )
    return text


def comparable(value: Any) -> str:
    """Values as compared and shown in quality issues."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f")
    return str(value)
