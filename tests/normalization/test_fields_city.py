"""``city``: US place names tidied and cased; a state after a comma split off."""

from __future__ import annotations

import pytest
from hypothesis import given

from nbjobs.normalization import FieldResult
from nbjobs.normalization.fields import city

from ._field_helpers import assert_idempotent, direct, invalid, normalize, texts

VALID = [
    ("FT. WORTH", "Fort Worth", ""),
    ("st louis", "St. Louis", ""),
    ("ST. PAUL", "St. Paul", ""),
    ("Mt. Vernon", "Mount Vernon", ""),
    ("N LAS VEGAS", "North Las Vegas", ""),
    ("mcallen", "McAllen", ""),
    ("coeur d\u2019alene", "Coeur d'Alene", ""),
    ("o'fallon", "O'Fallon", ""),
    ("WINSTON-SALEM", "Winston-Salem", ""),
    ("town of hempstead", "Town of Hempstead", ""),
    ("DeKalb", "DeKalb", ""),  # mixed case: kept as typed
    ("  san   francisco ", "San Francisco", ""),
    ("Austin, TX", "Austin", "TX"),
    ("austin, texas", "Austin", "TX"),
    ("NEW YORK, NY", "New York", "NY"),
    ("Kansas City", "Kansas City", ""),  # no comma: nothing split off
    ("Paris, France", "Paris, France", ""),  # not a US state: left in the name
    ("San Jos\u00e9", "San José", ""),
]
INVALID = [
    "12345",
    "123 Main St",
    "---",
    ".",
    "Springfield 2",
    "\u0661\u0662",  # digits of another script are digits too
    "##",
    ", TX",
    "Boston, 02134",
    "42nd Street",
    "&",
    "(  )",
]


@pytest.mark.parametrize(("raw", "value", "state"), VALID)
def test_valid(raw, value, state):
    assert normalize(city, raw) == FieldResult(value, (state,), None)


@pytest.mark.parametrize("raw", INVALID)
def test_invalid(raw):
    assert normalize(city, raw) == invalid(city, "city_invalid")


@pytest.mark.parametrize("raw", [v for v, _, _ in VALID])
def test_idempotent(raw):
    assert_idempotent(city, raw)


@given(texts("abcdefmnostSTNXY .,'-\u2019", max_size=30))
def test_never_raises_and_is_idempotent(value):
    direct(city, value)
    assert_idempotent(city, value)
