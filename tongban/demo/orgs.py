"""Organisation rows of the demo city: divisions, departments and units, created once
(looked up by code), with deterministic, valid unified social credit codes."""

from __future__ import annotations

import random

from tongban.platform.accounts.idnumbers import make_uscc
from tongban.platform.orgs.models import Department, Division, GovernmentBody, Unit

ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def org_code(seed: str) -> str:
    rng = random.Random(seed)  # noqa: S311 - deterministic demo data
    return "".join(rng.choice(ORG_ALPHABET) for _ in range(9))


def division(code: str, name: str, level: int, parent: Division | None) -> Division:
    row, _ = Division.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "level": level,
            "parent": parent,
            "path": (parent.path if parent else "/") + code + "/",
        },
    )
    return row


def department(
    division: Division,
    code: str,
    name: str,
    short: str,
    body: GovernmentBody | None,
    parent: Department | None,
) -> Department:
    row, _ = Department.objects.get_or_create(
        code=code,
        defaults={
            "division": division,
            "name": name,
            "short_name": short,
            "body": body,
            "parent": parent,
            "uscc": make_uscc("1", "1", division.code[:6], org_code(code)),
            "path": (parent.path if parent else "/") + code + "/",
            "division_path": division.path,
        },
    )
    return row


def unit(department: Department, index: int, name: str) -> Unit:
    code = f"{department.code}-U{index:02d}"
    row, _ = Unit.objects.get_or_create(
        code=code,
        defaults={
            "department": department,
            "name": name,
            "path": f"/{code}/",
            "department_path": department.path,
            "division_path": department.division_path,
        },
    )
    return row
