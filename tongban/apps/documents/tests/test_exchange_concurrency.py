"""Concurrent sends of one document (PostgreSQL: real concurrent connections): every unit
ends up with exactly one live copy, and the overdue job reports each copy once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from tongban.apps.documents import exchange
from tongban.apps.documents.models import Delivery, Dispatch
from tongban.apps.documents.tests import fixtures_exchange
from tongban.apps.documents.tests.fixtures_exchange import ExchangeCity, sealed_document
from tongban.platform.events.models import Event

exchange_city = fixtures_exchange.exchange_city


@pytest.mark.django_db(transaction=True)
def test_parallel_sends_give_each_unit_one_copy(exchange_city: ExchangeCity) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections (PostgreSQL)")
    city = exchange_city
    document = sealed_document(city)
    units = [d.pk for d in city.recipients]
    barrier = threading.Barrier(4)
    outcomes: list[str] = []
    lock = threading.Lock()

    def send(offset: int) -> None:
        try:
            barrier.wait()
            # overlapping picks: every thread asks for most of the units
            picked = units[offset:] + units[:1]
            try:
                exchange.document_send(
                    actor=city.sender, document=document, recipients=picked, groups=[]
                )
                result = "sent"
            except ValidationError:
                result = "nothing left"
            with lock:
                outcomes.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 4
    held = list(Delivery.objects.filter(document=document).values_list("recipient_id", flat=True))
    assert sorted(held) == sorted(units)  # each unit once, none missing
    assert Dispatch.objects.filter(document=document).count() == outcomes.count("sent")

    # two workers running the overdue job at once report each copy once
    later = timezone.now() + dt.timedelta(days=30)
    counts: list[int] = []
    start = threading.Barrier(2)

    def job() -> None:
        try:
            start.wait()
            reported = exchange.deliveries_remind_overdue(now=later)
            with lock:
                counts.append(reported)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=job) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sum(counts) == len(units)
    assert Event.objects.filter(name="documents.delivery.overdue").count() == len(units)
