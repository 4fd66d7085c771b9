"""Per-column counts and the ``_repairs`` column, hand-checked; chunk summaries add up to the
summary of the whole table, whatever the split and the merge order."""

from __future__ import annotations

import functools
import itertools
import operator

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbjobs.normalization import (
    ColumnStats,
    Normalizer,
    Summary,
    normalize_chunk,
    status_columns,
)

SPEC = {"Name": "name", "Phone": "phone"}


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Name": [
                "Dr. Jane Roe, MD",  # changed: title and credential removed
                "Jane Roe",  # unchanged
                None,  # null
                "John & Jane Smith",  # invalid
                "  Dr. Jane Roe, MD ",  # changed (same value once stripped)
                "",  # null
            ],
            "Phone": [
                "4l5 555 2671",  # changed: typo repaired
                "+14155552671",  # unchanged
                "",  # null
                "12",  # invalid
                "415 555 2671 x12",  # changed: extension kept
                float("nan"),  # null
            ],
        }
    )


def test_counts_and_repairs_hand_checked():
    result = normalize_chunk(frame(), SPEC)
    assert result.frame["_repairs"].tolist() == [
        "Name:credential_removed,title_removed; Phone:letter_typo_repaired",
        "",
        "",
        "",  # invalid values carry no repairs
        "Name:credential_removed,title_removed; Phone:extension_kept",
        "",
    ]
    name, phone = result.summary.to_json()
    assert name == {
        "column": "Name",
        "type": "name",
        "rows": 6,
        "null": 2,
        "invalid": 1,
        "changed": 2,
        "unchanged": 1,
        "topReasons": [
            {
                "code": "name_multiple_people",
                "message": 'More than one person in one value (joined by "&", "+", "/" or "and").',
                "count": 1,
            }
        ],
        "topRepairs": [
            {
                "code": "credential_removed",
                "message": 'Credentials or post-nominals removed ("MD", "PhD, CFP").',
                "count": 2,
            },
            {
                "code": "title_removed",
                "message": 'A title ("Dr.", "Mr") moved to the prefix component.',
                "count": 2,
            },
        ],
    }
    assert (phone["null"], phone["invalid"], phone["changed"], phone["unchanged"]) == (2, 1, 2, 1)
    assert [r["code"] for r in phone["topReasons"]] == ["phone_invalid"]
    # Equal counts: ordered by code, so the order never depends on the merge order.
    assert [(r["code"], r["count"]) for r in phone["topRepairs"]] == [
        ("extension_kept", 1),
        ("letter_typo_repaired", 1),
    ]


def test_only_the_other_columns_repairs_leave_no_stray_separator():
    result = normalize_chunk(
        pd.DataFrame({"A": ["x"], "P": ["4l5 555 2671"]}), {"A": "text", "P": "phone"}
    )
    assert result.frame["_repairs"].tolist() == ["P:letter_typo_repaired"]


def test_repairs_column_name_collision_and_status_columns():
    df = pd.DataFrame({"Phone": ["4l5 555 2671"], "_repairs": ["mine"], "_errors": ["mine too"]})
    names = status_columns(list(df.columns), {"Phone": "phone"})
    assert names == ("_valid", "_errors_1", "_repairs_1")
    out = normalize_chunk(df, {"Phone": "phone"}).frame
    assert out["_repairs"].tolist() == ["mine"]
    assert out["_repairs_1"].tolist() == ["Phone:letter_typo_repaired"]
    assert list(out.columns[-3:]) == list(names)


def test_top_lists_hold_the_five_most_frequent():
    stats = ColumnStats("P", "phone", invalid=28)
    stats.reasons.update({f"r{i}": i for i in range(1, 8)})  # r1 once ... r7 seven times
    top = stats.to_json()["topReasons"]
    assert [(r["code"], r["count"]) for r in top] == [(f"r{i}", i) for i in (7, 6, 5, 4, 3)]
    assert top[0]["message"] == "r7"  # an undeclared code shows as itself


def test_stats_of_different_columns_do_not_add():
    with pytest.raises(ValueError, match="Phone"):
        ColumnStats("Name", "name") + ColumnStats("Phone", "phone")


VALUES = st.sampled_from(
    ["Dr. Jane Roe, MD", "jane roe", "", "  ", "John & Jane", "Smith, John", None, "Ann Lee"]
)
PHONES = st.sampled_from(["4l5 555 2671", "+14155552671", "12", "", "415 555 2671 x1", None])


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(st.tuples(VALUES, PHONES), min_size=1, max_size=30),
    cuts=st.lists(st.integers(min_value=0, max_value=30), max_size=4),
    reverse=st.booleans(),
)
def test_chunk_summaries_add_up_to_the_whole(rows, cuts, reverse):
    df = pd.DataFrame(rows, columns=["Name", "Phone"])
    whole = normalize_chunk(df, SPEC).summary
    bounds = sorted({0, len(df), *(c for c in cuts if c < len(df))})
    normalizer = Normalizer(SPEC)  # its cache carries over chunks, as in a job
    results = [normalizer.normalize_chunk(df.iloc[a:b]) for a, b in itertools.pairwise(bounds)]
    repairs = [text for result in results for text in result.frame["_repairs"]]
    assert repairs == normalize_chunk(df, SPEC).frame["_repairs"].tolist()
    parts = [result.summary for result in results]
    if reverse:
        parts.reverse()
    merged = functools.reduce(operator.add, parts, Summary())
    assert merged == whole
    assert merged.to_json() == whole.to_json()
    for column in whole.to_json():
        assert column["rows"] == len(df)
