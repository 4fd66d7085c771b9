"""``zip``: a US ZIP code as "12345" or ZIP+4 "12345-6789".

(The module is ``zipcode``: a submodule named ``zip`` would shadow the builtin ``zip()`` in the
``fields`` package and in any module that imports it by name.)

Accepts "12345 6789", "12345-6789" and full-width digits. Spreadsheets store ZIP codes as
numbers and drop their leading zeros, so a bare number gets them back: 3 to 5 digits are a ZIP
("2134" -> "02134", "501" -> "00501"), 7 to 9 digits a ZIP+4 ("21341234" -> "02134-1234"); the
lowest ZIP code, 00501, has two leading zeros, so no shorter number is a ZIP. "00000" is not
one either. With a separator, the first part needs 4 or 5 digits ("2134-1234" -> "02134-1234"):
"555-0199" is a local phone number.
Components: ``zip5`` and ``plus4`` ("" when absent).
"""

from __future__ import annotations

import re
import unicodedata

from . import SHARED_REPAIRS, FieldResult, Option, OptionsMap, invalid, map_values

NAME = "zip"
COMPONENTS = ("zip5", "plus4")
REASONS = {"zip_invalid": "Not a US ZIP code (5 digits, or ZIP+4 as 12345-6789)."}
REPAIRS = {
    "zero_padded": "Leading zeros restored (a ZIP code stored as a number lost them).",
    "reformatted": SHARED_REPAIRS["reformatted"],
}
OPTIONS: dict[str, Option] = {}

# ASCII digits only: the value is NFKC-normalized first, so full-width digits become ASCII.
# With a "+4", at most one lost zero (New England's 0xxxx written from a number, "2134-1234"):
# "555-0199" or "555 2671" is a local phone number, not a ZIP.
_ZIP = re.compile(
    r"(?P<zip5>[0-9]{3,5})|(?P<zip5_sep>[0-9]{4,5})(?:\s*-\s*|\s+)(?P<plus4>[0-9]{4})", re.ASCII
)
_ZIP9 = re.compile(r"[0-9]{7,9}", re.ASCII)


def split_zip(text: str) -> tuple[str, str] | None:
    """(zip5, plus4) for ``text``, or None; shared with ``address``."""
    text = unicodedata.normalize("NFKC", text).strip()
    if _ZIP9.fullmatch(text):
        zip9 = text.zfill(9)
        zip5, plus4 = zip9[:5], zip9[5:]
    elif match := _ZIP.fullmatch(text):
        zip5, plus4 = (match["zip5"] or match["zip5_sep"]).zfill(5), match["plus4"] or ""
    else:
        return None
    return None if zip5 == "00000" else (zip5, plus4)


def normalize_value(value: str, options: OptionsMap) -> FieldResult:
    parts = split_zip(value)
    if parts is None:
        return invalid(COMPONENTS, "zip_invalid")
    zip5, plus4 = parts
    normalized = f"{zip5}-{plus4}" if plus4 else zip5
    notes: tuple[str, ...] = ()
    if normalized != value:
        digits = "".join(c for c in unicodedata.normalize("NFKC", value) if c.isdigit())
        padded = len(digits) < len(zip5 + plus4)
        notes = ("zero_padded",) if padded else ("reformatted",)
    return FieldResult(normalized, parts, None, notes)


normalize_values = map_values(normalize_value)
