"""Commercial cryptography (商用密码): SM3 hashes and HMACs, SM4-GCM encryption, SM2 signatures.

SM3 and SM4 come from ``cryptography`` (OpenSSL); SM2 from ``tongsuopy`` (Tongsuo, the
OpenSSL fork maintained for Chinese algorithms). No primitive is implemented here: these
are thin, typed wrappers with the platform's key handling and ciphertext framing.
"""

from __future__ import annotations

import os
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


@lru_cache(maxsize=8)
def _sm4_key(hex_key: str) -> bytes:
    try:
        key = bytes.fromhex(hex_key)
    except ValueError as error:
        raise ValueError("TONGBAN_PII_KEY must be 32 hexadecimal digits") from error
    if len(key) != 16:
        raise ValueError("TONGBAN_PII_KEY must be 32 hexadecimal digits (128-bit SM4 key)")
    return key


def pii_key_id() -> int:
    return 1


def sm4_gcm_encrypt(plaintext: bytes, *, associated_data: bytes = b"") -> bytes:
    key = _sm4_key(settings.TONGBAN_PII_KEY)
    nonce = os.urandom(NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    if associated_data:
        encryptor.authenticate_additional_data(associated_data)
    body = encryptor.update(plaintext) + encryptor.finalize()
    return bytes([FORMAT_SM4_GCM, pii_key_id()]) + nonce + body + encryptor.tag


def sm4_gcm_decrypt(frame: bytes, *, associated_data: bytes = b"") -> bytes:
    if len(frame) < 2 + NONCE_BYTES + TAG_BYTES or frame[0] != FORMAT_SM4_GCM:
        raise DecryptionError("not an SM4-GCM frame")
    key = _sm4_key(settings.TONGBAN_PII_KEY)
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
