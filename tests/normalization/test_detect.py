"""Column type detection: accuracy on the labelled set, and the cases a rule must get right."""

from __future__ import annotations

import time
from collections import Counter

import pandas as pd
import pytest

from nbjobs.normalization.detect import Detection, detect_types
from nbjobs.normalization.registry import FIELD_TYPES

from .detect_labelled import labelled_columns

COLUMNS = labelled_columns()


def test_labelled_set_is_big_and_covers_every_type() -> None:
    assert len(COLUMNS) >= 110
    kinds = Counter(kind for _, _, kind in COLUMNS)
    assert set(kinds) == set(FIELD_TYPES)


def test_accuracy_on_labelled_set() -> None:
    misses = []
    for header, values, kind in COLUMNS:
        found = detect_types(pd.DataFrame({header: values}))[header]
        if found.type != kind:
            misses.append(
                f"{header!r}: want {kind}, got {found.type} ({found.reason}) {values[:3]}"
            )
    accuracy = 1 - len(misses) / len(COLUMNS)
    assert accuracy >= 0.95, f"accuracy {accuracy:.1%}; misses:\n" + "\n".join(misses)


def _one(header: str, values: list) -> Detection:
    return detect_types(pd.DataFrame({header: values}))[header]


def test_every_column_gets_a_detection_with_a_reason() -> None:
    frame = pd.DataFrame({"a": ["x"], "b": [None], "Phone": ["(212) 555-0143"]})
    found = detect_types(frame)
    assert list(found) == ["a", "b", "Phone"]
    for detection in found.values():
        assert detection.type in FIELD_TYPES
        assert 0.0 <= detection.confidence <= 1.0
        assert detection.reason


def test_empty_column_is_text() -> None:
    assert _one("Phone", []).type == "text"


@pytest.mark.parametrize("blanks", [[None, None], ["", "  ", None], ["N/A", "-", "", "unknown"]])
def test_all_blank_column_is_text(blanks: list) -> None:
    found = _one("Email", blanks)
    assert found.type == "text"
    assert "no values" in found.reason


def test_misleading_header_loses_to_clear_values() -> None:
    emails = [f"user{i}@example.com" for i in range(30)]
    assert _one("Phone", emails).type == "email"
    assert _one("Notes", emails).type == "email"


def test_numeric_ids_are_text() -> None:
    ids = [str(1000 + 37 * i) for i in range(40)]
    assert _one("ID", ids).type == "text"
    assert _one("col2", [str(10_000_000 + 7919 * i) for i in range(40)]).type == "text"


def test_two_letter_state_codes_are_states_and_country_codes_countries() -> None:
    states = ["NY", "TX", "CA", "FL", "WA", "IL", "MA", "GA", "OH", "AZ"] * 3
    countries = ["US", "GB", "FR", "DE", "JP", "BR", "NL", "SE", "CN", "ES"] * 3
    assert _one("code", states).type == "state"
    assert _one("code", countries).type == "country"


def test_zip_codes_beat_phones_and_ids() -> None:
    zips = ["02134", "90210", "10001", "60614", "94105-1234", "73301"] * 5
    assert _one("field_3", zips).type == "zip"


def test_deterministic() -> None:
    frame = pd.DataFrame({header: pd.Series(values) for header, values, _ in COLUMNS[:20]})
    assert detect_types(frame) == detect_types(frame)


def test_twelve_columns_detect_well_under_a_second() -> None:
    picks = {}
    for header, values, kind in COLUMNS:
        picks.setdefault(kind, (header, values))
    frame = pd.DataFrame({h: pd.Series(v * 20) for h, v in picks.values()})
    assert frame.shape[1] == 12
    detect_types(frame)  # first call loads libraries and word lists
    start = time.perf_counter()
    detect_types(frame)
    assert time.perf_counter() - start < 0.5
