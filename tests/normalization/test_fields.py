"""Properties every field type shares, through the registry as the engine calls them; text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbjobs.normalization import MAX_VALUE_LENGTH, REASONS, FieldResult
from nbjobs.normalization.registry import REGISTRY

US = {"default_region": "US"}


def one(kind: str, value: str, options: dict | None = None) -> FieldResult:
    """The result without its repair notes (tests/normalization/test_repairs.py has those)."""
    return REGISTRY[kind].normalize([value], options or US)[0]._replace(notes=())


# name, phone and email vectors: test_fields_name.py, test_fields_phone.py, test_fields_email.py.


# --- text ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("  hello   world ", "hello world"),
        ("a\tb\nc", "a b c"),
        ("e\u0301", "\u00e9"),
        ("x\u00a0\u2003y", "x y"),
        ("ACME  Corp", "ACME Corp"),
    ],
)
def test_text_vectors(raw, normalized):
    assert one("text", raw) == FieldResult(normalized, (), None)


# --- every type ------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_empty_is_empty_not_invalid(kind):
    assert one(kind, "") == FieldResult("", ("",) * len(REGISTRY[kind].components), None)


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_too_long_is_rejected_unparsed(kind):
    at_limit = one(kind, "a" * MAX_VALUE_LENGTH)
    assert at_limit.reason != "value_too_long"
    for value in ("a" * (MAX_VALUE_LENGTH + 1), "(415) 555-2671 " * 400_000):  # 6 MB
        assert one(kind, value).reason == "value_too_long"


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_bytes_that_were_not_utf8_are_rejected_unparsed(kind):
    # "José" saved as Windows-1252 and read as UTF-8 ("Jos\ufffd"); also a phone or an email
    # a byte of which was lost: whatever would parse around it, the value is not what was typed.
    lost = "\N{REPLACEMENT CHARACTER}"
    for value in (f"Jos{lost} Garc{lost}a", f"(415) 555-2671{lost}", f"ann{lost}@example.com"):
        assert one(kind, value) == REGISTRY[kind].result(None, "not_utf8")


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_results_keep_input_order_and_length(kind):
    values = ["", "x" * 2000, "John Smith", "(415) 555-2671", "a@example.com", ""]
    results = REGISTRY[kind].normalize(values, US)
    assert len(results) == len(values)
    assert results[0].value == results[5].value == ""
    assert results[1].reason == "value_too_long"
    assert results == [REGISTRY[kind].normalize([value], US)[0] for value in values]


@pytest.mark.parametrize("kind", sorted(REGISTRY))
@settings(max_examples=150, deadline=None)
@given(value=st.text(max_size=60))
def test_no_string_makes_a_field_raise(kind, value):
    field = REGISTRY[kind]
    value = value.strip()
    result = field.normalize([value], US)[0]
    assert len(result.components) == len(field.components)
    assert all(isinstance(part, str) for part in result.components)
    assert (result.value is None) == (result.reason is not None)
    assert result.reason is None or result.reason in REASONS
