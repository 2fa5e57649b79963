"""The exchange demo loads on a minimal city and a second run creates nothing."""

from __future__ import annotations

import io
from typing import Any

from tests import factories
from tongban.apps.exchange.models import Dataset, Delivery, DeliveryStatus, ExchangeJob
from tongban.demo import exchange


def test_the_demo_loads_once(db: Any) -> None:
    division = factories.division()
    units = {}
    for code, name in (
        ("SCJ", "示范市市场监督管理局"),
        ("WJW", "示范市卫生健康委员会"),
        ("MZJ", "示范市民政局"),
    ):
        department = factories.department(division, code, name)
        units[code] = factories.unit(department, f"{code}-1", "科室")
    factories.staff("officer", units["SCJ"])
    factories.staff("wjw_u01c", units["WJW"])
    factories.staff("mzj_u01c", units["MZJ"])
    out = io.StringIO()
    summary = exchange.load(out)
    assert summary["jobs_created"] == 2
    assert Dataset.objects.count() == 3
    assert Delivery.objects.filter(status=DeliveryStatus.RECEIVED).count() == 1
    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 2
    assert Delivery.objects.filter(status=DeliveryStatus.FAILED).count() == 2
    assert "exchange demo" in out.getvalue()
    again = exchange.load()
    assert again["jobs_created"] == 0
    assert (ExchangeJob.objects.count(), Dataset.objects.count()) == (2, 3)
