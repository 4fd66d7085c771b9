"""``text``: free text, tidied. Strips, collapses runs of whitespace to one space, applies Unicode
NFC (so "é" typed as e + combining accent equals the precomposed one). Never invalid, except that,
like every type, a value over 1,000 characters is ``value_too_long``."""

from __future__ import annotations

import unicodedata

from . import FieldResult, Option, OptionsMap, map_values

NAME = "text"
COMPONENTS: tuple[str, ...] = ()
REASONS: dict[str, str] = {}
OPTIONS: dict[str, Option] = {}


def normalize_value(value: str, options: OptionsMap) -> FieldResult:
    return FieldResult(" ".join(unicodedata.normalize("NFC", value).split()), (), None)


normalize_values = map_values(normalize_value)
