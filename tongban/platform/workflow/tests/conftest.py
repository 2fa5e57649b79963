from __future__ import annotations

import pytest

from tests import factories
from tongban.platform.access.models import Scope
from tongban.platform.workflow import engine, permissions
from tongban.platform.workflow.services import TaskTarget


@pytest.fixture(autouse=True)
def _fresh_spec_cache():
    # definition ids are reused between tests (rolled back); the cache keys on id + hash
    engine.cache_clear()
    yield
    engine.cache_clear()


@pytest.fixture
def org(db):
    city = factories.division()
    market = factories.department(city, "SCJG", "市场监管局")
    tax = factories.department(city, "SWJ", "税务局")
    centre = factories.department(city, "ZWFW", "政务服务中心")
    return {
        "city": city,
        "market": market,
        "tax": tax,
        "centre": centre,
        "licensing": factories.unit(market, "SCJG-XK", "行政许可处"),
        "tax_unit": factories.unit(tax, "SWJ-DJ", "登记科"),
        "window": factories.unit(centre, "ZWFW-CK", "综合窗口"),
    }


@pytest.fixture
def people(org):
    licensing_section = factories.unit(
        org["market"], "SCJG-XK-1", "许可一科", parent=org["licensing"]
    )
    admin_role = factories.role("workflow_admin", [permissions.DEFINITION_MANAGE])
    return {
        "clerk": factories.staff("clerk", org["window"], position="窗口受理员"),
        "clerk2": factories.staff("clerk2", org["window"], position="窗口受理员"),
        "officer": factories.staff("officer", licensing_section, position="科员"),
        "officer2": factories.staff("officer2", org["licensing"], position="科员"),
        "taxman": factories.staff("taxman", org["tax_unit"], position="科员"),
        "leader": factories.staff("leader", org["licensing"], position="分管副局长"),
        "admin": factories.staff(
            "wfadmin", org["window"], role_obj=admin_role, scope=Scope.DEPARTMENT
        ),
        "nobody": factories.staff("nobody"),
    }


@pytest.fixture
def targets(org, people):
    return {
        "window": TaskTarget(department_code="ZWFW", unit_code="ZWFW-CK"),
        "market": TaskTarget(department_code="SCJG", unit_code="SCJG-XK", position_code="科员"),
        "tax": TaskTarget(department_code="SWJ"),
        "leader": TaskTarget(department_code="SCJG", position_code="分管副局长"),
    }
