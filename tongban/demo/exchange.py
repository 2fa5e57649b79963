"""The demo city's scheduled exchange (数据交换): a catalogue resource the market regulator
exchanges as files, a live grant for the health commission (none for civil affairs, so a
failed delivery shows), exchange roles at department scope, a push CSV job with two
datasets (one signed for, one waiting in the inbox) and a pull JSON job run once.

Runs after the city (``loader.load_demo_city``). Idempotent: everything is looked up
first; the jobs and their datasets are created once.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, TextIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from tongban.apps.exchange import permissions, services
from tongban.apps.exchange.models import Delivery, DeliveryStatus, ExchangeJob
from tongban.apps.sharing.models import (
    ConsumerSystem,
    Grant,
    Resource,
    ResourceClass,
    ResourceVersion,
    ShareMethod,
    ShareType,
    UpdateCycle,
    VersionStatus,
)
from tongban.platform.access.models import Permission, Role, RoleAssignment, Scope
from tongban.platform.access.services import access_sync_permissions
from tongban.platform.accounts.models import User
from tongban.platform.orgs.models import Department

RESOURCE_CODE = "3010019001"
PUSH_JOB = "食品经营许可信息日推送"
PULL_JOB = "特种设备使用登记信息"
COLUMNS = ["uscc", "name", "licence_no", "issued_on"]
ROWS = [
    ["91990100MA01A0001K", "示范市湖滨餐饮管理有限公司", "JY19901000000101", "2026-10-08"],
    ["91990100MA01A0002F", "示范市柳岸超市有限公司", "JY19901000000102", "2026-10-21"],
    ["91990100MA01A0003B", "示范市荷塘食品店", "JY19901000000103", "2026-11-02"],
]


def _say(stdout: TextIO | None, text: str) -> None:
    if stdout is not None:
        stdout.write(text + "\n")


def _role(code: str, name: str, codes: list[str]) -> Role:
    role, _ = Role.objects.get_or_create(code=code, defaults={"name": name})
    role.permissions.add(*Permission.objects.filter(code__in=codes))
    return role


def _assign(username: str, role: Role, scope: str, **anchors: Any) -> User | None:
    user = User.objects.filter(username=username).first()
    if user is None:
        return None
    RoleAssignment.objects.get_or_create(user=user, role=role, scope=scope, **anchors)
    return user


def _resource(provider: Department, author: User) -> Resource:
    resource = Resource.objects.filter(code=RESOURCE_CODE).first()
    if resource is not None:
        return resource
    resource = Resource.objects.create(
        code=RESOURCE_CODE, resource_class=ResourceClass.DEPARTMENTAL, provider=provider
    )
    version = ResourceVersion.objects.create(
        resource=resource,
        number=1,
        status=VersionStatus.PUBLISHED,
        classification="3-01-001",
        name="食品经营许可证信息（批量交换）",
        summary="食品经营许可证的主体、证号与发证日期，按日批量交换",
        format="spreadsheet",
        share_type=ShareType.CONDITIONAL,
        share_conditions="用于卫生监督与婚姻登记等依法履职",
        share_method=ShareMethod.EXCHANGE,
        update_cycle=UpdateCycle.DAILY,
        published_on=timezone.localdate(),
        created_by=author,
        reviewed_at=timezone.now(),
    )
    resource.current = version
    resource.save(update_fields=["current"])
    return resource


def _platform_system(department: Department) -> ConsumerSystem:
    system = ConsumerSystem.objects.filter(department=department, is_platform=True).first()
    if system is not None:
        return system
    code = f"{department.code.lower()}-platform"
    system, _ = ConsumerSystem.objects.get_or_create(
        code=code,
        defaults={
            "name": f"一网通办（{department.name}）",
            "department": department,
            "client_id": f"client-{code}",
            "is_platform": True,
        },
    )
    return system


def _csv(rows: list[list[str]]) -> SimpleUploadedFile:
    text = ",".join(COLUMNS) + "\n" + "".join(",".join(row) + "\n" for row in rows)
    return SimpleUploadedFile("food-licences.csv", text.encode("utf-8"), "text/csv")


def load(stdout: TextIO | None = None) -> dict[str, int]:
    access_sync_permissions()
    departments = Department.objects.in_bulk(["SCJ", "WJW", "MZJ", "ZSJ"], field_name="code")
    if not {"SCJ", "WJW", "MZJ"} <= set(departments):
        _say(stdout, "exchange demo skipped: the demo city is not loaded")
        return {}
    market, health, civil = departments["SCJ"], departments["WJW"], departments["MZJ"]
    with transaction.atomic():
        officer_role = _role(
            "exchange_officer",
            "数据交换经办人",
            [permissions.JOB_MANAGE, permissions.DELIVERY_RECEIVE],
        )
        monitor_role = _role("exchange_monitor", "数据交换监控", [permissions.MONITOR_VIEW])
        provider = _assign("officer", officer_role, Scope.DEPARTMENT, department=market)
        receiver = _assign("wjw_u01c", officer_role, Scope.DEPARTMENT, department=health)
        _assign("mzj_u01c", officer_role, Scope.DEPARTMENT, department=civil)
        supervisor = User.objects.filter(username="supervisor").first()
        if supervisor is not None:
            _assign("supervisor", monitor_role, Scope.DIVISION, division=market.division)
        if "ZSJ" in departments:
            _assign("zsj_d01", monitor_role, Scope.DIVISION, division=market.division)
        if provider is None or receiver is None:
            _say(stdout, "exchange demo skipped: demo users missing")
            return {}
        resource = _resource(market, provider)
        health_system = _platform_system(health)
        _platform_system(civil)
        now = timezone.now()
        if not Grant.objects.filter(
            consumer_department=health,
            resource=resource,
            revoked_at__isnull=True,
            expires_at__gt=now,
        ).exists():
            Grant.objects.create(
                resource=resource,
                consumer_system=health_system,
                consumer_department=health,
                items=COLUMNS,
                purpose="食品安全卫生监督",
                valid_from=now - dt.timedelta(days=30),
                expires_at=now + dt.timedelta(days=365),
                created_by=provider,
            )

    created = 0
    if not ExchangeJob.objects.filter(provider=market, name=PUSH_JOB).exists():
        push = services.job_create(
            actor=provider,
            provider_id=market.pk,
            name=PUSH_JOB,
            resource_code=RESOURCE_CODE,
            direction="push",
            data_format="csv",
            columns=COLUMNS,
            schedule_kind="daily",
            interval_hours=None,
            daily_at=dt.time(2, 0),
            consumer_ids=[health.pk, civil.pk],
        )
        first = services.dataset_upload(actor=provider, job=push, upload=_csv(ROWS[:2]))
        delivery = Delivery.objects.get(dataset=first, consumer=health)
        services.delivery_download_record(actor=receiver, delivery=delivery)
        services.delivery_confirm(actor=receiver, delivery=delivery, sm3=first.sm3)
        services.dataset_upload(actor=provider, job=push, upload=_csv(ROWS))
        created += 1
    if not ExchangeJob.objects.filter(provider=market, name=PULL_JOB).exists():
        pull = services.job_create(
            actor=provider,
            provider_id=market.pk,
            name=PULL_JOB,
            resource_code=RESOURCE_CODE,
            direction="pull",
            data_format="json",
            columns=["uscc", "equipment_code", "registered_on"],
            schedule_kind="interval",
            interval_hours=6,
            daily_at=None,
            consumer_ids=[health.pk],
        )
        records = [
            {
                "uscc": ROWS[0][0],
                "equipment_code": "3110-9901-2026-0001",
                "registered_on": "2026-09-12",
            },
            {
                "uscc": ROWS[1][0],
                "equipment_code": "4110-9901-2026-0007",
                "registered_on": "2026-10-03",
            },
        ]
        upload = SimpleUploadedFile(
            "special-equipment.json",
            json.dumps(records, ensure_ascii=False).encode("utf-8"),
            "application/json",
        )
        services.dataset_upload(actor=provider, job=pull, upload=upload)
        assert pull.next_run_at is not None
        services.jobs_run_due(now=pull.next_run_at)
        created += 1
    summary = {
        "jobs": ExchangeJob.objects.filter(provider=market).count(),
        "jobs_created": created,
        "delivered": Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count(),
        "received": Delivery.objects.filter(status=DeliveryStatus.RECEIVED).count(),
        "failed": Delivery.objects.filter(status=DeliveryStatus.FAILED).count(),
    }
    _say(stdout, "exchange demo: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
    return summary
