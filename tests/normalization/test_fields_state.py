"""``state``: USPS two-letter codes from codes, names and older abbreviations."""

from __future__ import annotations

import pytest
from hypothesis import given

from nbjobs.normalization import FieldResult
from nbjobs.normalization.fields import state

from ._field_helpers import assert_idempotent, direct, invalid, normalize, texts

VALID = [
    ("CA", "CA", "California"),
    ("ca", "CA", "California"),
    ("C.A.", "CA", "California"),
    ("california", "CA", "California"),
    ("  CALIFORNIA ", "CA", "California"),
    ("Calif.", "CA", "California"),
    ("Mass.", "MA", "Massachusetts"),
    ("new   york", "NY", "New York"),
    ("N. Dak.", "ND", "North Dakota"),
    ("Washington, D.C.", "DC", "District of Columbia"),
    ("District of Columbia", "DC", "District of Columbia"),
    ("Washington", "WA", "Washington"),
    ("Hawai\u2019i", "HI", "Hawaii"),  # typographic apostrophe
    ("Puerto Rico", "PR", "Puerto Rico"),
    ("AE", "AE", "Armed Forces Europe"),
    ("w. va.", "WV", "West Virginia"),
    ("W.Va.", "WV", "West Virginia"),  # AP style, no space: was state_unknown
]
INVALID = [
    "XX",
    "Cali fornia",
    "Ontario",  # a Canadian province
    "BC",
    "England",
    "C",
    "Californ",
    "New",
    "CA CA",
    "12",
    "---",
    "Pennsylvania Ave",
]


@pytest.mark.parametrize(("raw", "code", "name"), VALID)
def test_valid(raw, code, name):
    assert normalize(state, raw) == FieldResult(code, (name,), None)


@pytest.mark.parametrize("raw", INVALID)
def test_invalid(raw):
    assert normalize(state, raw) == invalid(state, "state_unknown")


@pytest.mark.parametrize("raw", [v for v, _, _ in VALID])
def test_idempotent(raw):
    assert_idempotent(state, raw)


def test_every_code_normalizes_to_itself():
    for code, _ in state._NAMES.items():
        assert direct(state, code.lower()).value == code


@given(texts("abcdefghijklmnopqrstuvwxyzCANYT .,'"))
def test_never_raises_and_is_idempotent(value):
    direct(state, value)
    assert_idempotent(state, value)
