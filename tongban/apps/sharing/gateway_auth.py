"""How a department system proves who it is to the gateway.

Two ways, both per system (``ConsumerSystem``):

- **OAuth2 client credentials** (RFC 6749 §4.4): ``POST /gateway/oauth/token`` with the
  system's ``client_id`` and secret (HTTP Basic or form body) returns a bearer token: 32
  random bytes, URL-safe base64, valid one hour; only its SM3 digest is stored
  (``AccessToken.token_hash``). The secret itself is stored as a Django password hash
  (``make_password``) in ``ConsumerSystem.secret_hash``.
- **SM2-signed requests**: headers ``X-Tongban-System`` (the system's code),
  ``X-Tongban-Timestamp`` (Unix seconds, within ±300 s of the gateway's clock),
  ``X-Tongban-Nonce`` (8-64 characters, never reused within the window) and
  ``X-Tongban-Signature`` (base64 of the SM2/SM3 signature, DER, over
  ``canonical_request``), verified with ``ConsumerSystem.public_key_pem``.

``canonical_request`` is six lines joined by ``\\n``: the upper-case method, the path
(as sent, percent-encoded), the query string with its parameters sorted by name then value
and each name and value percent-encoded (RFC 3986 unreserved characters kept), the
timestamp, the nonce, and the lower-case hex SM3 of the body (of b"" for a GET).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.sharing.models import AccessToken, ConsumerSystem
from tongban.platform.crypto import sm2
from tongban.platform.crypto.sm import sm3_hex

TOKEN_LIFETIME = dt.timedelta(hours=1)
TOKEN_BYTES = 32
CLOCK_SKEW_SECONDS = 300
NONCE_PATTERN = re.compile(r"^[A-Za-z0-9._~-]{8,64}$")
NONCE_CACHE_PREFIX = "sharing:gateway:nonce:"
#: a bearer token's lookup is remembered this long in the worker process (a revoked token
#: or a deactivated system is refused at most this late; grants are never cached)
TOKEN_CACHE_SECONDS = 2.0
_TOKEN_CACHE_SIZE = 4096

HEADER_SYSTEM = "X-Tongban-System"
HEADER_TIMESTAMP = "X-Tongban-Timestamp"
HEADER_NONCE = "X-Tongban-Nonce"
HEADER_SIGNATURE = "X-Tongban-Signature"


@dataclass(frozen=True)
class Caller:
    """An authenticated system, as the gateway needs it."""

    system_id: int
    system_code: str
    department_id: int
    is_active: bool
    method: str  # "token" / "signature" / "platform"


class AuthenticationFailed(Exception):
    """The credentials are missing or wrong; ``message`` may be shown to the caller.
    ``system_id`` is set when the system is known (the call log names it)."""

    def __init__(self, code: str, message: str, *, system_id: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.system_id = system_id


def caller_of(system: ConsumerSystem, method: str) -> Caller:
    return Caller(
        system_id=system.pk,
        system_code=system.code,
        department_id=system.department_id,
        is_active=system.is_active,
        method=method,
    )


# ----------------------------------------------------------------------------- OAuth2


def token_digest(token: str) -> str:
    return sm3_hex(token.encode("ascii", "replace"))


def client_authenticate(client_id: str, secret: str) -> ConsumerSystem | None:
    """The active system whose ``client_id`` and secret these are, or None. A wrong
    client id costs the same hashing time as a wrong secret."""
    system = ConsumerSystem.objects.filter(client_id=client_id).first() if client_id else None
    if system is None or not system.secret_hash:
        make_password(secret)  # the same hashing work: no timing hint about the client id
        return None
    if not check_password(secret, system.secret_hash):
        return None
    if not system.is_active:
        return None
    return system


def token_issue(system: ConsumerSystem, *, now: dt.datetime | None = None) -> tuple[str, int]:
    """A new bearer token for ``system`` and its lifetime in seconds."""
    now = now or timezone.now()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        AccessToken.objects.create(
            system=system, token_hash=token_digest(token), expires_at=now + TOKEN_LIFETIME
        )
    return token, int(TOKEN_LIFETIME.total_seconds())


_token_cache: dict[str, tuple[float, Caller]] = {}
_token_lock = threading.Lock()


def token_cache_clear() -> None:
    with _token_lock:
        _token_cache.clear()


def bearer_authenticate(token: str, *, now: dt.datetime | None = None) -> Caller:
    """The system a live bearer token belongs to (one query, remembered for
    ``TOKEN_CACHE_SECONDS``); raises ``AuthenticationFailed``."""
    if not token or len(token) > 200:
        raise AuthenticationFailed("invalid_token", _("访问令牌无效或已过期"))
    digest = token_digest(token)
    moment = time.monotonic()
    with _token_lock:
        cached = _token_cache.get(digest)
    if cached is not None and moment - cached[0] < TOKEN_CACHE_SECONDS:
        return cached[1]
    now = now or timezone.now()
    row = (
        AccessToken.objects.filter(token_hash=digest, revoked_at__isnull=True, expires_at__gt=now)
        .select_related("system")
        .only(
            "id",
            "system__id",
            "system__code",
            "system__department_id",
            "system__is_active",
        )
        .first()
    )
    if row is None:
        with _token_lock:
            _token_cache.pop(digest, None)
        raise AuthenticationFailed("invalid_token", _("访问令牌无效或已过期"))
    caller = caller_of(row.system, "token")
    with _token_lock:
        if len(_token_cache) >= _TOKEN_CACHE_SIZE:
            _token_cache.clear()
        _token_cache[digest] = (moment, caller)
    return caller


# ----------------------------------------------------------------------------- signatures


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{_encode(key)}={_encode(value)}" for key, value in sorted(pairs))


def canonical_request(
    *,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    timestamp: str,
    nonce: str,
    body: bytes,
) -> bytes:
    return "\n".join(
        [method.upper(), path, canonical_query(query), timestamp, nonce, sm3_hex(body)]
    ).encode("utf-8")


def sign_request(
    private_key_pem: bytes,
    *,
    system_code: str,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four headers of a signed request (for clients, tests and the benchmark)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    data = canonical_request(
        method=method, path=path, query=query, timestamp=stamp, nonce=nonce, body=body
    )
    signature = base64.b64encode(sm2.sign(private_key_pem, data)).decode("ascii")
    return {
        HEADER_SYSTEM: system_code,
        HEADER_TIMESTAMP: stamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: signature,
    }


def signature_authenticate(
    *,
    system_code: str,
    timestamp: str,
    nonce: str,
    signature: str,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    body: bytes,
    now: float | None = None,
) -> Caller:
    """Check a signed request; raises ``AuthenticationFailed``. The nonce is spent only
    once the signature holds (an attacker cannot burn a system's nonces)."""
    system = (
        ConsumerSystem.objects.filter(code=system_code)
        .only("id", "code", "department_id", "is_active", "public_key_pem")
        .first()
        if system_code and len(system_code) <= 40
        else None
    )
    if system is None or not system.public_key_pem:
        raise AuthenticationFailed("invalid_signature", _("签名请求的系统未登记或未配置公钥"))
    try:
        stamp = int(timestamp)
    except ValueError:
        raise AuthenticationFailed(
            "invalid_signature", _("请求时间戳无效"), system_id=system.pk
        ) from None
    current = time.time() if now is None else now
    if abs(current - stamp) > CLOCK_SKEW_SECONDS:
        raise AuthenticationFailed(
            "stale_request", _("请求时间戳超出允许范围（±300秒）"), system_id=system.pk
        )
    if not NONCE_PATTERN.match(nonce or ""):
        raise AuthenticationFailed(
            "invalid_signature", _("请求随机数格式无效"), system_id=system.pk
        )
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise AuthenticationFailed(
            "invalid_signature", _("签名验证失败"), system_id=system.pk
        ) from None
    data = canonical_request(
        method=method, path=path, query=query, timestamp=timestamp, nonce=nonce, body=body
    )
    try:
        sm2.verify(system.public_key_pem.encode("ascii"), data, raw)
    except Exception:  # a bad signature, a mangled key: not verified, whatever the cause
        raise AuthenticationFailed(
            "invalid_signature", _("签名验证失败"), system_id=system.pk
        ) from None
    # twice the skew: a nonce can never be replayed while its timestamp is acceptable
    if not cache.add(
        f"{NONCE_CACHE_PREFIX}{system.pk}:{nonce}", 1, timeout=2 * CLOCK_SKEW_SECONDS + 60
    ):
        raise AuthenticationFailed(
            "replayed_request", _("请求随机数已被使用（疑似重放）"), system_id=system.pk
        )
    return caller_of(system, "signature")
