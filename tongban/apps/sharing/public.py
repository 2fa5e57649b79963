"""What other applications may ask of the sharing app (plain dataclasses, never models).

``fetch_for_department`` is how a platform application (online approval's once-only
materials) reads shared data: through the gateway's own checks and log, under the live
grant of the department's platform system (``ConsumerSystem.is_platform``).
``grant_lookup`` tells the scheduled exchange whether a department may receive a resource.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class SharingDenied(Exception):
    """No live grant, the resource is withdrawn, or the rate limit is reached. The message
    is in the active language and may be shown to the user."""


class SharingUnavailable(Exception):
    """The provider failed or holds no record for the parameters."""


@dataclass(frozen=True)
class FetchResult:
    resource_code: str
    resource_name: str
    provider_name: str
    #: (code, name) of the granted items, in catalogue order
    items: list[tuple[str, str]]
    #: the records, granted items only, masked where the grant says
    records: list[dict[str, Any]]
    call_id: int
    fetched_at: dt.datetime


@dataclass(frozen=True)
class GrantInfo:
    grant_id: int
    resource_code: str
    consumer_department_id: int
    consumer_system_code: str
    items: list[str]
    masked_items: list[str]
    expires_at: dt.datetime


def fetch_for_department(
    *,
    department_id: int,
    resource_code: str,
    parameters: Mapping[str, str],
    purpose: str,
    case_number: str = "",
) -> FetchResult:
    """Call ``resource_code`` for ``department_id``'s platform system (gateway area)."""
    from tongban.apps.sharing import gateway

    return gateway.fetch_for_department(
        department_id=department_id,
        resource_code=resource_code,
        parameters=parameters,
        purpose=purpose,
        case_number=case_number,
    )


def grant_lookup(*, department_id: int, resource_code: str) -> GrantInfo | None:
    """The live grant of any system of ``department_id`` on ``resource_code`` (grants area)."""
    from tongban.apps.sharing import grants

    return grants.grant_lookup(department_id=department_id, resource_code=resource_code)


def resource_parameters(resource_code: str) -> list[str]:
    """The query parameter names of ``resource_code``'s gateway provider, in order ([] if
    the resource or its provider is unknown). Once-only materials put the applicant's
    identity number in the first one (once-only area)."""
    from tongban.apps.sharing.models import Resource
    from tongban.apps.sharing.providers import provider_get

    service_code = (
        Resource.objects.filter(code=resource_code).values_list("service_code", flat=True).first()
    )
    provider = provider_get(service_code) if service_code else None
    return [parameter.name for parameter in provider.parameters] if provider else []
