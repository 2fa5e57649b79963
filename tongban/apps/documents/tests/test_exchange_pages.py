"""Exchange pages and API: send (tree, groups, preview), per-unit status with CSV, the
inbox (read, sign, return, 退文告知单), groups; who gets 403/404."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from tongban.apps.documents import exchange
from tongban.apps.documents.models import Delivery, DeliveryState, Dispatch
from tongban.apps.documents.tests import fixtures_exchange
from tongban.apps.documents.tests.fixtures_exchange import API, ExchangeCity, sealed_document
from tongban.platform.notify.models import Message

pytestmark = pytest.mark.django_db
exchange_city = fixtures_exchange.exchange_city


def test_send_page_preview_send_and_status(
    client, exchange_city: ExchangeCity, django_capture_on_commit_callbacks
) -> None:
    city = exchange_city
    group = exchange.group_create(
        actor=city.group_admin,
        owner=None,
        name="各区人民政府",
        members=[d.pk for d in city.districts],
    )
    document = sealed_document(city)
    url = reverse("documents:document_send", args=[document.pk])
    assert url == f"/documents/send/{document.pk}/"
    client.force_login(city.other_sender)
    assert client.get(url).status_code == 404  # another issuer's document
    client.force_login(city.sender)
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "示范市东区" in body
    assert "各区人民政府" in body
    assert "示范市教育考试院" in body
    assert 'data-select-under="' in body
    assert "示范市人民政府办公室</label>" not in body
    form = {
        "recipients": [city.bureaus[0].pk],
        "groups": [group.pk],
        "sign_within_hours": "24",
        "message": "请于本周内签收",
    }
    preview = client.post(url, {**form, "action": "preview"})
    assert preview.status_code == 200
    assert "将分发至 4 个单位" in preview.content.decode()
    assert not Dispatch.objects.exists()
    # a whole division ticked without JavaScript: its three districts
    division_preview = client.post(
        url,
        {"divisions": [city.district_division.pk], "sign_within_hours": "24", "action": "preview"},
    )
    assert "将分发至 3 个单位" in division_preview.content.decode()
    bad = client.post(url, {**form, "sign_within_hours": "0", "action": "send"})
    assert bad.status_code == 400
    assert "签收时限" in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(url, {**form, "action": "send"})
    dispatch = Dispatch.objects.get()
    assert sent.status_code == 302
    assert sent.url == reverse("documents:dispatch_detail", args=[dispatch.pk])
    assert dispatch.recipient_count == 4
    assert dispatch.message == "请于本周内签收"

    delivery_a = Delivery.objects.get(recipient=city.districts[0])
    exchange.delivery_sign(actor=city.clerk_a, delivery=delivery_a)
    status = client.get(sent.url)
    text = status.content.decode()
    assert status.status_code == 200
    assert "示范市西区人民政府" in text
    assert "催办全部未签收单位（3）" in text
    pending_only = client.get(sent.url, {"state": "pending"}).content.decode()
    assert "示范市东区人民政府" not in pending_only
    assert "示范市西区人民政府" in pending_only
    # the viewer sees the status but may not act; other issuers get 404
    client.force_login(city.viewer)
    viewed = client.get(sent.url).content.decode()
    assert "催办全部未签收单位" not in viewed
    client.force_login(city.other_sender)
    assert client.get(sent.url).status_code == 404
    client.force_login(city.sender)
    with django_capture_on_commit_callbacks(execute=True):
        reminded = client.post(reverse("documents:dispatch_remind", args=[dispatch.pk]))
    assert reminded.status_code == 302
    assert Message.objects.filter(recipient=city.clerk_b, subject__contains="催办").exists()
    delivery_c = Delivery.objects.get(recipient=city.districts[2])
    client.post(reverse("documents:delivery_recall", args=[delivery_c.pk]))
    delivery_c.refresh_from_db()
    assert delivery_c.state == DeliveryState.RECALLED

    exported = client.get(reverse("documents:dispatch_csv", args=[dispatch.pk]))
    assert exported["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["单位编码", "单位名称", "状态"]
    by_code = {row[0]: row for row in rows[1:]}
    assert set(by_code) == {"DQ01", "DQ02", "DQ03", "JYJ"}
    assert by_code["DQ01"][2] == "已签收"
    assert by_code["DQ01"][6]
    assert by_code["DQ03"][2] == "已撤回"
    assert by_code["DQ02"][12] == "1"


def test_inbox_read_sign_return_and_notice(client, exchange_city: ExchangeCity) -> None:
    city = exchange_city
    first = exchange.document_send(
        actor=city.sender,
        document=sealed_document(city, title="关于甲事项的通知"),
        recipients=[city.districts[0].pk, city.districts[1].pk],
        groups=[],
    )
    exchange.document_send(
        actor=city.sender,
        document=sealed_document(city, title="关于乙事项的通知"),
        recipients=[city.districts[0].pk],
        groups=[],
    )
    mine = Delivery.objects.get(dispatch=first, recipient=city.districts[0])
    exchange.delivery_sign(actor=city.clerk_a, delivery=mine)
    client.force_login(city.clerk_a)
    inbox = client.get(reverse("documents:inbox")).content.decode()
    # pending first: 乙 (pending) before 甲 (signed)
    assert inbox.index("关于乙事项的通知") < inbox.index("关于甲事项的通知")
    assert (
        "关于乙事项的通知"
        in client.get(reverse("documents:inbox"), {"state": "pending"}).content.decode()
    )
    other = Delivery.objects.get(dispatch=first, recipient=city.districts[1])
    # another unit's copy: 404 for the page and the actions
    assert client.get(reverse("documents:delivery_detail", args=[other.pk])).status_code == 404
    assert client.post(reverse("documents:delivery_sign", args=[other.pk])).status_code == 404
    client.force_login(city.plain)
    assert client.get(reverse("documents:inbox")).status_code == 403

    client.force_login(city.clerk_b)
    detail = client.get(reverse("documents:delivery_detail", args=[other.pk]))
    assert detail.status_code == 200
    assert "退文理由" in detail.content.decode()
    other.refresh_from_db()
    assert other.read_at is not None
    assert other.read_by == city.clerk_b
    empty = client.post(reverse("documents:delivery_return", args=[other.pk]), {"reason": ""})
    assert empty.status_code == 400
    assert "请填写退文理由" in empty.content.decode()
    returned = client.post(
        reverse("documents:delivery_return", args=[other.pk]), {"reason": "应由市教育局办理"}
    )
    notice_url = reverse("documents:delivery_return_notice", args=[other.pk])
    assert returned.status_code == 302
    assert returned.url == notice_url
    notice = client.get(notice_url).content.decode()
    assert "退文告知单" in notice
    assert "应由市教育局办理" in notice
    assert "data-print" in notice
    client.force_login(city.sender)
    assert client.get(notice_url).status_code == 200
    client.force_login(city.clerk_a)
    assert client.get(notice_url).status_code == 404


def test_group_pages(client, exchange_city: ExchangeCity) -> None:
    city = exchange_city
    client.force_login(city.plain)
    assert client.get(reverse("documents:groups")).status_code == 403
    client.force_login(city.group_admin)
    page = client.get(reverse("documents:groups"))
    assert page.status_code == 200
    assert "新建分组" in page.content.decode()
    created = client.post(
        reverse("documents:groups"),
        {
            "name": "市直教育单位",
            "owner": "",
            "recipients": [city.bureaus[0].pk, city.sub_bureau.pk],
        },
    )
    assert created.status_code == 302
    group = exchange.groups_usable_by(city.office).get(name="市直教育单位")
    assert created.url == reverse("documents:group_detail", args=[group.pk])
    duplicate = client.post(
        reverse("documents:groups"),
        {"name": "市直教育单位", "owner": "", "recipients": [city.bureaus[0].pk]},
    )
    assert duplicate.status_code == 400
    assert "已有同名分组" in duplicate.content.decode()
    client.force_login(city.sender)  # sees the city-wide group, may not change it
    detail = client.get(reverse("documents:group_detail", args=[group.pk])).content.decode()
    assert "示范市教育考试院" in detail
    assert "保存分组" not in detail
    assert client.post(reverse("documents:group_delete", args=[group.pk])).status_code == 403
    own = client.post(
        reverse("documents:groups"),
        {"name": "本办常用", "owner": city.office.pk, "recipients": [city.districts[0].pk]},
    )
    assert own.status_code == 302
    client.force_login(city.other_sender)
    own_group = exchange.groups_usable_by(city.office).get(name="本办常用")
    assert client.get(reverse("documents:group_detail", args=[own_group.pk])).status_code == 404


def test_api(client, exchange_city: ExchangeCity, django_capture_on_commit_callbacks) -> None:
    city = exchange_city
    document = sealed_document(city)
    client.force_login(city.clerk_a)
    # no NUMBER_SEAL: 403 before the (invalid) body is read
    denied = client.post(f"{API}/send/{document.pk}", "not json", content_type="application/json")
    assert denied.status_code == 403
    client.force_login(city.other_sender)
    assert (
        client.post(f"{API}/send/{document.pk}", {}, content_type="application/json").status_code
        == 404
    )
    client.force_login(city.sender)
    invalid = client.post(
        f"{API}/send/{document.pk}", {"recipients": "x"}, content_type="application/json"
    )
    assert invalid.status_code == 422
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            f"{API}/send/{document.pk}",
            {"recipients": [city.districts[0].pk, city.districts[1].pk], "sign_within_hours": 12},
            content_type="application/json",
        )
    assert sent.status_code == 201, sent.content
    dispatch = sent.json()
    assert dispatch["recipient_count"] == 2
    assert dispatch["counts"]["pending"] == 2
    listed = client.get(f"{API}/dispatches/{dispatch['id']}/deliveries").json()
    assert {row["recipient_code"] for row in listed} == {"DQ01", "DQ02"}

    client.force_login(city.clerk_a)
    inbox = client.get(f"{API}/inbox").json()
    assert len(inbox) == 1
    assert inbox[0]["state"] == "pending"
    delivery_id = inbox[0]["id"]
    assert client.get(f"{API}/inbox/{delivery_id}").json()["read_at"] is not None
    signed = client.post(f"{API}/inbox/{delivery_id}/sign")
    assert signed.status_code == 200
    assert signed.json()["state"] == "signed"
    again = client.post(f"{API}/inbox/{delivery_id}/sign")
    assert again.status_code == 400
    assert again.json()["code"] == "invalid"
    other = Delivery.objects.get(recipient=city.districts[1])
    assert (
        client.post(
            f"{API}/inbox/{other.pk}/return", {"reason": "x"}, content_type="application/json"
        ).status_code
        == 404
    )
    client.force_login(city.clerk_b)
    no_reason = client.post(f"{API}/inbox/{other.pk}/return", {}, content_type="application/json")
    assert no_reason.status_code == 422
    returned = client.post(
        f"{API}/inbox/{other.pk}/return",
        {"reason": "非本单位职责"},
        content_type="application/json",
    )
    assert returned.json()["state"] == "returned"
