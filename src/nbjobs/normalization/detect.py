"""Guess each column's field type from its header and a sample of its values.

Two votes per type: the header (its words against the hint lists in ``data/detect_headers.json``)
and the values (the share of sampled non-empty values that the type's own normalizer accepts, or,
for the types whose normalizer accepts almost anything - name, city, company - the share that
looks like one; for phones, the share written as phone numbers, valid or not). The values weigh
more: a header can lie ("col1", "Unnamed: 3"), a sample rarely does. ``text`` wins when no type
is convincing. Deterministic: the sample is the first distinct values.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import pandas as pd

from .fields.phone import looks_like_number
from .registry import REGISTRY, validate_options

HEADER_WEIGHT = 0.4
VALUE_WEIGHT = 0.6
# A type needs this much of its values to win at all: a header alone cannot make a type.
MIN_VALUE_SHARE = 0.35
# Below this combined score the column is text.
MIN_SCORE = 0.38
_TEXT_BASELINE = 0.45
# Types whose normalizer accepts nearly any string, so their value score comes from shape.
_SHAPE_TYPES = ("name", "city", "company")
# Types that values of another kind often fit by shape alone (detect_column).
_WEAK_TYPES = ("zip", *_SHAPE_TYPES)


@dataclass(frozen=True)
class Detection:
    type: str
    confidence: float
    reason: str


@lru_cache(maxsize=1)
def _data() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    folder = resources.files(__package__) / "data"
    headers = json.loads((folder / "detect_headers.json").read_text(encoding="utf-8"))
    values = json.loads((folder / "detect_values.json").read_text(encoding="utf-8"))
    headers.pop("_comment", None)
    values.pop("_comment", None)
    return headers, values


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def _header_words(header: str) -> str:
    header = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(header))  # camelCase -> camel Case
    return " ".join(re.findall(r"[a-z0-9]+", _fold(header).replace("e-mail", "email")))


def header_scores(header: Any) -> dict[str, float]:
    """1.0 when the whole header is a hint, less when a hint is only part of it.

    A hint at the end of the header counts more than one before it, as in English the last
    word names the thing ("Company Address" is an address, "Email Domain" is not an email).
    """
    words = _header_words(header)
    scores: dict[str, float] = {}
    if not words:
        return scores
    padded = f" {words} "
    for kind, hints in _data()[0].items():
        best = 0.0
        for hint in hints:
            if words == hint:
                best = 1.0
                break
            if padded.endswith(f" {hint} "):
                best = max(best, 0.8 + 0.1 * min(len(hint) / len(words), 1.0))
            elif f" {hint} " in padded:
                best = max(best, 0.55)
        if best:
            scores[kind] = best
    return scores


_PHONE_FORMAT = re.compile(r"[\s().+\-]")
_DIGITS = re.compile(r"^\d+$")
_WORD = re.compile(r"^[^\W\d_](?:[^\W\d_]|[.'\u2019-])*$")  # letters, no digits


def _capital(char: str) -> bool:
    """A capital, or a letter of a script without case ("山田 太郎", "محمد"): a proper noun's
    first letter either way."""
    return char.isupper() or (char.isalpha() and char.lower() == char.upper())


def _accepted(kind: str, values: Sequence[str], options: Mapping[str, Any]) -> list[bool]:
    return [r.reason is None and bool(r.value) for r in REGISTRY[kind].normalize(values, options)]


def _share(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def value_scores(
    values: Sequence[str], options: Mapping[str, Any], hinted: Collection[str] = ()
) -> dict[str, float]:
    """Per type, the share (0..1) of ``values`` that look like that type, tie-breaks applied.

    ``hinted``: the types the header suggests; among name, city and company, whose values share
    a shape, any proper noun then counts for the hinted one ("Employer": "Apple", "Tesla").
    """
    words_data = _data()[1]
    n = len(values)
    scores: dict[str, float] = {}
    for kind in ("zip", "state", "country"):
        scores[kind] = _share(_accepted(kind, values, options))
    # The slower parsers only see values that could pass (a phone has 5+ digits, a date one).
    digit_counts = [sum(c.isdigit() for c in v) for v in values]
    could_be: dict[str, Callable[[str, int], bool]] = {
        "email": lambda v, d: "@" in v,
        "url": lambda v, d: "." in v,
        "date": lambda v, d: d >= 1,
        "address": lambda v, d: d >= 1,
        "phone": lambda v, d: d >= 5,
    }
    for kind, test in could_be.items():
        maybe = [v for v, d in zip(values, digit_counts, strict=True) if test(v, d)]
        if kind == "phone":  # valid or not: a phone column holds many invalid numbers
            # Under a header naming phones, numbers of any country count (a Portuguese export
            # read with the default region US); without one, only numbers possible there.
            anywhere = "phone" in hinted
            looks = (looks_like_number(v, options, any_region=anywhere) for v in maybe)
            scores[kind] = sum(looks) / n if n else 0.0
        else:
            scores[kind] = sum(_accepted(kind, maybe, options)) / n if n else 0.0

    digits_only = _share([bool(_DIGITS.match(v)) for v in values])
    lengths = {len(v) for v in values if _DIGITS.match(v)}
    # Plain digit strings are ids, amounts or codes unless their shape says otherwise.
    if digits_only > 0.5:
        formatted = _share([bool(_PHONE_FORMAT.search(v)) for v in values])
        if formatted < 0.2:
            scores["phone"] *= 0.5
        zip_shaped = _share([len(v) in (5, 9) for v in values if _DIGITS.match(v)])
        if not lengths <= {3, 4, 5, 9} or zip_shaped < 0.5:
            scores["zip"] *= 0.5
        scores["date"] *= 0.3
    # Emails contain domains; a url column has no "@".
    if scores["email"] > 0.5:
        scores["url"] = 0.0
    # 2-letter codes: many are both a state and a country (CA, DE, IN); the codes that are
    # only one of them decide, so each score keeps only its lead over the other.
    if scores["state"] > 0.3 and scores["country"] > 0.3:
        lead = scores["state"] - scores["country"]
        if lead >= 0:
            scores["country"] = max(scores["country"] - lead - 0.3, 0.0)
        else:
            scores["state"] = max(scores["state"] + lead - 0.3, 0.0)
    # Addresses that parse usually carry a number and a street word; a zip is digits alone.
    scores["address"] *= 1.0 - digits_only

    tokens = [v.replace(",", " ").split() for v in values]
    forms = [r.components[1] for r in REGISTRY["company"].normalize(values, options)]
    company_words = set(words_data["company_words"])
    connectors = set(words_data["company_connectors"])
    companyish = [
        bool(form)
        or any(_fold(t).strip(".&") in company_words for t in toks)
        or "&" in v
        # Partners' names: "Marsh, James and Ward", "Rodrigues Fernandez et Fils".
        or (any(t in connectors for t in toks[1:-1]) and sum(_capital(t[0]) for t in toks) >= 3)
        for v, toks, form in zip(values, tokens, forms, strict=True)
    ]
    wordy = [bool(toks) and all(_WORD.match(t) for t in toks) for toks in tokens]
    particles = set(words_data["name_particles"])
    # Proper nouns are Capitalized (or in capitals); "Paid in full" is a note, not a name.
    # A header naming the type also lets lower-case values count ("john smith" under "Name").
    loose = any(kind in hinted for kind in _SHAPE_TYPES)
    cased = [
        bool(toks)
        and (
            v.isupper()
            or (loose and v.islower())
            or all(_capital(t[0]) or t in particles for t in toks)
        )
        for v, toks in zip(values, tokens, strict=True)
    ]
    states = _accepted("state", values, options)
    countries = _accepted("country", values, options)
    not_proper = set(words_data["not_proper"])
    proper = [
        wordy[i]
        and cased[i]
        and 1 <= len(tokens[i]) <= 5
        and not (states[i] or countries[i] or _fold(values[i]) in not_proper)
        for i in range(n)
    ]
    plain = [p and not c for p, c in zip(proper, companyish, strict=True)]
    place_words = set(words_data["place_words"])
    suffixes = tuple(words_data["place_suffixes"])
    # "Austin, TX": a place, whatever its words.
    tails = [v.rsplit(",", 1)[1].strip() if "," in v else "" for v in values]
    in_state = _accepted("state", tails, options)
    placey = [
        in_state[i]
        or any(_fold(t) in place_words or _fold(t).endswith(suffixes) for t in tokens[i])
        for i in range(n)
    ]
    one_word = _share([len(t) == 1 for t in tokens])
    # Any proper noun may be a name, city or company: that much lets a header decide between
    # them. Beyond it, shape decides: names have 2+ words, cities are short and carry place
    # words, companies carry legal forms or business words.
    fallback = 0.6 * _share(plain)
    fallback_company = 0.6 * _share(proper)
    names = _share([plain[i] and 2 <= len(tokens[i]) <= 5 and not in_state[i] for i in range(n)])
    if one_word > 0.5:
        names *= 0.5
    cities = _share([p and len(t) <= 3 for p, t in zip(plain, tokens, strict=True)])
    cities *= min(1.0, 0.55 + one_word + _share(placey))
    scores["name"] = max(names, fallback if "name" in hinted else 0.0)
    scores["city"] = max(cities, fallback if "city" in hinted else 0.0)
    # A legal form or a business word is rare outside company names: a column where a third
    # of the values carry one is a company column (the rest are often bare surnames).
    company = min(1.0, 1.5 * _share(companyish))
    scores["company"] = max(company, fallback_company if "company" in hinted else 0.0)
    return scores


_PLACEHOLDERS = {"n/a", "na", "null", "none", "nan", "unknown", "tbd", "nil", "#ref!", "#n/a"}


def _is_placeholder(value: str) -> bool:
    """Stand-ins for a missing value: they say nothing about the column's type."""
    return value.lower() in _PLACEHOLDERS or not any(c.isalnum() for c in value)


def _sample(column: pd.Series, sample_size: int) -> list[str]:
    seen: dict[str, None] = {}
    for raw in column.dropna():
        value = str(raw).strip()
        if value and value not in seen and not _is_placeholder(value):
            seen[value] = None
            if len(seen) >= sample_size:
                break
    return list(seen)


def detect_column(header: Any, values: Sequence[str], options: Mapping[str, Any]) -> Detection:
    heads = header_scores(header)
    if not values:
        return Detection("text", 1.0, "no values to look at")
    found = value_scores(values, options, hinted=heads)
    if heads.get("text", 0.0) >= 0.8:
        # A header naming something that is no type ("ID", "Job", "Amount") outweighs values
        # whose shape alone would make a type: any five digits are a ZIP code, any
        # capitalized word a city.
        for kind in _WEAK_TYPES:
            if kind not in heads:
                found[kind] *= 0.5
    # A "Notes" header makes text likelier, but not over values that clearly are something else.
    text_score = (_TEXT_BASELINE + 0.5 * heads.get("text", 0.0)) * (1 - 0.8 * max(found.values()))
    best, best_score = "text", text_score
    for kind, share in found.items():
        if share < MIN_VALUE_SHARE:
            continue
        score = HEADER_WEIGHT * heads.get(kind, 0.0) + VALUE_WEIGHT * share
        if score > best_score:
            best, best_score = kind, score
    if best != "text" and best_score < MIN_SCORE:
        best, best_score = "text", 1 - best_score
    parts = []
    if best in heads:
        parts.append(f'header "{header}"')
    if best == "text":
        top = max(found, key=found.__getitem__)
        near = f" (nearest: {top}, {found[top]:.0%} of sampled values)" if found[top] else ""
        parts.append(f"no type fits{near}")
    else:
        if best in _SHAPE_TYPES:  # scored by shape, not by its normalizer: say so
            parts.append(f"values score {found[best]:.0%} as {best}")
        elif best == "phone":  # valid or not (value_scores)
            parts.append(f"{found[best]:.0%} of sampled values are written as phone numbers")
        else:
            parts.append(f"{found[best]:.0%} of sampled values are valid {best}")
    return Detection(best, round(min(max(best_score, 0.0), 1.0), 3), "; ".join(parts))


def detect_types(
    frame: pd.DataFrame, *, sample_size: int = 200, options: Mapping[str, Any] | None = None
) -> dict[str, Detection]:
    """A Detection for every column of ``frame``, from at most ``sample_size`` distinct values."""
    parsed = validate_options(options)
    # By position: frame[column] would be a frame when two columns share a name.
    return {
        column: detect_column(column, _sample(frame.iloc[:, i], sample_size), parsed)
        for i, column in enumerate(frame.columns)
    }
