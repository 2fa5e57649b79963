"""SM2 signatures with SM3 digests, through tongsuopy (a native Tongsuo binding)."""

from __future__ import annotations

from tongsuopy.crypto import hashes, serialization
from tongsuopy.crypto.asymciphers import ec
from tongsuopy.crypto.exceptions import InvalidSignature


class SignatureInvalid(Exception):
    """The signature does not match the data and public key."""


def generate_private_key_pem() -> bytes:
    key = ec.generate_private_key(ec.SM2())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(private_key_pem: bytes) -> bytes:
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def sign(private_key_pem: bytes, data: bytes) -> bytes:
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    return key.sign(data, ec.ECDSA(hashes.SM3()))  # type: ignore[union-attr,call-arg]


def verify(public_key_pem_bytes: bytes, data: bytes, signature: bytes) -> None:
    key = serialization.load_pem_public_key(public_key_pem_bytes)
    try:
        key.verify(signature, data, ec.ECDSA(hashes.SM3()))  # type: ignore[union-attr,call-arg]
    except InvalidSignature as error:
        raise SignatureInvalid("SM2 signature does not verify") from error
