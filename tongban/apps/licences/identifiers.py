"""Electronic licence identifiers (电子证照标识, GB/T 36901–36905).

    1.2.156.3005.2.<licence type code>.<issuer USCC>.<serial>.<3-digit version>.<check char>

The check character is ISO/IEC 7064 MOD 37,36 (the hybrid system for the alphabet
0–9 A–Z, one check character from the same alphabet) computed over every character before
it with the dots removed, root included. See docs/decisions/0012-licences-and-pdf.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ROOT = "1.2.156.3005.2"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MODULUS = 36
SERIAL_DIGITS = 6  # zero-padded to at least six digits; longer serials simply grow
TYPE_CODE = re.compile(r"^[0-9A-Z]{1,40}$")
IDENTIFIER = re.compile(
    r"^1\.2\.156\.3005\.2\.(?P<type_code>[0-9A-Z]{1,40})\.(?P<uscc>[0-9A-Z]{18})"
    r"\.(?P<serial>[0-9]{6,12})\.(?P<version>[0-9]{3})\.(?P<check>[0-9A-Z])$"
)
# for URL patterns: the same shape, not anchored
IDENTIFIER_URL_REGEX = (
    r"1\.2\.156\.3005\.2\.[0-9A-Z]{1,40}\.[0-9A-Z]{18}\.[0-9]{6,12}\.[0-9]{3}\.[0-9A-Z]"
)


def mod37_36_check_char(text: str) -> str:
    """ISO/IEC 7064 MOD 37,36 check character of ``text`` (characters 0-9, A-Z)."""
    product = MODULUS
    for char in text:
        value = ALPHABET.index(char)
        total = (product + value) % MODULUS or MODULUS
        product = (total * 2) % (MODULUS + 1)
    return ALPHABET[(MODULUS + 1 - product) % MODULUS]


def mod37_36_is_valid(text: str) -> bool:
    """True when the last character of ``text`` is the check character of the rest."""
    if len(text) < 2 or any(char not in ALPHABET for char in text):
        return False
    return mod37_36_check_char(text[:-1]) == text[-1]


def identifier_build(*, type_code: str, issuer_uscc: str, serial: int, version: int) -> str:
    if not TYPE_CODE.match(type_code):
        raise ValueError(f"bad licence type code {type_code!r}")
    if not 1 <= version <= 999:
        raise ValueError("the version has three digits")
    body = f"{ROOT}.{type_code}.{issuer_uscc}.{serial:0{SERIAL_DIGITS}d}.{version:03d}"
    return f"{body}.{mod37_36_check_char(body.replace('.', ''))}"


@dataclass(frozen=True)
class IdentifierParts:
    type_code: str
    issuer_uscc: str
    serial: int
    version: int
    check: str


def identifier_parse(identifier: str) -> IdentifierParts | None:
    """The parts of a well-formed identifier whose check character is right, else None."""
    match = IDENTIFIER.match(identifier)
    if match is None or not mod37_36_is_valid(identifier.replace(".", "")):
        return None
    return IdentifierParts(
        type_code=match["type_code"],
        issuer_uscc=match["uscc"],
        serial=int(match["serial"]),
        version=int(match["version"]),
        check=match["check"],
    )
