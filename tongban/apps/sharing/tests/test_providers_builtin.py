"""The built-in gateway providers: parameters checked (check characters), basedata asked,
subjects named. basedata.public is replaced by a stand-in holding a few records."""

from __future__ import annotations

import datetime as dt
import sys
import types
from typing import Any

import pytest

from tongban.apps.sharing.providers import ProviderInvalid, provider_get
from tongban.platform.accounts.idnumbers import make_resident_id, make_uscc

MOTHER = make_resident_id("990102", dt.date(1992, 3, 4), 122)
FATHER = make_resident_id("990102", dt.date(1990, 7, 8), 131)
CHILD = make_resident_id("990102", dt.date(2020, 1, 2), 141)
STRANGER = make_resident_id("990102", dt.date(1980, 1, 1), 151)
USCC = make_uscc("9", "1", "990100", "MA0000010")
BAD_ID = MOTHER[:17] + ("0" if MOTHER[17] != "0" else "1")
BAD_USCC = USCC[:17] + ("0" if USCC[17] != "0" else "1")


def _person(number: str, name: str) -> dict[str, Any]:
    return {"id_number": number, "name": name, "household_number": "H001", "gender": "女"}


class FakeBasedata(types.ModuleType):
    def __init__(self) -> None:
        super().__init__("tongban.apps.basedata.public")
        self.asked: list[tuple[str, Any]] = []

    def person_get(self, id_number: str) -> dict[str, Any] | None:
        self.asked.append(("person_get", id_number))
        return _person(MOTHER, "王芳") if id_number == MOTHER else None

    def household_members(self, household_number: str) -> list[dict[str, Any]]:
        self.asked.append(("household_members", household_number))
        if household_number != "H001":
            return []
        return [_person(MOTHER, "王芳"), _person(FATHER, "李强"), _person(CHILD, "李小宝")]

    def births_of_parent(self, id_number: str) -> list[dict[str, Any]]:
        self.asked.append(("births_of_parent", id_number))
        if id_number not in (MOTHER, FATHER):
            return []
        return [
            {
                "certificate_number": "Q990000001",
                "newborn_name": "李小宝",
                "mother_id_number": MOTHER,
                "mother_name": "王芳",
                "father_id_number": FATHER,
                "father_name": "李强",
            }
        ]

    def legal_person_get(self, uscc: str) -> dict[str, Any] | None:
        self.asked.append(("legal_person_get", uscc))
        if uscc != USCC:
            return None
        return {"uscc": USCC, "name": "示范公司", "legal_representative_id_number": FATHER}

    def licences_of_holder(self, id_number: str) -> list[dict[str, Any]]:
        self.asked.append(("licences_of_holder", id_number))
        if id_number not in (MOTHER, USCC):
            return []
        return [{"identifier": "L1", "holder_id_number": id_number, "name": "营业执照"}]

    def address_search(self, text: str, limit: int = 20) -> list[dict[str, Any]]:
        self.asked.append(("address_search", (text, limit)))
        return [{"code": "A1", "full_address": f"示范市{text}1号"}]


@pytest.fixture
def basedata(monkeypatch: pytest.MonkeyPatch) -> FakeBasedata:
    import tongban.apps.basedata as package

    fake = FakeBasedata()
    monkeypatch.setitem(sys.modules, "tongban.apps.basedata.public", fake)
    monkeypatch.setattr(package, "public", fake, raising=False)
    return fake


def fetch(code: str, **parameters: str) -> Any:
    provider = provider_get(code)
    assert provider is not None
    return provider.fetch(parameters)


def test_all_contract_providers_are_registered_with_their_parameters():
    expected = {
        "basedata.person": ["id_number"],
        "basedata.household": ["household_number"],
        "basedata.birth": ["parent_id_number"],
        "basedata.legal_person": ["uscc"],
        "licences.by_holder": ["holder_id_number"],
        "basedata.address": ["q"],
    }
    for code, names in expected.items():
        provider = provider_get(code)
        assert provider is not None, code
        assert [parameter.name for parameter in provider.parameters] == names
        assert all(parameter.required for parameter in provider.parameters)
        assert str(provider.label)


def test_person_returns_the_record_and_names_the_person(basedata):
    result = fetch("basedata.person", id_number=MOTHER.lower())

    assert result.records == [_person(MOTHER, "王芳")]
    assert result.subjects == [MOTHER]


def test_person_not_found_reads_nobody(basedata):
    result = fetch("basedata.person", id_number=STRANGER)

    assert result.records == []
    assert result.subjects == []


def test_person_with_a_wrong_check_character_is_invalid_and_never_asked(basedata):
    with pytest.raises(ProviderInvalid, match="校验码"):
        fetch("basedata.person", id_number=BAD_ID)
    with pytest.raises(ProviderInvalid, match="18位"):
        fetch("basedata.person", id_number="12345")
    with pytest.raises(ProviderInvalid, match="缺少参数"):
        fetch("basedata.person", id_number="  ")
    assert basedata.asked == []


def test_household_names_every_member(basedata):
    result = fetch("basedata.household", household_number="H001")

    assert len(result.records) == 3
    assert result.subjects == [MOTHER, FATHER, CHILD]
    assert fetch("basedata.household", household_number="H404").subjects == []


def test_household_number_too_long_is_invalid(basedata):
    with pytest.raises(ProviderInvalid, match="参数过长"):
        fetch("basedata.household", household_number="H" * 101)


def test_birth_names_both_parents_only(basedata):
    result = fetch("basedata.birth", parent_id_number=FATHER)

    assert [record["certificate_number"] for record in result.records] == ["Q990000001"]
    assert result.subjects == [FATHER, MOTHER]
    assert CHILD not in result.subjects
    with pytest.raises(ProviderInvalid, match="校验码"):
        fetch("basedata.birth", parent_id_number=BAD_ID)


def test_legal_person_names_the_organisation_and_its_representative(basedata):
    result = fetch("basedata.legal_person", uscc=USCC)

    assert result.records[0]["name"] == "示范公司"
    assert result.subjects == [USCC, FATHER]
    with pytest.raises(ProviderInvalid, match="统一社会信用代码校验码错误"):
        fetch("basedata.legal_person", uscc=BAD_USCC)
    assert (
        fetch("basedata.legal_person", uscc=make_uscc("9", "1", "990100", "MA0000020")).records
        == []
    )


def test_licences_by_holder_accepts_a_person_or_an_organisation(basedata):
    person = fetch("licences.by_holder", holder_id_number=MOTHER)
    organisation = fetch("licences.by_holder", holder_id_number=USCC)

    assert person.subjects == [MOTHER]
    assert organisation.subjects == [USCC]
    assert fetch("licences.by_holder", holder_id_number=STRANGER).subjects == []
    with pytest.raises(ProviderInvalid, match="持证主体证件号码无效"):
        fetch("licences.by_holder", holder_id_number=BAD_ID)
    with pytest.raises(ProviderInvalid, match="持证主体证件号码无效"):
        fetch("licences.by_holder", holder_id_number=BAD_USCC)


def test_address_search_reads_nobody_and_needs_two_characters(basedata):
    result = fetch("basedata.address", q="人民路")

    assert result.records == [{"code": "A1", "full_address": "示范市人民路1号"}]
    assert result.subjects == []
    assert basedata.asked == [("address_search", ("人民路", 20))]
    with pytest.raises(ProviderInvalid, match="至少2个字"):
        fetch("basedata.address", q="路")
