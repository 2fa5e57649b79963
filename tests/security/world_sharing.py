"""The sharing part of the security suite's world (issue 6): the market regulator publishes
a resource, another department requests it for its system and holds a grant, the gateway
has read citizen A's data once, base data and an exchange job exist.

Who holds what: the market regulator's officer (persona OFFICER) and the other
department's officer (OTHER_OFFICER) hold the departmental sharing, base-data and exchange
permissions, each for their own department; the leader (LEADER) is the city's catalogue
reviewer and data steward; the supervisor (SUPERVISOR) watches statistics and exchange
city-wide; the system administrator manages every system; the auditor reads the call log.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from tests import factories
from tongban.apps.basedata import permissions as basedata_permissions
from tongban.apps.basedata.models import AddressEntry, QualityIssue
from tongban.apps.exchange import permissions as exchange_permissions
from tongban.apps.exchange import services as exchange_services
from tongban.apps.exchange.models import Dataset, Delivery, ExchangeJob, Subscription
from tongban.apps.sharing import catalogue, grants
from tongban.apps.sharing import permissions as sharing_permissions
from tongban.apps.sharing.gateway_log import call_digest
from tongban.apps.sharing.models import (
    AccessReport,
    CallResult,
    ConsumerSystem,
    GatewayCall,
    GatewayCallSubject,
    Grant,
    Resource,
    ResourceVersion,
    SharingRequest,
)
from tongban.apps.sharing.tests.fixtures_catalogue import items, values
from tongban.platform.access.models import RoleAssignment, Scope
from tongban.platform.crypto.sm import lookup_hmac


@dataclass
class SharingWorld:
    resource: Resource  # published, provider: the market regulator
    draft: ResourceVersion  # its version 2 in preparation
    system: ConsumerSystem  # the market regulator's own system
    other_system: ConsumerSystem  # the other department's system
    request: SharingRequest  # the other department asks for the conditional resource
    grant: Grant  # the other department's live grant on the unconditional resource
    call: GatewayCall  # the other department's system read citizen A's data
    report: AccessReport | None
    address: AddressEntry
    issue: QualityIssue
    job: ExchangeJob  # the market regulator sends a dataset to the other department
    dataset: Dataset
    delivery: Delivery
    subscription: Subscription


DEPARTMENT_PERMISSIONS = [
    sharing_permissions.CATALOGUE_VIEW,
    sharing_permissions.CATALOGUE_EDIT,
    sharing_permissions.REQUEST_CREATE,
    sharing_permissions.REQUEST_REVIEW,
    sharing_permissions.GRANT_MANAGE,
    sharing_permissions.SYSTEM_MANAGE,
    sharing_permissions.LOG_VIEW,
    sharing_permissions.STATISTICS_VIEW,
    basedata_permissions.RECORD_VIEW,
    basedata_permissions.RECORD_UPDATE,
    exchange_permissions.JOB_MANAGE,
    exchange_permissions.DELIVERY_RECEIVE,
]
CITY_PERMISSIONS = [
    sharing_permissions.CATALOGUE_VIEW,
    sharing_permissions.CATALOGUE_REVIEW,
    basedata_permissions.RECORD_VIEW,
    basedata_permissions.QUALITY_RESOLVE,
]
WATCH_PERMISSIONS = [sharing_permissions.STATISTICS_VIEW, exchange_permissions.MONITOR_VIEW]


def _assign(user: Any, role: Any, scope: str, **anchors: Any) -> None:
    RoleAssignment.objects.create(user=user, role=role, scope=scope, **anchors)


def build_sharing(
    *,
    market: Any,
    other: Any,
    officer: Any,
    other_officer: Any,
    leader: Any,
    supervisor: Any,
    system_admin: Any,
    auditor: Any,
    citizen_id_number: str,
) -> SharingWorld:
    department_role = factories.role("security_sharing_department", DEPARTMENT_PERMISSIONS)
    _assign(officer, department_role, Scope.DEPARTMENT, department=market)
    _assign(other_officer, department_role, Scope.DEPARTMENT, department=other)
    _assign(
        leader,
        factories.role("security_sharing_city", CITY_PERMISSIONS),
        Scope.DIVISION,
        division=market.division,
    )
    _assign(
        supervisor,
        factories.role("security_sharing_watch", WATCH_PERMISSIONS),
        Scope.DIVISION,
        division=market.division,
    )
    _assign(
        system_admin,
        factories.role("security_sharing_systems", [sharing_permissions.SYSTEM_MANAGE]),
        Scope.ALL,
    )
    _assign(
        auditor,
        factories.role("security_sharing_log", [sharing_permissions.LOG_VIEW]),
        Scope.ALL,
    )

    # the catalogue: a conditional resource (published, with v2 in preparation) and an
    # unconditional one, both the market regulator's
    def publish(code: str, **changes: Any) -> Resource:
        resource = catalogue.resource_create(
            actor=officer,
            code=code,
            resource_class="base",
            provider=market,
            values=values(**changes),
            items=items(),
            service_code="basedata.person",
        )
        version = resource.versions.get()
        catalogue.version_submit(actor=officer, version=version)
        catalogue.version_publish(actor=leader, version=version)
        resource.refresh_from_db()
        return resource

    resource = publish("1010010001")
    open_resource = publish(
        "1010010002", name="法人基本信息", share_type="unconditional", share_conditions=""
    )
    draft = catalogue.version_draft(actor=officer, resource=resource)

    system, _secret = grants.system_create(
        actor=officer, department=market, code="scj-approval", name="市场监管审批系统"
    )
    other_system, _other_secret = grants.system_create(
        actor=other_officer, department=other, code="other-platform", name="其他部门业务系统"
    )
    today = timezone.localdate()
    period = {
        "period_start": today,
        "period_end": today + dt.timedelta(days=365),
        "purpose": "核验申请人身份",
        "legal_basis": "《优化营商环境条例》第三十五条",
        "items": ["id_number", "name"],
    }
    request = grants.request_create(
        actor=other_officer, resource=resource, system=other_system, **period
    )
    granted = grants.request_create(
        actor=other_officer, resource=open_resource, system=other_system, **period
    )
    grant = Grant.objects.get(request=granted)

    now = timezone.now()
    call = GatewayCall(
        at=now - dt.timedelta(hours=1),
        consumer_system=other_system,
        consumer_department=other,
        resource=open_resource,
        provider_department=market,
        grant=grant,
        purpose="核验申请人身份",
        query=json.dumps({"id_number": citizen_id_number}),
        records=1,
        result=CallResult.OK,
        latency_ms=3.0,
    )
    call.digest = call_digest(call)
    call.save()
    GatewayCallSubject.objects.create(
        call=call, subject_hash=lookup_hmac(citizen_id_number, purpose="sharing.subject")
    )

    address = AddressEntry.objects.create(
        code="990102001001",
        full_address="示范市中山区人民路1号",
        district="中山区",
        street="人民路街道",
        community="人民社区",
    )
    issue = QualityIssue.objects.create(
        kind="duplicate",
        dataset="address",
        record_id=address.pk,
        record_label=address.full_address,
        fingerprint="security-world-issue",
    )

    job = exchange_services.job_create(
        actor=officer,
        provider_id=market.pk,
        name="食品经营许可信息",
        resource_code=open_resource.code,
        direction="push",
        data_format="csv",
        columns=["uscc", "name"],
        schedule_kind="daily",
        interval_hours=None,
        daily_at=dt.time(2, 0),
        consumer_ids=[other.pk],
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    dataset = exchange_services.dataset_upload(
        actor=officer,
        job=job,
        upload=SimpleUploadedFile(
            "licences.csv", "uscc,name\n91990100MA0000001X,示范企业\n".encode()
        ),
    )
    delivery = Delivery.objects.get(dataset=dataset)
    subscription = Subscription.objects.get(job=job)
    return SharingWorld(
        resource=resource,
        draft=draft,
        system=system,
        other_system=other_system,
        request=request,
        grant=grant,
        call=call,
        report=None,
        address=address,
        issue=issue,
        job=job,
        dataset=dataset,
        delivery=delivery,
        subscription=subscription,
    )
