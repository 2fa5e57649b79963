"""Issuing, numbering, signing, revoking and renewing licences; tampering is detected."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.utils import timezone

from tongban.apps.licences import public, services, signing
from tongban.apps.licences.identifiers import identifier_parse
from tongban.apps.licences.models import IssuerKey, Licence, LicenceType, SerialCounter
from tongban.apps.licences.signing import Verdict
from tongban.apps.licences.tests.builders import issue
from tongban.platform.audit.models import AuditEntry
from tongban.platform.events.models import Event

pytestmark = pytest.mark.django_db


def _sql(statement: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _reload(licence: Licence) -> Licence:
    return Licence.objects.select_related("licence_type", "issuer", "signing_key").get(
        pk=licence.pk
    )


def test_first_licence_is_numbered_signed_and_recorded(city):
    licence = issue(city, source="approvals.case:1")
    uscc = city.market.uscc
    parts = identifier_parse(licence.identifier)
    assert parts is not None
    assert licence.identifier.startswith(f"1.2.156.3005.2.SPJY.{uscc}.000001.001.")
    assert licence.number == f"SPJY-{uscc[8:17]}-000001"
    assert licence.issued_on == timezone.localdate()
    assert licence.valid_from == licence.issued_on
    assert licence.valid_until is None  # the type was created on the fly: 长期
    assert LicenceType.objects.get(code="SPJY").name == "食品经营许可证"
    # the ID number is encrypted at rest, looked up by HMAC and shown masked
    number = city.citizen.person.id_number
    assert licence.holder_id_masked == number[:4] + "*" * 10 + number[-4:]
    assert licence.holder_id_hmac == city.citizen.person.id_number_hmac
    stored = Licence.objects.filter(pk=licence.pk).values_list("canonical", flat=True).get()
    assert number.encode() not in bytes(stored)
    with connection.cursor() as cursor:
        cursor.execute("SELECT holder_id_number FROM licences_licence WHERE id = %s", [licence.pk])
        raw = bytes(cursor.fetchone()[0])
    assert number.encode() not in raw
    # signed over the canonical bytes with the department's new key
    key = IssuerKey.objects.get(department=city.market)
    assert licence.signing_key_id == key.pk
    assert bytes(key.private_key_encrypted)[:1] == b"\x01"  # an SM4-GCM frame, not a PEM
    assert bytes(licence.canonical).startswith(b'{"fields":{"')
    assert signing.verdict_of(_reload(licence)) == Verdict.VALID
    entry = AuditEntry.objects.get(action="licences.licence.issue")
    assert entry.actor_id == city.officer.pk
    event = Event.objects.get(name="licences.licence.issued")
    assert event.payload["identifier"] == licence.identifier
    assert event.payload["source"] == "approvals.case:1"
    assert "holder_name" not in event.payload


def test_canonical_form_is_sorted_compact_utf8(city):
    licence = issue(city)
    data = bytes(licence.canonical).decode("utf-8")
    assert " " not in data.replace("示范市中山路1号", "")
    assert "食品经营许可证" in data  # not \\u escapes
    keys = [
        "fields",
        "format",
        "holder_id_hmac",
        "holder_id_masked",
        "holder_id_type",
        "holder_name",
        "identifier",
        "issued_on",
        "issuer_name",
        "issuer_uscc",
        "key",
        "name",
        "number",
        "previous",
        "type_code",
        "valid_from",
        "valid_until",
    ]
    positions = [data.index(f'"{key}":') for key in keys]
    assert positions == sorted(positions)
    assert '"valid_until":null' in data
    assert '"format":"tongban.licence.v1"' in data


def test_serials_have_no_gaps_even_after_a_failed_issue(city, monkeypatch):
    first = issue(city)
    real_sign = signing.sign_with

    def broken(key, data):
        raise RuntimeError("signing device unavailable")

    monkeypatch.setattr(signing, "sign_with", broken)
    with pytest.raises(RuntimeError):
        issue(city)
    monkeypatch.setattr(signing, "sign_with", real_sign)
    second = issue(city)
    third = issue(city)
    other_issuer = issue(city, issuer_department_id=city.health.pk, actor=city.health_officer)
    assert [first.serial, second.serial, third.serial] == [1, 2, 3]
    assert other_issuer.serial == 1  # each issuer counts its own
    assert Licence.objects.count() == 4
    counter = SerialCounter.objects.get(department=city.market)
    assert counter.last_serial == 3


def test_issue_is_idempotent_per_source_and_type(city):
    first = issue(city, source="approvals.case:7")
    again = issue(city, source="approvals.case:7", holder_name="别人")
    assert again.pk == first.pk
    assert Licence.objects.count() == 1
    assert Event.objects.filter(name="licences.licence.issued").count() == 1
    assert AuditEntry.objects.filter(action="licences.licence.issue").count() == 1
    another_type = issue(city, source="approvals.case:7", type_code="GTGSH", name="营业执照")
    assert another_type.pk != first.pk
    assert [info.identifier for info in public.licences_for_source("approvals.case:7")] == [
        first.identifier,
        another_type.identifier,
    ]


def test_default_validity_comes_from_the_type(city):
    services.licence_type_save(
        actor=city.officer, code="SPJY", name="食品经营许可证", default_validity_years=5
    )
    licence = issue(city)
    today = licence.issued_on
    assert licence.valid_until == today.replace(year=today.year + 5) - dt.timedelta(days=1)


def test_bad_input_is_refused_with_field_messages_and_nothing_saved(city):
    with pytest.raises(ValidationError) as caught:
        issue(
            city,
            holder_id_number="110101199003070000",
            name="",
            type_code="sp jy",
            valid_until=dt.date(2000, 1, 1),
            fields={"": "x"},
        )
    errors = caught.value.message_dict
    assert set(errors) == {"holder_id_number", "name", "type_code", "valid_until", "fields"}
    assert errors["holder_id_number"] == ["公民身份号码校验码错误"]
    assert Licence.objects.count() == 0
    assert SerialCounter.objects.count() == 0
    assert IssuerKey.objects.count() == 0


def test_issuing_by_hand_needs_the_permission_over_the_department(city):
    with pytest.raises(PermissionDenied):
        issue(city, actor=city.health_officer)  # holds it, but for another department
    with pytest.raises(PermissionDenied):
        issue(city, actor=city.citizen)
    assert Licence.objects.count() == 0
    # through public.py the calling application has checked its own permission
    info = public.licence_issue(
        actor=city.viewer,
        type_code="SPJY",
        name="食品经营许可证",
        holder_name="张三丰",
        holder_id_type="resident_id",
        holder_id_number=city.citizen.person.id_number,
        issuer_department_id=city.market.pk,
        valid_until=dt.date(2031, 11, 29),
        fields={},
        source="approvals.case:9",
    )
    assert info.status == "valid"
    assert info.valid_until == dt.date(2031, 11, 29)
    assert info.verify_path == f"/licences/verify/{info.identifier}/"
    assert info.holder_id_masked.count("*") == 10


def test_revoke_needs_permission_and_reason_and_is_signed(city):
    licence = issue(city)
    with pytest.raises(PermissionDenied):
        services.licence_revoke(actor=city.viewer, licence=licence, reason="违法经营")
    with pytest.raises(PermissionDenied):
        services.licence_revoke(actor=city.health_officer, licence=licence, reason="违法经营")
    with pytest.raises(ValidationError) as caught:
        services.licence_revoke(actor=city.officer, licence=licence, reason="  ")
    assert caught.value.message_dict == {"reason": ["请写明撤销原因"]}
    assert _reload(licence).status == "valid"
    assert not Event.objects.filter(name="licences.licence.revoked").exists()

    revoked = services.licence_revoke(actor=city.officer, licence=licence, reason="违法经营")
    assert revoked.status == "revoked"
    assert signing.verdict_of(_reload(licence)) == Verdict.REVOKED
    event = Event.objects.get(name="licences.licence.revoked")
    assert event.payload["reason"] == "违法经营"
    with pytest.raises(ValidationError):
        services.licence_revoke(actor=city.officer, licence=licence, reason="再次")


def test_expired_is_computed_from_the_date(city):
    licence = issue(city, issued_on=dt.date(2020, 3, 1), valid_until=dt.date(2023, 2, 28))
    loaded = _reload(licence)
    assert signing.verdict_of(loaded) == Verdict.EXPIRED
    assert signing.verdict_of(loaded, today=dt.date(2023, 2, 28)) == Verdict.VALID
    assert public.licence_get(licence.identifier).status == "expired"


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("holder_name", "王五"),
        ("valid_until", "2099-12-31"),
        ("issuer_name", "假冒的发证机关"),
        ("number", "SPJY-000000000-999999"),
        ("holder_id_masked", "1234**********5678"),
    ],
)
def test_a_row_changed_by_sql_is_tampered(city, column, value):
    licence = issue(city)
    _sql(f"UPDATE licences_licence SET {column} = %s WHERE id = %s", value, licence.pk)  # noqa: S608
    assert signing.verdict_of(_reload(licence)) == Verdict.TAMPERED


def test_changed_fields_json_or_swapped_id_number_is_tampered(city):
    licence = issue(city)
    other = issue(
        city,
        holder_name="李四",
        holder_id_number=city.other_citizen.person.id_number,
    )
    _sql(
        "UPDATE licences_licence SET holder_id_number = "
        "(SELECT holder_id_number FROM licences_licence WHERE id = %s) WHERE id = %s",
        other.pk,
        licence.pk,
    )
    assert signing.verdict_of(_reload(licence)) == Verdict.TAMPERED
    Licence.objects.filter(pk=other.pk).update(fields={"经营场所": "别处"})
    assert signing.verdict_of(_reload(other)) == Verdict.TAMPERED


def test_a_garbled_id_number_frame_is_tampered_not_a_crash(city):
    licence = issue(city)
    _sql("UPDATE licences_licence SET holder_id_number = %s WHERE id = %s", b"\x01junk", licence.pk)
    assert signing.verdict_of(_reload(licence)) == Verdict.TAMPERED


def test_signed_by_the_wrong_key_is_tampered(city):
    licence = issue(city)
    foreign = issue(city, issuer_department_id=city.health.pk, actor=city.health_officer)
    _sql(
        "UPDATE licences_licence SET signing_key_id = %s WHERE id = %s",
        foreign.signing_key_id,
        licence.pk,
    )
    assert signing.verdict_of(_reload(licence)) == Verdict.TAMPERED
    # the key row itself replaced by another key (fingerprint updated to match)
    licence = issue(city)
    health_key = IssuerKey.objects.get(department=city.health)
    IssuerKey.objects.filter(department=city.market).update(public_key_pem="")
    assert signing.verdict_of(_reload(licence)) == Verdict.TAMPERED
    market_key = IssuerKey.objects.get(department=city.market)
    IssuerKey.objects.filter(pk=health_key.pk).update(fingerprint="0" * 64)
    IssuerKey.objects.filter(pk=market_key.pk).update(
        public_key_pem=health_key.public_key_pem, fingerprint=health_key.fingerprint
    )
    assert signing.verdict_of(_reload(licence)) == Verdict.TAMPERED


def test_a_revocation_undone_by_sql_is_tampered(city):
    licence = issue(city)
    services.licence_revoke(actor=city.officer, licence=licence, reason="违法经营")
    _sql(
        "UPDATE licences_licence SET status = 'valid', revoked_at = NULL, revoke_reason = '', "
        "revoked_by_id = NULL, revocation_signature = NULL WHERE id = %s",
        licence.pk,
    )
    assert signing.verdict_of(_reload(licence)) == Verdict.TAMPERED


def test_a_revocation_reason_changed_by_sql_is_tampered(city):
    licence = issue(city)
    services.licence_revoke(actor=city.officer, licence=licence, reason="违法经营")
    _sql("UPDATE licences_licence SET revoke_reason = '其他' WHERE id = %s", licence.pk)
    assert signing.verdict_of(_reload(licence)) == Verdict.TAMPERED


def test_renewal_is_a_new_version_linked_to_the_old_one(city):
    old = issue(city, valid_until=dt.date(2030, 1, 1))
    new = services.licence_renew(
        actor=city.officer,
        licence=old,
        valid_until=dt.date(2035, 1, 1),
        fields={"经营场所": "示范市人民路2号"},
        source="approvals.case:20",
    )
    assert (new.serial, new.version, new.previous_id) == (old.serial, 2, old.pk)
    assert new.identifier.split(".")[7:9] == ["000001", "002"]
    assert new.number == old.number + "-2"
    assert new.fields == {"经营场所": "示范市人民路2号"}
    assert new.holder_id_hmac == old.holder_id_hmac
    assert signing.verdict_of(_reload(new)) == Verdict.VALID
    old = _reload(old)
    assert signing.verdict_of(old) == Verdict.REVOKED
    assert new.identifier in old.revoke_reason
    with pytest.raises(ValidationError):
        services.licence_renew(actor=city.officer, licence=old, valid_until=None)
    assert SerialCounter.objects.get(department=city.market).last_serial == 1


def test_public_functions_hand_out_dataclasses(city):
    info = public.licence_issue(
        actor=city.officer,
        type_code="SPJY",
        name="食品经营许可证",
        holder_name="张三丰",
        holder_id_type="resident_id",
        holder_id_number=city.citizen.person.id_number,
        issuer_department_id=city.market.pk,
        valid_until=None,
        fields={"经营场所": "示范市中山路1号"},
        source="approvals.case:31",
    )
    assert isinstance(info, public.LicenceInfo)
    assert public.licence_get(info.identifier) == info
    assert public.licence_get(info.identifier.replace(".000001.", ".000009.")) is None
    assert public.licence_verify(info.identifier) == "valid"
    assert public.licence_pdf(info.identifier).startswith(b"%PDF-")
    with pytest.raises(Http404):
        public.licence_pdf("1.2.156.3005.2.X.000000000000000000.000001.001.0")
    renewed = public.licence_renew(
        actor=city.officer, identifier=info.identifier, valid_until=None, source="case:32"
    )
    assert renewed.number == info.number + "-2"
    assert public.licence_get(info.identifier).status == "revoked"
    with pytest.raises(PermissionDenied):
        public.licence_revoke(actor=city.citizen, identifier=renewed.identifier, reason="x")
    revoked = public.licence_revoke(
        actor=city.officer, identifier=renewed.identifier, reason="申请人申请注销"
    )
    assert revoked.status == "revoked"
    assert public.licence_verify(renewed.identifier) == "revoked"
