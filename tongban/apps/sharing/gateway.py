"""The shared-data gateway's core: one call from an authenticated system to a resource.

Every call, refused or served, leaves exactly one ``GatewayCall`` row (who, which
resource, purpose, the encrypted query parameters, how many records, the result, the
latency) plus a ``GatewayCallSubject`` per person or organisation whose data the provider
returned — never the data itself. A served call:

1. the live grant of the calling system on the resource (one query with the resource, its
   current version and its provider; grants are never cached, so a revoked grant stops
   the very next call),
2. the grant's rate limit (a fixed one-minute window counted in the cache),
3. the provider (``providers.provider_get(resource.service_code)``) with the checked
   parameters,
4. only the granted items of each record (catalogue order), masked where the grant says,
5. the log row.

HTTP (``gateway_api``) and the platform's own applications (``fetch_for_department``)
share ``gateway_call``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.sharing import gateway_log
from tongban.apps.sharing.gateway_auth import AuthenticationFailed, Caller, caller_of
from tongban.apps.sharing.models import (
    CallResult,
    ConsumerSystem,
    GatewayCall,
    GatewayCallSubject,
    Grant,
    InfoItem,
    Resource,
    ResourceVersion,
)
from tongban.apps.sharing.providers import ProviderError, ProviderInvalid, provider_get
from tongban.platform.crypto.masking import mask_id_number, mask_middle, mask_name, mask_phone
from tongban.platform.crypto.sm import lookup_hmac
from tongban.platform.orgs.models import Department

SUBJECT_PURPOSE = "sharing.subject"
RATE_PREFIX = "sharing:gateway:rate:"
MAX_PURPOSE = 300
MAX_PARAMETER = 200
ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")
USCC = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}$")
MOBILE = re.compile(r"^1\d{10}$")


@dataclass
class CallOutcome:
    """What the gateway answers; ``status`` is the HTTP status of the answer."""

    status: int
    result: str
    call_id: int
    code: str = ""
    message: str = ""
    resource_code: str = ""
    resource_name: str = ""
    provider_name: str = ""
    items: list[tuple[str, str]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    retry_after: int = 0
    at: dt.datetime | None = None

    @property
    def served(self) -> bool:
        return self.status == 200


# ----------------------------------------------------------------------------- items


_ITEMS: dict[int, list[tuple[str, str]]] = {}
_ITEMS_LOCK = threading.Lock()


def version_items(version_id: int) -> list[tuple[str, str]]:
    """(code, name) of a published version's items in catalogue order. A published
    version is never edited, so the list is remembered in the worker process."""
    with _ITEMS_LOCK:
        found = _ITEMS.get(version_id)
    if found is not None:
        return found
    found = list(
        InfoItem.objects.filter(version_id=version_id)
        .order_by("order", "id")
        .values_list("code", "name")
    )
    with _ITEMS_LOCK:
        if len(_ITEMS) > 10_000:
            _ITEMS.clear()
        _ITEMS[version_id] = found
    return found


def mask_value(code: str, value: Any) -> Any:
    """Mask one item value: identity numbers, phones and names by their own rules, any
    other value in the middle."""
    if value is None or value == "":
        return value
    text = str(value)
    lower = code.lower()
    if "id_number" in lower or "uscc" in lower or ID_NUMBER.match(text) or USCC.match(text):
        return mask_id_number(text)
    if "phone" in lower or "mobile" in lower or MOBILE.match(text):
        return mask_phone(text)
    if lower.endswith("name") or lower in ("legal_representative", "relation_to_head"):
        return mask_name(text)
    keep = max(1, len(text) // 4)
    return mask_middle(text, keep_start=keep, keep_end=keep if len(text) > 3 else 0)


def shape_records(
    records: list[dict[str, Any]], granted: list[str], masked: set[str]
) -> list[dict[str, Any]]:
    return [
        {
            code: mask_value(code, record.get(code)) if code in masked else record.get(code)
            for code in granted
        }
        for record in records
    ]


# ----------------------------------------------------------------------------- rate limit


_REDIS_CLIENTS: dict[int, Any] = {}


def _redis_client(backend: RedisCache) -> Any:
    """The backend's writing client, made once per process (redis-py clients are
    thread-safe over their pool; Django makes a new one per operation, costly here)."""
    client = _REDIS_CLIENTS.get(id(backend))
    if client is None:
        client = _REDIS_CLIENTS[id(backend)] = backend._cache.get_client(None, write=True)
    return client


def _rate_count(grant_id: int, window: int) -> int:
    """Calls counted in the grant's current one-minute window (atomic increment)."""
    key = f"{RATE_PREFIX}{grant_id}:{window}"
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # one round trip (INCR) for all but the window's first call
        full_key = backend.make_and_validate_key(key)
        client = _redis_client(backend)
        count = int(client.incr(full_key))
        if count == 1:  # the window's first call sets its lifetime
            client.expire(full_key, 120)
        return count
    if cache.add(key, 1, timeout=120):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=120)
        return 1


def rate_limit_check(grant_id: int, limit: int, *, now: float | None = None) -> int:
    """0 when the call may go ahead, else the seconds until the window resets."""
    moment = time.time() if now is None else now
    window = int(moment // 60)
    if _rate_count(grant_id, window) <= limit:
        return 0
    return max(1, int((window + 1) * 60 - moment) + 1)


# ----------------------------------------------------------------------------- the log


@dataclass
class _LogEntry:
    at: dt.datetime
    started: float
    caller: Caller | None = None
    system_id: int | None = None
    department_id: int | None = None
    resource_id: int | None = None
    provider_department_id: int | None = None
    grant_id: int | None = None
    purpose: str = ""
    parameters: Mapping[str, str] | None = None
    case_number: str = ""
    request_id: str = ""


def _log(entry: _LogEntry, result: str, records: int = 0, subjects: list[str] | None = None) -> int:
    latency = round((time.perf_counter() - entry.started) * 1000, 3)
    call = GatewayCall(
        at=entry.at,
        consumer_system_id=entry.caller.system_id if entry.caller else entry.system_id,
        consumer_department_id=(
            entry.caller.department_id if entry.caller else entry.department_id
        ),
        resource_id=entry.resource_id,
        provider_department_id=entry.provider_department_id,
        grant_id=entry.grant_id,
        purpose=entry.purpose[:MAX_PURPOSE],
        query=gateway_log.query_text(entry.parameters),
        records=records,
        result=result,
        latency_ms=latency,
        case_number=entry.case_number[:40],
        request_id=entry.request_id[:64],
    )
    call.digest = gateway_log.call_digest(call)
    hashes = sorted({lookup_hmac(number, purpose=SUBJECT_PURPOSE) for number in subjects or []})
    if connection.vendor == "postgresql":
        return _insert_postgresql(call, hashes)
    if hashes:
        with transaction.atomic():
            call.save(force_insert=True)
            GatewayCallSubject.objects.bulk_create(
                [GatewayCallSubject(call_id=call.pk, subject_hash=value) for value in hashes]
            )
    else:
        call.save(force_insert=True)
    return int(call.pk)


_CALL_COLUMNS = gateway_log.CALL_COLUMNS


@lru_cache(maxsize=1)
def _insert_sql() -> str:
    call_table = GatewayCall._meta.db_table
    subject_table = GatewayCallSubject._meta.db_table
    columns = ", ".join(_CALL_COLUMNS)
    values = ", ".join(["%s"] * len(_CALL_COLUMNS))
    # table and column names come from the models; every value is bound
    return (
        f"WITH c AS (INSERT INTO {call_table} ({columns}) VALUES ({values}) RETURNING id), "  # noqa: S608
        f"s AS (INSERT INTO {subject_table} (call_id, subject_hash) "
        "SELECT c.id, h FROM c, unnest(%s::varchar[]) AS h) "
        "SELECT id FROM c"
    )


def _insert_postgresql(call: GatewayCall, hashes: list[str]) -> int:
    """The call and its subjects in one statement (one round trip, atomic by itself)."""
    query_field = GatewayCall._meta.get_field("query")
    params: list[Any] = []
    for column in _CALL_COLUMNS:
        value = getattr(call, column)
        if column == "query":
            value = query_field.get_db_prep_value(value, connection)
        params.append(value)
    params.append(hashes)
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(), params)
        row = cursor.fetchone()
    call.pk = int(row[0])
    return call.pk


def _refuse(
    entry: _LogEntry, status: int, result: str, code: str, message: str, **extra: Any
) -> CallOutcome:
    call_id = _log(entry, result)
    return CallOutcome(
        status=status, result=result, call_id=call_id, code=code, message=message, **extra
    )


# ----------------------------------------------------------------------------- the call


@dataclass(frozen=True)
class LiveGrant:
    """The live grant of a call with what the call needs of its resource (one query)."""

    id: int
    items: list[str]
    masked_items: list[str]
    rate_limit_per_minute: int
    resource_id: int
    resource_code: str
    service_code: str
    is_withdrawn: bool
    provider_id: int
    provider_name: str
    version_id: int | None
    version_name: str


@lru_cache(maxsize=2)
def _grant_sql(vendor: str) -> str:
    del vendor  # one cache entry per database vendor
    # table names come from the models; every value is bound
    return (
        "SELECT g.id, g.items, g.masked_items, g.rate_limit_per_minute, r.id, r.code, "  # noqa: S608
        "r.service_code, r.is_withdrawn, r.provider_id, p.name, v.id, v.name "
        f"FROM {Grant._meta.db_table} g "
        f"JOIN {Resource._meta.db_table} r ON r.id = g.resource_id "
        f"JOIN {Department._meta.db_table} p ON p.id = r.provider_id "
        f"LEFT JOIN {ResourceVersion._meta.db_table} v ON v.id = r.current_id "
        "WHERE g.consumer_system_id = %s AND r.code = %s AND g.revoked_at IS NULL "
        "AND g.valid_from <= %s AND g.expires_at > %s "
        "ORDER BY g.valid_from DESC, g.id DESC LIMIT 1"
    )


def _json_list(value: Any) -> list[str]:
    if isinstance(value, str):
        value = json.loads(value)
    return [str(item) for item in value or []]


def _live_grant(system_id: int, resource_code: str, now: dt.datetime) -> LiveGrant | None:
    """The newest live grant of the system on the resource (hand-written SQL: this runs
    on every call and the ORM would spend longer building it than the database answering)."""
    moment = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(_grant_sql(connection.vendor), [system_id, resource_code, moment, moment])
        row = cursor.fetchone()
    if row is None:
        return None
    return LiveGrant(
        id=int(row[0]),
        items=_json_list(row[1]),
        masked_items=_json_list(row[2]),
        rate_limit_per_minute=int(row[3]),
        resource_id=int(row[4]),
        resource_code=str(row[5]),
        service_code=str(row[6] or ""),
        is_withdrawn=bool(row[7]),
        provider_id=int(row[8]),
        provider_name=str(row[9]),
        version_id=int(row[10]) if row[10] is not None else None,
        version_name=str(row[11] or ""),
    )


def _check_parameters(provider: Any, parameters: Mapping[str, str]) -> str:
    """An error message for the caller, or "" when the parameters fit the provider."""
    known = {parameter.name for parameter in provider.parameters}
    unknown = sorted(set(parameters) - known)
    if unknown:
        return _("不支持的查询参数：%(names)s") % {"names": "、".join(unknown)}
    for parameter in provider.parameters:
        value = parameters.get(parameter.name, "")
        if parameter.required and not value.strip():
            return _("缺少查询参数：%(name)s（%(label)s）") % {
                "name": parameter.name,
                "label": parameter.label,
            }
        if len(value) > MAX_PARAMETER:
            return _("查询参数过长：%(name)s") % {"name": parameter.name}
    return ""


def gateway_call(
    *,
    caller: Caller | None,
    resource_code: str,
    parameters: Mapping[str, str],
    purpose: str,
    case_number: str = "",
    request_id: str = "",
    auth_error: AuthenticationFailed | None = None,
    started: float | None = None,
) -> CallOutcome:
    """Check, serve and log one call (see the module docstring)."""
    now = timezone.now()
    entry = _LogEntry(
        at=now,
        started=time.perf_counter() if started is None else started,
        caller=caller,
        purpose=purpose or "",
        parameters=parameters,
        case_number=case_number or "",
        request_id=request_id or "",
    )
    withdrawn = False
    if caller is None:
        error = auth_error or AuthenticationFailed("unauthenticated", _("请提供有效的访问凭证"))
        if error.system_id is not None:
            entry.system_id = error.system_id
            entry.department_id = (
                ConsumerSystem.objects.filter(pk=error.system_id)
                .values_list("department_id", flat=True)
                .first()
            )
        return _refuse(entry, 401, CallResult.UNAUTHENTICATED, error.code, error.message)

    grant = _live_grant(caller.system_id, resource_code, now)
    if grant is not None:
        entry.resource_id = grant.resource_id
        entry.provider_department_id = grant.provider_id
        entry.grant_id = grant.id
        withdrawn = grant.is_withdrawn
    else:
        found = (
            Resource.objects.filter(code=resource_code)
            .values_list("id", "provider_id", "is_withdrawn")
            .first()
        )
        if found is not None:
            entry.resource_id, entry.provider_department_id, withdrawn = found

    if not caller.is_active:
        return _refuse(entry, 403, CallResult.DENIED, "system_inactive", _("调用系统已停用"))
    if entry.resource_id is None:
        return _refuse(entry, 404, CallResult.INVALID, "unknown_resource", _("该信息资源不存在"))
    if not entry.purpose.strip():
        return _refuse(
            entry,
            400,
            CallResult.INVALID,
            "purpose_required",
            _("请在 X-Purpose 请求头中说明数据使用用途"),
        )
    if withdrawn:
        return _refuse(
            entry, 403, CallResult.DENIED, "resource_withdrawn", _("该信息资源已撤销共享")
        )
    if grant is None:
        return _refuse(
            entry, 403, CallResult.DENIED, "no_grant", _("调用系统没有该资源的有效共享授权")
        )

    retry = rate_limit_check(grant.id, grant.rate_limit_per_minute)
    if retry:
        return _refuse(
            entry,
            429,
            CallResult.RATE_LIMITED,
            "rate_limited",
            _("超出该授权的调用频率上限（每分钟%(limit)s次）")
            % {"limit": grant.rate_limit_per_minute},
            retry_after=retry,
        )

    provider = provider_get(grant.service_code) if grant.service_code else None
    if grant.version_id is None or provider is None:
        return _refuse(entry, 503, CallResult.ERROR, "not_served", _("该信息资源暂未提供接口服务"))
    problem = _check_parameters(provider, parameters)
    if problem:
        return _refuse(entry, 400, CallResult.INVALID, "invalid_parameters", problem)
    try:
        answer = provider.fetch(parameters)
    except ProviderInvalid as error:
        return _refuse(entry, 400, CallResult.INVALID, "invalid_parameters", str(error))
    except ProviderError:
        return _refuse(
            entry, 502, CallResult.ERROR, "provider_error", _("数据提供方服务暂时不可用")
        )
    except Exception:  # a provider's bug: logged as an error, never a 500 without a log row
        return _refuse(
            entry, 502, CallResult.ERROR, "provider_error", _("数据提供方服务暂时不可用")
        )

    catalogue = version_items(grant.version_id)
    granted_codes = set(grant.items)
    items = [(code, name) for code, name in catalogue if code in granted_codes]
    records = shape_records(
        list(answer.records), [code for code, _name in items], set(grant.masked_items)
    )
    result = CallResult.OK if records else CallResult.NOT_FOUND
    call_id = _log(entry, result, records=len(records), subjects=list(answer.subjects))
    return CallOutcome(
        status=200,
        result=result,
        call_id=call_id,
        resource_code=grant.resource_code,
        resource_name=grant.version_name,
        provider_name=grant.provider_name,
        items=items,
        records=records,
        at=now,
    )


# ----------------------------------------------------------------------------- platform apps


def fetch_for_department(
    *,
    department_id: int,
    resource_code: str,
    parameters: Mapping[str, str],
    purpose: str,
    case_number: str = "",
) -> Any:
    """``sharing.public.fetch_for_department``: the call made by the department's platform
    system (``ConsumerSystem.is_platform``) under its live grant, checked and logged as an
    HTTP call; raises ``SharingDenied`` / ``SharingUnavailable``."""
    from tongban.apps.sharing.public import FetchResult, SharingDenied, SharingUnavailable
    from tongban.platform.audit import context

    now = timezone.now()
    systems = ConsumerSystem.objects.filter(department_id=department_id, is_platform=True)
    granted = (
        Grant.objects.filter(
            consumer_system__in=systems.filter(is_active=True),
            resource__code=resource_code,
            revoked_at__isnull=True,
            valid_from__lte=now,
            expires_at__gt=now,
        )
        .order_by("-valid_from", "-id")
        .values_list("consumer_system_id", flat=True)
        .first()
    )
    system = (
        systems.filter(pk=granted).first()
        if granted is not None
        else systems.order_by("-is_active", "id").first()
    )
    if system is None:
        raise SharingDenied(_("本部门未登记平台内应用系统，无法调用共享数据"))
    outcome = gateway_call(
        caller=caller_of(system, "platform"),
        resource_code=resource_code,
        parameters={str(key): str(value) for key, value in parameters.items()},
        purpose=purpose,
        case_number=case_number,
        request_id=context.current().request_id,
    )
    if outcome.status in (401, 403, 429):
        raise SharingDenied(outcome.message)
    if not outcome.served:
        raise SharingUnavailable(outcome.message)
    if outcome.result == CallResult.NOT_FOUND:
        raise SharingUnavailable(_("数据提供方没有符合条件的数据"))
    return FetchResult(
        resource_code=outcome.resource_code,
        resource_name=outcome.resource_name,
        provider_name=outcome.provider_name,
        items=outcome.items,
        records=outcome.records,
        call_id=outcome.call_id,
        fetched_at=outcome.at or now,
    )
