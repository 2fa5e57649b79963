"""Licence identifiers: layout and the ISO/IEC 7064 MOD 37,36 check character."""

from __future__ import annotations

import pytest

from tongban.apps.licences.identifiers import (
    identifier_build,
    identifier_parse,
    mod37_36_check_char,
    mod37_36_is_valid,
)

USCC = "11990100000000107X"


def test_check_char_of_a_short_string_worked_by_hand():
    # MOD 37,36 starts with P = 36. For each character value v: S = (P + v) mod 36
    # (0 becomes 36), then P = 2S mod 37. "1": S = 37 mod 36 = 1, P = 2.
    # "2": S = (2 + 2) mod 36 = 4, P = 8. Check c makes (P + c) mod 36 = 1:
    # c = 37 - 8 = 29 -> "T" (0-9 are 0-9, A is 10, T is 29).
    assert mod37_36_check_char("12") == "T"
    assert mod37_36_is_valid("12T")
    assert not mod37_36_is_valid("12U")


@pytest.mark.parametrize("value", ["A12425GABC1234002M", "B159D8FA01240000K", "188166C7342000003"])
def test_published_mod37_36_vectors_are_valid(value):
    assert mod37_36_is_valid(value)


def test_identifier_layout_and_check_char():
    identifier = identifier_build(type_code="SPJY", issuer_uscc=USCC, serial=1, version=1)
    # the check character is taken over "121563005" "2" "SPJY" <USCC> "000001" "001"
    assert identifier == f"1.2.156.3005.2.SPJY.{USCC}.000001.001.U"
    parts = identifier_parse(identifier)
    assert parts is not None
    assert (parts.type_code, parts.issuer_uscc, parts.serial, parts.version, parts.check) == (
        "SPJY",
        USCC,
        1,
        1,
        "U",
    )


def test_serials_grow_past_six_digits_and_versions_have_three():
    identifier = identifier_build(type_code="A1", issuer_uscc=USCC, serial=1234567, version=12)
    assert identifier.split(".")[7:10] == ["1234567", "012", identifier[-1]]
    assert identifier_parse(identifier) is not None
    with pytest.raises(ValueError, match="three digits"):
        identifier_build(type_code="A1", issuer_uscc=USCC, serial=1, version=1000)


def test_one_wrong_or_swapped_character_is_caught():
    identifier = identifier_build(type_code="SPJY", issuer_uscc=USCC, serial=1, version=1)
    assert identifier_parse(identifier.replace(".000001.", ".000002.")) is None
    assert identifier_parse(identifier.replace("SPJY", "SPYJ")) is None  # transposition
    assert identifier_parse(identifier[:-1] + "V") is None
    assert identifier_parse("1.2.156.3005.2.spjy." + identifier[20:]) is None
