"""Check characters of Chinese identity numbers.

- Resident ID, GB 11643-1999: ISO 7064 MOD 11-2.
- Unified social credit code, GB 32100-2015: weighted MOD 31 over its own alphabet.
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils.translation import gettext as _

RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_CHECK = "10X98765432"
RESIDENT_PATTERN = re.compile(r"^\d{17}[\dX]$")

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_PATTERN = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


class InvalidIdNumber(ValueError):
    """Raised with a message fit to show the user (translated by the caller)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def resident_check_char(first17: str) -> str:
    total = sum(
        int(digit) * weight for digit, weight in zip(first17, RESIDENT_WEIGHTS, strict=True)
    )
    return RESIDENT_CHECK[total % 11]


def normalize_resident_id(value: str) -> str:
    return value.strip().upper().replace(" ", "")


def validate_resident_id(value: str, *, today: dt.date | None = None) -> str:
    """Return the normalised number or raise ``InvalidIdNumber``."""
    number = normalize_resident_id(value)
    if not RESIDENT_PATTERN.match(number):
        raise InvalidIdNumber("format", _("公民身份号码应为18位，前17位为数字，最后一位为数字或X"))
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as error:
        raise InvalidIdNumber("birth_date", _("公民身份号码中的出生日期无效")) from error
    if birth < dt.date(1900, 1, 1) or birth > (today or dt.date.today()):  # noqa: DTZ011
        raise InvalidIdNumber("birth_date", _("公民身份号码中的出生日期无效"))
    if resident_check_char(number[:17]) != number[17]:
        raise InvalidIdNumber("check_char", _("公民身份号码校验码错误"))
    return number


def resident_birth_date(number: str) -> dt.date:
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def resident_is_male(number: str) -> bool:
    return int(number[16]) % 2 == 1


def uscc_check_char(first17: str) -> str:
    total = sum(
        USCC_ALPHABET.index(char) * weight
        for char, weight in zip(first17, USCC_WEIGHTS, strict=True)
    )
    check = 31 - total % 31
    return USCC_ALPHABET[0 if check == 31 else check]


def validate_uscc(value: str) -> str:
    code = value.strip().upper().replace(" ", "")
    if len(code) != 18 or not USCC_PATTERN.match(code):
        raise InvalidIdNumber(
            "format",
            _("统一社会信用代码应为18位，由数字和大写字母组成（不使用I、O、Z、S、V）"),
        )
    if uscc_check_char(code[:17]) != code[17]:
        raise InvalidIdNumber("check_char", _("统一社会信用代码校验码错误"))
    return code


def make_resident_id(area: str, birth: dt.date, sequence: int) -> str:
    """Build a valid (fictitious) resident ID; used by the demo city and tests."""
    first17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return first17 + resident_check_char(first17)


def make_uscc(authority: str, org_type: str, area: str, org_code: str) -> str:
    """Build a valid (fictitious) USCC from its parts; used by the demo city and tests."""
    first17 = f"{authority}{org_type}{area}{org_code}"
    return first17 + uscc_check_char(first17)
