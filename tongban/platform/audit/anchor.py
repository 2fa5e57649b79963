"""Anchors of the audit chain outside the database.

The SM3 chain catches an entry altered, deleted or inserted, but someone who can write the
whole table (a database administrator) could recompute every hash after a change: the
rewritten chain verifies. An anchor is the chain head (sequence number and hash) written
somewhere the database cannot reach: a line appended to ``TONGBAN_AUDIT_ANCHOR_FILE``
(point it at append-only or remote storage) and the ``tongban.audit.anchor`` log (shipped
to central logging). The worker takes one every hour; ``tongban audit anchor`` takes one
at any time. Each line carries an HMAC-SM3 under ``TONGBAN_PII_HMAC_KEY`` (a key the
database does not hold), so a forged anchor is caught too.

``anchors_check`` compares the chain with anchors taken earlier: the entry each one names
must still have the hash it had then. ``tongban audit verify --anchors FILE`` runs it after
the chain walk.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from tongban.platform.audit.models import AuditEntry, AuditHead
from tongban.platform.crypto.sm import lookup_hmac

logger = logging.getLogger("tongban.audit.anchor")

PURPOSE = "audit.anchor"


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    at: str  # ISO 8601, UTC

    @property
    def mac(self) -> str:
        return lookup_hmac(f"{self.seq}:{self.hash}:{self.at}", purpose=PURPOSE)

    def line(self) -> str:
        return json.dumps(
            {"seq": self.seq, "hash": self.hash, "at": self.at, "mac": self.mac},
            separators=(",", ":"),
        )


@dataclass(frozen=True)
class AnchorProblem:
    line: int
    seq: int
    message: str


def anchor_take() -> Anchor:
    """The chain's head now."""
    head = AuditHead.objects.filter(pk=1).values_list("seq", "hash").first()
    seq, head_hash = head if head else (0, "")
    moment = timezone.now().astimezone(dt.UTC).isoformat(timespec="seconds")
    return Anchor(seq=int(seq), hash=str(head_hash), at=moment)


def anchor_write(path: str | Path | None = None) -> Anchor:
    """Take an anchor, append it to the anchor file and log it."""
    anchor = anchor_take()
    line = anchor.line()
    target = path if path is not None else settings.TONGBAN_AUDIT_ANCHOR_FILE
    if target:
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    logger.info("audit anchor %s", line)
    return anchor


def anchor_job() -> None:
    """The worker's hourly anchor (``events.registry.schedule_every``)."""
    anchor_write()


def anchors_check(lines: Iterable[str]) -> list[AnchorProblem]:
    """Each anchor must be genuine (its HMAC) and name an entry that still has its hash.
    An anchor of an empty chain (seq 0) proves nothing and is skipped."""
    problems: list[AnchorProblem] = []
    parsed: list[tuple[int, Anchor]] = []
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        try:
            data = json.loads(text)
            anchor = Anchor(seq=int(data["seq"]), hash=str(data["hash"]), at=str(data["at"]))
            mac = str(data["mac"])
        except (ValueError, KeyError, TypeError):
            problems.append(AnchorProblem(number, 0, f"anchor line {number} is not an anchor"))
            continue
        if not hmac.compare_digest(mac, anchor.mac):
            problems.append(
                AnchorProblem(number, anchor.seq, f"anchor line {number} is not genuine (HMAC)")
            )
            continue
        if anchor.seq:
            parsed.append((number, anchor))
    hashes = dict(
        AuditEntry.objects.filter(seq__in={anchor.seq for _n, anchor in parsed}).values_list(
            "seq", "hash"
        )
    )
    for number, anchor in parsed:
        found = hashes.get(anchor.seq)
        if found is None:
            problems.append(
                AnchorProblem(
                    number,
                    anchor.seq,
                    f"entry #{anchor.seq}, anchored at {anchor.at}, is gone: "
                    "the chain was cut or rewritten",
                )
            )
        elif found != anchor.hash:
            problems.append(
                AnchorProblem(
                    number,
                    anchor.seq,
                    f"entry #{anchor.seq} no longer has the hash anchored at {anchor.at}: "
                    "the chain was rewritten",
                )
            )
    return problems
