"""Vectors per field type, through the registry (as the engine calls them), plus fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbjobs.normalization import MAX_VALUE_LENGTH, REASONS, FieldResult
from nbjobs.normalization.registry import REGISTRY

US = {"default_region": "US"}


def one(kind: str, value: str, options: dict | None = None) -> FieldResult:
    return REGISTRY[kind].normalize([value], options or US)[0]


# --- name: (input, normalized, (title, first, middle, last, suffix, nickname)) ---------------
NAMES = [
    ("jOHN o'brien", "John O'Brien", ("", "John", "", "O'Brien", "", "")),
    ("mcdonald", "McDonald", ("", "McDonald", "", "", "", "")),
    ("dr. john q. public jr.", "John Q. Public Jr.", ("Dr.", "John", "Q.", "Public", "Jr.", "")),
    ('John "Jack" Kennedy', "John Kennedy", ("", "John", "", "Kennedy", "", "Jack")),
    ("Smith, John", "John Smith", ("", "John", "", "Smith", "", "")),
    (
        "mary-jane van der berg",
        "Mary-Jane van der Berg",
        ("", "Mary-Jane", "", "van der Berg", "", ""),
    ),
    ("  josé   álvarez  ", "José Álvarez", ("", "José", "", "Álvarez", "", "")),
    ("e\u0301milie dupont", "\u00c9milie Dupont", ("", "\u00c9milie", "", "Dupont", "", "")),  # NFC
    (
        "Sir Patrick Stewart OBE",
        "Patrick Stewart OBE",
        ("Sir", "Patrick", "", "Stewart", "OBE", ""),
    ),
    ("Anderson Andrews", "Anderson Andrews", ("", "Anderson", "", "Andrews", "", "")),
    ("JOHN SMITH, PHD", "John Smith PhD", ("", "John", "", "Smith", "PhD", "")),
]
INVALID_NAMES = [
    ("R2D2", "name_has_digits"),
    ("Agent 007", "name_has_digits"),
    ("JOHN AND JANE DOE", "name_multiple_people"),
    ("Mr. and Mrs. Smith", "name_multiple_people"),
    ("John & Jane", "name_multiple_people"),
    ("Bob+Alice Jones", "name_multiple_people"),
    ("Dr.", "name_empty"),
    ("---", "name_empty"),
    ('"Jack"', "name_empty"),
]


@pytest.mark.parametrize(("raw", "normalized", "components"), NAMES)
def test_name_vectors(raw, normalized, components):
    assert one("name", raw) == FieldResult(normalized, components, None)


@pytest.mark.parametrize(("raw", "reason"), INVALID_NAMES)
def test_invalid_names(raw, reason):
    assert one("name", raw) == FieldResult(None, ("",) * 6, reason)


# --- phone: (input, default_region, e164, (country_code, national_number, extension, region)) -
PHONES = [
    ("(415) 555-2671", "US", "+14155552671", ("1", "4155552671", "", "US")),
    ("415.555.2671", "US", "+14155552671", ("1", "4155552671", "", "US")),
    ("1-800-FLOWERS", "US", "+18003569377", ("1", "8003569377", "", "US")),
    ("415-555-2671 ext. 123", "US", "+14155552671", ("1", "4155552671", "123", "US")),
    ("+1 (212) 555-0100;ext=7", "US", "+12125550100", ("1", "2125550100", "7", "US")),
    (
        "\uff14\uff11\uff15\uff15\uff15\uff15\uff12\uff16\uff17\uff11",
        "US",
        "+14155552671",
        ("1", "4155552671", "", "US"),
    ),  # full-width digits
    ("+44 20 7946 0958", "US", "+442079460958", ("44", "2079460958", "", "GB")),
    ("020 7946 0958", "GB", "+442079460958", ("44", "2079460958", "", "GB")),
    ("0044 20 7946 0958", "GB", "+442079460958", ("44", "2079460958", "", "GB")),
    ("07400 123456", "GB", "+447400123456", ("44", "7400123456", "", "GB")),
    ("030 12345678", "DE", "+493012345678", ("49", "3012345678", "", "DE")),
    ("+33 1 42 68 53 00", "US", "+33142685300", ("33", "142685300", "", "FR")),
    # Italian numbers keep their leading zero in E.164 and in national_number.
    ("+39 02 1234 5678", "US", "+390212345678", ("39", "0212345678", "", "IT")),
    ("+91 98765 43210", "US", "+919876543210", ("91", "9876543210", "", "IN")),
    ("+800 1234 5678", "US", "+80012345678", ("800", "12345678", "", "001")),  # non-geographic
]
INVALID_PHONES = [
    ("call me", "US", "phone_unparseable"),
    ("+999 123", "US", "phone_unparseable"),
    ("123", "US", "phone_invalid"),
    ("555-0100", "US", "phone_invalid"),
    ("(415) 555-2671", "GB", "phone_invalid"),  # a US number read as British
]


@pytest.mark.parametrize(("raw", "region", "e164", "components"), PHONES)
def test_phone_vectors(raw, region, e164, components):
    assert one("phone", raw, {"default_region": region}) == FieldResult(e164, components, None)


@pytest.mark.parametrize(("raw", "region", "reason"), INVALID_PHONES)
def test_invalid_phones(raw, region, reason):
    assert one("phone", raw, {"default_region": region}) == FieldResult(None, ("",) * 4, reason)


# --- email -----------------------------------------------------------------------------------
EMAILS = [
    ("John.Doe@EXAMPLE.COM", "John.Doe@example.com", ("John.Doe", "example.com")),
    ("user@bücher.de", "user@bücher.de", ("user", "bücher.de")),
    ("user@XN--BCHER-KVA.DE", "user@bücher.de", ("user", "bücher.de")),  # IDN back to Unicode
    ("ÜSER@Example.COM", "ÜSER@example.com", ("ÜSER", "example.com")),
    ("user+tag@sub.example.co.uk", "user+tag@sub.example.co.uk", ("user+tag", "sub.example.co.uk")),
]
INVALID_EMAILS = [
    "bad@",
    "noat",
    "a@b",
    "x@localhost",
    "a..b@example.com",
    "user@exa mple.com",
    "a@-example.com",
    '"quoted"@example.com',
    "@example.com",
]


@pytest.mark.parametrize(("raw", "normalized", "components"), EMAILS)
def test_email_vectors(raw, normalized, components):
    assert one("email", raw) == FieldResult(normalized, components, None)


@pytest.mark.parametrize("raw", INVALID_EMAILS)
def test_invalid_emails(raw):
    assert one("email", raw) == FieldResult(None, ("", ""), "email_invalid")


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
def test_results_keep_input_order_and_length(kind):
    values = ["", "x" * 2000, "John Smith", "(415) 555-2671", "a@example.com", ""]
    results = REGISTRY[kind].normalize(values, US)
    assert len(results) == len(values)
    assert results[0].value == results[5].value == ""
    assert results[1].reason == "value_too_long"
    assert results == [one(kind, value) for value in values]


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
