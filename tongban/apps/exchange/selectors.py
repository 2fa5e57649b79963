"""Every read, scoped to the actor; ``access_*`` are the one way to load one object."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from tongban.apps.exchange import permissions
from tongban.apps.exchange.models import (
    DELIVERY_SCOPE_CONSUMER,
    DELIVERY_SCOPE_PROVIDER,
    JOB_SCOPE,
    SUBSCRIPTION_SCOPE_CONSUMER,
    Dataset,
    Delivery,
    DeliveryStatus,
    ExchangeJob,
    Subscription,
)
from tongban.platform.access.services import ScopePaths, scope_queryset
from tongban.platform.orgs.models import Department

VISIBLE_TO_CONSUMER = (DeliveryStatus.DELIVERED, DeliveryStatus.RECEIVED)


def job_list_for(*, actor: Any) -> QuerySet[ExchangeJob]:
    return scope_queryset(
        actor, ExchangeJob.objects.select_related("provider"), permissions.JOB_MANAGE, JOB_SCOPE
    )


def monitor_jobs_for(*, actor: Any) -> QuerySet[ExchangeJob]:
    jobs = scope_queryset(
        actor, ExchangeJob.objects.select_related("provider"), permissions.MONITOR_VIEW, JOB_SCOPE
    )
    deliveries = "datasets__deliveries__status"
    return jobs.annotate(
        dataset_count=Count("datasets", distinct=True),
        delivered_count=Count("datasets__deliveries", filter=Q(**{deliveries: "delivered"})),
        received_count=Count("datasets__deliveries", filter=Q(**{deliveries: "received"})),
        pending_count=Count("datasets__deliveries", filter=Q(**{deliveries: "pending"})),
        failed_count=Count("datasets__deliveries", filter=Q(**{deliveries: "failed"})),
    )


def access_job_by_id(actor: Any, job_id: int, *, manage: bool = True) -> ExchangeJob:
    """The job if ``actor`` manages it (or, with ``manage=False``, monitors it); 404."""
    base = ExchangeJob.objects.select_related("provider").filter(pk=job_id)
    job = scope_queryset(actor, base, permissions.JOB_MANAGE, JOB_SCOPE).first()
    if job is None and not manage:
        job = scope_queryset(actor, base, permissions.MONITOR_VIEW, JOB_SCOPE).first()
    if job is None:
        raise Http404(_("未找到该交换任务"))
    return job


def access_dataset_by_id(actor: Any, dataset_id: int) -> Dataset:
    dataset = scope_queryset(
        actor,
        Dataset.objects.select_related("job", "file").filter(pk=dataset_id),
        permissions.JOB_MANAGE,
        ScopePaths(department="job__provider"),
    ).first()
    if dataset is None:
        raise Http404(_("未找到该数据集"))
    return dataset


def access_delivery_for_provider(actor: Any, delivery_id: int) -> Delivery:
    delivery = scope_queryset(
        actor,
        Delivery.objects.select_related("dataset__job").filter(pk=delivery_id),
        permissions.JOB_MANAGE,
        DELIVERY_SCOPE_PROVIDER,
    ).first()
    if delivery is None:
        raise Http404(_("未找到该送达记录"))
    return delivery


def access_delivery_for_consumer(actor: Any, delivery_id: int) -> Delivery:
    """A delivery that reached the actor's department (delivered or received); 404."""
    delivery = scope_queryset(
        actor,
        Delivery.objects.select_related("dataset__job__provider", "dataset__file").filter(
            pk=delivery_id, status__in=VISIBLE_TO_CONSUMER
        ),
        permissions.DELIVERY_RECEIVE,
        DELIVERY_SCOPE_CONSUMER,
    ).first()
    if delivery is None:
        raise Http404(_("未找到该送达记录"))
    return delivery


def inbox_for(*, actor: Any) -> QuerySet[Delivery]:
    return scope_queryset(
        actor,
        Delivery.objects.select_related("dataset__job__provider", "consumer").filter(
            status__in=VISIBLE_TO_CONSUMER
        ),
        permissions.DELIVERY_RECEIVE,
        DELIVERY_SCOPE_CONSUMER,
    ).order_by("-delivered_at", "-pk")


def subscriptions_for_consumer(*, actor: Any) -> QuerySet[Subscription]:
    return scope_queryset(
        actor,
        Subscription.objects.select_related("job__provider", "department").filter(
            job__is_active=True
        ),
        permissions.DELIVERY_RECEIVE,
        SUBSCRIPTION_SCOPE_CONSUMER,
    )


def access_subscription_for_consumer(actor: Any, subscription_id: int) -> Subscription:
    subscription = subscriptions_for_consumer(actor=actor).filter(pk=subscription_id).first()
    if subscription is None:
        raise Http404(_("未找到该订阅"))
    return subscription


def job_deliveries(job: ExchangeJob) -> QuerySet[Delivery]:
    return (
        Delivery.objects.filter(dataset__job=job)
        .select_related("dataset", "consumer", "received_by")
        .order_by("-dataset__number", "consumer__code")
    )


def provider_departments_for(*, actor: Any) -> QuerySet[Department]:
    return scope_queryset(
        actor,
        Department.objects.order_by("code"),
        permissions.JOB_MANAGE,
        ScopePaths(department=""),
    )
