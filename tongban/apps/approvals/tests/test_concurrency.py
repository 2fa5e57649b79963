"""Real concurrent connections on PostgreSQL (SQLite serialises writers: skipped there)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from tongban.apps.approvals import services
from tongban.apps.approvals.models import Case, CaseState, Opinion
from tongban.apps.approvals.tests.conftest import make_city, upload
from tongban.platform.workflow.models import WorkTask

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)"
    ),
]


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; each result or exception in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as error:  # noqa: BLE001  (the result under test)
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_officers_completing_one_task_exactly_one_succeeds():
    city = make_city()
    case = services.case_submit(
        actor=city.citizen, item_id=city.item_id, materials=city.materials()
    )
    case = services.case_accept(actor=city.clerk, case=case, checked=["食品经营许可申请书"])
    task = WorkTask.objects.get(instance_id=case.process_instance_id, state="ready")
    results = race(
        lambda: services.case_task_complete(
            actor=city.officer, case=case, task_id=task.pk, opinion="李：同意"
        ),
        lambda: services.case_task_complete(
            actor=city.officer2, case=case, task_id=task.pk, opinion="赵：同意"
        ),
    )
    successes = [result for result in results if isinstance(result, Case)]
    failures = [result for result in results if isinstance(result, ValidationError)]
    assert len(successes) == 1, results
    assert len(failures) == 1, results
    assert failures[0].messages == ["该环节已由他人办理，请刷新后查看最新进度"]
    assert Opinion.objects.filter(case=case).count() == 1
    assert (
        WorkTask.objects.filter(instance_id=case.process_instance_id, spec_id="review_1").count()
        == 1
    )
    assert (
        WorkTask.objects.get(spec_id="decide", instance_id=case.process_instance_id).state
        == "ready"
    )
    assert Case.objects.get(pk=case.pk).state == CaseState.IN_REVIEW


def test_a_double_clicked_submit_creates_one_case():
    city = make_city()
    first, second = upload(city.citizen), upload(city.citizen)

    def submit(file_id: Any) -> Case:
        return services.case_submit(
            actor=city.citizen,
            item_id=city.item_id,
            idempotency_key="double-click-9e2f41",
            materials=[services.MaterialInput(name="食品经营许可申请书", file_id=file_id)],
        )

    results = race(lambda: submit(first.pk), lambda: submit(second.pk))
    assert all(isinstance(result, Case) for result in results), results
    assert results[0].pk == results[1].pk
    assert Case.objects.count() == 1
    # the losing transaction rolled back whole: its serial was not used
    assert Case.objects.get().number.endswith("000001")
    assert services.case_submit(
        actor=city.citizen, item_id=city.item_id, materials=city.materials()
    ).number.endswith("000002")


def test_concurrent_submissions_get_distinct_gapless_numbers():
    city = make_city()
    files = [upload(city.citizen) for _ in range(4)]
    results = race(
        *[
            (
                lambda file_id=stored.pk: services.case_submit(
                    actor=city.citizen,
                    item_id=city.item_id,
                    materials=[services.MaterialInput(name="食品经营许可申请书", file_id=file_id)],
                )
            )
            for stored in files
        ]
    )
    assert all(isinstance(result, Case) for result in results), results
    serials = sorted(int(result.number[-6:]) for result in results)
    assert serials == [1, 2, 3, 4]
