"""The call log's seals and their verification; fetch_for_department."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from tongban.apps.sharing import gateway_log
from tongban.apps.sharing.gateway import fetch_for_department
from tongban.apps.sharing.models import CallResult, GatewayCall, Grant, LogSeal
from tongban.apps.sharing.public import SharingDenied, SharingUnavailable
from tongban.apps.sharing.tests.fixtures_gateway import (  # noqa: F401
    OTHER_ID,
    PERSON_ID,
    RESOURCE_CODE,
    gateway_city_fixture,  # noqa: F401
)

URL = f"/gateway/v1/resources/{RESOURCE_CODE}"


def make_calls(client, city, count: int) -> None:
    token = city.token(client)
    for index in range(count):
        number = PERSON_ID if index % 2 else OTHER_ID
        response = client.get(
            URL, {"id_number": number}, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_PURPOSE="审核"
        )
        assert response.status_code == 200
    client.get(URL, {"id_number": PERSON_ID})  # a refused call is logged and sealed too


def settle() -> None:
    GatewayCall.objects.update(at=timezone.now() - dt.timedelta(minutes=1))
    for call in GatewayCall.objects.all():  # ``at`` is in the digest
        GatewayCall.objects.filter(pk=call.pk).update(digest=gateway_log.call_digest(call))


def sealed_log(client, city, count: int = 7, batch: int = 3) -> list[LogSeal]:
    make_calls(client, city, count)
    settle()
    while gateway_log.seal_batch(batch=batch) is not None:
        pass
    return list(LogSeal.objects.order_by("id"))


def test_seal_chains_and_signs_batches(client, gateway_city):
    seals = sealed_log(client, gateway_city, count=7, batch=3)
    assert [seal.count for seal in seals] == [3, 3, 2]
    assert seals[0].previous_hash == gateway_log.GENESIS_HASH
    assert seals[1].previous_hash == seals[0].chain_hash
    assert not GatewayCall.objects.filter(seal__isnull=True).exists()
    report = gateway_log.log_verify()
    assert report.ok, report.problem
    assert report.calls == 8
    assert report.seals == 3
    assert report.unsealed == 0


def test_recent_calls_wait_for_the_next_seal(client, gateway_city):
    make_calls(client, gateway_city, 2)
    assert gateway_log.seal() == 0  # younger than SEAL_SETTLE
    settle()
    assert gateway_log.seal() == 3
    assert gateway_log.log_verify().ok


def test_updated_records_are_detected(client, gateway_city):
    sealed_log(client, gateway_city)
    victim = GatewayCall.objects.order_by("id")[4]
    GatewayCall.objects.filter(pk=victim.pk).update(records=99)
    report = gateway_log.log_verify()
    assert report.problem is not None
    assert report.problem.kind == "altered"
    assert report.problem.call_id == victim.pk


def test_rehashed_alteration_is_detected_by_the_chain(client, gateway_city):
    sealed_log(client, gateway_city)
    victim = GatewayCall.objects.order_by("id")[1]
    victim.purpose = "别的用途"
    GatewayCall.objects.filter(pk=victim.pk).update(
        purpose=victim.purpose, digest=gateway_log.call_digest(victim)
    )
    report = gateway_log.log_verify()
    assert report.problem is not None
    assert report.problem.kind == "deleted_or_inserted"
    assert report.problem.seal_id == victim.seal_id


def test_deleted_call_is_detected(client, gateway_city):
    seals = sealed_log(client, gateway_city)
    victim = GatewayCall.objects.filter(seal=seals[1]).order_by("id")[0]
    with connection.cursor() as cursor:  # behind the application's back
        cursor.execute("DELETE FROM sharing_gatewaycallsubject WHERE call_id = %s", [victim.pk])
        cursor.execute("DELETE FROM sharing_gatewaycall WHERE id = %s", [victim.pk])
    report = gateway_log.log_verify()
    assert report.problem is not None
    assert report.problem.kind == "deleted_or_inserted"
    assert report.problem.seal_id == seals[1].pk
    with pytest.raises(CommandError, match="BROKEN"):
        call_command("sharing_log_verify")


def test_forged_seal_signature_is_detected(client, gateway_city):
    seals = sealed_log(client, gateway_city)
    LogSeal.objects.filter(pk=seals[2].pk).update(signature=bytes(seals[1].signature))
    report = gateway_log.log_verify()
    assert report.problem is not None
    assert report.problem.kind == "bad_signature"


def test_unsealed_tampering_is_detected_too(client, gateway_city):
    make_calls(client, gateway_city, 2)
    GatewayCall.objects.filter(pk=GatewayCall.objects.order_by("id")[0].pk).update(
        result=CallResult.DENIED
    )
    problem = gateway_log.log_verify().problem
    assert problem is not None
    assert problem.kind == "altered"


def test_verify_command_reports_ok(client, gateway_city, capsys):
    sealed_log(client, gateway_city, count=3)
    call_command("sharing_log_verify", "--seal")
    assert "sharing call log OK: 4 calls" in capsys.readouterr().out


# ----------------------------------------------------------------------------- platform apps


def test_fetch_for_department(gateway_city):
    result = fetch_for_department(
        department_id=gateway_city.civil.pk,
        resource_code=RESOURCE_CODE,
        parameters={"id_number": PERSON_ID},
        purpose="办理结婚登记",
        case_number="MZ-1",
    )
    assert result.resource_name == "人口基础信息"
    assert result.provider_name == "示范市公安局"
    assert result.items[0] == ("id_number", "公民身份号码")
    assert result.records[0]["phone"] == "139****5678"
    assert "household_address" not in result.records[0]
    logged = GatewayCall.objects.get(pk=result.call_id)
    assert logged.consumer_system == gateway_city.platform_system
    assert logged.case_number == "MZ-1"
    assert logged.result == CallResult.OK


def test_fetch_for_department_refusals(gateway_city):
    def fetch(number=PERSON_ID, department=None):
        return fetch_for_department(
            department_id=(department or gateway_city.civil).pk,
            resource_code=RESOURCE_CODE,
            parameters={"id_number": number},
            purpose="办理结婚登记",
        )

    with pytest.raises(SharingUnavailable):
        fetch(PERSON_ID[:-4] + "0000")  # no record
    with pytest.raises(SharingDenied, match="平台内应用"):
        fetch(department=gateway_city.police)
    Grant.objects.filter(pk=gateway_city.platform_grant.pk).update(revoked_at=timezone.now())
    with pytest.raises(SharingDenied):
        fetch()
    assert GatewayCall.objects.filter(result=CallResult.DENIED).count() == 1
    assert GatewayCall.objects.filter(result=CallResult.NOT_FOUND).count() == 1
