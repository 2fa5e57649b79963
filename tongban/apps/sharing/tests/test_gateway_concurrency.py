"""A grant revoked while calls are in flight (PostgreSQL: real concurrent connections)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from tongban.apps.sharing.models import CallResult, GatewayCall, Grant
from tongban.apps.sharing.tests.fixtures_gateway import (  # noqa: F401
    PERSON_ID,
    RESOURCE_CODE,
    gateway_city_fixture,
)

URL = f"/gateway/v1/resources/{RESOURCE_CODE}"


@pytest.mark.django_db(transaction=True)
def test_no_call_starting_after_a_revocation_is_served(gateway_city):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections (PostgreSQL)")
    Grant.objects.filter(pk=gateway_city.grant.pk).update(rate_limit_per_minute=100_000)
    token = gateway_city.token(Client())
    revoked_at: list[float] = []
    seen: list[tuple[float, int]] = []
    lock = threading.Lock()
    stop = time.monotonic() + 30

    def caller() -> None:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_PURPOSE="test")
        try:
            while time.monotonic() < stop and (
                not revoked_at or time.monotonic() < revoked_at[0] + 1.0
            ):
                started = time.monotonic()
                status = client.get(URL, {"id_number": PERSON_ID}).status_code
                with lock:
                    seen.append((started, status))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=caller) for _ in range(4)]
    for thread in threads:
        thread.start()
    while time.monotonic() < stop and not any(status == 200 for _s, status in list(seen)):
        time.sleep(0.05)  # until calls are being served (a loaded machine is slow to start)
    Grant.objects.filter(pk=gateway_city.grant.pk).update(revoked_at=timezone.now())
    revoked_at.append(time.monotonic())  # committed (autocommit) before this moment
    for thread in threads:
        thread.join()
    after = [status for started, status in seen if started > revoked_at[0]]
    before = [status for started, status in seen if started < revoked_at[0]]
    assert 200 in before
    assert after, "no call started after the revocation"
    assert set(after) == {403}
    assert GatewayCall.objects.count() == len(seen)  # every call logged
    assert GatewayCall.objects.filter(result=CallResult.DENIED).count() >= len(after)
