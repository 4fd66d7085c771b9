"""Combinations in a column spec: validation, and the engine building the combined value."""

from __future__ import annotations

import pandas as pd
import pytest

from nbjobs.exceptions import SpecError
from nbjobs.normalization import Normalizer, normalize_chunk, output_columns, validate_spec
from nbjobs.normalization.combine import join_parts

NAME = {"type": "name", "from": ["First", "Middle", "Last"]}
PHONE = {"type": "phone", "from": ["Area", "Number", "Ext"]}


def people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "First": ["ann", "Bob", None, ""],
            "Middle": ["", "j.", None, ""],
            "Last": ["lee", "SMITH", "Ray", ""],
            "Area": [415.0, None, 212.0, None],
            "Number": ["555 2671", "(415) 555-2672", "555-7788", ""],
            "Ext": ["12", "", None, ""],
            "Email": ["A@Example.com", "b@example.com", "nope", ""],
        }
    )


@pytest.mark.parametrize(
    ("kind", "parts", "expected"),
    [
        ("name", ["Ann", "", "Lee"], "Ann Lee"),
        ("name", ["", "", ""], ""),
        ("address", ["12", "Main St", "Apt 4"], "12 Main St Apt 4"),
        ("phone", ["415", "5552671", "12"], "415 5552671 ext. 12"),
        ("phone", ["415", "5552671", ""], "415 5552671"),
        ("phone", ["", "5552671", "12"], "5552671 ext. 12"),  # no area code on this row
        ("phone", ["4155552671", "7"], "4155552671 ext. 7"),  # number + extension
        ("phone", ["1", "415", "5552671"], "1 415 5552671"),  # country + area + number
    ],
)
def test_join_parts(kind, parts, expected):
    assert join_parts(kind, parts) == expected


def test_engine_builds_and_normalizes_combined_columns():
    spec = {"Name": NAME, "Phone": PHONE, "Email": "email"}
    result = normalize_chunk(people(), spec)
    frame = result.frame
    assert list(frame["Name"]) == ["ann lee", "Bob j. SMITH", "Ray", ""]
    assert list(frame["Name_normalized"]) == ["Ann Lee", "Bob J. Smith", "Ray", ""]
    assert list(frame["Name_last"])[:2] == ["Lee", "Smith"]
    # Area 415.0 arrives as a float: written as 415; an empty extension is left out.
    assert list(frame["Phone"]) == ["415 555 2671 ext. 12", "(415) 555-2672", "212 555-7788", ""]
    assert list(frame["Phone_normalized"])[:3] == ["+14155552671", "+14155552672", "+12125557788"]
    assert list(frame["Phone_extension"])[:2] == ["12", ""]
    assert list(frame["_valid"]) == [True, True, False, True]
    assert "Email:" in frame["_errors"][2] and "Name:" not in frame["_errors"][2]
    # The input columns first, then the combined ones in spec order, then the generated ones.
    assert list(frame.columns) == output_columns(list(people().columns), spec)
    assert list(frame.columns)[:9] == [*people().columns, "Name", "Phone"]
    assert (result.valid, result.invalid) == (3, 1)


def test_combination_is_the_same_for_any_chunking():
    spec = {"Name": NAME, "Phone": PHONE}
    whole = normalize_chunk(people(), spec).frame
    normalizer = Normalizer(spec)
    parts = [normalizer.normalize_chunk(people().iloc[i : i + 1]).frame for i in range(4)]
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)


def test_generated_names_of_a_combination_avoid_input_names():
    frame = people().assign(Name_normalized="x")
    out = normalize_chunk(frame, {"Name": NAME}).frame
    assert list(out["Name_normalized"]) == ["x"] * 4
    assert out["Name_normalized_1"][0] == "Ann Lee"


def test_validate_spec_keeps_a_combination_canonical():
    spec = validate_spec({"Name": {"type": " Name", "from": ["First", "Last"]}, "Email": "EMAIL"})
    assert spec == {"Name": {"type": "name", "from": ["First", "Last"]}, "Email": "email"}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"type": "nom", "from": ["First"]}, 'Unknown field type "nom" for column "Name"'),
        ({"type": "name", "from": []}, '"from" of column "Name" is empty'),
        ({"type": "name", "from": "First"}, '"from" of column "Name" must be a list'),
        ({"type": "name", "from": ["First", 3]}, "must be a list of column names"),
        ({"type": "name", "from": ["First", "First"]}, "names a column twice"),
        ({"type": "name", "from": ["First"], "sep": "-"}, 'unknown key "sep"'),
        ({"from": ["First"]}, 'no "type" string'),
        (
            {"type": "name", "from": ["First", "Nickname"]},
            'Column "Nickname" (in "from" of "Name")',
        ),
    ],
)
def test_validate_spec_refuses_bad_combinations(entry, message):
    with pytest.raises(SpecError) as error:
        validate_spec({"Name": entry}, ["First", "Last", "Email"])
    assert message in str(error.value)


def test_unknown_type_in_a_combination_lists_the_valid_types():
    with pytest.raises(SpecError, match=r"Valid types: .*address.*phone"):
        validate_spec({"Name": {"type": "nom", "from": ["First"]}})


def test_combination_may_not_reuse_an_input_column_name():
    with pytest.raises(SpecError, match='input already has a column "Last"'):
        validate_spec({"Last": {"type": "name", "from": ["First", "Last"]}}, ["First", "Last"])
    with pytest.raises(SpecError, match='input already has a column "Last"'):
        Normalizer({"Last": NAME}).normalize_chunk(people())
