"""JSON API under /api/exchange/: a consumer department's systems list their deliveries,
download a dataset and confirm its receipt with the SM3 they computed."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.http import FileResponse, HttpRequest
from ninja import Field, Router, Schema

from tongban.apps.exchange import permissions, selectors, services
from tongban.apps.exchange.models import DataFormat, Delivery
from tongban.platform.accounts.models import User
from tongban.platform.api.auth import requires

router = Router(tags=["exchange"])


class DeliveryOut(Schema):
    id: int
    job_id: int
    job_name: str
    resource_code: str
    provider_department_code: str
    dataset_number: int
    format: str
    record_count: int
    size: int
    sm3: str = Field(..., description="数据集的 SM3 校验值（十六进制）")
    status: str = Field(..., description="delivered 已送达 / received 已签收")
    delivered_at: dt.datetime | None
    received_at: dt.datetime | None


class ReceiptIn(Schema):
    sm3: str = Field(..., max_length=64, description="接收方对下载文件计算的 SM3（十六进制）")


def _actor(request: HttpRequest) -> User:
    return cast(User, getattr(request, "auth", None))


def _out(delivery: Delivery) -> DeliveryOut:
    dataset = delivery.dataset
    return DeliveryOut(
        id=delivery.pk,
        job_id=dataset.job_id,
        job_name=dataset.job.name,
        resource_code=dataset.job.resource_code,
        provider_department_code=dataset.job.provider.code,
        dataset_number=dataset.number,
        format=dataset.job.format,
        record_count=dataset.record_count,
        size=dataset.size,
        sm3=dataset.sm3,
        status=delivery.status,
        delivered_at=delivery.delivered_at,
        received_at=delivery.received_at,
    )


@router.get(
    "/deliveries",
    response=list[DeliveryOut],
    auth=requires(permissions.DELIVERY_RECEIVE),
    operation_id="exchange_delivery_list",
)
def delivery_list(request: HttpRequest, status: str = "") -> Any:
    """The deliveries that reached the caller's department (newest first, at most 200)."""
    deliveries = selectors.inbox_for(actor=_actor(request))
    if status:
        deliveries = deliveries.filter(status=status)
    return [_out(delivery) for delivery in deliveries[:200]]


@router.get(
    "/deliveries/{delivery_id}/file",
    auth=requires(permissions.DELIVERY_RECEIVE),
    operation_id="exchange_delivery_download",
    summary="下载数据集文件",
)
def delivery_download(request: HttpRequest, delivery_id: int) -> Any:
    """The dataset's bytes (audited); the header ``X-Tongban-SM3`` carries its SM3."""
    from django.core.files.storage import default_storage

    delivery = selectors.access_delivery_for_consumer(_actor(request), delivery_id)
    services.delivery_download_record(actor=_actor(request), delivery=delivery)
    dataset = delivery.dataset
    response = FileResponse(
        default_storage.open(dataset.file.storage_name, "rb"),
        as_attachment=True,
        filename=dataset.file.original_name,
        content_type="text/csv" if dataset.job.format == DataFormat.CSV else "application/json",
    )
    response["X-Tongban-SM3"] = dataset.sm3
    response["Cache-Control"] = "private, no-store"
    return response


@router.post(
    "/deliveries/{delivery_id}/receipt",
    response=DeliveryOut,
    auth=requires(permissions.DELIVERY_RECEIVE),
    operation_id="exchange_delivery_receipt",
    summary="确认签收（回执）",
)
def delivery_receipt(request: HttpRequest, delivery_id: int, payload: ReceiptIn) -> Any:
    """Confirm receipt with the SM3 the consumer computed; a mismatch is refused (400,
    code ``checksum_mismatch``) and the delivery stays delivered."""
    delivery = selectors.access_delivery_for_consumer(_actor(request), delivery_id)
    confirmed = services.delivery_confirm(actor=_actor(request), delivery=delivery, sm3=payload.sm3)
    confirmed.dataset = delivery.dataset
    return _out(confirmed)
