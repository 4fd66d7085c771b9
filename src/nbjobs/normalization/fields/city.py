"""``city``: a US city or place name, tidied and cased.

"FT. WORTH" -> "Fort Worth", "st louis" -> "St. Louis", "mcallen" -> "McAllen", "coeur d'alene"
-> "Coeur d'Alene". Abbreviations are spelled as in ``data/city_words.json``. Casing is repaired
only when the name is all upper or all lower case; mixed case ("DeKalb") is kept as typed.
A state after a comma ("Austin, TX") goes to the ``state`` component as its USPS code, so a
"City, ST" column still yields a clean city; without a comma nothing is split ("Kansas City").
Invalid (``city_invalid``): no letters, or digits (a ZIP code or street address, not a city).
"""

from __future__ import annotations

import re
import unicodedata

from . import SHARED_REPAIRS, FieldResult, Option, OptionsMap, invalid, map_values
from ._tables import load_json
from .state import state_code

NAME = "city"
COMPONENTS = ("state",)
REASONS = {"city_invalid": "Not a city name (no letters, or it contains digits)."}
REPAIRS = {
    "recased": SHARED_REPAIRS["recased"],
    "abbreviation_expanded": 'An abbreviation spelled out ("Ft." -> "Fort").',
    "state_split_off": 'A state after a comma moved to the state component ("Austin, TX").',
}
OPTIONS: dict[str, Option] = {}

_WORDS = load_json("city_words.json")
_ABBREVIATIONS: dict[str, str] = _WORDS["abbreviations"]
_LOWERCASE = frozenset(_WORDS["lowercase"])
_EDGES = " ,;:"  # not ".": it ends "St." and "D.C."
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?\.?")


def _title_word(word: str, first: bool) -> str:
    folded = word.casefold()
    if folded[:1].isdigit():  # ordinals and numbers: "42nd", not "42Nd"
        return folded
    if folded in _LOWERCASE and not first:
        return folded
    if folded.startswith("d'") and not first:  # Coeur d'Alene
        return "d'" + word[2:].capitalize()
    if folded.startswith("mc") and len(folded) > 3:  # McAllen, McKinney
        return "Mc" + word[2:].capitalize()
    head, _, tail = word.partition("'")
    if len(tail) > 1:  # O'Fallon, but "Land's End" keeps its small s
        return f"{head.capitalize()}'{tail.capitalize()}"
    return word.capitalize()


def title_case(text: str) -> str:
    """Place-name Title Case, shared with ``address``: "mcallen" -> "McAllen", "42ND" -> "42nd"."""
    return _WORD.sub(lambda m: _title_word(m[0], m.start() == 0), text)


def _abbreviation(word: str, first: bool) -> str:
    bare = word.rstrip(".").casefold()
    # A lone letter is a direction only in front or with its dot: "N Las Vegas", not "Lake E".
    if bare in _ABBREVIATIONS and (word.endswith(".") or len(bare) > 1 or first):
        return _ABBREVIATIONS[bare]
    return word


def normalize_value(value: str, options: OptionsMap) -> FieldResult:
    text = " ".join(unicodedata.normalize("NFC", value).split()).replace("\u2019", "'")
    text = text.rstrip(_EDGES)  # a leading comma stays: ", TX" is a state without a city
    city, comma, rest = text.rpartition(",")
    state = state_code(rest) if comma else None
    if state is None:
        city = text
    city = city.strip(_EDGES)
    if not any(c.isalpha() for c in city) or any(c.isdigit() for c in city):
        return invalid(COMPONENTS, "city_invalid")
    notes = ["state_split_off"] if state else []
    if city.isupper() or city.islower():
        cased = title_case(city)
        if cased != city:
            notes.append("recased")
        city = cased
    spelled = _WORD.sub(lambda m: _abbreviation(m[0], m.start() == 0), city)
    if spelled != city:
        notes.append("abbreviation_expanded")
    return FieldResult(spelled, (state or "",), None, tuple(notes))


normalize_values = map_values(normalize_value)
