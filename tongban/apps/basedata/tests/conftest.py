"""A small city for the base-database tests: 公安, 民政, 卫健, 市场监管 and 人社 with an
officer each (update + view over their own department), a data steward, a citizen."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from tests import factories
from tongban.apps.basedata import permissions
from tongban.platform.access.models import Scope
from tongban.platform.accounts.idnumbers import make_resident_id, make_uscc
from tongban.platform.accounts.models import User
from tongban.platform.orgs.models import Department


@dataclass
class City:
    police: Department
    civil: Department
    health: Department
    market: Department
    hr: Department
    police_officer: User
    civil_officer: User
    health_officer: User
    market_officer: User
    hr_officer: User
    steward: User
    viewer: User
    citizen: User


def rid(sequence: int, birth: dt.date = dt.date(1988, 3, 14), area: str = "990102") -> str:
    return make_resident_id(area, birth, sequence)


def bad_rid(sequence: int) -> str:
    good = rid(sequence)
    wrong = next(c for c in "0123456789X" if c != good[17])
    return good[:17] + wrong


def uscc(seed: int) -> str:
    return make_uscc("9", "1", "990100", f"MA{seed:06d}X")


@pytest.fixture
def city(db: Any) -> City:
    division = factories.division()
    role = factories.role("basedata_provider", [permissions.RECORD_UPDATE, permissions.RECORD_VIEW])
    steward_role = factories.role(
        "basedata_steward", [permissions.RECORD_VIEW, permissions.QUALITY_RESOLVE]
    )
    viewer_role = factories.role("basedata_viewer", [permissions.RECORD_VIEW])
    departments = {}
    officers = {}
    for code, name in [
        ("GAJ", "示范市公安局"),
        ("MZJ", "示范市民政局"),
        ("WJW", "示范市卫生健康委员会"),
        ("SCJ", "示范市市场监督管理局"),
        ("RSJ", "示范市人力资源和社会保障局"),
        ("ZSJ", "示范市政务服务数据管理局"),
    ]:
        department = factories.department(division, code, name)
        unit = factories.unit(department, f"{code}-U01", "业务科")
        departments[code] = department
        if code != "ZSJ":
            officers[code] = factories.staff(
                f"officer_{code.lower()}", unit, role_obj=role, scope=Scope.DEPARTMENT
            )
    zsj_unit = departments["ZSJ"].units.first()
    steward = factories.staff("steward", zsj_unit, role_obj=steward_role, scope=Scope.DIVISION)
    viewer = factories.staff("viewer", zsj_unit, role_obj=viewer_role, scope=Scope.DIVISION)
    return City(
        police=departments["GAJ"],
        civil=departments["MZJ"],
        health=departments["WJW"],
        market=departments["SCJ"],
        hr=departments["RSJ"],
        police_officer=officers["GAJ"],
        civil_officer=officers["MZJ"],
        health_officer=officers["WJW"],
        market_officer=officers["SCJ"],
        hr_officer=officers["RSJ"],
        steward=steward,
        viewer=viewer,
        citizen=factories.citizen("citizen", "张三"),
    )


def person_row(number: str, **extra: Any) -> dict[str, Any]:
    return {
        "id_number": number,
        "name": "王小明",
        "gender": "男",
        "ethnicity": "汉族",
        "birth_date": "1988-03-14",
        "household_number": "HH0001",
        "household_address": "示范市东湖区湖滨街道柳岸路1号",
        "relation_to_head": "户主",
        "residence_address": "示范市东湖区湖滨街道柳岸路1号",
        **extra,
    }
