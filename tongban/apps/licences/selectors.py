"""Every read of licences: public verification, the holder's own, the issuer's list.

``access_licence_for_download`` is the one way to fetch a licence's full document for a
user: its holder (a person by their real-name ID, an enterprise through its agents and
legal representative) or staff holding ``licences.licence.view`` over the issuer.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from tongban.apps.licences import permissions, signing
from tongban.apps.licences.models import HolderIdType, Licence
from tongban.platform.access.services import scope_queryset
from tongban.platform.accounts.models import AgentAuthorisation

QUERY_MAX = 120


def _base() -> QuerySet[Licence]:
    return Licence.objects.select_related(
        "licence_type", "issuer", "issuer__division", "signing_key", "previous"
    )


def licence_by_identifier(identifier: str) -> Licence | None:
    return _base().filter(identifier=identifier).first()


def licence_find(query: str) -> Licence | None:
    """A licence by its identifier or its number (as typed on the verification form)."""
    text = query.strip()[:QUERY_MAX]
    if not text:
        return None
    for candidate in dict.fromkeys((text, text.upper())):
        found = _base().filter(Q(identifier=candidate) | Q(number=candidate)).first()
        if found is not None:
            return found
    return None


def holder_hmacs_for(actor: Any) -> list[str]:
    """The holder HMACs a signed-in user may act as: their own resident ID, and the USCCs
    of the enterprises they represent or are authorised agents of, today."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return []
    hmacs: list[str] = []
    person = getattr(actor, "person", None)
    if person is not None:
        hmacs.append(person.id_number_hmac)
    today = timezone.localdate()
    authorised = AgentAuthorisation.objects.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today),
        agent=actor,
        revoked_at__isnull=True,
        valid_from__lte=today,
    ).values_list("legal_person__uscc", flat=True)
    usccs = set(authorised)
    if person is not None:
        usccs.update(
            person.represented_legal_persons.values_list("uscc", flat=True)  # type: ignore[attr-defined]
        )
    hmacs.extend(signing.holder_hmac(HolderIdType.USCC, uscc) for uscc in sorted(usccs))
    return hmacs


def licences_held_by(*, actor: Any) -> QuerySet[Licence]:
    hmacs = holder_hmacs_for(actor)
    if not hmacs:
        return Licence.objects.none()
    return _base().filter(holder_id_hmac__in=hmacs)


def licences_issued_for(*, actor: Any) -> QuerySet[Licence]:
    """Licences of the departments whose licences the actor may view (data scope)."""
    return scope_queryset(actor, _base(), permissions.LICENCE_VIEW, permissions.LICENCE_SCOPE)


def access_licence_for_download(*, actor: Any, identifier: str) -> Licence:
    """The holder's or the issuer's staff's licence; ``Http404`` for anyone else."""
    licence = licence_by_identifier(identifier)
    if licence is None:
        raise Http404
    if licence.holder_id_hmac in holder_hmacs_for(actor):
        return licence
    if licences_issued_for(actor=actor).filter(pk=licence.pk).exists():
        return licence
    raise Http404


def licences_for_source(source: str) -> QuerySet[Licence]:
    """Every licence (every version) issued for a caller's reference, oldest first."""
    if not source:
        return Licence.objects.none()
    return _base().filter(source=source).order_by("pk")
