"""Writing to the audit log. Call ``audit_record`` inside the transaction of the change."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models, transaction

from tongban.platform.audit import context, pending
from tongban.platform.audit.chain import CHAINED_COLUMNS, canonical_detail, entry_hash
from tongban.platform.audit.models import GENESIS_HASH, AuditEntry, AuditHead, Outcome

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User


@dataclass(frozen=True)
class ActingFor:
    """On whose behalf an action was taken (an agent acting for a legal person)."""

    type: str
    id: str
    label: str


def _actor_fields(actor: User | None) -> tuple[int | None, str]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, ""
    return int(actor.pk), str(actor.get_username())


def audit_record(
    *,
    action: str,
    actor: User | None = None,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_label: str = "",
    outcome: str = Outcome.SUCCESS,
    detail: Mapping[str, Any] | None = None,
    acting_for: ActingFor | None = None,
    ip: str | None = None,
    request_id: str | None = None,
) -> AuditEntry:
    """Append one entry to the chain, in the caller's transaction (or its own).

    ``action`` is the grep-able name of what happened, the same as the service name
    (``accounts.person.reveal_id_number``). ``target`` fills the object columns from a model.
    """
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or str(target.pk)
        object_label = object_label or str(target)[:300]
    request_context = context.current()
    if acting_for is None and request_context.acting_for_type:
        acting_for = ActingFor(
            request_context.acting_for_type,
            request_context.acting_for_id,
            request_context.acting_for_label,
        )
    actor_id, actor_label = _actor_fields(actor)
    values: dict[str, Any] = {
        "occurred_us": time.time_ns() // 1000,
        "actor_id": actor_id,
        "actor_label": actor_label,
        "acting_for_type": acting_for.type if acting_for else "",
        "acting_for_id": acting_for.id if acting_for else "",
        "acting_for_label": acting_for.label[:200] if acting_for else "",
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "object_label": object_label[:300],
        "outcome": str(outcome),
        "ip": (request_context.ip if ip is None else ip)[:45],
        "request_id": (request_context.request_id if request_id is None else request_id)[:64],
        "detail": canonical_detail(detail),
    }
    entry = AuditEntry(**values)
    connection = transaction.get_connection()
    if pending.defers(connection):
        # chained and inserted just before the transaction commits (see pending.py)
        pending.add(connection, entry)
        return entry
    with transaction.atomic():
        chain_and_insert([entry])
    return entry


def chain_and_insert(entries: list[AuditEntry], *, using: str = "default") -> None:
    """Link ``entries`` (in order) to the chain's head and insert them, under the head
    row's lock. Callers are inside a transaction."""
    head, _ = (
        AuditHead.objects.using(using)
        .select_for_update()
        .get_or_create(pk=1, defaults={"seq": 0, "hash": GENESIS_HASH})
    )
    seq, previous = head.seq, head.hash
    for entry in entries:
        seq += 1
        entry.seq = seq
        entry.prev_hash = previous
        entry.hash = entry_hash(tuple(getattr(entry, column) for column in CHAINED_COLUMNS))
        previous = entry.hash
    if len(entries) == 1:
        entries[0].save(force_insert=True, using=using)
    else:
        AuditEntry.objects.using(using).bulk_create(entries)
    AuditHead.objects.using(using).filter(pk=1).update(seq=seq, hash=previous)
