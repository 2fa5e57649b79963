"""The gateway providers the platform ships: the base databases and the e-licence register.

Each provider checks its parameters (the identity numbers' check characters, lengths),
asks ``tongban.apps.basedata.public`` and says whose data the records hold (the subjects,
hashed into the call log for the citizen's "who used my data" page). ``register_builtin``
is called from ``setup.register_all``; basedata is imported only when a call arrives, so
the order in which the apps load does not matter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import Any, cast

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from tongban.apps.sharing.providers import (
    Parameter,
    Provider,
    ProviderError,
    ProviderInvalid,
    ProviderResult,
    register_provider,
)
from tongban.platform.accounts.idnumbers import InvalidIdNumber, validate_resident_id, validate_uscc

MAX_TEXT = 100
MIN_ADDRESS_QUERY = 2
ADDRESS_LIMIT = 20


def _basedata() -> ModuleType:
    try:
        from tongban.apps.basedata import public
    except ImportError as error:  # the base databases are not installed
        raise ProviderError("tongban.apps.basedata.public is not available") from error
    return public


def _value(parameters: Mapping[str, str], name: str) -> str:
    value = str(parameters.get(name) or "").strip()
    if not value:
        raise ProviderInvalid(_("缺少参数：%(name)s") % {"name": name})
    if len(value) > MAX_TEXT:
        raise ProviderInvalid(_("参数过长：%(name)s") % {"name": name})
    return value


def _resident_id(parameters: Mapping[str, str], name: str) -> str:
    try:
        return validate_resident_id(_value(parameters, name))
    except InvalidIdNumber as error:
        raise ProviderInvalid(str(error)) from error


def _uscc(parameters: Mapping[str, str], name: str) -> str:
    try:
        return validate_uscc(_value(parameters, name))
    except InvalidIdNumber as error:
        raise ProviderInvalid(str(error)) from error


def _holder_number(parameters: Mapping[str, str], name: str) -> str:
    """A licence holder is a person (resident ID) or an organisation (USCC)."""
    value = _value(parameters, name).upper().replace(" ", "")
    try:
        return validate_resident_id(value) if value[:17].isdigit() else validate_uscc(value)
    except InvalidIdNumber as error:
        raise ProviderInvalid(
            _("持证主体证件号码无效：%(reason)s") % {"reason": str(error)}
        ) from error


def _subjects(values: Iterable[Any]) -> list[str]:
    """Distinct non-empty identity numbers, in first-seen order."""
    seen: list[str] = []
    for value in values:
        number = str(value or "").strip().upper()
        if number and number not in seen:
            seen.append(number)
    return seen


def person_fetch(parameters: Mapping[str, str]) -> ProviderResult:
    number = _resident_id(parameters, "id_number")
    record = _basedata().person_get(number)
    if not record:
        return ProviderResult(records=[], subjects=[])
    return ProviderResult(records=[dict(record)], subjects=_subjects([number]))


def household_fetch(parameters: Mapping[str, str]) -> ProviderResult:
    number = _value(parameters, "household_number")
    members = [dict(member) for member in _basedata().household_members(number)]
    return ProviderResult(
        records=members, subjects=_subjects(member.get("id_number") for member in members)
    )


def birth_fetch(parameters: Mapping[str, str]) -> ProviderResult:
    number = _resident_id(parameters, "parent_id_number")
    records = [dict(record) for record in _basedata().births_of_parent(number)]
    if not records:
        return ProviderResult(records=[], subjects=[])
    parents: list[Any] = [number]
    for record in records:
        parents.extend([record.get("mother_id_number"), record.get("father_id_number")])
    return ProviderResult(records=records, subjects=_subjects(parents))


def legal_person_fetch(parameters: Mapping[str, str]) -> ProviderResult:
    code = _uscc(parameters, "uscc")
    record = _basedata().legal_person_get(code)
    if not record:
        return ProviderResult(records=[], subjects=[])
    return ProviderResult(
        records=[dict(record)],
        subjects=_subjects([code, record.get("legal_representative_id_number")]),
    )


def licences_fetch(parameters: Mapping[str, str]) -> ProviderResult:
    number = _holder_number(parameters, "holder_id_number")
    licences = [dict(licence) for licence in _basedata().licences_of_holder(number)]
    if not licences:
        return ProviderResult(records=[], subjects=[])
    return ProviderResult(records=licences, subjects=_subjects([number]))


def address_fetch(parameters: Mapping[str, str]) -> ProviderResult:
    text = _value(parameters, "q")
    if len(text) < MIN_ADDRESS_QUERY:
        raise ProviderInvalid(_("地址查询内容至少%(n)s个字") % {"n": MIN_ADDRESS_QUERY})
    rows = [dict(row) for row in _basedata().address_search(text, limit=ADDRESS_LIMIT)]
    return ProviderResult(records=rows, subjects=[])


BUILTIN: tuple[tuple[str, Any, tuple[Parameter, ...], Callable[..., ProviderResult]], ...] = (
    (
        "basedata.person",
        _lazy("人口基础信息查询"),
        (Parameter("id_number", cast(str, _lazy("公民身份号码"))),),
        person_fetch,
    ),
    (
        "basedata.household",
        _lazy("户籍成员查询"),
        (Parameter("household_number", cast(str, _lazy("户号"))),),
        household_fetch,
    ),
    (
        "basedata.birth",
        _lazy("出生医学证明查询"),
        (Parameter("parent_id_number", cast(str, _lazy("父亲或母亲公民身份号码"))),),
        birth_fetch,
    ),
    (
        "basedata.legal_person",
        _lazy("法人基础信息查询"),
        (Parameter("uscc", cast(str, _lazy("统一社会信用代码"))),),
        legal_person_fetch,
    ),
    (
        "licences.by_holder",
        _lazy("电子证照查询"),
        (Parameter("holder_id_number", cast(str, _lazy("持证主体证件号码"))),),
        licences_fetch,
    ),
    (
        "basedata.address",
        _lazy("标准地址查询"),
        (Parameter("q", cast(str, _lazy("地址关键字"))),),
        address_fetch,
    ),
)


def register_builtin() -> None:
    for code, label, parameters, fetch in BUILTIN:
        register_provider(
            Provider(code=code, label=cast(str, label), parameters=parameters, fetch=fetch)
        )
