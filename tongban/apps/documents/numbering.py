"""发文字号: gapless serials per issuer, issuer code, kind and year.

``assign_number(document=...)`` runs inside the caller's transaction (the 编号 step): it
locks the ``NumberSequence`` row (``select_for_update``; the row is created under a savepoint
when two sign-offs race for the first number of a year), takes the next serial and writes it
to the document with the year, the number text and 成文日期 (the sign-off date). If the
caller's transaction rolls back, the serial is given back with it: no gaps, no duplicates.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.documents.layout import DocumentKind, OfficialDocument
from tongban.apps.documents.models import Document, NumberSequence


def number_text(*, kind: str, issuer_code: str, year: int, serial: int) -> str:
    """The number as the layout library prints it: 示范府〔2026〕12号; 命令: 第12号."""
    return OfficialDocument(
        issuer="",
        title="",
        date=dt.date(year, 1, 1),
        kind=DocumentKind(kind),
        issuer_code=issuer_code,
        year=year,
        serial=serial,
    ).number


def _locked_sequence(*, issuer_id: int, issuer_code: str, kind: str, year: int) -> NumberSequence:
    lookup = {"issuer_id": issuer_id, "issuer_code": issuer_code, "kind": kind, "year": year}
    sequence = NumberSequence.objects.select_for_update().filter(**lookup).first()
    if sequence is not None:
        return sequence
    try:
        with transaction.atomic():  # a savepoint: losing the race leaves the caller usable
            NumberSequence.objects.create(**lookup, last=0)
    except IntegrityError:
        pass  # another sign-off created it first; lock theirs
    return NumberSequence.objects.select_for_update().get(**lookup)


def sign_off_date(document: Document) -> dt.date:
    """成文日期: the day the leader signed off (local time); today if not signed yet."""
    moment = document.signed_off_at or timezone.now()
    return timezone.localtime(moment).date()


def assign_number(*, document: Document) -> Document:
    """Give ``document`` the next serial of its issuer, issuer code, kind and year.

    Sets ``year``, ``serial``, ``number`` and ``date`` (成文日期 = the sign-off date) and
    saves those fields. A document that already has a serial keeps it (idempotent).
    """
    code = (document.issuer_code or "").strip()
    if not code and document.kind != DocumentKind.ORDER:
        raise ValidationError({"issuer_code": [_("请填写机关代字后再编号")]})
    with transaction.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        if locked.serial is not None:
            _copy(locked, document)
            return document
        date = sign_off_date(locked)
        sequence = _locked_sequence(
            issuer_id=locked.issuer_id, issuer_code=code, kind=locked.kind, year=date.year
        )
        # documents that reached the table without the sequence (imported from an earlier
        # system, loaded by hand) are not numbered over: continue after the highest serial
        highest = (
            Document.objects.filter(
                issuer_id=locked.issuer_id, issuer_code=code, kind=locked.kind, year=date.year
            ).aggregate(highest=Max("serial"))["highest"]
            or 0
        )
        sequence.last = max(sequence.last, highest) + 1
        sequence.save(update_fields=["last"])
        locked.year = date.year
        locked.serial = sequence.last
        locked.number = number_text(
            kind=locked.kind, issuer_code=code, year=date.year, serial=sequence.last
        )
        locked.date = date
        locked.save(update_fields=["year", "serial", "number", "date", "updated_at"])
        _copy(locked, document)
    return document


def _copy(source: Document, target: Document) -> None:
    for name in ("year", "serial", "number", "date"):
        setattr(target, name, getattr(source, name))
