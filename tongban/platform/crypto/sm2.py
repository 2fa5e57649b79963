"""SM2 signatures with SM3 digests, through tongsuopy (a native Tongsuo binding)."""

from __future__ import annotations

from typing import Any

from tongsuopy.crypto import hashes, serialization
from tongsuopy.crypto.asymciphers import ec
from tongsuopy.crypto.exceptions import InvalidSignature, UnsupportedAlgorithm


class SignatureInvalid(Exception):
    """The signature does not match the data and public key."""


class PublicKeyInvalid(ValueError):
    """Text that is not an SM2 public key; ``reason`` is ``"empty"``, ``"not_pem"`` or
    ``"not_sm2"`` (callers word the message in the user's language)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def message(self) -> str:
        """What to tell the user, in their language."""
        from django.utils.translation import gettext as _

        return {
            "empty": _("请填写SM2公钥"),
            "not_pem": _("不是有效的PEM格式公钥"),
            "not_sm2": _("公钥不是SM2算法的公钥"),
        }[self.reason]


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


def normalise_public_key_pem(text: str) -> str:
    """The PEM (SubjectPublicKeyInfo) of the SM2 public key in ``text``, normalised;
    ``PublicKeyInvalid`` for anything else."""
    text = (text or "").strip()
    if not text:
        raise PublicKeyInvalid("empty")
    try:
        key: Any = serialization.load_pem_public_key(text.encode("ascii"))
    except UnsupportedAlgorithm as error:
        raise PublicKeyInvalid("not_sm2") from error
    except (ValueError, TypeError, UnicodeEncodeError) as error:
        raise PublicKeyInvalid("not_pem") from error
    curve = getattr(getattr(key, "curve", None), "name", "")
    if str(curve).upper() != "SM2":
        raise PublicKeyInvalid("not_sm2")
    normalised: bytes = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return normalised.decode("ascii")
