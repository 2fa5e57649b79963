"""Pages under /exchange/: the provider's jobs (create, upload, per-consumer status and
retry), the consumer's inbox (download, receipt, webhook) and the city monitor. Each view
parses the request, calls one service or selector and renders."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.apps.exchange import permissions, selectors, services
from tongban.apps.exchange.models import (
    DataFormat,
    Dataset,
    Direction,
    ExchangeJob,
    ScheduleKind,
)
from tongban.platform.access.decorators import permission, signed_in
from tongban.platform.access.services import has_permission
from tongban.platform.accounts.models import User
from tongban.platform.api.errors import ServiceError
from tongban.platform.files.services import file_read_record
from tongban.platform.orgs.models import Department
from tongban.platform.ui.forms import error_lines as _error_lines
from tongban.platform.ui.forms import int_or_none as _number

NAV = "exchange"
PAGE_SIZE = 30


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _file_response(dataset: Dataset) -> FileResponse:
    stored = dataset.file
    response = FileResponse(
        default_storage.open(stored.storage_name, "rb"),
        as_attachment=True,
        filename=stored.original_name,
        content_type="text/csv" if dataset.job.format == DataFormat.CSV else "application/json",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Length"] = str(stored.size)
    response["Cache-Control"] = "private, no-store"
    response["X-Tongban-SM3"] = dataset.sm3
    return response


@signed_in
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if has_permission(user, permissions.JOB_MANAGE):
        return redirect("exchange:jobs")
    if has_permission(user, permissions.DELIVERY_RECEIVE):
        return redirect("exchange:inbox")
    if has_permission(user, permissions.MONITOR_VIEW):
        return redirect("exchange:monitor")
    raise PermissionDenied(_("您没有执行此操作的权限"))


# --------------------------------------------------------------------------- provider


@permission(permissions.JOB_MANAGE)
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = selectors.job_list_for(actor=_actor(request))
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "exchange/jobs.html", {"nav_active": NAV, "page": page})


@permission(permissions.JOB_MANAGE)
def job_new(request: HttpRequest) -> HttpResponse:
    providers = selectors.provider_departments_for(actor=_actor(request))
    values: dict[str, Any] = {
        "direction": Direction.PUSH,
        "format": DataFormat.CSV,
        "schedule_kind": ScheduleKind.DAILY,
        "consumers": [],
    }
    errors: list[str] = []
    if request.method == "POST":
        post = request.POST
        values = {
            key: post.get(key, "").strip()
            for key in (
                "provider",
                "name",
                "resource_code",
                "direction",
                "format",
                "columns",
                "schedule_kind",
                "interval_hours",
                "daily_at",
            )
        }
        values["consumers"] = [c for c in (_number(v) for v in post.getlist("consumers")) if c]
        try:
            daily_at = dt.time.fromisoformat(values["daily_at"]) if values["daily_at"] else None
        except ValueError:
            daily_at = None
        try:
            job = services.job_create(
                actor=_actor(request),
                provider_id=_number(values["provider"]),
                name=values["name"],
                resource_code=values["resource_code"],
                direction=values["direction"],
                data_format=values["format"],
                columns=values["columns"].replace("，", ",").split(","),
                schedule_kind=values["schedule_kind"],
                interval_hours=_number(values["interval_hours"]),
                daily_at=daily_at,
                consumer_ids=values["consumers"],
            )
        except ValidationError as error:
            errors = _error_lines(error)
        else:
            messages.success(request, _("交换任务已创建"))
            return redirect("exchange:job", job.pk)
    context = {
        "nav_active": NAV,
        "providers": providers,
        "departments": Department.objects.order_by("code"),
        "directions": Direction.choices,
        "formats": DataFormat.choices,
        "schedule_kinds": ScheduleKind.choices,
        "values": values,
        "errors": errors,
    }
    return render(request, "exchange/job_new.html", context, status=400 if errors else 200)


def _job_context(request: HttpRequest, job: ExchangeJob, *, manage: bool) -> dict[str, Any]:
    return {
        "nav_active": NAV,
        "job": job,
        "manage": manage,
        "subscriptions": job.subscriptions.select_related("department"),
        "datasets": job.datasets.select_related("uploaded_by")[:20],
        "deliveries": selectors.job_deliveries(job)[:200],
    }


@permission(permissions.JOB_MANAGE)
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.access_job_by_id(request.user, job_id)
    return render(request, "exchange/job.html", _job_context(request, job, manage=True))


@permission(permissions.MONITOR_VIEW)
def monitor_job(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.access_job_by_id(request.user, job_id, manage=False)
    return render(request, "exchange/job.html", _job_context(request, job, manage=False))


@require_POST
@permission(permissions.JOB_MANAGE)
def job_upload(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.access_job_by_id(request.user, job_id)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择要上传的文件"))
        return redirect("exchange:job", job.pk)
    try:
        dataset = services.dataset_upload(actor=_actor(request), job=job, upload=upload)
    except ValidationError as error:
        for line in _error_lines(error):
            messages.error(request, line)
    else:
        messages.success(
            request,
            _("第%(number)s版数据集已上传（%(records)s条记录）")
            % {"number": dataset.number, "records": dataset.record_count},
        )
    return redirect("exchange:job", job.pk)


@require_POST
@permission(permissions.JOB_MANAGE)
def job_toggle(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.access_job_by_id(request.user, job_id)
    services.job_set_active(actor=_actor(request), job=job, active=not job.is_active)
    return redirect("exchange:job", job.pk)


@require_POST
@permission(permissions.JOB_MANAGE)
def delivery_retry(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = selectors.access_delivery_for_provider(request.user, delivery_id)
    try:
        services.delivery_retry(actor=_actor(request), delivery=delivery)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已重新送达"))
    return redirect("exchange:job", delivery.dataset.job_id)


@permission(permissions.JOB_MANAGE)
def dataset_download(request: HttpRequest, dataset_id: int) -> FileResponse:
    dataset = selectors.access_dataset_by_id(request.user, dataset_id)
    file_read_record(actor=_actor(request), stored=dataset.file, allowed=True)
    return _file_response(dataset)


# --------------------------------------------------------------------------- consumer


@permission(permissions.DELIVERY_RECEIVE)
def inbox(request: HttpRequest) -> HttpResponse:
    deliveries = selectors.inbox_for(actor=_actor(request))
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "nav_active": NAV,
        "page": page,
        "subscriptions": selectors.subscriptions_for_consumer(actor=_actor(request)),
    }
    return render(request, "exchange/inbox.html", context)


@permission(permissions.DELIVERY_RECEIVE)
def delivery_download(request: HttpRequest, delivery_id: int) -> FileResponse:
    delivery = selectors.access_delivery_for_consumer(request.user, delivery_id)
    try:
        services.delivery_download_record(actor=_actor(request), delivery=delivery)
    except ServiceError as error:
        raise PermissionDenied(error.message) from None
    return _file_response(delivery.dataset)


@require_POST
@permission(permissions.DELIVERY_RECEIVE)
def delivery_confirm(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = selectors.access_delivery_for_consumer(request.user, delivery_id)
    try:
        services.delivery_confirm(
            actor=_actor(request), delivery=delivery, sm3=request.POST.get("sm3", "")
        )
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("已签收"))
    return redirect("exchange:inbox")


@require_POST
@permission(permissions.DELIVERY_RECEIVE)
def subscription_webhook(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription = selectors.access_subscription_for_consumer(request.user, subscription_id)
    try:
        setting = services.subscription_set_webhook(
            actor=_actor(request), subscription=subscription, url=request.POST.get("url", "")
        )
    except ValidationError as error:
        for line in _error_lines(error):
            messages.error(request, line)
    else:
        messages.success(request, _("接收地址已保存"))
        if setting.secret:
            messages.warning(
                request,
                _(
                    "签名密钥（仅显示这一次，请妥善保存）：%(secret)s。每次推送带 "
                    "X-Tongban-Timestamp 与 X-Tongban-Signature（时间戳.正文 的 HMAC-SM3）。"
                )
                % {"secret": setting.secret},
            )
    return redirect("exchange:inbox")


# --------------------------------------------------------------------------- monitor


@permission(permissions.MONITOR_VIEW)
def monitor(request: HttpRequest) -> HttpResponse:
    jobs = selectors.monitor_jobs_for(actor=_actor(request))
    totals = {
        key: sum(getattr(job, key) for job in jobs)
        for key in (
            "dataset_count",
            "delivered_count",
            "received_count",
            "pending_count",
            "failed_count",
        )
    }
    context = {"nav_active": NAV, "jobs": jobs, "totals": totals}
    return render(request, "exchange/monitor.html", context)
