"""Concurrent issuance on PostgreSQL: serials stay gap-free and unique, one per source."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from tongban.apps.licences.models import Licence
from tongban.apps.licences.tests.builders import issue

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need real concurrent connections"
    ),
]


def _run_together(count: int, work) -> list[BaseException]:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_concurrent_issues_take_consecutive_serials(city):
    issue(city)  # the key and the counter exist; the race is on the counter row
    errors = _run_together(6, lambda index: issue(city, source=f"case:{index}"))
    assert errors == []
    serials = sorted(Licence.objects.values_list("serial", flat=True))
    assert serials == [1, 2, 3, 4, 5, 6, 7]


def test_concurrent_issues_for_one_source_make_one_licence(city):
    errors = _run_together(4, lambda index: issue(city, source="approvals.case:1"))
    assert errors == []
    assert Licence.objects.count() == 1
    assert Licence.objects.get().serial == 1
