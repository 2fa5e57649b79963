"""The built-in providers against the real base databases: records loaded through
basedata's own service (as the providing departments do), then read by the providers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tongban.apps.basedata import services as basedata_services
from tongban.apps.basedata.tests import conftest as basedata_conftest
from tongban.apps.sharing.providers import ProviderInvalid, provider_get

# basedata's small city (公安, 民政, 卫健, 市场监管 … with an officer each)
city = basedata_conftest.city
rid = basedata_conftest.rid
uscc = basedata_conftest.uscc

pytestmark = pytest.mark.django_db


def load(actor: Any, dataset: str, rows: list[dict[str, Any]]) -> None:
    basedata_services.records_load(
        actor=actor, dataset_code=dataset, records=list(enumerate(rows, 1))
    )


def fetch(code: str, **parameters: str) -> Any:
    provider = provider_get(code)
    assert provider is not None
    return provider.fetch(parameters)


def test_providers_read_what_the_departments_loaded(city):  # noqa: F811
    mother, father = rid(61, dt.date(1991, 2, 3)), rid(63, dt.date(1990, 4, 5))
    person = basedata_conftest.person_row
    load(
        city.police_officer,
        "person",
        [
            person(mother, name="王芳", gender="女", household_number="HH61"),
            person(father, name="李强", household_number="HH61"),
        ],
    )
    load(
        city.health_officer,
        "birth",
        [
            {
                "certificate_number": "Q990000061",
                "newborn_name": "李小宝",
                "newborn_gender": "女",
                "birth_date": "2026-11-01",
                "hospital": "示范市妇幼保健院",
                "mother_id_number": mother,
                "mother_name": "王芳",
                "father_id_number": father,
                "father_name": "李强",
            }
        ],
    )
    load(
        city.market_officer,
        "legal_person",
        [
            {
                "uscc": uscc(61),
                "name": "示范市甲公司",
                "legal_representative": "李强",
                "legal_representative_id_number": father,
            }
        ],
    )

    found = fetch("basedata.person", id_number=mother)
    assert found.records[0]["name"] == "王芳"
    assert found.subjects == [mother]

    household = fetch("basedata.household", household_number="HH61")
    assert sorted(record["name"] for record in household.records) == ["李强", "王芳"]
    assert sorted(household.subjects) == sorted([mother, father])

    births = fetch("basedata.birth", parent_id_number=father)
    assert [record["certificate_number"] for record in births.records] == ["Q990000061"]
    assert births.subjects == [father, mother]

    company = fetch("basedata.legal_person", uscc=uscc(61))
    assert company.records[0]["name"] == "示范市甲公司"
    assert company.subjects == [uscc(61), father]

    assert fetch("basedata.person", id_number=rid(65)).records == []
    assert fetch("licences.by_holder", holder_id_number=rid(65)).records == []
    assert fetch("basedata.address", q="柳岸路").subjects == []
    with pytest.raises(ProviderInvalid):
        fetch("basedata.person", id_number=basedata_conftest.bad_rid(61))
