"""Commercial cryptography (商用密码): SM3 hashes and HMACs, SM4-GCM encryption, SM2 signatures.

SM3 and SM4 come from ``cryptography`` (OpenSSL); SM2 from ``tongsuopy`` (Tongsuo, the
OpenSSL fork maintained for Chinese algorithms). No primitive is implemented here: these
are thin, typed wrappers with the platform's key handling and ciphertext framing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings

# Ciphertext frame: b"\x01" (format) + key id (1 byte) + nonce (12) + ciphertext + tag (16)
FORMAT_SM4_GCM = 1
NONCE_BYTES = 12
TAG_BYTES = 16


class DecryptionError(Exception):
    """The ciphertext was altered, truncated, or encrypted under another key."""


def sm3_digest(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def sm3_hex(data: bytes) -> str:
    return sm3_digest(data).hex()


def sm3_hmac(key: bytes, data: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


class Sm3Stream:
    """Incremental SM3 over a stream of chunks (used for uploaded files)."""

    def __init__(self) -> None:
        self._digest = hashes.Hash(hashes.SM3())

    def update(self, chunk: bytes) -> None:
        self._digest.update(chunk)

    def hexdigest(self) -> str:
        return self._digest.finalize().hex()


KEY_FORMAT_HELP = (
    "TONGBAN_PII_KEY must be 32 hexadecimal digits (a 128-bit SM4 key), or a key ring "
    "'<id>:<32 hex digits>,<id>:<32 hex digits>,...' whose first key encrypts and whose "
    "others still decrypt (ids 1-255)"
)


@dataclass(frozen=True)
class KeyRing:
    """The SM4 keys for personal data: ``current`` encrypts, every key decrypts its frames."""

    current: int
    keys: dict[int, bytes]


def _sm4_key(hex_key: str) -> bytes:
    try:
        key = bytes.fromhex(hex_key)
    except ValueError as error:
        raise ValueError(KEY_FORMAT_HELP) from error
    if len(key) != 16:
        raise ValueError(KEY_FORMAT_HELP)
    return key


@lru_cache(maxsize=8)
def parse_key_ring(value: str) -> KeyRing:
    """Parse ``TONGBAN_PII_KEY``: a bare key is key id 1 (every frame written before key
    rotation existed carries id 1); ``"2:<new>,1:<old>"`` encrypts with 2 and decrypts both."""
    value = value.strip()
    if ":" not in value:
        return KeyRing(current=1, keys={1: _sm4_key(value)})
    keys: dict[int, bytes] = {}
    current = 0
    for item in value.split(","):
        key_id_text, _, hex_key = item.strip().partition(":")
        try:
            key_id = int(key_id_text)
        except ValueError as error:
            raise ValueError(KEY_FORMAT_HELP) from error
        if not 1 <= key_id <= 255 or key_id in keys:
            raise ValueError(KEY_FORMAT_HELP + f": bad or repeated key id {key_id_text!r}")
        keys[key_id] = _sm4_key(hex_key.strip())
        current = current or key_id
    return KeyRing(current=current, keys=keys)


def key_ring() -> KeyRing:
    return parse_key_ring(settings.TONGBAN_PII_KEY)


def pii_key_id() -> int:
    """The id of the key new frames are encrypted with."""
    return key_ring().current


def frame_key_id(frame: bytes) -> int:
    """The key id a stored frame was encrypted under."""
    if len(frame) < 2 + NONCE_BYTES + TAG_BYTES or frame[0] != FORMAT_SM4_GCM:
        raise DecryptionError("not an SM4-GCM frame")
    return frame[1]


def sm4_gcm_encrypt(plaintext: bytes, *, associated_data: bytes = b"") -> bytes:
    ring = key_ring()
    nonce = os.urandom(NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(ring.keys[ring.current]), modes.GCM(nonce)).encryptor()
    if associated_data:
        encryptor.authenticate_additional_data(associated_data)
    body = encryptor.update(plaintext) + encryptor.finalize()
    return bytes([FORMAT_SM4_GCM, ring.current]) + nonce + body + encryptor.tag


def sm4_gcm_decrypt(frame: bytes, *, associated_data: bytes = b"") -> bytes:
    key_id = frame_key_id(frame)
    key = key_ring().keys.get(key_id)
    if key is None:
        raise DecryptionError(f"encrypted under key id {key_id}, which TONGBAN_PII_KEY lacks")
    nonce = frame[2 : 2 + NONCE_BYTES]
    body, tag = frame[2 + NONCE_BYTES : -TAG_BYTES], frame[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    if associated_data:
        decryptor.authenticate_additional_data(associated_data)
    try:
        return decryptor.update(body) + decryptor.finalize()
    except InvalidTag as error:
        raise DecryptionError("SM4-GCM authentication failed") from error


def encrypt_text(value: str, *, purpose: str) -> bytes:
    """Encrypt a personal-data string; ``purpose`` is bound as associated data."""
    return sm4_gcm_encrypt(value.encode("utf-8"), associated_data=purpose.encode("ascii"))


def decrypt_text(frame: bytes, *, purpose: str) -> str:
    return sm4_gcm_decrypt(bytes(frame), associated_data=purpose.encode("ascii")).decode("utf-8")


def lookup_hmac(value: str, *, purpose: str) -> str:
    """Keyed SM3 HMAC used to find a record by an encrypted value (e.g. an ID number)."""
    key = settings.TONGBAN_PII_HMAC_KEY.encode("utf-8")
    return sm3_hmac(key, f"{purpose}:{value}".encode()).hex()
