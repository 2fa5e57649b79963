"""Scheduled exchange: uploads (whole-file validation), grant-checked delivery, receipts,
webhook delivery through the event outbox with retries, scheduled runs, access."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tongban.apps.exchange import services
from tongban.apps.exchange.models import Dataset, Delivery, DeliveryStatus, ExchangeJob
from tongban.apps.exchange.tests.conftest import City, Receiver
from tongban.platform.audit.models import AuditEntry
from tongban.platform.crypto.sm import sm3_hex, sm3_hmac
from tongban.platform.events.models import Delivery as OutboxDelivery
from tongban.platform.events.models import DeliveryStatus as OutboxStatus
from tongban.platform.events.services import delivery_run
from tongban.platform.files.models import StoredFile
from tongban.platform.notify.models import Message

CSV = (
    "uscc,name,licence_no\n91990100MA0000001X,示范餐饮有限公司,JY1990100000001\n"
    "91990100MA0000002X,示范超市,JY1990100000002\n"
)


def csv_file(text: str = CSV, name: str = "licences.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def json_file(data: Any, name: str = "licences.json") -> SimpleUploadedFile:
    raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return SimpleUploadedFile(name, raw, content_type="application/json")


def nothing_saved() -> None:
    assert Dataset.objects.count() == 0
    assert StoredFile.objects.count() == 0
    assert Delivery.objects.count() == 0
    assert Message.objects.count() == 0


# --------------------------------------------------------------------------- jobs


def test_a_job_needs_a_resource_of_the_provider(city: City) -> None:
    with pytest.raises(ValidationError) as caught:
        city.job(resource_code="2010010099")
    assert "目录中没有代码为 2010010099 的信息资源" in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        city.job(provider_id=city.health.pk)  # not the officer's department
    assert "provider" in caught.value.message_dict
    assert ExchangeJob.objects.count() == 0
    job = city.job()
    assert job.next_run_at is not None
    assert job.next_run_at > timezone.now()
    assert AuditEntry.objects.filter(action="exchange.job.create", actor_id=city.provider.pk)


def test_the_job_form_creates_a_job(client: Any, city: City) -> None:
    client.force_login(city.provider)
    assert client.get("/exchange/jobs/new/").status_code == 200
    response = client.post(
        "/exchange/jobs/new/",
        {
            "provider": city.market.pk,
            "name": "许可信息",
            "resource_code": "2010010001",
            "direction": "pull",
            "format": "json",
            "columns": "uscc，name",
            "schedule_kind": "interval",
            "interval_hours": "6",
            "consumers": [city.health.pk],
        },
    )
    job = ExchangeJob.objects.get()
    assert response.status_code == 302
    assert response.url == f"/exchange/jobs/{job.pk}/"
    assert (job.columns, job.interval_hours, job.direction) == (["uscc", "name"], 6, "pull")
    bad = client.post("/exchange/jobs/new/", {"provider": city.market.pk, "name": ""})
    assert bad.status_code == 400
    assert "请填写任务名称" in bad.content.decode()


# --------------------------------------------------------------------------- uploads


def test_a_valid_csv_is_stored_and_delivered_only_to_granted_consumers(city: City) -> None:
    job = city.job()
    dataset = services.dataset_upload(actor=city.provider, job=job, upload=csv_file())
    assert (dataset.number, dataset.record_count) == (1, 2)
    assert dataset.sm3 == sm3_hex(CSV.encode("utf-8")) == dataset.file.sm3
    health = Delivery.objects.get(consumer=city.health)
    civil = Delivery.objects.get(consumer=city.civil)
    assert health.status == DeliveryStatus.DELIVERED
    assert health.delivered_at
    assert civil.status == DeliveryStatus.FAILED
    assert "有效共享授权" in civil.last_error
    assert Message.objects.filter(recipient=city.health_officer, subject__contains="新数据集")
    assert not Message.objects.filter(recipient=city.civil_officer)
    assert Message.objects.filter(recipient=city.provider, subject__contains="送达失败")
    assert AuditEntry.objects.filter(action="exchange.dataset.upload", actor_id=city.provider.pk)


def test_an_expired_or_revoked_grant_is_no_grant(city: City) -> None:
    now = timezone.now()
    city.grant(
        city.civil_system,
        valid_from=now - dt.timedelta(days=9),
        expires_at=now - dt.timedelta(days=1),
    )
    city.grant(city.civil_system, revoked_at=now)
    services.dataset_upload(actor=city.provider, job=city.job(), upload=csv_file())
    assert Delivery.objects.get(consumer=city.civil).status == DeliveryStatus.FAILED


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("uscc,name\n1,2\n", "CSV 表头与任务声明的字段不一致"),
        ("uscc,name,licence_no\n1,2,3\n4,5\n", "第3行有2列，应为3列"),
        ("uscc,name,licence_no\n1,2,\x013\n", "文件类型"),
    ],
)
def test_an_invalid_csv_is_refused_with_nothing_saved(city: City, text: str, message: str) -> None:
    job = city.job()
    with pytest.raises(ValidationError) as caught:
        services.dataset_upload(actor=city.provider, job=job, upload=csv_file(text))
    assert message in " ".join(caught.value.messages)
    nothing_saved()


def test_a_wrong_extension_is_refused(city: City) -> None:
    with pytest.raises(ValidationError, match=r"\.csv"):
        services.dataset_upload(
            actor=city.provider, job=city.job(), upload=csv_file(name="licences.txt")
        )
    nothing_saved()


def test_a_valid_json_array_is_accepted(city: City) -> None:
    job = city.job(data_format="json")
    records = [
        {"uscc": "1", "name": "甲", "licence_no": "A"},
        {"uscc": "2", "name": "乙", "licence_no": "B"},
    ]
    dataset = services.dataset_upload(actor=city.provider, job=job, upload=json_file(records))
    assert dataset.record_count == 2
    again = services.dataset_upload(actor=city.provider, job=job, upload=json_file(records[:1]))
    assert again.number == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"uscc": "1"}, "JSON 数据集应为对象数组"),
        ([{"uscc": "1", "name": "甲", "licence_no": "A"}, [1, 2]], "第2条记录不是对象"),
        ([{"uscc": "1", "name": "甲"}], "缺少：licence_no"),
        ([{"uscc": "1", "name": "甲", "licence_no": "A", "phone": "1"}], "多出：phone"),
    ],
)
def test_an_invalid_json_is_refused_with_nothing_saved(city: City, data: Any, message: str) -> None:
    job = city.job(data_format="json")
    with pytest.raises(ValidationError) as caught:
        services.dataset_upload(actor=city.provider, job=job, upload=json_file(data))
    assert message in " ".join(caught.value.messages)
    nothing_saved()


def test_broken_json_is_refused(city: City) -> None:
    job = city.job(data_format="json")
    upload = SimpleUploadedFile("x.json", b'[{"uscc": "1",', content_type="application/json")
    with pytest.raises(ValidationError, match="JSON 格式错误"):
        services.dataset_upload(actor=city.provider, job=job, upload=upload)
    nothing_saved()


def test_the_upload_page_reports_errors_and_successes(client: Any, city: City) -> None:
    job = city.job()
    client.force_login(city.provider)
    response = client.post(
        f"/exchange/jobs/{job.pk}/upload/", {"file": csv_file("a,b\n")}, follow=True
    )
    assert "CSV 表头与任务声明的字段不一致" in response.content.decode()
    nothing_saved()
    response = client.post(f"/exchange/jobs/{job.pk}/upload/", {"file": csv_file()}, follow=True)
    page = response.content.decode()
    assert "第1版数据集已上传（2条记录）" in page
    assert "示范市卫生健康委员会" in page
    assert "有效共享授权" in page
    dataset = Dataset.objects.get()
    download = client.get(f"/exchange/datasets/{dataset.pk}/download/")
    assert b"".join(download.streaming_content) == CSV.encode("utf-8")


# --------------------------------------------------------------------------- receipts


@pytest.fixture
def delivered(city: City) -> Delivery:
    services.dataset_upload(actor=city.provider, job=city.job(), upload=csv_file())
    return Delivery.objects.get(consumer=city.health)


def test_the_consumer_downloads_and_confirms_with_the_checksum(
    client: Any, city: City, delivered: Delivery
) -> None:
    client.force_login(city.health_officer)
    inbox = client.get("/exchange/inbox/")
    assert inbox.status_code == 200
    assert "食品经营许可信息" in inbox.content.decode()
    download = client.get(f"/exchange/inbox/{delivered.pk}/download/")
    body = b"".join(download.streaming_content)
    assert download["X-Tongban-SM3"] == sm3_hex(body)
    assert AuditEntry.objects.filter(
        action="exchange.delivery.download", actor_id=city.health_officer.pk
    )
    wrong = client.post(
        f"/api/exchange/deliveries/{delivered.pk}/receipt",
        {"sm3": "0" * 64},
        content_type="application/json",
    )
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "checksum_mismatch"
    assert "校验值与数据集的 SM3 校验值不一致" in wrong.json()["message"]
    delivered.refresh_from_db()
    assert delivered.status == DeliveryStatus.DELIVERED
    ok = client.post(
        f"/api/exchange/deliveries/{delivered.pk}/receipt",
        {"sm3": sm3_hex(body).upper()},
        content_type="application/json",
    )
    assert ok.status_code == 200, ok.content
    assert ok.json()["status"] == "received"
    delivered.refresh_from_db()
    assert (delivered.status, delivered.received_by) == (
        DeliveryStatus.RECEIVED,
        city.health_officer,
    )
    listed = client.get("/api/exchange/deliveries").json()
    assert [(item["id"], item["status"]) for item in listed] == [(delivered.pk, "received")]
    # the provider sees it received
    client.force_login(city.provider)
    page = client.get(f"/exchange/jobs/{delivered.dataset.job_id}/").content.decode()
    assert "已签收" in page


def test_the_receipt_form_confirms(client: Any, city: City, delivered: Delivery) -> None:
    client.force_login(city.health_officer)
    response = client.post(f"/exchange/inbox/{delivered.pk}/confirm/", {"sm3": "abc"}, follow=True)
    assert "校验值与数据集的 SM3 校验值不一致" in response.content.decode()
    client.post(f"/exchange/inbox/{delivered.pk}/confirm/", {"sm3": delivered.dataset.sm3})
    delivered.refresh_from_db()
    assert delivered.status == DeliveryStatus.RECEIVED


def test_another_department_sees_nothing(client: Any, city: City, delivered: Delivery) -> None:
    client.force_login(city.civil_officer)
    assert client.get(f"/exchange/inbox/{delivered.pk}/download/").status_code == 404
    assert (
        client.post(
            f"/exchange/inbox/{delivered.pk}/confirm/", {"sm3": delivered.dataset.sm3}
        ).status_code
        == 404
    )
    api = client.post(
        f"/api/exchange/deliveries/{delivered.pk}/receipt",
        {"sm3": delivered.dataset.sm3},
        content_type="application/json",
    )
    assert api.status_code == 404
    assert client.get(f"/api/exchange/deliveries/{delivered.pk}/file").status_code == 404
    assert client.get("/api/exchange/deliveries").json() == []  # its failed one is not shown
    inbox = client.get("/exchange/inbox/").content.decode()
    assert f"/exchange/inbox/{delivered.pk}/download/" not in inbox
    assert "暂无送达的数据" in inbox
    # a consumer is not the provider
    assert client.get(f"/exchange/jobs/{delivered.dataset.job_id}/").status_code == 403
    delivered.refresh_from_db()
    assert delivered.status == DeliveryStatus.DELIVERED


def test_a_citizen_is_refused(client: Any, city: City, delivered: Delivery) -> None:
    client.force_login(city.citizen)
    before = (AuditEntry.objects.filter(outcome="success").count(), Message.objects.count())
    for url in (
        "/exchange/jobs/",
        "/exchange/inbox/",
        "/exchange/monitor/",
        f"/exchange/inbox/{delivered.pk}/download/",
        "/exchange/",
    ):
        assert client.get(url).status_code == 403, url
    api = client.post(
        f"/api/exchange/deliveries/{delivered.pk}/receipt",
        {"sm3": delivered.dataset.sm3},
        content_type="application/json",
    )
    assert api.status_code == 403
    assert client.get("/api/exchange/deliveries").status_code == 403
    assert (AuditEntry.objects.filter(outcome="success").count(), Message.objects.count()) == before
    delivered.refresh_from_db()
    assert delivered.status == DeliveryStatus.DELIVERED


def test_a_revoked_grant_stops_the_download(client: Any, city: City, delivered: Delivery) -> None:
    city.resource.grants.update(revoked_at=timezone.now())
    client.force_login(city.health_officer)
    assert client.get(f"/exchange/inbox/{delivered.pk}/download/").status_code == 403


# --------------------------------------------------------------------------- retry


def test_the_provider_retries_a_failed_delivery(
    client: Any, city: City, delivered: Delivery
) -> None:
    failed = Delivery.objects.get(consumer=city.civil)
    client.force_login(city.provider)
    response = client.post(f"/exchange/deliveries/{failed.pk}/retry/", follow=True)
    assert "有效共享授权" in response.content.decode()
    city.grant(city.civil_system)
    client.post(f"/exchange/deliveries/{failed.pk}/retry/")
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.DELIVERED
    assert AuditEntry.objects.filter(action="exchange.delivery.retry", actor_id=city.provider.pk)
    client.force_login(city.civil_officer)  # a consumer cannot retry
    assert client.post(f"/exchange/deliveries/{failed.pk}/retry/").status_code == 403


# --------------------------------------------------------------------------- webhooks


def _subscribe(city: City, job: ExchangeJob, url: str) -> str:
    """Set the health department's webhook; returns the signing secret shown once."""
    subscription = job.subscriptions.get(department=city.health)
    setting = services.subscription_set_webhook(
        actor=city.health_officer, subscription=subscription, url=url
    )
    assert len(setting.secret) == 64
    return setting.secret


def test_a_webhook_is_retried_after_a_failure(
    city: City, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.fail_first = 1
    job = city.job()
    secret = _subscribe(city, job, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        services.dataset_upload(actor=city.provider, job=job, upload=csv_file())
    delivery = Delivery.objects.get(consumer=city.health)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert delivery.last_error == "HTTP 503"
    assert delivery.next_attempt_at is not None
    assert not Message.objects.filter(recipient=city.health_officer)
    outbox = OutboxDelivery.objects.get(event__name=services.EVENT_DISPATCH)
    assert outbox.status == OutboxStatus.PENDING

    assert delivery_run(outbox.pk) == "done"  # the deferred retry

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.DELIVERED,
        2,
        "",
    )
    [(headers, body)] = receiver.bodies
    assert body == CSV.encode("utf-8")
    assert headers["X-Tongban-Sm3"] == sm3_hex(body)
    assert headers["X-Tongban-Delivery"] == str(delivery.pk)
    # signed: HMAC-SM3 of "<timestamp>.<body>" under the secret the consumer was shown
    timestamp = headers["X-Tongban-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 300
    expected = sm3_hmac(secret.encode(), timestamp.encode() + b"." + body).hex()
    assert headers["X-Tongban-Signature"] == f"hmac-sm3={expected}"
    assert (
        services.webhook_signature(secret="another", timestamp=timestamp, body=body)
        != headers["X-Tongban-Signature"]
    )
    assert Message.objects.filter(recipient=city.health_officer, subject__contains="新数据集")


def test_a_webhook_failing_every_attempt_fails_and_notifies(
    city: City, receiver: Receiver, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TONGBAN_EVENT_MAX_ATTEMPTS = 3
    receiver.fail_first = 100
    job = city.job()
    _subscribe(city, job, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        services.dataset_upload(actor=city.provider, job=job, upload=csv_file())
    outbox = OutboxDelivery.objects.get(event__name=services.EVENT_DISPATCH)
    assert delivery_run(outbox.pk) == "retry"
    assert delivery_run(outbox.pk) == "dead"
    delivery = Delivery.objects.get(consumer=city.health)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
    assert delivery.last_error == "HTTP 503"
    assert receiver.calls == 3
    assert (
        Message.objects.filter(recipient=city.provider, subject__contains="送达失败").count() == 2
    )
    assert Message.objects.filter(recipient=city.health_officer, subject__contains="送达失败")
    assert AuditEntry.objects.filter(action="exchange.delivery.fail")

    # the retry button gives it fresh attempts through the outbox
    receiver.fail_first = 0
    receiver.calls = 0
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_retry(actor=city.provider, delivery=delivery)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)


def test_webhook_urls_must_be_https(city: City, settings: Any) -> None:
    settings.TONGBAN_EXCHANGE_ALLOW_HTTP_LOOPBACK = False
    job = city.job()
    subscription = job.subscriptions.get(department=city.health)
    for url in ("http://127.0.0.1:9/x", "ftp://example.cn/x", "http://10.0.0.1/x"):
        with pytest.raises(ValidationError, match="HTTPS|格式"):
            services.subscription_set_webhook(
                actor=city.health_officer, subscription=subscription, url=url
            )
    first = services.subscription_set_webhook(
        actor=city.health_officer, subscription=subscription, url="https://wjw.example.cn/in"
    )
    subscription.refresh_from_db()
    assert subscription.webhook_url == "https://wjw.example.cn/in"
    # the secret is stored encrypted, kept for the same address, renewed for a new one
    assert first.secret.encode() not in bytes(subscription.webhook_secret_encrypted)
    same = services.subscription_set_webhook(
        actor=city.health_officer, subscription=subscription, url="https://wjw.example.cn/in"
    )
    assert same.secret == ""
    moved = services.subscription_set_webhook(
        actor=city.health_officer, subscription=subscription, url="https://wjw.example.cn/in2"
    )
    assert moved.secret not in ("", first.secret)
    assert services.webhook_secret(job_id=job.pk, department_id=city.health.pk) == moved.secret
    services.subscription_set_webhook(actor=city.health_officer, subscription=subscription, url="")
    subscription.refresh_from_db()
    assert subscription.webhook_secret_encrypted is None


def test_the_inbox_sets_a_webhook(client: Any, city: City, settings: Any) -> None:
    job = city.job()
    subscription = job.subscriptions.get(department=city.health)
    client.force_login(city.civil_officer)
    assert (
        client.post(
            f"/exchange/subscriptions/{subscription.pk}/webhook/", {"url": "https://x.example.cn/"}
        ).status_code
        == 404
    )
    client.force_login(city.health_officer)
    client.post(
        f"/exchange/subscriptions/{subscription.pk}/webhook/", {"url": "https://wjw.example.cn/in"}
    )
    subscription.refresh_from_db()
    assert subscription.webhook_url == "https://wjw.example.cn/in"


# --------------------------------------------------------------------------- schedule


def test_a_pull_job_offers_its_latest_dataset_at_the_scheduled_run(city: City) -> None:
    job = city.job(direction="pull", schedule_kind="interval", interval_hours=6, daily_at=None)
    services.dataset_upload(actor=city.provider, job=job, upload=csv_file())
    assert Delivery.objects.count() == 0  # nothing before the run
    job.refresh_from_db()
    due = job.next_run_at
    assert services.jobs_run_due(now=due - dt.timedelta(minutes=1)) == 0
    assert services.jobs_run_due(now=due) == 1
    assert Delivery.objects.get(consumer=city.health).status == DeliveryStatus.DELIVERED
    assert Delivery.objects.get(consumer=city.civil).status == DeliveryStatus.FAILED
    job.refresh_from_db()
    assert job.next_run_at == due + dt.timedelta(hours=6)
    assert services.jobs_run_due(now=due) == 0  # each run once
    assert services.jobs_run_due(now=job.next_run_at) == 1
    assert Delivery.objects.count() == 2  # the same dataset is not delivered twice


def test_a_daily_push_job_reminds_the_provider_when_no_dataset_came(city: City) -> None:
    job = city.job()
    local = job.next_run_at.astimezone(services._zone())
    assert (local.hour, local.minute) == (2, 0)
    assert services.jobs_run_due(now=job.next_run_at) == 1
    assert Message.objects.filter(recipient=city.provider, subject__contains="请上传数据集")


# --------------------------------------------------------------------------- monitor


def test_the_monitor_shows_every_job_of_the_city(
    client: Any, city: City, delivered: Delivery
) -> None:
    client.force_login(city.monitor)
    page = client.get("/exchange/monitor/").content.decode()
    assert "食品经营许可信息" in page
    job_page = client.get(f"/exchange/monitor/{delivered.dataset.job_id}/")
    assert job_page.status_code == 200
    assert "重试" not in job_page.content.decode()
    assert client.get(f"/exchange/jobs/{delivered.dataset.job_id}/").status_code == 403
    client.force_login(city.provider)
    assert client.get("/exchange/monitor/").status_code == 403
    assert client.get("/exchange/").url == "/exchange/jobs/"
