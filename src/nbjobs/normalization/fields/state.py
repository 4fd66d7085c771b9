"""``state``: a US state, district, territory or military "state" as its USPS two-letter code.

Accepts the code ("ca", "C.A."), the name ("california", "CALIFORNIA") and the common older or
AP-style abbreviations ("Calif.", "Mass."), from ``data/us_states.json``. The ``name`` component
is the official name. Anything else is ``state_unknown``: a US-only type guesses nothing.
"""

from __future__ import annotations

from . import SHARED_REPAIRS, FieldResult, Option, OptionsMap, invalid, map_values
from ._tables import load_json, lookup_key

NAME = "state"
COMPONENTS = ("name",)
REASONS = {"state_unknown": "Not a US state, territory or USPS state code."}
REPAIRS = {
    "abbreviated": "A state name written as its USPS code.",
    "reformatted": SHARED_REPAIRS["reformatted"],
}
OPTIONS: dict[str, Option] = {}

_NAMES: dict[str, str] = {}  # code -> official name
_CODES: dict[str, str] = {}  # lookup key -> code
for _code, _spellings in load_json("us_states.json").items():
    _NAMES[_code] = _spellings[0]
    for _spelling in (_code, *_spellings):
        _CODES[lookup_key(_spelling)] = _code


def state_code(text: str) -> str | None:
    """The USPS code for ``text``, or None; shared with ``address`` and ``city``."""
    return _CODES.get(lookup_key(text))


def normalize_value(value: str, options: OptionsMap) -> FieldResult:
    code = state_code(value)
    if code is None:
        return invalid(COMPONENTS, "state_unknown")
    notes: tuple[str, ...] = ()
    if value != code:
        notes = ("reformatted",) if lookup_key(value) == lookup_key(code) else ("abbreviated",)
    return FieldResult(code, (_NAMES[code],), None, notes)


normalize_values = map_values(normalize_value)
