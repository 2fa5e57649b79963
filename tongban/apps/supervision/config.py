"""The current rules and scoring weights, and writing a new version of either (audited)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from tongban.apps.supervision import permissions
from tongban.apps.supervision.models import RuleSetVersion, ScoringVersion
from tongban.apps.supervision.rules import (
    RuleParams,
    ScoringParams,
    params_to_dict,
    rule_params_from_dict,
    scoring_params_from_dict,
)
from tongban.platform.access.services import require
from tongban.platform.audit.services import audit_record

# per-process cache: (version number, params); a new version changes the number
_RULES: tuple[int, int, RuleParams] | None = None  # (pk, number, params)


def rules_current() -> tuple[RuleSetVersion, RuleParams]:
    """The current rule version, created with the defaults on first use."""
    global _RULES
    version = RuleSetVersion.objects.order_by("-number").first()
    if version is None:
        version = _first_version(RuleSetVersion, params_to_dict(RuleParams()))
    if _RULES is None or _RULES[0] != version.pk:
        _RULES = (version.pk, version.number, rule_params_from_dict(version.params))
    return version, _RULES[2]


def scoring_current() -> tuple[ScoringVersion, ScoringParams]:
    version = ScoringVersion.objects.order_by("-number").first()
    if version is None:
        version = _first_version(ScoringVersion, params_to_dict(ScoringParams()))
    return version, scoring_params_from_dict(version.params)


def _first_version(model: Any, params: dict[str, Any]) -> Any:
    try:
        with transaction.atomic():
            version = model.objects.create(number=1, params=params, note="默认值")
            audit_record(
                actor=None, action=f"supervision.{model._meta.model_name}.create", target=version
            )
            return version
    except IntegrityError:  # created by a concurrent caller
        return model.objects.get(number=1)


def _new_version(model: Any, *, actor: Any, params: dict[str, Any], note: str) -> Any:
    with transaction.atomic():
        # serialise writers on the newest row; numbers stay gapless
        latest = model.objects.select_for_update().order_by("-number").first()
        number = (latest.number if latest else 0) + 1
        if latest is None:
            number = (model.objects.aggregate(top=Max("number"))["top"] or 0) + 1
        version = model.objects.create(
            number=number, params=params, note=note[:200], created_by=actor
        )
        audit_record(
            actor=actor,
            action=f"supervision.{model._meta.model_name}.create",
            target=version,
            detail={
                "number": number,
                "previous": latest.params if latest else None,
                "params": params,
                "note": note,
            },
        )
    return version


def rules_update(*, actor: Any, data: dict[str, Any], note: str = "") -> RuleSetVersion:
    """Write a new rule version from ``data`` (merged over the current one).

    Raises ``rules.ParamsError`` listing every bad value; nothing is written then."""
    require(actor, permissions.RULES_MANAGE)
    current, params = rules_current()
    merged = {**params_to_dict(params), **data}
    validated = rule_params_from_dict(merged)
    version: RuleSetVersion = _new_version(
        RuleSetVersion, actor=actor, params=params_to_dict(validated), note=note
    )
    return version


def scoring_update(*, actor: Any, data: dict[str, Any], note: str = "") -> ScoringVersion:
    require(actor, permissions.RULES_MANAGE)
    current, params = scoring_current()
    merged = {**params_to_dict(params), **data}
    validated = scoring_params_from_dict(merged)
    version: ScoringVersion = _new_version(
        ScoringVersion, actor=actor, params=params_to_dict(validated), note=note
    )
    return version
