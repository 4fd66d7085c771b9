"""The engine on whole DataFrames: columns, validity, input preservation, chunk independence."""

from __future__ import annotations

import re
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbjobs.exceptions import SpecError
from nbjobs.normalization import Normalizer, normalize_chunk, output_columns
from nbjobs.normalization.engine import _WHITESPACE, _distinct

SPEC = {"Full Name": "name", "Phone": "phone", "Email": "email"}
NAME_PARTS = ["prefix", "first", "middle", "last", "suffix", "nickname"]
PHONE_PARTS = ["e164", "national", "international", "region", "line_type", "extension"]


def people() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "Full Name": ["jOHN o'brien", "R2D2", "", "  ", None, "mary smith"],
            "Phone": ["(415) 555-2671", "123", "", "+44 20 7946 0958", None, "nope"],
            "Email": ["A@EXAMPLE.COM", "x@example.com", "", "bad", None, " m@Example.com "],
        }
    )


def test_output_columns_exact_order():
    assert output_columns(
        ["id", "Full Name", "Phone", "Email"], {"Phone": "phone", "Full Name": "name"}
    ) == [
        "id",
        "Full Name",
        "Phone",
        "Email",
        "Phone_normalized",
        *(f"Phone_{p}" for p in PHONE_PARTS),
        "Full Name_normalized",
        *(f"Full Name_{p}" for p in NAME_PARTS),
        "_valid",
        "_errors",
        "_repairs",
    ]


def test_frame_has_exactly_the_announced_columns():
    df = people()
    result = normalize_chunk(df, SPEC)
    assert list(result.frame.columns) == output_columns(list(df.columns), SPEC)
    assert result.frame["_valid"].dtype == bool
    generated = [*result.frame.columns[len(df.columns) : -3], "_errors", "_repairs"]
    assert all(pd.api.types.is_string_dtype(result.frame[c]) for c in generated)


def test_generated_names_never_overwrite_input_columns():
    df = pd.DataFrame(
        {
            "Phone": ["(415) 555-2671"],
            "Phone_normalized": ["keep me"],
            "Phone_normalized_1": ["me too"],
            "_valid": ["input's own"],
            "Email": ["a@b.co"],
        }
    )
    spec = {"Phone": "phone", "Email": "email"}
    header = output_columns(list(df.columns), spec)
    assert header[5:] == [
        "Phone_normalized_2",
        *(f"Phone_{p}" for p in PHONE_PARTS),
        "Email_normalized",
        "Email_local",
        "Email_domain",
        "Email_ascii_domain",
        "_valid_1",
        "_errors",
        "_repairs",
    ]
    assert len(set(header)) == len(header)
    frame = normalize_chunk(df, spec).frame
    assert list(frame.columns) == header
    assert frame["Phone_normalized"][0] == "keep me" and frame["_valid"][0] == "input's own"
    assert frame["Phone_normalized_2"][0] == "+14155552671" and frame["_valid_1"][0]


def test_valid_and_errors():
    result = normalize_chunk(people(), SPEC)
    frame = result.frame
    assert frame["_valid"].tolist() == [True, False, True, False, True, False]
    assert frame["_errors"].tolist() == [
        "",
        "Full Name:name_has_digits; Phone:phone_invalid",
        "",  # empty strings: nothing to normalize, nothing wrong
        "Email:email_invalid",  # whitespace-only name is empty too
        "",  # missing values likewise
        "Phone:phone_unparseable",
    ]
    assert (result.valid, result.invalid) == (3, 3)
    assert frame["Full Name_normalized"].tolist() == ["John O'Brien", "", "", "", "", "Mary Smith"]
    assert frame["Phone_normalized"].tolist() == ["+14155552671", "", "", "+442079460958", "", ""]
    assert frame["Phone_region"].tolist() == ["US", "", "", "GB", "", ""]
    assert frame["Email_normalized"].tolist() == [
        "A@example.com",
        "x@example.com",
        "",
        "",
        "",
        "m@example.com",
    ]
    assert frame["Email_domain"][5] == "example.com"


def test_options_reach_the_fields():
    df = pd.DataFrame({"Phone": ["020 7946 0958", "(415) 555-2671"]})
    us = normalize_chunk(df, {"Phone": "phone"})
    gb = normalize_chunk(df, {"Phone": "phone"}, {"default_region": "gb"})
    assert us.frame["_valid"].tolist() == [False, True]
    assert gb.frame["Phone_normalized"].tolist() == ["+442079460958", ""]


def test_input_columns_come_back_unchanged():
    df = pd.DataFrame(
        {
            "i": [1, 2, 3],
            "f": [1.5, np.nan, 3.0],
            "nullable": pd.array([7, None, 9], dtype="Int64"),
            "b": [True, False, True],
            "when": pd.to_datetime(["2024-01-01", None, "2024-03-01"], utc=True),
            "cat": pd.Categorical(["x", None, "x"]),
            "obj": [1, None, "  Mixed  "],
            "Phone": [4155552671.0, np.nan, 2127365000.0],
        },
        index=[10, 20, 30],
    )
    frame = normalize_chunk(
        df, {c: "text" for c in df.columns if c != "Phone"} | {"Phone": "phone"}
    )
    original = df.reset_index(drop=True)
    pd.testing.assert_frame_equal(frame.frame[list(df.columns)], original)
    assert frame.frame.index.tolist() == [0, 1, 2]


def test_typed_values_are_read_as_text():
    df = pd.DataFrame(
        {
            "Phone": [4155552671.0, np.nan, 2127365000.0],  # float64 because of the gap
            "PhoneInt": pd.array([4155552671, None, 2127365000], dtype="Int64"),
            "obj": [1, True, pd.NA],  # not merged although 1 == True
            "when": pd.to_datetime(["2024-01-01", None, "2024-03-01"]),
            "f": [1.5, 2.0, np.nan],
        }
    )
    spec = {"Phone": "phone", "PhoneInt": "phone", "obj": "text", "when": "text", "f": "text"}
    frame = normalize_chunk(df, spec).frame
    assert frame["Phone_normalized"].tolist() == ["+14155552671", "", "+12127365000"]
    assert frame["PhoneInt_normalized"].tolist() == ["+14155552671", "", "+12127365000"]
    assert frame["obj_normalized"].tolist() == ["1", "True", ""]
    assert frame["when_normalized"].tolist() == ["2024-01-01 00:00:00", "", "2024-03-01 00:00:00"]
    assert frame["f_normalized"].tolist() == ["1.5", "2", ""]
    assert frame["_valid"].all()


def _mixed_rows(n: int) -> pd.DataFrame:
    """Repeating, messy data: valid, invalid, empty, missing and padded values interleaved."""
    names = ["jOHN o'brien", "R2D2", "", None, "Smith, John", "Ann & Bob", " mcdonald ", "Dr."]
    phones = ["(415) 555-2671", "+44 20 7946 0958", "123", None, "", "x", "415-555-2671 x9"]
    emails = ["A@EXAMPLE.COM", "bad", None, "", "user@XN--BCHER-KVA.DE", " a@example.com"]
    return pd.DataFrame(
        {
            "row": range(n),
            "Full Name": [names[i % len(names)] for i in range(n)],
            "Phone": [phones[(i * 3) % len(phones)] for i in range(n)],
            "Email": [emails[(i * 5) % len(emails)] for i in range(n)],
        },
        index=range(1000, 1000 + n),
    )


@pytest.mark.parametrize(
    ("cache_size", "cache_bytes"), [(100_000, 2**26), (3, 2**26), (0, 2**26), (100_000, 3_000)]
)
def test_same_rows_for_any_chunk_size(cache_size, cache_bytes):
    df = _mixed_rows(150)
    whole = Normalizer(SPEC).normalize_chunk(df)
    for size in (1, 7, 1000):
        normalizer = Normalizer(SPEC, cache_size=cache_size, cache_bytes=cache_bytes)
        parts = [normalizer.normalize_chunk(df.iloc[i : i + size]) for i in range(0, len(df), size)]
        joined = pd.concat([p.frame for p in parts], ignore_index=True)
        pd.testing.assert_frame_equal(joined, whole.frame)
        assert sum(p.valid for p in parts) == whole.valid
        assert sum(p.invalid for p in parts) == whole.invalid
    assert whole.valid + whole.invalid == 150 and 0 < whole.valid < 150


@settings(max_examples=40, deadline=None)
@given(
    cells=st.lists(
        st.sampled_from(["", " ", "a@b.co", "A@B.CO", "(415) 555-2671", "x", "ü@x.de"]), max_size=40
    ),
    size=st.integers(min_value=1, max_value=12),
)
def test_chunking_never_changes_a_row(cells, size):
    df = pd.DataFrame({"E": cells, "P": cells}, dtype=str)
    spec = {"E": "email", "P": "phone"}
    whole = normalize_chunk(df, spec).frame
    normalizer = Normalizer(spec, cache_size=2)
    parts = [
        normalizer.normalize_chunk(df.iloc[i : i + size]).frame for i in range(0, len(df), size)
    ]
    if parts:
        pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)


def test_multi_megabyte_value_is_invalid_not_a_crash():
    huge = "(415) 555-2671 " * 300_000  # 4.5 MB in one cell
    df = pd.DataFrame({"Phone": [huge, "(415) 555-2671"], "Notes": [huge, "ok"]})
    result = normalize_chunk(df, {"Phone": "phone", "Notes": "text"})
    assert result.frame["_errors"].tolist() == ["Phone:value_too_long; Notes:value_too_long", ""]
    assert result.frame["Phone_normalized"].tolist() == ["", "+14155552671"]
    assert result.frame["Phone"][0] == huge  # the input cell itself is kept


def test_bytes_values_that_are_not_utf8_are_invalid_not_a_crash():
    # A DataFrame column of raw bytes (read from a file in binary mode, say).
    df = pd.DataFrame({"Name": ["Jos\xe9 Garc\xeda".encode("cp1252"), "José García".encode()]})
    result = normalize_chunk(df, {"Name": "name"})
    assert result.frame["_errors"].tolist() == ["Name:not_utf8", ""]
    assert result.frame["Name_normalized"].tolist() == ["", "José García"]
    assert (result.valid, result.invalid) == (1, 1)


def test_cache_is_bounded_and_results_stay_right():
    normalizer = Normalizer({"Email": "email"}, cache_size=10)
    df = pd.DataFrame({"Email": [f"user{i}@example.com" for i in range(100)]})
    first = normalizer.normalize_chunk(df)
    store = normalizer._stores["email"]
    assert len(store.index) == 10
    again = normalizer.normalize_chunk(df)
    pd.testing.assert_frame_equal(first.frame, again.frame)
    assert first.frame["Email_normalized"][99] == "user99@example.com"
    # Rows of values that left the index are dropped too (compaction), so memory stays bounded.
    for start in range(100, 10_100, 100):
        chunk = pd.DataFrame({"Email": [f"user{i}@example.com" for i in range(start, start + 100)]})
        assert normalizer.normalize_chunk(chunk).frame["Email_normalized"].tolist() == [
            f"user{i}@example.com" for i in range(start, start + 100)
        ]
    assert len(store.index) == 10
    assert store.size < 5_000  # of the 10,100 values parsed


def test_columns_of_one_type_share_a_cache():
    normalizer = Normalizer({"Home": "phone", "Work": "phone"})
    assert len(normalizer._stores) == 1
    frame = normalizer.normalize_chunk(
        pd.DataFrame({"Home": ["(415) 555-2671"], "Work": ["415.555.2671"]})
    ).frame
    assert frame["Home_normalized"][0] == frame["Work_normalized"][0] == "+14155552671"


def test_empty_chunk():
    df = pd.DataFrame({"Phone": pd.Series([], dtype=str)})
    result = normalize_chunk(df, {"Phone": "phone"})
    assert (result.valid, result.invalid, len(result.frame)) == (0, 0, 0)
    assert list(result.frame.columns) == output_columns(["Phone"], {"Phone": "phone"})


def test_chunk_without_a_spec_column_is_a_spec_error():
    normalizer = Normalizer({"Phone": "phone"})
    message = 'Column "Phone" is not in the input. Columns: "Tel".'
    with pytest.raises(SpecError, match=re.escape(message)):
        normalizer.normalize_chunk(pd.DataFrame({"Tel": ["1"]}))


def test_bad_spec_or_options_fail_at_construction():
    with pytest.raises(SpecError, match="Unknown field type"):
        Normalizer({"Phone": "fone"})
    with pytest.raises(SpecError, match="Unknown option"):
        Normalizer({"Phone": "phone"}, {"region": "GB"})


def test_duplicate_header_types_the_first_column():
    df = pd.DataFrame([["(415) 555-2671", "garbage"]], columns=["Phone", "Phone"])
    frame = normalize_chunk(df, {"Phone": "phone"}).frame
    assert frame["Phone_normalized"].tolist() == ["+14155552671"]
    assert frame.shape[1] == 2 + 1 + len(PHONE_PARTS) + 3


def test_arrow_strings_are_stripped_as_python_strips():
    """A CSV column (Arrow strings) is stripped by Arrow before factorizing: each row gets
    the value Python's strip() gives an object column, whatever the Unicode whitespace."""
    assert "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()) == _WHITESPACE
    values = [f"{c}Ann Lee{c}" for c in _WHITESPACE] + ["Ann Lee", " \u200bAnn", None, "", " "]

    def per_row(series: pd.Series) -> list[str]:
        distinct, codes = _distinct(series)
        return [distinct[code] for code in codes]

    arrow = pd.Series(pd.array(values, dtype="str"))
    assert arrow.dtype.storage == "pyarrow"
    expected = [(v or "").strip() for v in values]
    assert per_row(arrow) == per_row(pd.Series(values, dtype=object)) == expected
    # "Ann Lee" once, "\u200bAnn" (not whitespace), "" (empty or blank), "" (for missing)
    assert len(_distinct(arrow)[0]) == 4
