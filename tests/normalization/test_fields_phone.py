"""``phone``: every region, extensions, typo repair, placeholder numbers, line types."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbjobs.normalization import FieldResult
from nbjobs.normalization.fields import phone

from ._field_helpers import assert_idempotent, direct, invalid, normalize, texts

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))
from contacts import messy_world_phone

# These tests hold nbjobs' own shortcuts equal to phonenumbers itself: they run on it.
pytestmark = pytest.mark.usefixtures("reference_parser")

FL_OR_MOBILE = "fixed_line_or_mobile"

# (input, default_region, (e164, national, international, region, line_type, extension))
VALID = [
    (
        "(415) 867-5309",
        "US",
        ("+14158675309", "(415) 867-5309", "+1 415-867-5309", "US", FL_OR_MOBILE, ""),
    ),
    (
        "415.867.5309",
        "US",
        ("+14158675309", "(415) 867-5309", "+1 415-867-5309", "US", FL_OR_MOBILE, ""),
    ),
    (
        "4158675309",
        "US",
        ("+14158675309", "(415) 867-5309", "+1 415-867-5309", "US", FL_OR_MOBILE, ""),
    ),
    (
        "+1 415 867 5309",
        "GB",
        ("+14158675309", "(415) 867-5309", "+1 415-867-5309", "US", FL_OR_MOBILE, ""),
    ),
    (
        "tel:+1-415-867-5309",
        "US",
        ("+14158675309", "(415) 867-5309", "+1 415-867-5309", "US", FL_OR_MOBILE, ""),
    ),
    (
        "1-800-FLOWERS",
        "US",
        ("+18003569377", "(800) 356-9377", "+1 800-356-9377", "US", "toll_free", ""),
    ),
    # Extensions, however written, kept apart.
    (
        "415-867-5309 ext. 123",
        "US",
        ("+14158675309", "(415) 867-5309", "+1 415-867-5309", "US", FL_OR_MOBILE, "123"),
    ),
    (
        "415 867 5309 x99",
        "US",
        ("+14158675309", "(415) 867-5309", "+1 415-867-5309", "US", FL_OR_MOBILE, "99"),
    ),
    (
        "+1 (212) 736-5000;ext=7",
        "US",
        ("+12127365000", "(212) 736-5000", "+1 212-736-5000", "US", FL_OR_MOBILE, "7"),
    ),
    (
        "(415) 867-5309 extension 42",
        "US",
        ("+14158675309", "(415) 867-5309", "+1 415-867-5309", "US", FL_OR_MOBILE, "42"),
    ),
    # Letters typed for digits, repaired because the result is valid.
    (
        "415-867-53O9",
        "US",
        ("+14158675309", "(415) 867-5309", "+1 415-867-5309", "US", FL_OR_MOBILE, ""),
    ),
    (
        "4l5 867 5309",
        "US",
        ("+14158675309", "(415) 867-5309", "+1 415-867-5309", "US", FL_OR_MOBILE, ""),
    ),
    (
        "+44 2O 7946 O958",
        "US",
        ("+442079460958", "020 7946 0958", "+44 20 7946 0958", "GB", "fixed_line", ""),
    ),
    (
        "+1 415 867 53O9 x12",
        "US",
        ("+14158675309", "(415) 867-5309", "+1 415-867-5309", "US", FL_OR_MOBILE, "12"),
    ),
    (
        "\uff14\uff11\uff15\uff18\uff16\uff17\uff15\uff13\uff10\uff19",
        "US",
        ("+14158675309", "(415) 867-5309", "+1 415-867-5309", "US", FL_OR_MOBILE, ""),
    ),  # full-width digits
    # Every region.
    (
        "+44 20 7946 0958",
        "US",
        ("+442079460958", "020 7946 0958", "+44 20 7946 0958", "GB", "fixed_line", ""),
    ),
    (
        "020 7946 0958",
        "GB",
        ("+442079460958", "020 7946 0958", "+44 20 7946 0958", "GB", "fixed_line", ""),
    ),
    (
        "0044 20 7946 0958",
        "GB",
        ("+442079460958", "020 7946 0958", "+44 20 7946 0958", "GB", "fixed_line", ""),
    ),
    (
        "07400 123456",
        "GB",
        ("+447400123456", "07400 123456", "+44 7400 123456", "GB", "mobile", ""),
    ),
    (
        "030 12345678",
        "DE",
        ("+493012345678", "030 12345678", "+49 30 12345678", "DE", "fixed_line", ""),
    ),
    (
        "+33 1 42 68 53 00",
        "US",
        ("+33142685300", "01 42 68 53 00", "+33 1 42 68 53 00", "FR", "fixed_line", ""),
    ),
    # Italian numbers keep their leading zero.
    (
        "+39 02 1234 5678",
        "US",
        ("+390212345678", "02 1234 5678", "+39 02 1234 5678", "IT", "fixed_line", ""),
    ),
    (
        "+91 99876 54321",
        "US",
        ("+919987654321", "099876 54321", "+91 99876 54321", "IN", "mobile", ""),
    ),
    (
        "+41 44 668 18 00",
        "US",
        ("+41446681800", "044 668 18 00", "+41 44 668 18 00", "CH", "fixed_line", ""),
    ),
    (
        "+81 3-1234-5678",
        "US",
        ("+81312345678", "03-1234-5678", "+81 3-1234-5678", "JP", "fixed_line", ""),
    ),
    ("0412 345 678", "AU", ("+61412345678", "0412 345 678", "+61 412 345 678", "AU", "mobile", "")),
    (
        "+55 11 91234-5678",
        "US",
        ("+5511912345678", "(11) 91234-5678", "+55 11 91234-5678", "BR", "mobile", ""),
    ),
    (
        "+86 138 0013 8000",
        "US",
        ("+8613800138000", "138 0013 8000", "+86 138 0013 8000", "CN", "mobile", ""),
    ),
    (
        "+7 495 123-45-67",
        "US",
        ("+74951234567", "8 (495) 123-45-67", "+7 495 123-45-67", "RU", "fixed_line", ""),
    ),
    (
        "+971 50 123 4567",
        "US",
        ("+971501234567", "050 123 4567", "+971 50 123 4567", "AE", "mobile", ""),
    ),
    (
        "+234 803 123 4567",
        "US",
        ("+2348031234567", "0803 123 4567", "+234 803 123 4567", "NG", "mobile", ""),
    ),
    (
        "+800 1248 3579",
        "US",
        ("+80012483579", "1248 3579", "+800 1248 3579", "001", "toll_free", ""),
    ),  # non-geographic
    (  # "00", as most of the world dials abroad, read as "+" (the US dials 011)
        "0044 20 7946 0958",
        "US",
        ("+442079460958", "020 7946 0958", "+44 20 7946 0958", "GB", "fixed_line", ""),
    ),
    (  # and as Faker's en_US writes some
        "001-650-253-0000x123",
        "US",
        ("+16502530000", "(650) 253-0000", "+1 650-253-0000", "US", FL_OR_MOBILE, "123"),
    ),
    (  # a label after the number: its letters are no keypad letters
        "+1 (650) 253-0000 (mobile)",
        "US",
        ("+16502530000", "(650) 253-0000", "+1 650-253-0000", "US", FL_OR_MOBILE, ""),
    ),
]
INVALID = [
    ("call me", "US", "phone_unparseable"),
    ("+999 123", "US", "phone_unparseable"),
    ("123", "US", "phone_invalid"),
    ("555-0100", "US", "phone_invalid"),
    ("(415) 867-5309", "GB", "phone_invalid"),  # a US number read as British
    ("415-867-53OO1", "US", "phone_invalid"),  # repaired, still too long: not repaired
    ("1-800-FLOWERS-NOW", "US", "phone_invalid"),
    # Placeholders.
    ("123-456-7890", "US", "phone_fake"),
    ("(123) 456-7890", "US", "phone_fake"),
    ("555-555-5555", "US", "phone_fake"),
    ("000-000-0000", "US", "phone_fake"),
    ("1111111111", "US", "phone_fake"),
    ("+44 7777 777777", "US", "phone_fake"),
    ("(212) 555-0123", "US", "phone_fake"),
    ("+1 212 555 0199", "US", "phone_fake"),
    ("800-555-0100", "US", "phone_fake"),
    ("415 555 O1O1", "US", "phone_fake"),  # repaired into the fictional range
    ("98765 43210", "IN", "phone_fake"),
    ("0099 1234 5678", "US", "phone_invalid"),  # "00" read as "+" only when that is valid
    ("415-555-2671 / 650-253-0000", "US", "phone_multiple"),
    ("415-555-2671; +44 20 7946 0958", "US", "phone_multiple"),
    ("0171/1234567", "US", "phone_invalid"),  # one German number (valid in DE), not two
]


@pytest.mark.parametrize(("raw", "region", "components"), VALID)
def test_valid(raw, region, components):
    result = normalize(phone, raw, default_region=region)
    assert result == FieldResult(components[0], components, None)


@pytest.mark.parametrize(("raw", "region", "reason"), INVALID)
def test_invalid(raw, region, reason):
    assert normalize(phone, raw, default_region=region) == invalid(phone, reason)


def test_empty():
    assert normalize(phone, "") == FieldResult("", ("",) * len(phone.COMPONENTS), None)


def test_a_long_bracketed_word_is_read_in_linear_time():
    # A label regex with nested repetition took ~2^n steps on "(aaa...a1)": with 60 letters it
    # would never return (the suite's per-test timeout fails it); this one returns at once.
    value = "(" + "a" * 60 + "1)"
    assert normalize(phone, value).reason == "phone_unparseable"
    assert phone._LABEL.search("415 555 2671 (" + "a" * 60 + ")") is not None


def test_a_slash_inside_one_number_is_not_a_list():
    assert normalize(phone, "0171/1234567", default_region="DE").value == "+491711234567"


def test_typo_repair_does_not_touch_vanity_numbers():
    # Only O and I, yet no typo: repaired, 800-010-1010 is invalid, so the keypad reading stays.
    assert normalize(phone, "1-800-OIOIOIO").value == "+18006464646"
    assert normalize(phone, "1-800-FLOWERS").value == "+18003569377"
    assert normalize(phone, "1-800-GO-FEDEX").value == "+18004633339"


@pytest.mark.parametrize(("raw", "region", "components"), VALID)
def test_idempotent(raw, region, components):
    assert_idempotent(phone, raw, default_region=region)
    assert_idempotent(phone, components[1], default_region=components[3].replace("001", "US"))
    assert normalize(phone, components[2]).value == components[0]  # international form


@settings(max_examples=300, deadline=None)
@given(texts("0123456789 +-().xextOlI#;"))
def test_never_raises_and_is_idempotent(value):
    direct(phone, value)
    assert_idempotent(phone, value)
    assert_idempotent(phone, value, default_region="GB")


def _public_region_and_line_type(number: phonenumbers.PhoneNumber) -> tuple[str, str | None]:
    """What ``_region_and_line_type`` stands for: phonenumbers' public functions."""
    kind = phonenumbers.number_type(number)
    line_type = None if kind == phonenumbers.PhoneNumberType.UNKNOWN else phone._LINE_TYPES[kind]
    return phonenumbers.region_code_for_number(number) or "", line_type


def _parsed(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


@settings(max_examples=1500, deadline=None)
@given(
    st.sampled_from(["", "+1", "+1 8", "+7", "+44", "+262", "+599", "+800", "+39 0"]),
    st.text("0123456789", min_size=1, max_size=14),
    st.sampled_from(["US", "CA", "GB", "DE", "IT", "RU"]),
)
def test_region_and_line_type_equal_phonenumbers(prefix, digits, region):
    # +1, +7, +44, +262, +599: calling codes shared by several regions, found by the walk.
    number = _parsed(prefix + digits, region)
    if number is not None:
        assert phone._region_and_line_type(number) == _public_region_and_line_type(number)


def test_region_and_line_type_equal_phonenumbers_on_the_benchmark_numbers():
    rng = random.Random(7)
    numbers = [_parsed(messy_world_phone(rng), "US") for _ in range(3000)]
    for number in filter(None, numbers):
        assert phone._region_and_line_type(number) == _public_region_and_line_type(number)
