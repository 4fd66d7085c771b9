"""``date``: a calendar date as ISO 8601 ``YYYY-MM-DD``; components ``year``, ``month``, ``day``.

Common shapes are read by pattern: year first ("2024-03-05", "2024/3/5", "20240305") is always
year-month-day; otherwise "03/05/2024" is month/day/year, or day/month/year with the job option
``dayfirst`` (either way "13/05/2024" is read as the only date it can be), and "05.03.2024",
with dots, is day first, as it is written wherever dots separate a date; so are "5 March
2024" and "Mar 5, 2024", with month names in English, German, French, Spanish, Italian,
Portuguese or Dutch ("5. März 2024", "1er mars 2024", "5 de marzo de 2024"), and ISO 8601
week and ordinal dates ("2024-W10-2", "2024-065"). Other shapes ("Tuesday, March 5th 2024",
English only) go to dateutil. A time of day or a zone after a date is allowed and ignored: the
date is the one written, not converted to another zone.

Decisions, so results never depend on the day a job runs:

- A partial date ("March 2024", "12/05", a year 1000-2999 alone) is ``date_partial``: never
  completed from today (dateutil would) nor padded with a first day, since a made-up day looks
  as real as a given one.
- A time alone ("5pm") is ``date_invalid``, as are bare numbers ("45000" may be a spreadsheet
  serial, "1 2 3" anything) and impossible days ("2024-02-30").
- Two-digit years pivot at 69 as POSIX strptime does ("68" -> 2068, "69" -> 1969), where
  dateutil would use a window around today.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from dateutil import parser as dateutil_parser

from . import SHARED_REPAIRS, FieldResult, OptionsMap, invalid, map_values
from ._options import flag
from ._tables import load_json, lookup_key

NAME = "date"
COMPONENTS = ("year", "month", "day")
REASONS = {
    "date_invalid": "Not a date (or an impossible one, such as February 30).",
    "date_partial": "An incomplete date (year, month or day missing); not completed by guessing.",
}
REPAIRS = {
    "reformatted": SHARED_REPAIRS["reformatted"],
}

OPTIONS = {
    "dayfirst": flag(
        "dayfirst",
        'Read "03/05/2024" as 3 May (day first) instead of March 5; default false. Dotted dates '
        '("03.05.2024") are day first either way.',
    )
}

# An optional time and zone after a numeric date: "T10:00:00Z", " 10:00 pm", " 23:00-05:00".
_TIME = (
    r"(?:[T ]\s*\d{1,2}(?::\d{2}){0,2}(?:[.,]\d+)?"  # clock
    r"\s*(?:[ap]\.?m\.?)?\s*(?:z|utc|gmt|[+-]\d{2}:?\d{2})?)?"  # am/pm, zone
)
_YEAR_FIRST = re.compile(rf"(\d{{4}})([-/.])(\d{{1,2}})\2(\d{{1,2}}){_TIME}", re.I | re.A)
_YEAR_LAST = re.compile(rf"(\d{{1,2}})([-/.])(\d{{1,2}})\2(\d{{4}}|\d{{2}}){_TIME}", re.I | re.A)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})", re.A)
# ISO 8601's other two calendar forms: week dates ("2024-W10-2", "2024W102"; without the
# weekday a partial date) and ordinal dates ("2024-065", the 65th day of 2024).
_WEEK = re.compile(rf"(\d{{4}})-?W(\d{{2}})(?:-?([1-7]))?{_TIME}", re.I | re.A)
_ORDINAL_DATE = re.compile(rf"(\d{{4}})-(\d{{3}}){_TIME}", re.I | re.A)
# Month names in seven languages (``data/date_months.json``), for the common "5 March 2024",
# "Mar 5, 2024", "5. März 2024", "5 de marzo de 2024" shapes; matched by ``lookup_key`` (case
# and accents ignored). Not calendar.month_name: that follows the process locale.
_MONTHS = {
    lookup_key(spelling): number
    for months in load_json("date_months.json").values()
    for number, spellings in enumerate(months, start=1)
    for spelling in spellings
}
_ORDINAL = r"(\d{1,2})(?:st|nd|rd|th|er)?"  # "5th", "1er" (French)
_MONTH = r"([^\W\d_]+)\.?"  # a word, any script
_DAY_MONTH = re.compile(rf"{_ORDINAL}\.?\s+(?:(?:of|de)\s+)?{_MONTH},?\s+(?:de\s+)?(\d{{4}})", re.I)
_MONTH_DAY = re.compile(rf"{_MONTH}\s+{_ORDINAL},?\s+(\d{{4}})", re.I)
_NUMBERS_ONLY = re.compile(r"[\d\s]+")
_YEAR = re.compile(r"[12]\d{3}", re.A)


def _month(word: str) -> int | None:
    # Most month names are plain ASCII: casefold() is their key, lookup_key() the rest's.
    return _MONTHS.get(word.casefold()) or _MONTHS.get(lookup_key(word))


def _full_year(year: int, digits: int) -> int:
    if digits > 2:
        return year
    return year + (2000 if year < 69 else 1900)


class _ParserInfo(dateutil_parser.parserinfo):
    def convertyear(self, year: int, century_specified: bool = False) -> int:
        return year if century_specified else _full_year(year, len(str(year)))


_INFO = _ParserInfo()
# Two defaults that differ in year, month and day: a field the text did not give takes the
# default, so it differs between the two parses.
_DEFAULTS = (datetime(2001, 1, 1), datetime(2002, 2, 2))


def _iso_week_or_ordinal(value: str) -> tuple[int, int, int] | str | None:
    """(year, month, day) of an ISO week or ordinal date, a reason code, or None for neither."""
    if match := _WEEK.fullmatch(value):
        if match[3] is None:
            return "date_partial"  # a week without its day
        try:
            day = date.fromisocalendar(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:  # week 00, or 53 in a year of 52
            return "date_invalid"
    elif match := _ORDINAL_DATE.fullmatch(value):
        year, number = int(match[1]), int(match[2])
        if not year or not 1 <= number <= date(year, 12, 31).timetuple().tm_yday:
            return "date_invalid"  # no year 0 in the calendar Python counts in
        day = date.fromordinal(date(year, 1, 1).toordinal() + number - 1)
    else:
        return None
    return day.year, day.month, day.day


def _by_pattern(value: str, dayfirst: bool) -> tuple[int, int, int] | None:
    if match := _YEAR_FIRST.fullmatch(value):
        return int(match[1]), int(match[3]), int(match[4])
    if match := _COMPACT.fullmatch(value):
        return int(match[1]), int(match[2]), int(match[3])
    if (match := _DAY_MONTH.fullmatch(value)) and (month := _month(match[2])):
        return int(match[3]), month, int(match[1])
    if (match := _MONTH_DAY.fullmatch(value)) and (month := _month(match[1])):
        return int(match[3]), month, int(match[2])
    if match := _YEAR_LAST.fullmatch(value):
        first, second, year = int(match[1]), int(match[3]), match[4]
        # Dots are written day first wherever they are the separator ("05.03.2024" in Germany,
        # Russia, Poland, Turkey, ...), so they are read day first whatever the option says.
        month, day = (second, first) if dayfirst or match[2] == "." else (first, second)
        if month > 12 >= day:  # "13/05/2024" can only be day first, whatever the option says
            month, day = day, month
        return _full_year(int(year), len(year)), month, day
    return None


def _parse(value: str, default: datetime, dayfirst: bool) -> datetime:
    # ignoretz: the date is taken as written, and unknown zone names would warn otherwise.
    return dateutil_parser.parse(value, _INFO, default=default, dayfirst=dayfirst, ignoretz=True)


def _with_words(value: str, dayfirst: bool) -> tuple[int, int, int] | str:
    """(year, month, day) by dateutil, or the reason code."""
    fields = ("year", "month", "day")
    try:
        first = _parse(value, _DEFAULTS[0], dayfirst)
        # A field the text left out takes the default's value; if none matches the first
        # default, all three were given and the second parse is not needed.
        if any(getattr(first, f) == getattr(_DEFAULTS[0], f) for f in fields):
            second = _parse(value, _DEFAULTS[1], dayfirst)
        else:
            second = first
    except (ValueError, OverflowError):
        return "date_invalid"
    given = [getattr(first, f) == getattr(second, f) for f in fields]
    if not any(given):
        return "date_invalid"  # a time alone, such as "5pm"
    if not all(given):
        return "date_partial"
    return first.year, first.month, first.day


def normalize_value(value: str, options: OptionsMap) -> FieldResult:
    dayfirst = options.get("dayfirst", False)
    if _NUMBERS_ONLY.fullmatch(value) and not _COMPACT.fullmatch(value):
        return invalid(COMPONENTS, "date_partial" if _YEAR.fullmatch(value) else "date_invalid")
    ymd = (
        _by_pattern(value, dayfirst) or _iso_week_or_ordinal(value) or _with_words(value, dayfirst)
    )
    if isinstance(ymd, str):
        return invalid(COMPONENTS, ymd)
    try:
        day = date(*ymd)
    except ValueError:
        return invalid(COMPONENTS, "date_invalid")
    iso = day.isoformat()
    notes = ("reformatted",) if iso != value else ()
    return FieldResult(iso, (iso[:4], iso[5:7], iso[8:10]), None, notes)


normalize_values = map_values(normalize_value)
