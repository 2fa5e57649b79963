"""What other applications may ask of the base databases (plain dicts, never models).

Fast single-row lookups by indexed keyed-HMAC columns (one query each): the sharing
gateway calls ``person_get`` about a thousand times a second. Identity numbers are
returned in full; callers mask per grant and audit their own reads. Dates are ISO
``YYYY-MM-DD``; a missing value is ``None``.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from django.db.models import Q

from tongban.apps.basedata.models import (
    ID_PURPOSE,
    AddressEntry,
    BirthRecord,
    LegalPerson,
    LicenceRecord,
    NaturalPerson,
)
from tongban.platform.crypto.sm import lookup_hmac

PERSON_FIELDS = (
    "gender",
    "ethnicity",
    "birth_date",
    "birth_place",
    "household_number",
    "household_address",
    "relation_to_head",
    "marital_status",
    "residence_address",
    "death_date",
)
LEGAL_FIELDS = (
    "uscc",
    "name",
    "entity_type",
    "legal_representative",
    "registered_address",
    "registered_capital",
    "established_on",
    "business_scope",
    "status",
    "registration_authority",
)
BIRTH_FIELDS = (
    "certificate_number",
    "newborn_name",
    "newborn_gender",
    "birth_date",
    "birth_place",
    "hospital",
    "mother_name",
    "father_name",
)
LICENCE_FIELDS = (
    "identifier",
    "number",
    "name",
    "type_code",
    "holder_name",
    "issuer_name",
    "issued_on",
    "valid_until",
    "status",
)
ADDRESS_FIELDS = ("code", "full_address", "district", "street", "community")
SEARCH_MAX = 100


def _plain(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def _hmac(id_number: str) -> str:
    return lookup_hmac(id_number.strip().upper(), purpose=ID_PURPOSE)


def _person(row: NaturalPerson) -> dict[str, Any]:
    record: dict[str, Any] = {"id_number": row.id_number, "name": row.name or None}
    for name in PERSON_FIELDS:
        record[name] = _plain(getattr(row, name))
    record["phone"] = row.phone or None
    return record


def _defer(queryset: Any) -> Any:
    return queryset.defer("sources", "created_at", "updated_at")


def person_get(id_number: str) -> dict[str, Any] | None:
    row = _defer(NaturalPerson.objects.filter(id_number_hmac=_hmac(id_number))).first()
    return _person(row) if row is not None else None


def household_members(household_number: str) -> list[dict[str, Any]]:
    if not household_number.strip():
        return []
    rows = _defer(NaturalPerson.objects.filter(household_number=household_number.strip()))
    return [_person(row) for row in rows.order_by("pk")[:SEARCH_MAX]]


def births_of_parent(id_number: str) -> list[dict[str, Any]]:
    digest = _hmac(id_number)
    rows = _defer(
        BirthRecord.objects.filter(Q(mother_id_hmac=digest) | Q(father_id_hmac=digest))
    ).order_by("birth_date", "pk")
    found = []
    for row in rows[:SEARCH_MAX]:
        record = {name: _plain(getattr(row, name)) for name in BIRTH_FIELDS}
        record["mother_id_number"] = row.mother_id or None
        record["father_id_number"] = row.father_id or None
        found.append(record)
    return found


def legal_person_get(uscc: str) -> dict[str, Any] | None:
    row = _defer(LegalPerson.objects.filter(uscc=uscc.strip().upper())).first()
    if row is None:
        return None
    record = {name: _plain(getattr(row, name)) for name in LEGAL_FIELDS}
    record["legal_representative_id_number"] = row.legal_representative_id or None
    return record


def licences_of_holder(id_number: str) -> list[dict[str, Any]]:
    rows = _defer(LicenceRecord.objects.filter(holder_id_hmac=_hmac(id_number))).order_by(
        "-issued_on", "-pk"
    )
    found = []
    for row in rows[:SEARCH_MAX]:
        record = {name: _plain(getattr(row, name)) for name in LICENCE_FIELDS}
        record["holder_id_number"] = row.holder_id or None
        found.append(record)
    return found


def address_search(text: str, limit: int = 20) -> list[dict[str, Any]]:
    query = text.strip()
    if not query:
        return []
    limit = max(1, min(int(limit), SEARCH_MAX))
    rows = _defer(
        AddressEntry.objects.filter(full_address__contains=query)
        | AddressEntry.objects.filter(code=query)
    ).order_by("full_address", "pk")[:limit]
    found = []
    for row in rows:
        record = {name: _plain(getattr(row, name)) for name in ADDRESS_FIELDS}
        record["longitude"] = _plain(row.longitude)
        record["latitude"] = _plain(row.latitude)
        found.append(record)
    return found


_KINDS: dict[str, tuple[Any, str]] = {
    "person": (NaturalPerson, "id_number_hmac"),
    "legal_person": (LegalPerson, "uscc"),
    "birth": (BirthRecord, "certificate_number"),
    "licence": (LicenceRecord, "identifier"),
    "address": (AddressEntry, "code"),
}


def field_sources(kind: str, key: str) -> dict[str, tuple[str, str]]:
    """Each field's provenance: field → (source department name, updated_at ISO).
    ``kind``: person (key: ID number), legal_person (USCC), birth (certificate number),
    licence (identifier), address (code). Unknown kind or record: ``{}``."""
    if kind not in _KINDS:
        return {}
    model, column = _KINDS[kind]
    value = _hmac(key) if kind == "person" else key.strip()
    if kind == "legal_person":
        value = value.upper()
    sources = model.objects.filter(**{column: value}).values_list("sources", flat=True).first()
    if not sources:
        return {}
    return {
        name: (str(entry.get("department_name", "")), str(entry.get("at", "")))
        for name, entry in sources.items()
        if isinstance(entry, dict)
    }
