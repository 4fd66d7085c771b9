"""``date``: ISO 8601 dates; ``dayfirst``; partial dates are never completed from today."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nbjobs.exceptions import SpecError
from nbjobs.normalization import FieldResult, validate_options
from nbjobs.normalization.fields import date
from nbjobs.normalization.fields._tables import load_json, lookup_key

from ._field_helpers import assert_idempotent, direct, invalid, normalize, texts

# (input, month first, day first)
VALID = [
    ("2024-03-05", "2024-03-05", "2024-03-05"),  # year first: never swapped (dateutil would)
    ("2024/3/5", "2024-03-05", "2024-03-05"),
    ("2024.03.05", "2024-03-05", "2024-03-05"),
    ("20240305", "2024-03-05", "2024-03-05"),
    ("2024-03-05T23:30:00-05:00", "2024-03-05", "2024-03-05"),  # the date written, no zone shift
    ("2024-03-05 10:00:00.123Z", "2024-03-05", "2024-03-05"),
    ("03/05/2024", "2024-03-05", "2024-05-03"),
    ("3/5/24", "2024-03-05", "2024-05-03"),
    ("05.03.1969", "1969-03-05", "1969-03-05"),  # dots: day first, as written where used
    ("12.11.81", "1981-11-12", "1981-11-12"),
    ("12.25.2023", "2023-12-25", "2023-12-25"),  # only one reading is a date
    ("5/3/70 10:00 PM", "1970-05-03", "1970-03-05"),
    ("12/31/68", "2068-12-31", "2068-12-31"),  # two-digit years pivot at 69, as strptime
    ("13/05/2024", "2024-05-13", "2024-05-13"),  # only one reading is a date
    ("5 March 2024", "2024-03-05", "2024-03-05"),
    ("Mar 5, 2024", "2024-03-05", "2024-03-05"),
    ("Tuesday, March 5th 2024", "2024-03-05", "2024-03-05"),
    ("3rd of May 2020", "2020-05-03", "2020-05-03"),
    ("May 3rd, 2020 at 5pm", "2020-05-03", "2020-05-03"),
    ("29 Feb 2024", "2024-02-29", "2024-02-29"),
    ("Sept. 9, 2024", "2024-09-09", "2024-09-09"),
    ("31st of Dec 1999", "1999-12-31", "1999-12-31"),
    # Month names in other languages, as European exports write them.
    ("5. März 2024", "2024-03-05", "2024-03-05"),
    ("1er mars 2024", "2024-03-01", "2024-03-01"),
    ("15 janv. 1999", "1999-01-15", "1999-01-15"),
    ("5 de marzo de 2024", "2024-03-05", "2024-03-05"),
    ("5 de março de 2024", "2024-03-05", "2024-03-05"),
    ("5 maggio 2024", "2024-05-05", "2024-05-05"),
    ("5 maart 2024", "2024-03-05", "2024-03-05"),
    ("5 FEVRIER 2024", "2024-02-05", "2024-02-05"),  # accents may be missing
    # ISO 8601's week and ordinal dates.
    ("2024-W10-2", "2024-03-05", "2024-03-05"),
    ("2024w102", "2024-03-05", "2024-03-05"),
    ("2020-W53-7T08:00Z", "2021-01-03", "2021-01-03"),  # week 53 of 2020 ends in 2021
    ("2024-065", "2024-03-05", "2024-03-05"),
    ("2024-366", "2024-12-31", "2024-12-31"),  # a leap year
]
INVALID = [
    ("March 2024", "date_partial"),
    ("12/05", "date_partial"),
    ("2024", "date_partial"),
    ("Jan", "date_partial"),
    ("March 5th", "date_partial"),
    ("5pm", "date_invalid"),
    ("10:30", "date_invalid"),
    ("45000", "date_invalid"),  # a spreadsheet serial, or anything
    ("1 2 3", "date_invalid"),
    ("2024-02-30", "date_invalid"),
    ("29 Feb 2023", "date_invalid"),
    ("13/13/2024", "date_invalid"),
    ("20241305", "date_invalid"),
    ("tomorrow", "date_invalid"),
    ("hello", "date_invalid"),
    ("0", "date_invalid"),
    ("5 Foo 2024", "date_invalid"),  # no month's name
    ("5 Maerz 2024", "date_invalid"),  # transliterations are not in the lists
    ("2024-W10", "date_partial"),  # a week without its day
    ("2024-W53-1", "date_invalid"),  # 2024 has 52 weeks
    ("2024-W00-1", "date_invalid"),
    ("2023-366", "date_invalid"),
    ("2024-000", "date_invalid"),
    ("0000-001", "date_invalid"),
]


def _iso(value: str) -> FieldResult:
    return FieldResult(value, (value[:4], value[5:7], value[8:]), None)


@pytest.mark.parametrize(("raw", "month_first", "day_first"), VALID)
def test_valid(raw, month_first, day_first):
    assert normalize(date, raw) == _iso(month_first)
    assert normalize(date, raw, dayfirst=True) == _iso(day_first)


@pytest.mark.parametrize(("raw", "reason"), INVALID)
@pytest.mark.parametrize("dayfirst", [False, True])
def test_invalid(raw, reason, dayfirst):
    assert normalize(date, raw, dayfirst=dayfirst) == invalid(date, reason)


@pytest.mark.parametrize("raw", [v for v, _, _ in VALID])
@pytest.mark.parametrize("dayfirst", [False, True])
def test_idempotent(raw, dayfirst):
    assert_idempotent(date, raw, dayfirst=dayfirst)


def test_every_month_spelling_names_one_month():
    # An abbreviation two languages share ("mar", "mai", "ago") must name the same month.
    months = load_json("date_months.json")
    seen: dict[str, int] = {}
    for language, spellings in months.items():
        assert len(spellings) == 12, language
        for number, names in enumerate(spellings, start=1):
            for name in names:
                assert seen.setdefault(lookup_key(name), number) == number, (language, name)


def test_dayfirst_option_parsing():
    assert validate_options({})["dayfirst"] is False
    assert validate_options({"dayfirst": True})["dayfirst"] is True
    with pytest.raises(SpecError, match="dayfirst must be true or false"):
        validate_options({"dayfirst": "false"})


@given(texts("0123456789/-.: TZapmMarchJun,", max_size=30), st.booleans())
def test_never_raises_and_is_idempotent(value, dayfirst):
    direct(date, value, dayfirst=dayfirst)
    assert_idempotent(date, value, dayfirst=dayfirst)
