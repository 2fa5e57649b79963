"""Sharing request, grant and system pages and the /api/sharing/grants/ endpoints."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tongban.apps.sharing.models import ConsumerSystem, Grant, RequestStatus, SharingRequest
from tongban.apps.sharing.tests import fixtures_grants
from tongban.apps.sharing.tests.fixtures_grants import GrantsCity
from tongban.platform.events.models import Event
from tongban.platform.notify.models import Message

pytestmark = pytest.mark.django_db
grants_city = fixtures_grants.grants_city


def _counts() -> tuple[int, int, int, int]:
    return (
        SharingRequest.objects.count(),
        Grant.objects.count(),
        Event.objects.filter(name__startswith="sharing.").count(),
        Message.objects.count(),
    )


def _form(city: GrantsCity, resource_code: str) -> dict[str, object]:
    today = timezone.localdate()
    return {
        "resource": resource_code,
        "system": city.system.pk,
        "items": ["name", "gender"],
        "purpose": "低保资格核查",
        "legal_basis": "《社会救助暂行办法》",
        "period_start": today.isoformat(),
        "period_end": (today + dt.timedelta(days=90)).isoformat(),
    }


def test_the_new_request_page_takes_the_resource_code(client, grants_city: GrantsCity) -> None:
    client.force_login(grants_city.officer)
    url = reverse("sharing:request_new")
    assert url == "/sharing/requests/new/"
    picker = client.get(url)
    assert picker.status_code == 200
    assert "1010010001" in picker.content.decode()
    assert "1010010003" not in picker.content.decode()  # not shared: not offered
    page = client.get(url, {"resource": "1010010001"})
    assert page.status_code == 200
    body = page.content.decode()
    assert 'value="household_address"' in body
    assert "低保审批系统" in body
    assert client.get(url, {"resource": "9999999999"}).status_code == 404
    refused = client.get(url, {"resource": grants_city.not_shared.code})
    assert "不能申请共享" in refused.content.decode()


def test_posting_a_request_for_an_unconditional_resource_grants_it(
    client, grants_city: GrantsCity
) -> None:
    client.force_login(grants_city.officer)
    response = client.post(
        reverse("sharing:request_new"), _form(grants_city, grants_city.unconditional.code)
    )
    request = SharingRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("sharing:request", args=[request.pk])
    assert request.status == RequestStatus.APPROVED
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    assert request.number in detail.content.decode()


def test_an_invalid_request_form_is_shown_again(client, grants_city: GrantsCity) -> None:
    client.force_login(grants_city.officer)
    form = _form(grants_city, grants_city.conditional.code)
    form["purpose"] = ""
    response = client.post(reverse("sharing:request_new"), form)
    assert response.status_code == 422
    assert "请填写使用用途" in response.content.decode()
    assert not SharingRequest.objects.exists()


def test_the_provider_approves_from_the_request_page(client, grants_city: GrantsCity) -> None:
    request = grants_city.request()
    client.force_login(grants_city.reviewer)
    listing = client.get(reverse("sharing:requests"), {"side": "provider", "status": "submitted"})
    assert request.number in listing.content.decode()
    page = client.get(reverse("sharing:request", args=[request.pk]))
    assert "同意并授权" in page.content.decode()
    response = client.post(
        reverse("sharing:request_act", args=[request.pk, "approve"]),
        {"items": ["id_number", "name"], "masked_items": ["id_number"], "rate_limit": "30"},
    )
    grant = Grant.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("sharing:grant", args=[grant.pk])
    assert grant.items == ["id_number", "name"]
    assert grant.masked_items == ["id_number"]
    assert grant.rate_limit_per_minute == 30


def test_refusing_without_reasons_is_rejected(client, grants_city: GrantsCity) -> None:
    request = grants_city.request()
    client.force_login(grants_city.reviewer)
    response = client.post(
        reverse("sharing:request_act", args=[request.pk, "refuse"]), {"reasons": ""}
    )
    assert response.status_code == 422
    assert "拒绝共享申请必须说明理由" in response.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.SUBMITTED


def test_another_department_cannot_see_or_review(client, grants_city: GrantsCity) -> None:
    request = grants_city.request()
    before = _counts()
    client.force_login(grants_city.other_officer)
    assert client.get(reverse("sharing:request", args=[request.pk])).status_code == 404
    response = client.post(reverse("sharing:request_act", args=[request.pk, "approve"]))
    assert response.status_code == 404
    assert _counts() == before
    # the consumer sees it but may not decide it
    client.force_login(grants_city.officer)
    assert client.get(reverse("sharing:request", args=[request.pk])).status_code == 200
    response = client.post(
        reverse("sharing:request_act", args=[request.pk, "refuse"]), {"reasons": "自己拒绝"}
    )
    assert response.status_code == 403
    assert _counts() == before
    request.refresh_from_db()
    assert request.status == RequestStatus.SUBMITTED


def test_the_consumer_withdraws(client, grants_city: GrantsCity) -> None:
    request = grants_city.request()
    client.force_login(grants_city.officer)
    response = client.post(reverse("sharing:request_act", args=[request.pk, "withdraw"]))
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.WITHDRAWN


def test_a_citizen_is_refused_the_sharing_pages(client, grants_city: GrantsCity) -> None:
    client.force_login(factories.citizen("zhangsan"))
    for name in ("sharing:requests", "sharing:grants", "sharing:request_new", "sharing:systems"):
        assert client.get(reverse(name)).status_code == 403, name


def test_grants_are_listed_on_both_sides_and_revoked_by_the_provider(
    client, grants_city: GrantsCity
) -> None:
    grant = Grant.objects.get(request=grants_city.request(grants_city.unconditional))
    client.force_login(grants_city.officer)
    mine = client.get(reverse("sharing:grants"))
    assert reverse("sharing:grant", args=[grant.pk]) in mine.content.decode()
    assert "撤销授权" not in client.get(reverse("sharing:grant", args=[grant.pk])).content.decode()
    assert (
        client.post(reverse("sharing:grant_revoke", args=[grant.pk]), {"reason": "x"}).status_code
        == 403
    )
    client.force_login(grants_city.other_officer)
    assert client.get(reverse("sharing:grant", args=[grant.pk])).status_code == 404
    assert (
        client.post(reverse("sharing:grant_revoke", args=[grant.pk]), {"reason": "x"}).status_code
        == 404
    )
    client.force_login(grants_city.reviewer)
    theirs = client.get(reverse("sharing:grants"), {"side": "provider"})
    assert reverse("sharing:grant", args=[grant.pk]) in theirs.content.decode()
    assert (
        client.post(reverse("sharing:grant_revoke", args=[grant.pk]), {"reason": ""}).status_code
        == 422
    )
    response = client.post(reverse("sharing:grant_revoke", args=[grant.pk]), {"reason": "停用"})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None


def test_the_secret_is_shown_once_on_registration_and_rotation(
    client, grants_city: GrantsCity
) -> None:
    client.force_login(grants_city.sysadmin)
    response = client.post(
        reverse("sharing:systems"),
        {"department": grants_city.consumer.pk, "code": "mzj-yanglao", "name": "养老服务系统"},
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    system = ConsumerSystem.objects.get(code="mzj-yanglao")
    body = response.content.decode()
    start = body.index('id="system-secret">') + len('id="system-secret">')
    secret = body[start : body.index("<", start)]
    assert secret.startswith("tbs_")
    from tongban.apps.sharing import grants

    assert grants.system_check_secret(system, secret)
    detail = client.get(reverse("sharing:system", args=[system.pk]))
    assert secret not in detail.content.decode()
    rotated = client.post(reverse("sharing:system_act", args=[system.pk, "rotate"]))
    assert rotated.status_code == 200
    assert "system-secret" in rotated.content.decode()
    system.refresh_from_db()
    assert not grants.system_check_secret(system, secret)
    bad_key = client.post(
        reverse("sharing:system_act", args=[system.pk, "key"]), {"public_key_pem": "nonsense"}
    )
    assert bad_key.status_code == 422
    # another department's admin cannot reach it
    client.force_login(grants_city.other_officer)
    assert client.get(reverse("sharing:system", args=[system.pk])).status_code == 404


def test_the_api_creates_decides_and_lists(client, grants_city: GrantsCity) -> None:
    today = timezone.localdate()
    client.force_login(grants_city.officer)
    response = client.post(
        "/api/sharing/grants/requests",
        {
            "resource_code": grants_city.conditional.code,
            "system_code": grants_city.system.code,
            "items": ["name"],
            "purpose": "核查",
            "legal_basis": "依据",
            "period_start": today.isoformat(),
            "period_end": (today + dt.timedelta(days=30)).isoformat(),
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "submitted"
    assert created["due_at"]
    listing = client.get("/api/sharing/grants/requests").json()
    assert [row["number"] for row in listing] == [created["number"]]
    client.force_login(grants_city.other_officer)
    denied = client.post(
        f"/api/sharing/grants/requests/{created['id']}/approve", {}, content_type="application/json"
    )
    assert denied.status_code == 404
    client.force_login(grants_city.reviewer)
    refused = client.post(
        f"/api/sharing/grants/requests/{created['id']}/refuse",
        {"reasons": ""},
        content_type="application/json",
    )
    assert refused.status_code == 400
    approved = client.post(
        f"/api/sharing/grants/requests/{created['id']}/approve",
        {"rate_limit_per_minute": 10},
        content_type="application/json",
    )
    assert approved.status_code == 200, approved.content
    grant = approved.json()
    assert grant["state"] == "live"
    assert grant["items"] == ["name"]
    assert grant["masked_items"] == ["name"]
    provider_view = client.get("/api/sharing/grants/", {"side": "provider"}).json()
    assert [row["id"] for row in provider_view] == [grant["id"]]
    revoked = client.post(
        f"/api/sharing/grants/{grant['id']}/revoke",
        {"reason": "停止"},
        content_type="application/json",
    )
    assert revoked.status_code == 200
    assert revoked.json()["state"] == "revoked"


def test_the_reviewer_sees_pending_requests_on_the_workbench(grants_city: GrantsCity) -> None:
    from tongban.apps.sharing import workbench

    request = grants_city.request()
    items = workbench.sharing_requests_to_review(grants_city.reviewer, 10)
    assert [item.url for item in items] == [reverse("sharing:request", args=[request.pk])]
    assert items[0].due == timezone.localtime(request.due_at).date()
    assert workbench.sharing_requests_to_review(grants_city.other_officer, 10) == []
    assert any(item.url == items[0].url for item in workbench.todo(grants_city.reviewer, 20))
