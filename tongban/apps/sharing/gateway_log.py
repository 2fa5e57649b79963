"""The gateway's tamper-evident call log: row digests, signed seals, verification.

Each ``GatewayCall`` carries ``digest`` = SM3 of its canonical form (format
``tongban.sharing.call.v1``: the fields below joined by U+001F). The query parameters enter
as their keyed SM3 (``lookup_hmac``, purpose ``sharing.call.query``) so the digest of a
row cannot be brute-forced back to the identity number it was called with, and
re-encrypting the column (key rotation) leaves digests intact.

``seal`` (a periodic job) takes unsealed calls in id order, at most ``SEAL_BATCH`` at a
time, and writes a ``LogSeal``: ``chain_hash`` = SM3(previous chain hash ‖ the batch's
digests in id order), signed with the log's SM2 key over ``seal_message``. ``log_verify``
recomputes every digest, every chain link and checks every signature, and names the first
call or seal that was altered, deleted or inserted.

The SM2 key: ``settings.TONGBAN_LOG_SEAL_KEY`` (a PKCS#8 PEM) when set; otherwise derived
from ``TONGBAN_PII_HMAC_KEY`` (a production secret kept outside the database), so someone
who can write the database but not read the server's environment cannot re-seal a log.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from tongban.apps.sharing.models import GatewayCall, LogSeal
from tongban.platform.crypto import sm2
from tongban.platform.crypto.sm import DecryptionError, lookup_hmac, sm3_hex, sm3_hmac

FORMAT = "tongban.sharing.call.v1"
SEAL_FORMAT = "tongban.sharing.log-seal.v1"
SEPARATOR = "\x1f"
GENESIS_HASH = "0" * 64
SEAL_BATCH = 10_000
#: calls younger than this are left for the next run: a transaction that took its id
#: earlier may still be committing
SEAL_SETTLE = dt.timedelta(seconds=2)
QUERY_PURPOSE = "sharing.call.query"
#: the columns a gateway call is written with (``gateway`` inserts them in this order)
CALL_COLUMNS = (
    "at",
    "consumer_system_id",
    "consumer_department_id",
    "resource_id",
    "provider_department_id",
    "grant_id",
    "purpose",
    "query",
    "records",
    "result",
    "latency_ms",
    "case_number",
    "request_id",
    "digest",
)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_SEAL_LOCK_ID = 0x7478_5345_414C  # pg_advisory_xact_lock key of the seal job
# SM2 curve order (GB/T 32918.5)
_SM2_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)


# ----------------------------------------------------------------------------- digests


def query_text(parameters: Mapping[str, Any] | None) -> str | None:
    """The stored (encrypted) form of a call's query parameters: canonical JSON."""
    if parameters is None:
        return None
    return json.dumps(
        {str(key): str(value) for key, value in parameters.items()},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )


def _microseconds(moment: dt.datetime) -> int:
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def canonical_call(call: GatewayCall) -> bytes:
    query = str(call.query or "")
    fields = [
        FORMAT,
        str(_microseconds(call.at)),
        _text(call.consumer_system_id),
        _text(call.consumer_department_id),
        _text(call.resource_id),
        _text(call.provider_department_id),
        _text(call.grant_id),
        call.purpose,
        lookup_hmac(query, purpose=QUERY_PURPOSE) if query else "",
        str(int(call.records)),
        call.result,
        repr(float(call.latency_ms)),
        call.case_number,
        call.request_id,
    ]
    return SEPARATOR.join(fields).encode("utf-8")


def call_digest(call: GatewayCall) -> str:
    """SM3 (hex) of the call's canonical form (the row's id and seal are not part of it:
    the seal's chain fixes the order)."""
    return sm3_hex(canonical_call(call))


def chain_hash(previous: str, digests: list[str]) -> str:
    return sm3_hex((previous + "".join(digests)).encode("ascii"))


def seal_message(
    *, first_call_id: int, last_call_id: int, count: int, previous_hash: str, chain: str
) -> bytes:
    return "\n".join(
        [SEAL_FORMAT, str(first_call_id), str(last_call_id), str(count), previous_hash, chain]
    ).encode("ascii")


# ----------------------------------------------------------------------------- the key


@lru_cache(maxsize=4)
def _key_pair(configured: str, secret: str) -> tuple[bytes, bytes]:
    if configured.strip():
        private_pem = configured.strip().encode("ascii")
    else:
        from tongsuopy.crypto import serialization
        from tongsuopy.crypto.asymciphers import ec

        material = sm3_hmac(secret.encode("utf-8"), SEAL_FORMAT.encode("ascii"))
        scalar = int.from_bytes(material, "big") % (_SM2_N - 1) + 1
        key = ec.derive_private_key(scalar, ec.SM2())
        private_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    return private_pem, sm2.public_key_pem(private_pem)


def seal_key_pair() -> tuple[bytes, bytes]:
    """(private PEM, public PEM) of the log's SM2 key."""
    return _key_pair(
        str(getattr(settings, "TONGBAN_LOG_SEAL_KEY", "") or ""), settings.TONGBAN_PII_HMAC_KEY
    )


def seal_public_key_pem() -> bytes:
    return seal_key_pair()[1]


# ----------------------------------------------------------------------------- sealing


def _lock_sealing() -> None:
    """Serialise seal runs (every worker runs the periodic job). SQLite serialises writes
    by itself; PostgreSQL takes a transaction-level advisory lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SEAL_LOCK_ID])


def seal_batch(*, batch: int = SEAL_BATCH, now: dt.datetime | None = None) -> LogSeal | None:
    """Seal up to ``batch`` unsealed calls (oldest first); None when there are none."""
    cutoff = (now or timezone.now()) - SEAL_SETTLE
    with transaction.atomic():
        _lock_sealing()
        last = LogSeal.objects.order_by("-id").only("chain_hash").first()
        previous = last.chain_hash if last is not None else GENESIS_HASH
        rows = list(
            GatewayCall.objects.filter(seal__isnull=True, at__lte=cutoff)
            .order_by("id")
            .values_list("id", "digest")[:batch]
        )
        if not rows:
            return None
        ids = [row[0] for row in rows]
        chain = chain_hash(previous, [row[1] for row in rows])
        private_pem, _public = seal_key_pair()
        signature = sm2.sign(
            private_pem,
            seal_message(
                first_call_id=ids[0],
                last_call_id=ids[-1],
                count=len(ids),
                previous_hash=previous,
                chain=chain,
            ),
        )
        seal = LogSeal.objects.create(
            first_call_id=ids[0],
            last_call_id=ids[-1],
            count=len(ids),
            previous_hash=previous,
            chain_hash=chain,
            signature=signature,
        )
        for start in range(0, len(ids), 900):  # SQLite's bound-parameter limit
            GatewayCall.objects.filter(id__in=ids[start : start + 900], seal__isnull=True).update(
                seal=seal
            )
    return seal


def seal(*, batch: int = SEAL_BATCH, max_batches: int = 100) -> int:
    """The periodic job: seal every settled unsealed call; returns the calls sealed."""
    sealed = 0
    for _ in range(max_batches):
        made = seal_batch(batch=batch)
        if made is None:
            break
        sealed += made.count
    return sealed


# ----------------------------------------------------------------------------- verification


@dataclass
class LogProblem:
    kind: str  # altered / deleted_or_inserted / chain_broken / bad_signature / unreadable
    message: str
    call_id: int | None = None
    seal_id: int | None = None


@dataclass
class LogVerifyReport:
    calls: int = 0
    seals: int = 0
    unsealed: int = 0
    problem: LogProblem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _calls(queryset: Any) -> Iterator[GatewayCall]:
    fields = ["id", *CALL_COLUMNS, "seal_id"]
    return queryset.only(*fields).order_by("id").iterator(chunk_size=2000)


def _check_calls(queryset: Any, report: LogVerifyReport) -> list[str] | None:
    """The digests of the calls (in id order), or None after recording a problem."""
    digests: list[str] = []
    iterator = _calls(queryset)
    while True:
        try:
            call = next(iterator)
        except StopIteration:
            return digests
        except DecryptionError:
            report.problem = LogProblem(
                "unreadable", "a call's encrypted query parameters cannot be decrypted"
            )
            return None
        report.calls += 1
        if call_digest(call) != call.digest:
            report.problem = LogProblem(
                "altered",
                f"call #{call.id} was altered: its content no longer matches its digest",
                call_id=call.id,
                seal_id=call.seal_id,
            )
            return None
        digests.append(call.digest)


def log_verify() -> LogVerifyReport:
    """Recompute every digest and chain link, check every seal's signature; stop at the
    first problem."""
    report = LogVerifyReport()
    public_pem = seal_public_key_pem()
    previous = GENESIS_HASH
    for seal_row in LogSeal.objects.order_by("id").iterator(chunk_size=500):
        report.seals += 1
        where = f"seal #{seal_row.pk} (calls #{seal_row.first_call_id}–#{seal_row.last_call_id})"
        if seal_row.previous_hash != previous:
            report.problem = LogProblem(
                "chain_broken",
                f"{where} does not follow the previous seal: a seal was removed or replaced",
                seal_id=seal_row.pk,
            )
            return report
        digests = _check_calls(GatewayCall.objects.filter(seal_id=seal_row.pk), report)
        if digests is None:
            return report
        if len(digests) != seal_row.count or chain_hash(previous, digests) != seal_row.chain_hash:
            report.problem = LogProblem(
                "deleted_or_inserted",
                f"{where}: {len(digests)} calls found for {seal_row.count} sealed, or their "
                "digests no longer chain: a call was deleted, inserted or moved",
                call_id=seal_row.first_call_id,
                seal_id=seal_row.pk,
            )
            return report
        message = seal_message(
            first_call_id=seal_row.first_call_id,
            last_call_id=seal_row.last_call_id,
            count=seal_row.count,
            previous_hash=seal_row.previous_hash,
            chain=seal_row.chain_hash,
        )
        try:
            sm2.verify(public_pem, message, bytes(seal_row.signature))
        except Exception:
            report.problem = LogProblem(
                "bad_signature",
                f"{where}: the signature does not verify with the log's key",
                seal_id=seal_row.pk,
            )
            return report
        previous = seal_row.chain_hash
    before = report.calls
    if _check_calls(GatewayCall.objects.filter(seal__isnull=True), report) is None:
        return report
    report.unsealed = report.calls - before
    return report
