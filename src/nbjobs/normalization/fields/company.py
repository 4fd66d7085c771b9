"""``company``: a company name with its legal form split off and spelled one way.

"ACME HOLDINGS, L.L.C." -> "Acme Holdings LLC", components ``base_name`` "Acme Holdings" and
``legal_form`` "LLC". Legal forms are cleanco's terms (several hundred, many countries), found
at the end of the name; ``data/company_words.json`` says how each is spelled ("limited" -> "Ltd.")
and which terms are too often part of a real name to be stripped ("Amazon UK"). The forms that
Russian, Ukrainian, Belarusian and Kazakh write before the name (OOO, AO, IP in Cyrillic, then
the name in quotes) are split off there too and stay in front in the value; the base name
loses its quotes.

Casing is repaired only when the name is all upper or all lower case: a name typed in mixed
case ("eBay", "DeWalt") is the company's own spelling and is kept. Repaired words take their
spelling from ``data/company_spellings.txt`` (IBM, AT&T, JPMorgan); other words without a
vowel (HSBC, KPMG; Latin letters only) or with a digit are upper-cased, short linking words
lower-cased; Greek capitals are kept, as Greek lower case needs accents the capitals leave out.
A name of up to three capitals ("BAM", "UBS AG") is an acronym and kept, unless its legal form
is typed in capitals it is not spelled with ("FOO GMBH").

Invalid: nothing but a legal form, punctuation or a placeholder ("n/a") -> ``company_empty``.
"""

from __future__ import annotations

import re
import unicodedata

from cleanco import prepare_default_terms
from cleanco.clean import normalized, strip_punct

from . import SHARED_REPAIRS, FieldResult, Option, OptionsMap, invalid, map_values
from ._tables import load_json, load_lines

NAME = "company"
COMPONENTS = ("base_name", "legal_form")
REASONS = {"company_empty": "No company name: only a legal form, punctuation or a placeholder."}
REPAIRS = {
    "recased": SHARED_REPAIRS["recased"],
    "legal_form_standardized": 'Legal form spelled the standard way ("L.L.C." -> "LLC").',
}
OPTIONS: dict[str, Option] = {}

_LISTS = load_json("company_words.json")
_SPELLINGS: dict[str, str] = _LISTS["legal_forms"]
_LEADING: dict[str, str] = _LISTS["leading_legal_forms"]
_TERMS: set[tuple[str, ...]] = {
    tuple(parts)
    for _, parts in prepare_default_terms()
    if " ".join(parts) not in _LISTS["not_legal_forms"]
}
_LONGEST_TERM = max(len(term) for term in _TERMS)
_WORDS = {line.casefold(): line for line in load_lines("company_spellings.txt")}
_PLACEHOLDERS = frozenset(_LISTS["placeholders"])
_LOWER_WORDS = frozenset(_LISTS["lowercase"])
_VOWELS = set("aeiouyäöüáéíóúàèìòùâêîôû")
_SEPARATORS = " ,;:"
_PAIRS = {"(": ")", "[": "]"}
_CLOSING = {closing: opening for opening, closing in _PAIRS.items()}
_EDGE_PUNCTUATION = _SEPARATORS + "".join(_PAIRS) + "".join(_CLOSING)
_AFFIXES = re.compile(r"(\W*)(.*?)(\W*)")  # a word's punctuation before and after it
_QUOTES = {"«": "»", "„": "“", "“": "”", '"': '"', "'": "'"}  # opening -> closing
_APOSTROPHE_PART = re.compile(r"(?<=\w')(\w{2,})")  # O'Reilly, but not McDonald's


def _key(token: str) -> str:
    return strip_punct(normalized(token)).strip(_EDGE_PUNCTUATION)


def _split_legal_form(tokens: list[str]) -> tuple[list[str], list[list[str]]]:
    """(name tokens, legal forms): the longest known form at the end, repeatedly ("Co. Ltd.")."""
    forms: list[list[str]] = []
    keys = [_key(t) for t in tokens]
    while True:
        for size in range(min(_LONGEST_TERM, len(tokens)), 0, -1):
            if tuple(keys[-size:]) in _TERMS:
                forms.insert(0, tokens[-size:])
                del tokens[-size:], keys[-size:]
                break
        else:
            return tokens, forms


def _trim(text: str) -> str:
    """``text`` without separators at its ends, nor brackets there that close nothing or that
    nothing closes: "(Acme Inc.)" and "Acme Inc. (" lose theirs, "Acme Holdings (UK)" keeps its."""
    while True:
        text = text.strip(_SEPARATORS)
        head, tail = text[:1], text[-1:]
        if tail in _PAIRS or head in _PAIRS.values():
            text = text[:-1] if tail in _PAIRS else text[1:]
        elif head in _PAIRS and tail == _PAIRS[head] and _balanced(text[1:-1]):
            text = text[1:-1]
        elif head in _PAIRS and text.count(head) > text.count(_PAIRS[head]):
            text = text[1:]
        elif tail in _CLOSING and text.count(tail) > text.count(_CLOSING[tail]):
            text = text[:-1]
        else:
            return text


def _balanced(text: str) -> bool:
    return all(text.count(opening) == text.count(closing) for opening, closing in _PAIRS.items())


def _leading_form(tokens: list[str]) -> tuple[list[str], list[str]]:
    """(the form written before the name, the rest), as Russian and Ukrainian write them (OOO,
    in Cyrillic, before «Name»); only the forms of ``leading_legal_forms``, never the whole
    value."""
    if len(tokens) > 1 and _key(tokens[0]) in _LEADING:
        return tokens[:1], tokens[1:]
    return [], tokens


def _unquoted(name: str) -> str:
    """A name without the quotes around it, as written after a leading form («Name»)."""
    if len(name) > 2 and _QUOTES.get(name[0]) == name[-1]:
        return name[1:-1].strip()
    return name


def _spell_form(tokens: list[str]) -> str:
    typed = _trim(" ".join(tokens))
    key = " ".join(_key(t) for t in tokens)
    return _SPELLINGS.get(key) or _LEADING.get(key) or typed


def _recase(word: str, first: bool) -> str:
    before, core, after = _AFFIXES.fullmatch(word).groups()  # type: ignore[union-attr]
    return f"{before}{_recase_core(core, first)}{after}" if core else word


def _recase_core(word: str, first: bool) -> str:
    folded = word.casefold()
    if folded in _WORDS:
        return _WORDS[folded]
    letters = [c for c in folded if c.isalpha()]
    scripts = {unicodedata.name(c, "").partition(" ")[0] for c in letters}
    if word.isupper() and "GREEK" in scripts:
        return word  # Greek capitals leave out the accents its lower case needs ("ΑΘΗΝΑ")
    # No vowel: an acronym (HSBC, KPMG). Only in Latin letters: _VOWELS has no others, so
    # "сбербанк" would have become "СБЕРБАНК".
    latin = scripts <= {"LATIN"}
    if any(c.isdigit() for c in word) or (letters and latin and not _VOWELS.intersection(letters)):
        return word.upper()
    if "&" in word and len(word) <= 4:  # "P&G", "AT&T"
        return word.upper()
    if not first and folded in _LOWER_WORDS:
        return folded
    titled = "-".join(part[:1].upper() + part[1:] for part in folded.split("-"))
    return _APOSTROPHE_PART.sub(lambda m: m[1].capitalize(), titled)


def _keep_a_name(forms: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    """When legal forms would take the whole value, a first one typed as a name is the name:
    a capitalized word of three letters or more before another form ("Sas BV", Sas a surname;
    but "Co Ltd", "Co. Ltd.", "SAS BV" are forms only), or a lone word with an accent that no
    abbreviated form has ("Sá", a surname, not "SA")."""
    first = forms[0]
    if len(first) == 1 and first[0].isalpha() and first[0].istitle():
        if len(forms) > 1 and len(first[0]) >= 3:
            return first, forms[1:]
        if len(forms) == 1 and normalized(first[0]) != first[0].casefold():
            return first, []
    return [], forms


def normalize_value(value: str, options: OptionsMap) -> FieldResult:
    text = _trim(unicodedata.normalize("NFC", value).replace(",", ", "))
    leading, rest = _leading_form(text.split())
    tokens, forms = _split_legal_form(rest)
    if not tokens and forms:
        tokens, forms = _keep_a_name(forms)
    base = _trim(" ".join(tokens))
    if not any(c.isalnum() for c in base) or base.casefold() in _PLACEHOLDERS:
        return invalid(COMPONENTS, "company_empty")
    notes = []
    if leading:
        forms.insert(0, leading)
    spelled = [_spell_form(tokens) for tokens in forms]
    form = " ".join(spelled)
    typed_form = " ".join(_trim(" ".join(tokens)) for tokens in forms)
    # Up to three capitals are an acronym ("BAM", "UBS AG"), unless the legal form shows the
    # caps lock was on ("FOO GMBH", whose form is spelled "GmbH").
    shouted = typed_form.isupper() and not form.isupper()
    acronym = len(base) <= 3 and base.isalpha() and base.isupper() and not shouted
    if (base.isupper() and not acronym) or base.islower():
        cased = " ".join(_recase(word, i == 0) for i, word in enumerate(base.split()))
        if cased != base:
            notes.append("recased")
        base = cased
    if form != typed_form:
        notes.append("legal_form_standardized")
    if leading:  # the form stays in front in the value, as written; the name without quotes
        value_text = " ".join([spelled[0], base, *spelled[1:]])
        return FieldResult(value_text, (_unquoted(base), form), None, tuple(notes))
    return FieldResult(f"{base} {form}" if form else base, (base, form), None, tuple(notes))


normalize_values = map_values(normalize_value)
