"""Column type detection: accuracy on the labelled set, and the cases a rule must get right."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import phonenumbers
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


def test_only_the_sample_is_read() -> None:
    # Past the first ``sample_size`` distinct values nothing counts: 50 emails, then 500
    # distinct phones, are emails to a sample of 50 and phones to one that reaches the phones.
    emails = [f"user{i}@example.com" for i in range(50)]
    phones = [f"(415) 555-{2000 + i:04d}" for i in range(500)]
    frame = pd.DataFrame({"col1": emails + phones})
    assert detect_types(frame, sample_size=50)["col1"].type == "email"
    assert detect_types(frame, sample_size=550)["col1"].type == "phone"


def test_a_column_of_invalid_phone_numbers_is_still_a_phone_column() -> None:
    # Unassigned area codes: invalid numbers (the job says so, row by row), but written as
    # phone numbers, so the column is phone, as Faker's random digits are.
    invalid = [
        "(911) 555-0143",
        "211-484-2200",
        "999.246.8135",
        "(370) 555-2671 x12",
        "1-911-555-0188",
    ]
    for value in invalid:
        assert not phonenumbers.is_valid_number(phonenumbers.parse(value, "US"))
    found = _one("col4", invalid * 4)
    assert found.type == "phone"
    assert "written as phone numbers" in found.reason
    # Another country's numbers written nationally need their region (they are not possible
    # numbers in the US): with it, they are a phone column too.
    british = ["020 7946 0958", "0161 496 0123", "0117 496 0742", "01632 960 001", "0113 496 0555"]
    frame = pd.DataFrame({"col5": british * 4})
    assert detect_types(frame, options={"default_region": "GB"})["col5"].type == "phone"


@pytest.mark.parametrize(
    "values",
    [
        ["078-05-1120", "219-09-9999", "457-55-5462", "123-45-6789", "001-01-0001"],  # SSNs
        ["192.168.1.20", "10.0.0.1", "172.16.254.3", "8.8.8.8", "203.0.113.195"],  # IPv4
        ["4111 1111 1111 1111", "5500 0000 0000 0004", "3400 000000 00009"],  # card numbers
    ],
)
def test_numbers_that_are_not_phones_are_not_a_phone_column(values: list[str]) -> None:
    assert _one("col2", values * 4).type != "phone"


def test_a_header_naming_no_type_outweighs_values_that_only_have_the_shape() -> None:
    five_digits = [str(10_000 + 2161 * i) for i in range(40)]
    assert _one("col3", five_digits).type == "zip"  # no header: five digits are a ZIP code
    assert _one("id", five_digits).type == "text"
    assert _one("Customer ID", five_digits).type == "text"
    occupations = ["Elektroniker", "Binnenschiffer", "Chemikant", "Koch", "Gärtner"] * 4
    assert _one("Job", occupations).type == "text"
    assert _one("Beruf", occupations).type == "text"


def test_partner_firms_and_legal_forms_make_a_company_column() -> None:
    firms = ["Marsh, James and Ward", "Baker & Sons", "Pohl AG", "Naser GmbH", "Rodrigues et Fils"]
    surnames = ["Sullivan-Torres", "Rees-Baker", "Farias", "Cassiano", "Gasunie"]
    assert _one("data", (firms + surnames) * 3).type == "company"
    assert _one("Company", (firms[:2] + surnames) * 3).type == "company"
