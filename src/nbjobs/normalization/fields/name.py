"""``name``: a person's name, parsed by nameparser and properly cased.

Casing is nameparser's ``capitalize(force=True)``: "jOHN o'brien" -> "John O'Brien",
"mcdonald" -> "McDonald", "mary-jane van der berg" -> "Mary-Jane van der Berg" (force=True also
turns "DeVito" into "Devito": mixed case input is not trusted). "Smith, John" -> "John Smith".

The normalized value is ``first middle last suffix``: the person, without title or nickname, so
"Dr. Jane Roe" and "Jane Roe" normalize alike and match when deduplicating; title and nickname
stay available as components.

Invalid: digits anywhere (``name_has_digits``); two people in one value, joined by "&", "+" or
the word "and" (``name_multiple_people``); nothing left once title, suffix and nickname are set
aside, e.g. "Dr." or "---" (``name_empty``). nameparser accepts anything else, so "ACME Corp LLC"
passes as a person: that check belongs to a later, deeper cut.
"""

from __future__ import annotations

import re
import unicodedata

from nameparser import HumanName

from . import FieldResult, Option, OptionsMap, invalid, map_values

NAME = "name"
COMPONENTS = ("title", "first", "middle", "last", "suffix", "nickname")
REASONS = {
    "name_has_digits": "A name cannot contain digits.",
    "name_multiple_people": 'More than one person in one value (joined by "&", "+" or "and").',
    "name_empty": "No first, middle or last name (only a title, suffix, nickname or punctuation).",
}
OPTIONS: dict[str, Option] = {}

_MULTIPLE = re.compile(r"&|\+|\band\b", re.IGNORECASE)


def normalize_value(value: str, options: OptionsMap) -> FieldResult:
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if any(char.isdigit() for char in text):
        return invalid(COMPONENTS, "name_has_digits")
    if _MULTIPLE.search(text):
        return invalid(COMPONENTS, "name_multiple_people")
    name = HumanName(text)
    name.capitalize(force=True)
    parts = (name.title, name.first, name.middle, name.last, name.suffix, name.nickname)
    parts = tuple(" ".join(part.split()) for part in parts)
    _, first, middle, last, suffix, _ = parts
    if not any(char.isalpha() for char in first + middle + last):
        return invalid(COMPONENTS, "name_empty")
    return FieldResult(" ".join(p for p in (first, middle, last, suffix) if p), parts, None)


normalize_values = map_values(normalize_value)
