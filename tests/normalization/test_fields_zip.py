"""``zip``: 5-digit and ZIP+4 codes, leading zeros restored."""

from __future__ import annotations

import pytest
from hypothesis import given

from nbjobs.normalization import FieldResult
from nbjobs.normalization.fields import zipcode

from ._field_helpers import assert_idempotent, direct, invalid, normalize, texts

VALID = [
    ("12345", "12345", ("12345", "")),
    ("12345-6789", "12345-6789", ("12345", "6789")),
    ("12345 6789", "12345-6789", ("12345", "6789")),
    ("12345 - 6789", "12345-6789", ("12345", "6789")),
    ("123456789", "12345-6789", ("12345", "6789")),
    ("2134", "02134", ("02134", "")),  # Boston, stored as a number
    ("501", "00501", ("00501", "")),  # the lowest ZIP code, Holtsville NY
    ("21341234", "02134-1234", ("02134", "1234")),  # a ZIP+4 stored as a number
    ("5011234", "00501-1234", ("00501", "1234")),
    ("2134-1234", "02134-1234", ("02134", "1234")),
    ("\uff11\uff12\uff13\uff14\uff15", "12345", ("12345", "")),  # full-width digits
    ("99950", "99950", ("99950", "")),
]
INVALID = [
    "00000",
    "12",
    "123456",  # six digits: neither a ZIP nor a ZIP+4
    "1234567890",
    "12345-678",
    "12345-",
    "ABCDE",
    "SW1A 1AA",  # a British postcode
    "12 345",
    "1234a",
    "\u0661\u0662\u0663\u0664\u0665",  # Arabic-Indic digits are not a US ZIP code
    "12345-6789-0000",
    "555-0199",  # local phone numbers: zeros are restored on bare numbers only
    "555 2671",
]


@pytest.mark.parametrize(("raw", "value", "components"), VALID)
def test_valid(raw, value, components):
    assert normalize(zipcode, raw) == FieldResult(value, components, None)


@pytest.mark.parametrize("raw", INVALID)
def test_invalid(raw):
    assert normalize(zipcode, raw) == invalid(zipcode, "zip_invalid")


@pytest.mark.parametrize("raw", [v for v, _, _ in VALID])
def test_idempotent(raw):
    assert_idempotent(zipcode, raw)


@given(texts("0123456789 -"))
def test_never_raises_and_is_idempotent(value):
    direct(zipcode, value)
    assert_idempotent(zipcode, value)
