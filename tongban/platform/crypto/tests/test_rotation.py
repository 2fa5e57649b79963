"""Key rotation: a key ring in TONGBAN_PII_KEY, and ``rotate-keys`` re-encrypting every
encrypted column online, idempotently and resumably."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests import factories
from tongban import cli
from tongban.platform.accounts.models import NaturalPerson, User
from tongban.platform.audit.models import AuditEntry
from tongban.platform.crypto import rotation
from tongban.platform.crypto.rotation import encrypted_columns, frames_by_key, rotate_keys
from tongban.platform.crypto.sm import (
    DecryptionError,
    decrypt_text,
    encrypt_text,
    frame_key_id,
    parse_key_ring,
)

OLD = "00112233445566778899aabbccddeeff"  # the development key the tests run with
NEW = "ffeeddccbbaa99887766554433221100"
NEWER = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def _raw(model: type, pk: object, column: str) -> bytes:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return bytes(cursor.fetchone()[0])


def test_a_bare_key_is_key_one_and_a_ring_encrypts_with_its_first_key():
    assert parse_key_ring(OLD).current == 1
    ring = parse_key_ring(f"2:{NEW}, 1:{OLD}")
    assert ring.current == 2
    assert ring.keys == {2: bytes.fromhex(NEW), 1: bytes.fromhex(OLD)}
    for bad in ("abc", f"2:{NEW},2:{OLD}", f"0:{NEW}", f"x:{NEW}", f"256:{NEW}", f"2:{NEW[:-2]}"):
        with pytest.raises(ValueError, match="TONGBAN_PII_KEY must be"):
            parse_key_ring(bad)


def test_old_frames_still_decrypt_after_a_new_key_is_put_first(settings):
    old_frame = encrypt_text("13800001111", purpose="person.mobile")
    assert frame_key_id(old_frame) == 1

    settings.TONGBAN_PII_KEY = f"2:{NEW},1:{OLD}"
    new_frame = encrypt_text("13800001111", purpose="person.mobile")

    assert frame_key_id(new_frame) == 2
    assert decrypt_text(old_frame, purpose="person.mobile") == "13800001111"
    assert decrypt_text(new_frame, purpose="person.mobile") == "13800001111"
    settings.TONGBAN_PII_KEY = f"2:{NEW}"
    with pytest.raises(DecryptionError, match="key id 1, which TONGBAN_PII_KEY lacks"):
        decrypt_text(old_frame, purpose="person.mobile")


def test_every_encrypted_text_field_is_found():
    labels = [column.label for column in encrypted_columns()]

    assert labels == [
        "accounts.NaturalPerson.address",
        "accounts.NaturalPerson.id_number",
        "accounts.NaturalPerson.mobile",
        "accounts.User.mobile",
        "approvals.Case.contact_phone",
        "approvals.CaseSharedMaterial.record",
        "basedata.BirthRecord.father_id",
        "basedata.BirthRecord.mother_id",
        "basedata.LegalPerson.legal_representative_id",
        "basedata.LicenceRecord.holder_id",
        "basedata.NaturalPerson.id_number",
        "basedata.NaturalPerson.name",
        "basedata.NaturalPerson.phone",
        "basedata.QualityIssue.values",
        "documents.IssuerSeal.pades_key_encrypted",
        "documents.IssuerSeal.sm2_private_encrypted",
        "exchange.Subscription.webhook_secret_encrypted",
        "licences.IssuerKey.private_key_encrypted",
        "licences.Licence.holder_id_number",
        "sharing.GatewayCall.query",
    ]


@pytest.mark.django_db
def test_rotate_keys_re_encrypts_every_frame_then_old_key_can_go(settings):
    citizens = [factories.citizen(f"citizen{n}", f"公民{n}") for n in range(3)]
    for user in citizens:
        user.set_mobile(f"1390000000{user.pk % 10}")
        user.save()
    persons = list(NaturalPerson.objects.order_by("pk"))
    numbers = {person.pk: person.id_number for person in persons}
    settings.TONGBAN_PII_KEY = f"2:{NEW},1:{OLD}"
    id_column = next(c for c in encrypted_columns() if c.label.endswith("id_number"))
    assert frames_by_key(id_column) == {1: 3}
    out = StringIO()

    call_command("rotate_keys", "--batch-size", "2", stdout=out)

    assert "accounts.NaturalPerson.id_number: 3 frames, 3 re-encrypted" in out.getvalue()
    assert "accounts.User.mobile: 3 frames, 3 re-encrypted" in out.getvalue()
    assert "rotation to key 2 done: 6 frames re-encrypted" in out.getvalue()
    assert frames_by_key(id_column) == {2: 3}
    for person in persons:
        assert frame_key_id(_raw(NaturalPerson, person.pk, "id_number")) == 2
    audit = AuditEntry.objects.get(action="crypto.keys.rotate")
    assert (audit.object_id, audit.detail) == ("2", '{"failed":0,"rotated":6}')
    # idempotent: a second run has nothing left to do
    assert rotate_keys().rotated == 0
    # the old key can now be dropped: everything still reads
    settings.TONGBAN_PII_KEY = f"2:{NEW}"
    for person in NaturalPerson.objects.all():
        assert person.id_number == numbers[person.pk]
    assert sorted(User.objects.filter(mobile__isnull=False).values_list("username", flat=True)) == [
        "citizen0",
        "citizen1",
        "citizen2",
    ]
    assert {user.mobile for user in User.objects.all()} == {
        f"1390000000{user.pk % 10}" for user in citizens
    }


@pytest.mark.django_db
def test_an_interrupted_rotation_resumes_where_it_stopped(settings, monkeypatch):
    for n in range(4):
        factories.person(f"公民{n}")
    settings.TONGBAN_PII_KEY = f"2:{NEW},1:{OLD}"
    id_column = next(c for c in encrypted_columns() if c.label.endswith("id_number"))
    real_encrypt = rotation.sm4_gcm_encrypt
    calls = {"n": 0}

    def encrypt_then_die(plaintext: bytes, *, associated_data: bytes = b"") -> bytes:
        calls["n"] += 1
        if calls["n"] > 2:
            raise KeyboardInterrupt  # the operator's Ctrl-C during the second batch
        return real_encrypt(plaintext, associated_data=associated_data)

    monkeypatch.setattr(rotation, "sm4_gcm_encrypt", encrypt_then_die)
    with pytest.raises(KeyboardInterrupt):
        rotation.rotate_column(id_column, batch_size=2)
    assert frames_by_key(id_column) == {1: 2, 2: 2}  # the first batch committed

    monkeypatch.setattr(rotation, "sm4_gcm_encrypt", real_encrypt)
    report = rotation.rotate_column(id_column, batch_size=2)

    assert (report.rows, report.rotated) == (4, 2)
    assert frames_by_key(id_column) == {2: 4}


@pytest.mark.django_db
def test_a_row_changed_by_the_application_during_rotation_keeps_its_new_value(
    settings, monkeypatch
):
    person = factories.person("吴九")
    NaturalPerson.objects.filter(pk=person.pk).update(mobile="13500000000")  # under key 1
    settings.TONGBAN_PII_KEY = f"2:{NEW},1:{OLD}"
    mobile_column = next(c for c in encrypted_columns() if c.label.endswith("Person.mobile"))
    real_encrypt = rotation.sm4_gcm_encrypt

    def encrypt_while_the_user_edits(plaintext: bytes, *, associated_data: bytes = b"") -> bytes:
        NaturalPerson.objects.filter(pk=person.pk).update(mobile="13600000000")
        return real_encrypt(plaintext, associated_data=associated_data)

    monkeypatch.setattr(rotation, "sm4_gcm_encrypt", encrypt_while_the_user_edits)
    report = rotation.rotate_column(mobile_column)

    assert (report.rotated, report.skipped) == (0, 1)
    assert NaturalPerson.objects.get(pk=person.pk).mobile == "13600000000"


@pytest.mark.django_db
def test_frames_no_configured_key_opens_are_reported_and_the_command_fails(settings):
    settings.TONGBAN_PII_KEY = f"3:{NEWER}"
    factories.person("郑十")  # under key 3
    settings.TONGBAN_PII_KEY = f"2:{NEW},1:{OLD}"  # key 3 forgotten

    with pytest.raises(CommandError, match="1 frames could not be decrypted"):
        call_command("rotate_keys", stdout=StringIO())


@pytest.mark.django_db
def test_status_counts_frames_per_key(capsys):
    factories.person("冯十一")

    assert cli.main(["rotate-keys", "--status"]) == 0

    out = capsys.readouterr().out
    assert "accounts.NaturalPerson.id_number: key 1: 1" in out
    assert "approvals.Case.contact_phone: empty" in out


def test_licence_signing_keys_are_rotated_too():
    labels = [column.label for column in encrypted_columns()]

    assert "licences.IssuerKey.private_key_encrypted" in labels
