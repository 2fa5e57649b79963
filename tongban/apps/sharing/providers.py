"""The gateway's providers: the code that answers a resource's calls.

A resource names its provider by ``Resource.service_code``. A provider takes the call's
query parameters (already checked against its ``parameters``) and returns the records,
each a dict keyed by information item code, plus the identity numbers of the people or
organisations whose data the records hold (for the citizen's access log). The gateway then
keeps only the granted items and masks those the grant says. Providers for the base
databases and the e-licences are registered in ``providers_builtin.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class ProviderError(Exception):
    """The provider could not answer (its message is for the log, not the caller)."""


class ProviderInvalid(ValueError):
    """The query parameters are wrong; the message is shown to the caller."""


@dataclass(frozen=True)
class Parameter:
    name: str
    label: str  # Chinese, for the catalogue page and the OpenAPI description
    required: bool = True


@dataclass(frozen=True)
class ProviderResult:
    records: list[dict[str, Any]]
    #: identity numbers (resident ID or USCC) of everyone whose data is in ``records``
    subjects: list[str] = field(default_factory=list)


Fetch = Callable[[Mapping[str, str]], ProviderResult]


@dataclass(frozen=True)
class Provider:
    code: str
    label: str
    parameters: tuple[Parameter, ...]
    fetch: Fetch


_PROVIDERS: dict[str, Provider] = {}


def register_provider(provider: Provider) -> None:
    _PROVIDERS[provider.code] = provider


def provider_get(code: str) -> Provider | None:
    return _PROVIDERS.get(code)


def providers_all() -> list[Provider]:
    return sorted(_PROVIDERS.values(), key=lambda provider: provider.code)
