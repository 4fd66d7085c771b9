"""Field-type registry: spec and option validation, reason codes, isolation of failing values."""

from __future__ import annotations

import inspect

import pytest

import nbjobs.normalization
from nbjobs.exceptions import BadRequest, SpecError
from nbjobs.normalization import FIELD_TYPES, REASONS, FieldResult, validate_options, validate_spec
from nbjobs.normalization.fields import (
    address,
    city,
    company,
    country,
    date,
    email,
    name,
    phone,
    state,
    text,
    url,
    zipcode,
)
from nbjobs.normalization.registry import OPTIONS, REGISTRY, FieldType

AVAILABLE = ["Full Name", "Phone", "Email"]


def test_field_types_sorted_and_complete():
    assert FIELD_TYPES == (
        "address",
        "city",
        "company",
        "country",
        "date",
        "email",
        "name",
        "phone",
        "state",
        "text",
        "url",
        "zip",
    )
    assert tuple(REGISTRY) == FIELD_TYPES


def test_all_is_complete():
    public = {
        n
        for n, value in vars(nbjobs.normalization).items()
        if not n.startswith("_") and not inspect.ismodule(value) and n != "annotations"
    }
    # The engine's names are loaded on first use (module __getattr__): not in vars() before.
    assert public <= set(nbjobs.normalization.__all__)
    for exported in nbjobs.normalization.__all__:
        assert getattr(nbjobs.normalization, exported) is not None
    with pytest.raises(AttributeError):
        _ = nbjobs.normalization.NotAName


def test_reasons_cover_every_module_code():
    modules = (address, city, company, country, date, email, name, phone, state, text, url, zipcode)
    for module in modules:
        assert set(module.REASONS) <= set(REASONS)
    assert {"value_too_long", "unexpected_error"} <= set(REASONS)
    assert all(isinstance(message, str) and message for message in REASONS.values())


def test_valid_spec_is_canonicalized_in_order():
    spec = validate_spec({"Phone": " Phone", "Full Name": "NAME", "Email": "email"}, AVAILABLE)
    assert spec == {"Phone": "phone", "Full Name": "name", "Email": "email"}
    assert list(spec) == ["Phone", "Full Name", "Email"]
    assert validate_spec({"anything": "text"}) == {"anything": "text"}  # no header to check


@pytest.mark.parametrize(
    ("columns", "available", "message"),
    [
        (
            {"Phone": "fone"},
            AVAILABLE,
            'Unknown field type "fone" for column "Phone". Valid types: address, city, company, '
            "country, date, email, name, phone, state, text, url, zip.",
        ),
        (
            {"Phon": "phone"},
            AVAILABLE,
            'Column "Phon" is not in the input. Columns: "Full Name", "Phone", "Email".',
        ),
        (
            {},
            AVAILABLE,
            'No columns to normalize: give at least one, e.g. {"Phone": "phone", '
            '"Email": "email"}. Field types: address, city, company, country, date, email, name, '
            "phone, state, text, url, zip.",
        ),
        (
            ["Phone"],
            None,
            'columns must map column names to field types, e.g. {"Phone": "phone", "Email": '
            '"email"}; got list.',
        ),
        (
            {"Phone": 3},
            None,
            'Column names and field types must be strings, e.g. {"Phone": "phone", "Email": '
            "\"email\"}; got 'Phone': 3.",
        ),
        (
            {1: "phone"},
            None,
            'Column names and field types must be strings, e.g. {"Phone": "phone", "Email": '
            "\"email\"}; got 1: 'phone'.",
        ),
    ],
)
def test_spec_errors_say_what_to_do(columns, available, message):
    with pytest.raises(SpecError) as caught:
        validate_spec(columns, available)
    assert caught.value.message == message
    assert isinstance(caught.value, BadRequest) and caught.value.status == 400


def test_missing_column_message_lists_at_most_twenty_columns():
    available = [f"c{i}" for i in range(25)]
    with pytest.raises(SpecError, match=r'"c19" and 5 more\.$'):
        validate_spec({"x": "text"}, available)


def test_options_defaults_and_parsing():
    defaults = {key: option.default for key, option in OPTIONS.items()}
    assert validate_options(None) == defaults
    assert validate_options({}) == defaults
    assert validate_options({"default_region": None})["default_region"] == "US"
    assert validate_options({"default_region": " gb "})["default_region"] == "GB"
    assert validate_options({"default_region": "uk"})["default_region"] == "GB"  # common alias
    assert validate_options({"default_region": "DE"})["default_region"] == "DE"
    assert defaults["default_region"] == "US" and defaults["dayfirst"] is False


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"region": "GB"},
            f'Unknown option "region". Known options: {", ".join(sorted(OPTIONS))}.',
        ),
        (
            {"default_region": "XX"},
            'Unknown default_region "XX": use an ISO 3166 alpha-2 code '
            'such as "US", "GB", "DE" or "IN".',
        ),
        ({"default_region": 44}, 'default_region must be a string such as "US", got 44.'),
        (
            ["default_region"],
            'options must be a mapping such as {"default_region": "GB"}; got list.',
        ),
    ],
)
def test_option_errors(options, message):
    with pytest.raises(SpecError) as caught:
        validate_options(options)
    assert caught.value.message == message


def _fragile(values, options):
    """A real (if buggy) field implementation: chokes on one value, returns the rest."""
    if "boom" in values:
        raise RuntimeError("library bug")
    return [FieldResult(value.upper(), (value,), None) for value in values]


def test_a_value_that_crashes_its_library_costs_only_itself(caplog):
    field = FieldType("fragile", ("raw",), {}, {}, _fragile)
    results = field.normalize(["a", "boom", "", "b"], {})
    assert results == [
        FieldResult("A", ("a",), None),
        FieldResult(None, ("",), "unexpected_error"),
        FieldResult("", ("",), None),
        FieldResult("B", ("b",), None),
    ]
    assert "fragile normalizer failed" in caplog.text


def test_a_field_returning_too_few_results_is_caught():
    field = FieldType("short", (), {}, {}, lambda values, options: [FieldResult("x", (), None)])
    assert field.normalize(["a", "b"], {}) == [FieldResult("x", (), None)] * 2
