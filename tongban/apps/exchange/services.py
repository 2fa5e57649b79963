"""Every write of the scheduled exchange: jobs, dataset uploads, deliveries, receipts and
the scheduled runs. Each service validates first, then writes, audits and notifies in one
transaction; webhook deliveries leave through the event outbox after commit."""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.exchange import permissions
from tongban.apps.exchange.models import (
    WEBHOOK_SECRET_PURPOSE,
    DataFormat,
    Dataset,
    Delivery,
    DeliveryStatus,
    Direction,
    ExchangeJob,
    ScheduleKind,
    Subscription,
)
from tongban.apps.exchange.validation import dataset_validate
from tongban.platform.access.models import RoleAssignment, Scope
from tongban.platform.access.services import ScopePaths, scope_queryset
from tongban.platform.api.errors import ServiceError
from tongban.platform.audit.models import Outcome
from tongban.platform.audit.services import audit_record
from tongban.platform.crypto.sm import decrypt_text, encrypt_text, sm3_hmac
from tongban.platform.events.services import event_publish
from tongban.platform.files import detection
from tongban.platform.files.services import FileRejected, file_store
from tongban.platform.notify.services import notify_send
from tongban.platform.orgs.models import Department

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User

NOTIFY_CATEGORY = "exchange"
EVENT_DISPATCH = "exchange.delivery.dispatch"
EVENT_UPLOADED = "exchange.dataset.uploaded"
EVENT_RECEIVED = "exchange.delivery.received"
DEPARTMENT_SCOPE = ScopePaths(department="")
MAX_COLUMNS = 200


# --------------------------------------------------------------------------- helpers


def grant_is_live(*, department_id: int, resource_code: str) -> bool:
    """Whether ``department_id`` holds a live sharing grant on ``resource_code``."""
    from tongban.apps.sharing.public import grant_lookup

    return grant_lookup(department_id=department_id, resource_code=resource_code) is not None


def grant_missing_message() -> str:
    return _("接收部门未持有该信息资源的有效共享授权")


def _resource_error(*, code: str, provider: Department) -> str:
    """ "" when ``code`` is a catalogue resource of ``provider`` that is not withdrawn."""
    from tongban.apps.sharing.models import Resource

    resource = Resource.objects.filter(code=code).first()
    if resource is None:
        return _("目录中没有代码为 %(code)s 的信息资源") % {"code": code}
    if resource.provider_id != provider.pk:
        return _("该信息资源不由%(department)s提供") % {"department": provider.name}
    if resource.is_withdrawn:
        return _("该信息资源已撤销")
    return ""


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def job_next_run(job: ExchangeJob, *, after: dt.datetime) -> dt.datetime:
    """The first scheduled moment strictly after ``after``."""
    if job.schedule_kind == ScheduleKind.INTERVAL:
        return after + dt.timedelta(hours=job.interval_hours or 24)
    assert job.daily_at is not None
    local = after.astimezone(_zone())
    candidate = dt.datetime.combine(local.date(), job.daily_at, tzinfo=_zone())
    if candidate <= local:
        candidate = dt.datetime.combine(
            local.date() + dt.timedelta(days=1), job.daily_at, tzinfo=_zone()
        )
    return candidate


def department_users(department_ids: Iterable[int], permission: str) -> list[User]:
    """Active users holding ``permission`` through a role anchored in one of the
    departments (department scope: the scope the exchange pages honour)."""
    from tongban.platform.accounts.models import User

    ids = list(department_ids)
    now = timezone.now()
    user_ids = (
        RoleAssignment.objects.filter(
            role__permissions__code=permission,
            user__is_active=True,
            department_id__in=ids,
            scope__in=(Scope.DEPARTMENT, Scope.DEPARTMENT_TREE),
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .values_list("user_id", flat=True)
    )
    return list(User.objects.filter(pk__in=set(user_ids)).order_by("pk"))


def _notify(
    department_ids: Iterable[int],
    permission: str,
    *,
    code: str,
    subject: str,
    body: str,
    link: str,
    actor: Any = None,
) -> None:
    users = department_users(department_ids, permission)
    if users:
        notify_send(
            recipients=users,
            template_code=code,
            context={"subject": subject, "body": body},
            category=NOTIFY_CATEGORY,
            link=link,
            actor=actor,
        )


def webhook_url_error(url: str) -> str:
    """ "" when ``url`` may receive deliveries: HTTPS, or plain HTTP to the loopback
    address where settings allow it (local tests)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _("接收地址格式不正确")
    if not parts.hostname or parts.username or parts.password:
        return _("接收地址格式不正确")
    if parts.scheme == "https":
        return ""
    if parts.scheme == "http" and getattr(settings, "TONGBAN_EXCHANGE_ALLOW_HTTP_LOOPBACK", False):
        host = parts.hostname
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return ""
    return _("接收地址必须使用 HTTPS")


# --------------------------------------------------------------------------- jobs


def job_create(
    *,
    actor: User,
    provider_id: int | None,
    name: str,
    resource_code: str,
    direction: str,
    data_format: str,
    columns: list[str],
    schedule_kind: str,
    interval_hours: int | None,
    daily_at: dt.time | None,
    consumer_ids: list[int],
) -> ExchangeJob:
    errors: dict[str, str] = {}
    provider = (
        scope_queryset(
            actor,
            Department.objects.filter(pk=provider_id),
            permissions.JOB_MANAGE,
            DEPARTMENT_SCOPE,
        ).first()
        if provider_id
        else None
    )
    name = name.strip()
    columns = [column.strip() for column in columns if column.strip()]
    if provider is None:
        errors["provider"] = _("请选择本部门作为提供部门")
    if not name:
        errors["name"] = _("请填写任务名称")
    if direction not in Direction.values:
        errors["direction"] = _("请选择交换方式")
    if data_format not in DataFormat.values:
        errors["format"] = _("请选择数据格式")
    if not columns:
        errors["columns"] = _("请至少声明一个字段")
    elif len(set(columns)) != len(columns) or len(columns) > MAX_COLUMNS:
        errors["columns"] = _("字段名不能重复，且不超过%(n)s个") % {"n": MAX_COLUMNS}
    if schedule_kind == ScheduleKind.INTERVAL:
        if not interval_hours or not 1 <= interval_hours <= 24 * 31:
            errors["interval_hours"] = _("间隔小时数应在1到744之间")
        daily_at = None
    elif schedule_kind == ScheduleKind.DAILY:
        if daily_at is None:
            errors["daily_at"] = _("请填写每日运行时间")
        interval_hours = None
    else:
        errors["schedule_kind"] = _("请选择调度方式")
    consumers = list(Department.objects.filter(pk__in=set(consumer_ids)))
    if not consumers or len(consumers) != len(set(consumer_ids)):
        errors["consumers"] = _("请选择接收部门")
    elif provider is not None and any(c.pk == provider.pk for c in consumers):
        errors["consumers"] = _("提供部门不能同时是接收部门")
    if provider is not None and "resource_code" not in errors:
        problem = _resource_error(code=resource_code.strip(), provider=provider)
        if problem:
            errors["resource_code"] = problem
    if errors:
        raise ValidationError(errors)
    assert provider is not None
    now = timezone.now()
    with transaction.atomic():
        job = ExchangeJob(
            name=name[:100],
            provider=provider,
            resource_code=resource_code.strip(),
            direction=direction,
            format=data_format,
            columns=columns,
            schedule_kind=schedule_kind,
            interval_hours=interval_hours,
            daily_at=daily_at,
            created_by=actor,
        )
        job.next_run_at = job_next_run(job, after=now)
        job.save()
        Subscription.objects.bulk_create(
            Subscription(job=job, department=consumer) for consumer in consumers
        )
        audit_record(
            action="exchange.job.create",
            actor=actor,
            target=job,
            detail={
                "resource_code": job.resource_code,
                "direction": job.direction,
                "format": job.format,
                "consumers": sorted(c.code for c in consumers),
            },
        )
    return job


def job_set_active(*, actor: User, job: ExchangeJob, active: bool) -> ExchangeJob:
    with transaction.atomic():
        locked = ExchangeJob.objects.select_for_update().get(pk=job.pk)
        if locked.is_active == active:
            return locked
        locked.is_active = active
        if active:
            locked.next_run_at = job_next_run(locked, after=timezone.now())
        locked.save(update_fields=["is_active", "next_run_at"])
        audit_record(
            action="exchange.job.activate" if active else "exchange.job.deactivate",
            actor=actor,
            target=locked,
        )
    return locked


@dataclass(frozen=True)
class WebhookSetting:
    subscription: Subscription
    #: a new signing secret, to be shown to the consumer once; "" when it did not change
    secret: str


def subscription_set_webhook(
    *, actor: User, subscription: Subscription, url: str
) -> WebhookSetting:
    """Set (or clear) a push subscription's webhook address. A new address gets a new
    signing secret: every POST carries ``X-Tongban-Signature`` (see ``webhook_signature``)."""
    url = url.strip()
    if url:
        problem = webhook_url_error(url)
        if problem:
            raise ValidationError({"webhook_url": problem})
        if subscription.job.direction != Direction.PUSH:
            raise ValidationError({"webhook_url": _("只有推送方式的任务可以设置接收地址")})
    secret = ""
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if not url:
            locked.webhook_secret_encrypted = None
        elif url != locked.webhook_url or not locked.webhook_secret_encrypted:
            secret = secrets.token_hex(32)
            locked.webhook_secret_encrypted = encrypt_text(secret, purpose=WEBHOOK_SECRET_PURPOSE)
        locked.webhook_url = url[:300]
        locked.save(update_fields=["webhook_url", "webhook_secret_encrypted"])
        audit_record(
            action="exchange.subscription.webhook",
            actor=actor,
            target=locked,
            detail={"job": locked.job_id, "webhook": bool(url), "new_secret": bool(secret)},
        )
    return WebhookSetting(locked, secret)


def webhook_secret(*, job_id: int, department_id: int) -> str:
    """The signing secret of the consumer's subscription to the job ("" when none)."""
    frame = (
        Subscription.objects.filter(job_id=job_id, department_id=department_id)
        .values_list("webhook_secret_encrypted", flat=True)
        .first()
    )
    return decrypt_text(bytes(frame), purpose=WEBHOOK_SECRET_PURPOSE) if frame else ""


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """``hmac-sm3=<hex>`` of ``<timestamp>.<body>`` under the subscription's secret: the
    receiver recomputes it and refuses a mismatch or a timestamp older than a few minutes."""
    mac = sm3_hmac(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body)
    return "hmac-sm3=" + mac.hex()


# --------------------------------------------------------------------------- datasets


def dataset_upload(*, actor: User, job: ExchangeJob, upload: UploadedFile) -> Dataset:
    """Validate the whole file, store it with its SM3 and deliver it (push jobs) — or
    refuse it with nothing kept. ``job`` comes from ``access_job_by_id(manage=True)``."""
    if not job.is_active:
        raise ValidationError({"file": _("任务已停用，不能上传数据集")})
    extension = "." + job.format
    original = (upload.name or "").rsplit("/", 1)[-1]
    if not original.lower().endswith(extension):
        raise ValidationError(
            {"file": _("文件扩展名应为 %(extension)s") % {"extension": extension}}
        )
    limit = int(getattr(settings, "TONGBAN_MAX_UPLOAD_BYTES", 20 * 1024 * 1024))
    if (upload.size or 0) > limit:
        raise ValidationError({"file": _("文件超过大小上限")})
    upload.seek(0)
    raw = upload.read(limit + 1)
    upload.seek(0)
    if not raw:
        raise ValidationError({"file": _("文件为空")})
    record_count = dataset_validate(raw=raw, data_format=job.format, columns=list(job.columns))
    try:
        with transaction.atomic():
            locked = ExchangeJob.objects.select_for_update().get(pk=job.pk)
            stored = file_store(actor=actor, upload=upload, allowed_types={detection.TEXT})
            number = (locked.datasets.aggregate(top=Max("number"))["top"] or 0) + 1
            dataset = Dataset.objects.create(
                job=locked,
                number=number,
                file=stored,
                sm3=stored.sm3,
                size=stored.size,
                record_count=record_count,
                uploaded_by=actor,
            )
            audit_record(
                action="exchange.dataset.upload",
                actor=actor,
                target=dataset,
                detail={
                    "job": locked.pk,
                    "number": number,
                    "records": record_count,
                    "sm3": stored.sm3,
                },
            )
            event_publish(
                EVENT_UPLOADED,
                {
                    "job_id": locked.pk,
                    "dataset_number": number,
                    "resource_code": locked.resource_code,
                    "provider_department_code": locked.provider.code,
                    "record_count": record_count,
                },
                actor=actor,
            )
            if locked.direction == Direction.PUSH:
                _deliver(dataset, locked.subscriptions.select_related("department"), actor=actor)
    except FileRejected as rejected:
        raise ValidationError({"file": rejected.message}) from None
    return dataset


def _inbox_link() -> str:
    return reverse("exchange:inbox")


def _job_link(job: ExchangeJob) -> str:
    return reverse("exchange:job", args=[job.pk])


def _deliver(
    dataset: Dataset, subscriptions: Iterable[Subscription], *, actor: Any = None
) -> list[Delivery]:
    """One delivery per subscription that has none for ``dataset`` yet: failed without a
    live grant, pending (sent by the outbox) with a webhook, delivered into the inbox
    otherwise. Runs inside the caller's transaction."""
    job = dataset.job
    now = timezone.now()
    existing = set(dataset.deliveries.values_list("consumer_id", flat=True))
    created: list[Delivery] = []
    for subscription in subscriptions:
        if subscription.department_id in existing:
            continue
        delivery = Delivery(dataset=dataset, consumer_id=subscription.department_id)
        if not grant_is_live(
            department_id=subscription.department_id, resource_code=job.resource_code
        ):
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = grant_missing_message()
        elif subscription.webhook_url and job.direction == Direction.PUSH:
            delivery.status = DeliveryStatus.PENDING
            delivery.webhook_url = subscription.webhook_url
            delivery.next_attempt_at = now
        else:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
        delivery.save()
        created.append(delivery)
        audit_record(
            action="exchange.delivery.create",
            actor=actor,
            target=delivery,
            detail={
                "status": delivery.status,
                "consumer": subscription.department_id,
                "webhook": bool(delivery.webhook_url),
            },
        )
        if delivery.status == DeliveryStatus.PENDING:
            event_publish(EVENT_DISPATCH, {"delivery_id": delivery.pk}, actor=actor)
    delivered = [d.consumer_id for d in created if d.status == DeliveryStatus.DELIVERED]
    if delivered:
        _notify_new_dataset(dataset, delivered, actor=actor)
    failed = [d for d in created if d.status == DeliveryStatus.FAILED]
    if failed:
        _notify_failed(dataset, failed, actor=actor)
    return created


def _notify_new_dataset(dataset: Dataset, consumer_ids: list[int], *, actor: Any) -> None:
    job = dataset.job
    fields = {
        "job": job.name,
        "provider": job.provider.name,
        "number": dataset.number,
        "records": dataset.record_count,
    }
    _notify(
        consumer_ids,
        permissions.DELIVERY_RECEIVE,
        code="exchange.dataset_new",
        subject=_("新数据集：%(job)s 第%(number)s版") % fields,
        body=_(
            "%(provider)s的交换任务“%(job)s”第%(number)s版数据集（%(records)s条记录）已送达，"
            "请下载核验后签收。"
        )
        % fields,
        link=_inbox_link(),
        actor=actor,
    )


def _notify_failed(dataset: Dataset, deliveries: list[Delivery], *, actor: Any) -> None:
    job = dataset.job
    names = dict(
        Department.objects.filter(pk__in={d.consumer_id for d in deliveries}).values_list(
            "pk", "name"
        )
    )
    for delivery in deliveries:
        fields = {
            "job": job.name,
            "number": dataset.number,
            "consumer": names.get(delivery.consumer_id, ""),
            "error": delivery.last_error,
        }
        _notify(
            [job.provider_id],
            permissions.JOB_MANAGE,
            code="exchange.delivery_failed",
            subject=_("数据送达失败：%(job)s 第%(number)s版") % fields,
            body=_("交换任务“%(job)s”第%(number)s版向%(consumer)s送达失败：%(error)s") % fields,
            link=_job_link(job),
            actor=actor,
        )


# --------------------------------------------------------------------------- deliveries


def delivery_mark_failed(delivery: Delivery, *, error: str, actor: Any = None) -> None:
    """Inside a transaction, with ``delivery`` locked: failed, audited, notified."""
    delivery.status = DeliveryStatus.FAILED
    delivery.last_error = error[:2000]
    delivery.next_attempt_at = None
    delivery.save(update_fields=["status", "last_error", "next_attempt_at", "attempts"])
    audit_record(
        action="exchange.delivery.fail",
        actor=actor,
        target=delivery,
        outcome=Outcome.FAILURE,
        detail={"attempts": delivery.attempts, "error": delivery.last_error[:300]},
    )
    _notify_failed(delivery.dataset, [delivery], actor=actor)
    fields = {"job": delivery.dataset.job.name, "number": delivery.dataset.number}
    _notify(
        [delivery.consumer_id],
        permissions.DELIVERY_RECEIVE,
        code="exchange.delivery_failed",
        subject=_("数据送达失败：%(job)s 第%(number)s版") % fields,
        body=_("交换任务“%(job)s”第%(number)s版未能送达本部门的接收地址，已通知提供部门。")
        % fields,
        link=_inbox_link(),
        actor=actor,
    )


def delivery_mark_delivered(delivery: Delivery, *, actor: Any = None) -> None:
    """Inside a transaction, with ``delivery`` locked (webhook accepted it)."""
    delivery.status = DeliveryStatus.DELIVERED
    delivery.delivered_at = timezone.now()
    delivery.next_attempt_at = None
    delivery.last_error = ""
    delivery.save(
        update_fields=["status", "delivered_at", "next_attempt_at", "last_error", "attempts"]
    )
    audit_record(
        action="exchange.delivery.deliver",
        actor=actor,
        target=delivery,
        detail={"attempts": delivery.attempts, "webhook": True},
    )
    _notify_new_dataset(delivery.dataset, [delivery.consumer_id], actor=actor)


def delivery_retry(*, actor: User, delivery: Delivery) -> Delivery:
    """Provider's retry of a failed delivery: the grant is checked again; a webhook
    delivery gets a fresh set of attempts through the outbox."""
    with transaction.atomic():
        locked = (
            Delivery.objects.select_for_update()
            .select_related("dataset__job__provider")
            .get(pk=delivery.pk)
        )
        if locked.status != DeliveryStatus.FAILED:
            raise ServiceError("not_failed", _("只有送达失败的记录可以重试"))
        job = locked.dataset.job
        if not grant_is_live(department_id=locked.consumer_id, resource_code=job.resource_code):
            raise ServiceError("no_grant", grant_missing_message())
        subscription = job.subscriptions.filter(department_id=locked.consumer_id).first()
        webhook = (
            subscription.webhook_url if subscription and job.direction == Direction.PUSH else ""
        )
        locked.attempts = 0
        locked.last_error = ""
        if webhook:
            locked.status = DeliveryStatus.PENDING
            locked.webhook_url = webhook
            locked.next_attempt_at = timezone.now()
        else:
            locked.status = DeliveryStatus.DELIVERED
            locked.webhook_url = ""
            locked.delivered_at = timezone.now()
            locked.next_attempt_at = None
        locked.save()
        audit_record(
            action="exchange.delivery.retry",
            actor=actor,
            target=locked,
            detail={"status": locked.status, "webhook": bool(webhook)},
        )
        if webhook:
            event_publish(EVENT_DISPATCH, {"delivery_id": locked.pk}, actor=actor)
        else:
            _notify_new_dataset(locked.dataset, [locked.consumer_id], actor=actor)
    return locked


def delivery_download_record(*, actor: User, delivery: Delivery) -> None:
    """Audit a consumer's download (the grant must still be live)."""
    job = delivery.dataset.job
    if not grant_is_live(department_id=delivery.consumer_id, resource_code=job.resource_code):
        with transaction.atomic():
            audit_record(
                action="exchange.delivery.download",
                actor=actor,
                target=delivery,
                outcome=Outcome.DENIED,
                detail={"reason": "no_grant"},
            )
        raise ServiceError(
            "no_grant",
            _("本部门对该信息资源的共享授权已失效，不能下载"),
        )
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk, downloaded_at__isnull=True).update(
            downloaded_at=timezone.now()
        )
        audit_record(
            action="exchange.delivery.download",
            actor=actor,
            target=delivery,
            detail={"dataset": delivery.dataset_id, "sm3": delivery.dataset.sm3},
        )


def delivery_confirm(*, actor: User, delivery: Delivery, sm3: str) -> Delivery:
    """The consumer's receipt with the SM3 it computed. A mismatch is refused (audited)
    and the delivery stays delivered."""
    value = sm3.strip().lower()
    if delivery.status == DeliveryStatus.RECEIVED and value == delivery.receipt_sm3:
        return delivery
    if delivery.status != DeliveryStatus.DELIVERED:
        raise ServiceError("not_delivered", _("该数据尚未送达或已签收，不能确认回执"))
    if value != delivery.dataset.sm3:
        with transaction.atomic():
            audit_record(
                action="exchange.delivery.receipt",
                actor=actor,
                target=delivery,
                outcome=Outcome.FAILURE,
                detail={"reason": "checksum_mismatch", "sm3": value[:64]},
            )
        raise ServiceError(
            "checksum_mismatch",
            _("校验值与数据集的 SM3 校验值不一致，请重新下载后核对"),
        )
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.status != DeliveryStatus.DELIVERED:
            raise ServiceError("not_delivered", _("该数据尚未送达或已签收，不能确认回执"))
        locked.status = DeliveryStatus.RECEIVED
        locked.received_at = timezone.now()
        locked.received_by = actor
        locked.receipt_sm3 = value
        locked.save(update_fields=["status", "received_at", "received_by", "receipt_sm3"])
        audit_record(
            action="exchange.delivery.receipt",
            actor=actor,
            target=locked,
            detail={"sm3": value},
        )
        event_publish(
            EVENT_RECEIVED,
            {
                "delivery_id": locked.pk,
                "job_id": delivery.dataset.job_id,
                "dataset_number": delivery.dataset.number,
            },
            actor=actor,
        )
    return locked


# --------------------------------------------------------------------------- schedule


def jobs_run_due(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """The periodic run: for each active job whose run is due, a pull job makes its
    latest dataset available to every consumer that has not got it yet (grant checked);
    a push job with no new dataset since its last run reminds the provider. Each job is
    handled under a row lock, so concurrent workers do each run once. Returns the runs."""
    now = now or timezone.now()
    due = list(
        ExchangeJob.objects.filter(is_active=True, next_run_at__lte=now)
        .order_by("next_run_at")
        .values_list("pk", flat=True)[:limit]
    )
    runs = 0
    for job_id in due:
        with transaction.atomic():
            job = (
                ExchangeJob.objects.select_for_update(skip_locked=True)
                .select_related("provider")
                .filter(pk=job_id, is_active=True, next_run_at__lte=now)
                .first()
            )
            if job is None:
                continue
            latest = job.datasets.order_by("-number").first()
            if job.direction == Direction.PULL:
                if latest is not None:
                    _deliver(latest, job.subscriptions.all())
            elif latest is None or (job.last_run_at and latest.uploaded_at <= job.last_run_at):
                fields = {"job": job.name}
                _notify(
                    [job.provider_id],
                    permissions.JOB_MANAGE,
                    code="exchange.dataset_due",
                    subject=_("请上传数据集：%(job)s") % fields,
                    body=_("交换任务“%(job)s”本周期尚未上传新的数据集。") % fields,
                    link=_job_link(job),
                )
            previous = job.next_run_at or now
            job.last_run_at = now
            job.next_run_at = job_next_run(job, after=max(previous, now))
            job.save(update_fields=["last_run_at", "next_run_at"])
            audit_record(
                action="exchange.job.run",
                target=job,
                detail={"dataset": latest.number if latest else None},
            )
            runs += 1
    return runs
