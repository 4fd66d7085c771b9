"""The baseline nbjobs is compared with: what one writes in a notebook without it.

Read the CSV with pandas, then ``DataFrame.apply(axis=1)`` with a function that calls the same
libraries nbjobs uses (phonenumbers, email-validator, nameparser) on every row, with the same
per-value work as nbjobs' field types: parse, validate, canonical form and components. No
de-duplication, no cache, nothing written to disk, one process. ``naive_normalize_typed`` does
the same for the six typed columns of ``contacts.write_typed_contacts`` (adding ftfy, usaddress,
dateutil and pycountry), for ``bench_million.py``.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import ftfy
import pandas as pd
import phonenumbers
import pycountry
import usaddress
from dateutil import parser as dateutil_parser
from email_validator import EmailNotValidError, validate_email
from nameparser import HumanName

E164 = phonenumbers.PhoneNumberFormat.E164
MULTIPLE_PEOPLE = re.compile(r"&|\+|\band\b", re.IGNORECASE)


def _phone(value: str) -> tuple[str, str, str, str, str] | None:
    try:
        number = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    e164 = phonenumbers.format_number(number, E164)
    code = str(number.country_code)
    region = phonenumbers.region_code_for_number(number) or ""
    return e164, code, e164[1 + len(code) :], number.extension or "", region


def _email(value: str) -> tuple[str, str, str] | None:
    try:
        normalized = validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None
    local, _, domain = normalized.rpartition("@")
    return normalized, local, domain


def _name(value: str) -> tuple[str, ...] | None:
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if any(char.isdigit() for char in text) or MULTIPLE_PEOPLE.search(text):
        return None
    name = HumanName(text)
    name.capitalize(force=True)
    if not any(char.isalpha() for char in name.first + name.middle + name.last):
        return None
    full = " ".join(p for p in (name.first, name.middle, name.last, name.suffix) if p)
    return full, name.title, name.first, name.middle, name.last, name.suffix, name.nickname


def normalize_row(row: pd.Series) -> tuple[object, ...]:
    cells = (row["Full Name"].strip(), row["Phone"].strip(), row["Email"].strip())
    parsers = (_name, _phone, _email)
    widths = (7, 5, 3)
    out: list[object] = []
    valid = True
    for cell, parse, width in zip(cells, parsers, widths, strict=True):
        result = parse(cell) if cell else ("",) * width
        if result is None:
            valid = False
            result = ("",) * width
        out.extend(result)
    out.append(valid)
    return tuple(out)


def naive_normalize(csv_path: Path) -> int:
    """Normalize the benchmark CSV the naive way; returns the number of valid rows."""
    df = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    result = df.apply(normalize_row, axis=1, result_type="expand")
    out = pd.concat([df, result], axis=1)
    return int(out[out.columns[-1]].sum())


# -- six typed columns (bench_million.py) --------------------------------------------------------


def _name_repaired(value: str) -> tuple[str, ...] | None:
    return _name(ftfy.fix_text(value))


def _address(value: str) -> tuple[str, ...] | None:
    try:
        tagged, _kind = usaddress.tag(value)
    except usaddress.RepeatedLabelError:
        return None
    number = tagged.get("AddressNumber", "")
    street = " ".join(
        tagged.get(label, "")
        for label in ("StreetNamePreDirectional", "StreetName", "StreetNamePostType")
    ).strip()
    box = tagged.get("USPSBoxID", "")
    if not (number and street) and not box:
        return None
    city, state, zipcode = (tagged.get(k, "") for k in ("PlaceName", "StateName", "ZipCode"))
    return value.title(), number, street or f"PO Box {box}", city.title(), state.upper(), zipcode


def _date(value: str) -> tuple[str, ...] | None:
    try:
        parsed = dateutil_parser.parse(value)
    except (ValueError, OverflowError):
        return None
    return parsed.date().isoformat(), str(parsed.year), str(parsed.month), str(parsed.day)


def _country(value: str) -> tuple[str, ...] | None:
    try:
        country = pycountry.countries.lookup(value)
    except LookupError:
        return None
    return country.alpha_2, country.alpha_3, country.name


TYPED_PARSERS = (
    ("Full Name", _name_repaired, 7),
    ("Phone", _phone, 5),
    ("Email", _email, 3),
    ("Address", _address, 6),
    ("Birth Date", _date, 4),
    ("Country", _country, 3),
)


def normalize_typed_row(row: pd.Series) -> tuple[object, ...]:
    out: list[object] = []
    valid = True
    for column, parse, width in TYPED_PARSERS:
        cell = row[column].strip()
        result = parse(cell) if cell else ("",) * width
        if result is None:
            valid = False
            result = ("",) * width
        out.extend(result)
    out.append(valid)
    return tuple(out)


def naive_normalize_typed(csv_path: Path, rows: int) -> int:
    """The first ``rows`` rows of the six-column CSV, normalized the naive way; valid rows."""
    df = pd.read_csv(csv_path, dtype=str, keep_default_na=False, nrows=rows)
    result = df.apply(normalize_typed_row, axis=1, result_type="expand")
    return int(result[result.columns[-1]].sum())
