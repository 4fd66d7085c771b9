"""``text``: free text, tidied. Strips, collapses runs of whitespace to one space, applies Unicode
NFC (so "é" typed as e + combining accent equals the precomposed one). Never invalid, except that,
like every type, a value over 1,000 characters is ``value_too_long``."""

from __future__ import annotations

import unicodedata

from . import FieldResult, Option, OptionsMap, map_values

NAME = "text"
COMPONENTS: tuple[str, ...] = ()
REASONS: dict[str, str] = {}
REPAIRS = {
    "whitespace_collapsed": "Runs of whitespace collapsed to one space.",
    "unicode_normalized": "Unicode normalized to NFC (composed accents).",
}
OPTIONS: dict[str, Option] = {}


def normalize_value(value: str, options: OptionsMap) -> FieldResult:
    composed = unicodedata.normalize("NFC", value)
    collapsed = " ".join(composed.split())
    notes = ("unicode_normalized",) * (composed != value)
    notes += ("whitespace_collapsed",) * (collapsed != composed)
    return FieldResult(collapsed, (), None, notes)


normalize_values = map_values(normalize_value)
