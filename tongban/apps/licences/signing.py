"""Canonical form, SM2 signatures and verification of licences.

Canonical form (format ``tongban.licence.v1``): a JSON object with exactly the keys below,
keys sorted, no whitespace (separators ``,`` and ``:``), non-ASCII characters written as
themselves, encoded as UTF-8. Dates are ISO ``YYYY-MM-DD``; an absent date is ``null``.

    fields            照面信息, object of string → string
    format            "tongban.licence.v1"
    holder_id_hmac    keyed SM3 HMAC of the holder's ID number (not the number itself)
    holder_id_masked  the masked number shown on screen
    holder_id_type    resident_id | uscc | passport | other
    holder_name
    identifier        the full 1.2.156.3005.2… identifier (check character included)
    issued_on
    issuer_name       the department's name at issuance
    issuer_uscc
    key               SM3 fingerprint of the signing public key (hex)
    name              the licence's name
    number
    previous          identifier of the licence it replaces, or null
    type_code
    valid_from
    valid_until

A revocation is signed separately (format ``tongban.licence-revocation.v1``: format,
identifier, reason, revoked_at as UTC ISO-8601 with microseconds, status "revoked").
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import BinaryField, ExpressionWrapper, F
from django.utils import timezone

from tongban.apps.licences.identifiers import identifier_build
from tongban.apps.licences.models import (
    HOLDER_ID_PURPOSE,
    ISSUER_KEY_PURPOSE,
    IssuerKey,
    Licence,
    LicenceStatus,
)
from tongban.platform.audit.models import AuditEntry, Outcome
from tongban.platform.crypto import sm2
from tongban.platform.crypto.sm import (
    DecryptionError,
    decrypt_text,
    encrypt_text,
    lookup_hmac,
    sm3_hex,
)
from tongban.platform.orgs.models import Department

FORMAT = "tongban.licence.v1"
REVOCATION_FORMAT = "tongban.licence-revocation.v1"
REVOKE_ACTION = "licences.licence.revoke"
RESIDENT_ID_PURPOSE = "person.id_number"  # the same HMAC as accounts.NaturalPerson


class Verdict(enum.StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"
    TAMPERED = "tampered"
    NOT_FOUND = "not_found"


def canonical_bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def holder_hmac(id_type: str, number: str) -> str:
    """Resident IDs share the accounts HMAC, so a signed-in person finds their licences."""
    if id_type == "resident_id":
        return lookup_hmac(number, purpose=RESIDENT_ID_PURPOSE)
    return lookup_hmac(number, purpose=f"licences.holder.{id_type}")


def licence_data(licence: Licence, *, key_fingerprint: str, issuer_uscc: str) -> dict[str, Any]:
    previous = licence.previous.identifier if licence.previous_id else None  # type: ignore[union-attr]
    return {
        "fields": {str(key): str(value) for key, value in (licence.fields or {}).items()},
        "format": FORMAT,
        "holder_id_hmac": licence.holder_id_hmac,
        "holder_id_masked": licence.holder_id_masked,
        "holder_id_type": licence.holder_id_type,
        "holder_name": licence.holder_name,
        "identifier": licence.identifier,
        "issued_on": _date(licence.issued_on),
        "issuer_name": licence.issuer_name,
        "issuer_uscc": issuer_uscc,
        "key": key_fingerprint,
        "name": licence.name,
        "number": licence.number,
        "previous": previous,
        "type_code": licence.licence_type.code,
        "valid_from": _date(licence.valid_from),
        "valid_until": _date(licence.valid_until),
    }


def revocation_bytes(licence: Licence) -> bytes:
    revoked_at = licence.revoked_at
    return canonical_bytes(
        {
            "format": REVOCATION_FORMAT,
            "identifier": licence.identifier,
            "reason": licence.revoke_reason,
            "revoked_at": revoked_at.astimezone(dt.UTC).isoformat(timespec="microseconds")
            if revoked_at
            else None,
            "status": LicenceStatus.REVOKED.value,
        }
    )


# ---------------------------------------------------------------- keys


def key_fingerprint(public_key_pem: bytes) -> str:
    return sm3_hex(public_key_pem.strip())


def issuer_key_for(department: Department) -> IssuerKey:
    """The department's active signing key, created on first use (in the caller's
    transaction: a rolled-back first issuance leaves no key behind)."""
    found = IssuerKey.objects.filter(department=department, is_active=True).first()
    if found is not None:
        return found
    private_pem = sm2.generate_private_key_pem()
    public_pem = sm2.public_key_pem(private_pem)
    try:
        with transaction.atomic():
            return IssuerKey.objects.create(
                department=department,
                public_key_pem=public_pem.decode("ascii"),
                private_key_encrypted=encrypt_text(
                    private_pem.decode("ascii"), purpose=ISSUER_KEY_PURPOSE
                ),
                fingerprint=key_fingerprint(public_pem),
            )
    except IntegrityError:  # another transaction created it first
        return IssuerKey.objects.get(department=department, is_active=True)


def _private_pem(key: IssuerKey) -> bytes:
    return decrypt_text(bytes(key.private_key_encrypted), purpose=ISSUER_KEY_PURPOSE).encode(
        "ascii"
    )


def sign_with(key: IssuerKey, data: bytes) -> bytes:
    return sm2.sign(_private_pem(key), data)


# ---------------------------------------------------------------- verification


def effective_status(licence: Licence, today: dt.date | None = None) -> str:
    """valid / revoked / expired, the expiry computed from the date."""
    if licence.status == LicenceStatus.REVOKED:
        return LicenceStatus.REVOKED.value
    day = today or timezone.localdate()
    if licence.status == LicenceStatus.EXPIRED or (
        licence.valid_until is not None and licence.valid_until < day
    ):
        return LicenceStatus.EXPIRED.value
    return LicenceStatus.VALID.value


def _signature_holds(key: IssuerKey, data: bytes, signature: bytes | memoryview | None) -> bool:
    if not signature:
        return False
    try:
        sm2.verify(key.public_key_pem.encode("ascii"), data, bytes(signature))
    except Exception:  # a bad signature, a mangled key or PEM: not verified, whatever the cause
        return False
    return True


def _raw_holder_id(licence: Licence) -> bytes:
    """The stored frame itself, not decrypted on load (a damaged frame must not raise)."""
    raw = (
        Licence.objects.filter(pk=licence.pk)
        .annotate(raw=ExpressionWrapper(F("holder_id_number"), output_field=BinaryField()))
        .values_list("raw", flat=True)
        .first()
    )
    return bytes(raw or b"")


def _revocation_audited(licence: Licence) -> bool:
    """The hash-chained audit log records every revocation (deleting that entry breaks
    the chain, which ``verify_chain`` reports)."""
    return AuditEntry.objects.filter(
        object_type=Licence._meta.label_lower,
        object_id=str(licence.pk),
        action=REVOKE_ACTION,
        outcome=Outcome.SUCCESS,
    ).exists()


def is_intact(licence: Licence) -> bool:
    """Recompute the canonical bytes from the row and check everything that binds them."""
    key = licence.signing_key
    issuer = licence.issuer
    if key.department_id != issuer.pk:
        return False
    try:
        fingerprint = key_fingerprint(key.public_key_pem.encode("ascii"))
        expected_identifier = identifier_build(
            type_code=licence.licence_type.code,
            issuer_uscc=issuer.uscc,
            serial=licence.serial,
            version=licence.version,
        )
        number = decrypt_text(_raw_holder_id(licence), purpose=HOLDER_ID_PURPOSE)
    except (ValueError, DecryptionError, UnicodeError):
        return False
    if fingerprint != key.fingerprint or expected_identifier != licence.identifier:
        return False
    if holder_hmac(licence.holder_id_type, number) != licence.holder_id_hmac:
        return False
    data = canonical_bytes(
        licence_data(licence, key_fingerprint=fingerprint, issuer_uscc=issuer.uscc)
    )
    if not _signature_holds(key, data, licence.signature):
        return False
    revoked = licence.status == LicenceStatus.REVOKED
    has_revocation = (
        bool(licence.revocation_signature)
        or licence.revoked_at is not None
        or bool(licence.revoke_reason)
        or licence.revoked_by_id is not None
    )
    if revoked != has_revocation:
        return False  # a revocation added or removed behind the application's back
    if not revoked and _revocation_audited(licence):
        return False  # every trace wiped from the row, but the audit chain remembers
    return not revoked or _signature_holds(
        key, revocation_bytes(licence), licence.revocation_signature
    )


def verdict_of(licence: Licence | None, today: dt.date | None = None) -> Verdict:
    if licence is None:
        return Verdict.NOT_FOUND
    if not is_intact(licence):
        return Verdict.TAMPERED
    return Verdict(effective_status(licence, today))
