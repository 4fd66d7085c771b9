"""``country``: a country as its ISO 3166-1 alpha-2 code ("Germany" -> "DE").

Known spellings: pycountry's alpha-2 and alpha-3 codes, names, official and common names, plus
``data/country_aliases.json`` for what people type and pycountry lacks ("UK", "Russia",
"Turkey", "USA", "South Korea", "Deutschland"). Matching ignores case, accents, punctuation and a
leading "the"; a name also matches without its bracketed part ("Slovakia (Slovak Republic)",
"Saint Martin" for pycountry's "Saint Martin (French part)") and with "St" for "Saint", and in
the languages pycountry has translations for ("Frankreich", "Estados Unidos"). Numeric codes are
not accepted: in a messy column a bare "840" is more likely noise than the United States.
Components: ``alpha3`` and the ISO short ``name``.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable
from functools import cache
from typing import Any

import ftfy
import pycountry

from . import SHARED_REPAIRS, FieldResult, Option, OptionsMap, invalid, map_values
from ._tables import load_json, lookup_key

NAME = "country"
COMPONENTS = ("alpha3", "name")
REASONS = {"country_unknown": "Not a recognised country name or ISO 3166 code."}
REPAIRS = {
    "alias_resolved": 'A common name pycountry lacks ("UK", "Russia") resolved to its code.',
    "converted_to_code": "A country name or alpha-3 code written as its alpha-2 code.",
    "mojibake_repaired": SHARED_REPAIRS["mojibake_repaired"],
}
OPTIONS: dict[str, Option] = {}


_BRACKETED = re.compile(r"\s*\([^()]*\)")  # "(French part)", "(Slovak Republic)"
# Languages whose country names are known too (pycountry's translations): the languages of
# the EU, the largest others, and those of Faker's locales.
_LANGUAGES = (
    "bg cs da de el es et fi fr ga hr hu it lt lv mt nl pl pt pt_BR ro sk sl sv "
    "ar he hi id ja ko ms nb_NO ru th tr uk vi zh_CN zh_TW "
    "fa ur bn ne ta az hy ka kk uz be sq sr mk bs ca eu gl is fil sw"
)


def _names(country: Any) -> list[str]:
    """pycountry's names of ``country``: its name, and its official and common names if any."""
    names = [getattr(country, a, "") for a in ("name", "official_name", "common_name")]
    return [name for name in names if name]


def _build(aliases: dict[str, str]) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    codes: dict[str, str] = {}
    details: dict[str, tuple[str, str]] = {}
    for country in pycountry.countries:
        details[country.alpha_2] = (country.alpha_3, country.name)
        names = _names(country)
        names += [_BRACKETED.sub("", name) for name in names]
        names += ["St " + name[6:] for name in names if name.startswith("Saint ")]
        for spelling in [country.alpha_2, country.alpha_3, *names]:
            codes.setdefault(lookup_key(spelling), country.alpha_2)
    # Aliases win over pycountry: "US" and "UK" must not depend on the order of the codes above.
    for alias, code in aliases.items():
        codes[lookup_key(alias)] = code
    return codes, details


_ALIASES: dict[str, str] = load_json("country_aliases.json")
_ALIAS_KEYS = frozenset(map(lookup_key, _ALIASES))
_CODES, _DETAILS = _build(_ALIASES)


@cache
def _translated() -> dict[str, str]:
    """Names in other languages, from pycountry's own translations ("Frankreich", "Estados
    Unidos", "ドイツ"), and the head of a name with a comma in any language ("Bolivien" of
    "Bolivien, Plurinationaler Staat"), built on the first value the other spellings miss
    (~0.4 s). A spelling that names two countries is left out ("Korea"), and a head never
    overrides a whole name ("Kongo")."""
    names: dict[str, set[str]] = {}
    heads: dict[str, set[str]] = {}
    translations = [str] + [_translation(language) for language in _LANGUAGES.split()]
    for translate in filter(None, translations):
        for country in pycountry.countries:
            for name in _names(country):
                spelled = translate(name)
                names.setdefault(lookup_key(spelled), set()).add(country.alpha_2)
                head, comma, _ = spelled.partition(",")
                if comma:
                    heads.setdefault(lookup_key(head), set()).add(country.alpha_2)
    found = {key: codes.pop() for key, codes in heads.items() if len(codes) == 1}
    found.update((key, codes.pop()) for key, codes in names.items() if len(codes) == 1)
    return found


def _translation(language: str) -> Callable[[str], str] | None:
    try:
        return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language]).gettext
    except OSError:  # not in this pycountry
        return None


def normalize_value(value: str, options: OptionsMap) -> FieldResult:
    key = lookup_key(value)
    if key not in _CODES and "(" in value:
        key = lookup_key(_BRACKETED.sub("", value)) or key
    if key not in _CODES:
        key = key.removeprefix("the ")
    code = _CODES.get(key) or _translated().get(key)
    if code is None and not value.isascii():  # mojibake: UTF-8 bytes read as Latin-1
        fixed = ftfy.fix_text(value)
        if fixed != value:
            result = normalize_value(fixed, options)
            if result.value is not None:
                return result._replace(notes=("mojibake_repaired", *result.notes))
    if code is None:
        return invalid(COMPONENTS, "country_unknown")
    notes: tuple[str, ...] = ()
    if value != code:
        notes = ("alias_resolved",) if key in _ALIAS_KEYS else ("converted_to_code",)
    return FieldResult(code, _DETAILS[code], None, notes)


normalize_values = map_values(normalize_value)
