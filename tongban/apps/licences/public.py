"""What other applications may ask of the licences (plain dataclasses, never models).

Approvals issues a licence when a case is approved::

    info = licence_issue(actor=officer, type_code="SPJY", name="食品经营许可证",
                         holder_name="示范市测试科技有限公司", holder_id_type="uscc",
                         holder_id_number="91990100MA000001XX", issuer_department_id=dept_id,
                         valid_until=None, fields={"经营场所": "中山路1号"},
                         source="approvals.case:123")

``holder_id_type`` is one of ``resident_id`` (居民身份证), ``uscc`` (统一社会信用代码),
``passport``, ``other``. The caller has checked its own permission to decide the case;
this module trusts it (``caller_checked``). Bad input raises ``ValidationError`` keyed by
the argument's name; the same ``source`` + ``type_code`` returns the first licence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.http import Http404

from tongban.apps.licences import documents, selectors, services, signing
from tongban.apps.licences.models import Licence


@dataclass(frozen=True)
class LicenceInfo:
    identifier: str
    number: str
    name: str
    type_code: str
    holder_name: str
    holder_id_type: str
    holder_id_masked: str
    issuer_name: str
    issuer_uscc: str
    issued_on: dt.date
    valid_from: dt.date
    valid_until: dt.date | None
    status: str  # "valid" | "revoked" | "expired"
    verify_path: str


def _info(licence: Licence) -> LicenceInfo:
    return LicenceInfo(
        identifier=licence.identifier,
        number=licence.number,
        name=licence.name,
        type_code=licence.licence_type.code,
        holder_name=licence.holder_name,
        holder_id_type=licence.holder_id_type,
        holder_id_masked=licence.holder_id_masked,
        issuer_name=licence.issuer_name,
        issuer_uscc=licence.issuer.uscc,
        issued_on=licence.issued_on,
        valid_from=licence.valid_from,
        valid_until=licence.valid_until,
        status=signing.effective_status(licence),
        verify_path=documents.verify_path(licence.identifier),
    )


def licence_issue(
    *,
    actor: Any,
    type_code: str,
    name: str,
    holder_name: str,
    holder_id_type: str,
    holder_id_number: str,
    issuer_department_id: int,
    valid_until: dt.date | None,
    fields: Mapping[str, str],
    source: str,
    issued_on: dt.date | None = None,
) -> LicenceInfo:
    """Issue and sign a licence (idempotent per source + type_code). ``issued_on`` is for
    loaders of past cases; it defaults to today."""
    licence = services.licence_issue(
        actor=actor,
        type_code=type_code,
        name=name,
        holder_name=holder_name,
        holder_id_type=holder_id_type,
        holder_id_number=holder_id_number,
        issuer_department_id=issuer_department_id,
        valid_until=valid_until,
        fields=fields,
        source=source,
        caller_checked=True,
        issued_on=issued_on,
    )
    return _info(licence)


def licence_revoke(*, actor: Any, identifier: str, reason: str) -> LicenceInfo:
    """Revoke with reasons; the actor needs ``licences.licence.revoke`` over the issuer
    (``PermissionDenied`` otherwise). ``Http404`` for an unknown identifier."""
    licence = selectors.licence_by_identifier(identifier)
    if licence is None:
        raise Http404
    return _info(services.licence_revoke(actor=actor, licence=licence, reason=reason))


def licence_renew(
    *,
    actor: Any,
    identifier: str,
    valid_until: dt.date | None,
    fields: Mapping[str, str] | None = None,
    source: str = "",
) -> LicenceInfo:
    """换发: a new version linked to the old licence, which is revoked (caller checked)."""
    licence = selectors.licence_by_identifier(identifier)
    if licence is None:
        raise Http404
    return _info(
        services.licence_renew(
            actor=actor,
            licence=licence,
            valid_until=valid_until,
            fields=fields,
            source=source,
            caller_checked=True,
        )
    )


def licence_get(identifier: str) -> LicenceInfo | None:
    licence = selectors.licence_by_identifier(identifier)
    return _info(licence) if licence is not None else None


def licences_for_source(source: str) -> list[LicenceInfo]:
    return [_info(licence) for licence in selectors.licences_for_source(source)]


def licence_pdf(identifier: str) -> bytes:
    """The licence's PDF (``Http404`` for an unknown identifier). The caller decides who
    may have it (the case's applicant, its officers)."""
    licence = selectors.licence_by_identifier(identifier)
    if licence is None:
        raise Http404
    return documents.licence_pdf_bytes(licence)


def licence_verify(identifier: str) -> str:
    """valid / revoked / expired / tampered / not_found, after checking the signature."""
    return signing.verdict_of(selectors.licence_by_identifier(identifier)).value


def licence_register_entry(identifier: str) -> dict[str, Any] | None:
    """One licence as a row of the base databases' e-licence register, with the holder's
    full identity number: for trusted server-side callers only (the basedata register is
    encrypted at rest and masks on screen). ``None`` for an unknown identifier."""
    licence = selectors.licence_by_identifier(identifier)
    if licence is None:
        return None
    return {
        "identifier": licence.identifier,
        "number": licence.number,
        "name": licence.name,
        "type_code": licence.licence_type.code,
        "holder_name": licence.holder_name,
        "holder_id_type": licence.holder_id_type,
        "holder_id_number": str(licence.holder_id_number or ""),
        "issuer_name": licence.issuer_name,
        "issued_on": licence.issued_on.isoformat(),
        "valid_until": licence.valid_until.isoformat() if licence.valid_until else None,
        "status": signing.effective_status(licence),
    }
