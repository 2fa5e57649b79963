"""Every permission the platform and its applications use, declared in code.

Applications declare theirs with ``register`` from their AppConfig.ready(); the
``access_sync_permissions`` service writes them to the database after migrations.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PermissionSpec:
    code: str
    name: str


_REGISTRY: dict[str, PermissionSpec] = {}


def register(code: str, name: str) -> str:
    existing = _REGISTRY.get(code)
    if existing is not None and existing.name != name:
        raise ValueError(f"permission {code} registered twice with different names")
    _REGISTRY[code] = PermissionSpec(code, name)
    return code


def all_permissions() -> list[PermissionSpec]:
    return sorted(_REGISTRY.values(), key=lambda spec: spec.code)


def is_registered(code: str) -> bool:
    return code in _REGISTRY
