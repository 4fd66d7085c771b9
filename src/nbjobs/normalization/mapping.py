"""Column mapping: suggest combining fragmented columns (First + Last -> Name) into one.

A suggestion needs both votes:

- **headers**: each header is matched against the part names in ``data/mapping_roles.json``
  ("First Name" is the ``first`` part of a name, "Phone Ext" the ``extension`` of a phone); the
  words before the part name, less generic ones, keep groups apart ("Billing First" and "Shipping
  First" make two names). A header must *be* or *end with* a part name: "First Class" and "Last
  Login" are no parts.
- **values**: each part's sampled values must look like that part (words for names, a number
  starting with a digit for a house number, 1-4 digits for an area code, ...), and the combined
  value of the sampled rows, built as the engine builds it (``combine.join_parts``), must be
  valid for the type's own normalizer in at least ``MIN_VALID_SHARE`` of the non-empty rows
  (a phone: written as a phone number, valid or not, as ``detect`` counts a phone column).

A group needs its required parts (name: first and last; address: house number and street, or a
whole street line such as "Address Line 1"; phone: number and an area code or an extension).
Optional parts whose values do not fit are left out.
City, state and ZIP columns are not folded into an address: each is a field type of its own, and
typing them separately keeps their components. A suggestion's name ("Name", "Billing Name") is
never an existing column's (then "Full Name", "Name 2", ...).
Confidence: 0.6 x the combined values' valid share + 0.2 x the parts' mean shape share + 0.2 x
the header match (1 when a header is a part name, 0.85 when it ends with one). Deterministic:
same frame, same suggestions, in the order of their first source column.

In :func:`detection_report` every column keeps its own detected type, and a column consumed by a
suggestion also says so (``partOf``): accepting a suggestion replaces its sources' standalone
types (``Detected.spec(accept=True)`` on the client drops them), declining keeps them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import pandas as pd

from .combine import join_parts
from .detect import _WORD, _fold, _header_words, _sample, detect_types
from .engine import _to_str
from .fields.phone import looks_like_number
from .registry import FIELD_TYPES, REGISTRY, validate_options

SAMPLE_ROWS = 200
PREVIEW_ROWS = 3
# Share of a part's sampled values that must look like the part.
MIN_PART_SHARE = 0.7
# Share of the combined sample values the type's normalizer must accept.
MIN_VALID_SHARE = 0.6
EXACT_HEADER = 1.0
SUFFIX_HEADER = 0.85
OUTPUT_NAMES = {
    "name": ("Name", "Full Name"),
    "address": ("Address", "Street Address"),
    "phone": ("Phone", "Phone Number"),
}


@dataclass(frozen=True)
class PreviewRow:
    parts: tuple[str, ...]
    combined: str
    normalized: str
    valid: bool


@dataclass(frozen=True)
class Suggestion:
    """Combine ``sources`` (in this order) into a new column ``name`` of field type ``type``."""

    name: str
    type: str
    sources: tuple[str, ...]
    confidence: float
    preview: tuple[PreviewRow, ...]

    def spec_entry(self) -> dict[str, Any]:
        """The entry of a columns spec that applies this suggestion."""
        return {"type": self.type, "from": list(self.sources)}

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "from": list(self.sources),
            "confidence": self.confidence,
            "preview": [
                {
                    "parts": list(r.parts),
                    "combined": r.combined,
                    "normalized": r.normalized,
                    "valid": r.valid,
                }
                for r in self.preview
            ],
        }


@lru_cache(maxsize=1)
def _roles() -> dict[str, Any]:
    folder = resources.files(__package__) / "data"
    roles = json.loads((folder / "mapping_roles.json").read_text(encoding="utf-8"))
    roles.pop("_comment", None)
    return roles


@lru_cache(maxsize=1)
def _word_sets() -> dict[str, frozenset[str]]:
    """Folded, dot-less spellings of honorifics, street types and directions."""
    folder = resources.files(__package__) / "data"
    titles = json.loads((folder / "name_titles.json").read_text(encoding="utf-8"))
    usps = json.loads((folder / "usps_abbreviations.json").read_text(encoding="utf-8"))

    def spellings(table: Mapping[str, Any]) -> frozenset[str]:
        words = set(table)
        for value in table.values():
            words.update(value if isinstance(value, list) else [])
        return frozenset(_plain(w) for w in words)

    return {
        "titles": frozenset(_plain(t) for t in titles["titles"]),
        "street_types": spellings(usps["suffixes"]),
        "directions": spellings(usps["directions"]),
    }


def _plain(word: str) -> str:
    return _fold(word).replace(".", "").strip()


def _header_role(header: str) -> tuple[str, str, str, float] | None:
    """``(type, part, context, score)`` for the best part name this header is or ends with."""
    words = _header_words(header)
    if not words:
        return None
    roles = _roles()
    generic = set(roles["context_words"])
    best: tuple[float, int, str, str, str] | None = None
    for kind in OUTPUT_NAMES:
        for part in roles[kind]["order"]:
            for hint in roles[kind][part]:
                if words == hint:
                    score, context = EXACT_HEADER, ""
                elif words.endswith(f" {hint}"):
                    score = SUFFIX_HEADER
                    before = words[: -len(hint) - 1].split()
                    context = " ".join(w for w in before if w not in generic)
                else:
                    continue
                # The longest matching hint wins, then the better match, then the earlier type.
                key = (score, len(hint), kind, part, context)
                if best is None or key[:2] > best[:2]:
                    best = key
    if best is None:
        return None
    score, _, kind, part, context = best
    return kind, part, context, score


_HOUSE_NUMBER = re.compile(r"^\d+[a-z]?(?:[-/]\d+[a-z]?)?(?: 1/2)?$", re.IGNORECASE)
_PHONE_CHARS = re.compile(r"^[\d\s().+\-/]+$")
_EXTENSION = re.compile(r"^(?:x|ext\.?|extension)?\s*\d{1,6}$", re.IGNORECASE)


def _digits(value: str) -> int:
    return sum(c.isdigit() for c in value)


def _looks_like(part: str, value: str) -> bool:
    """Whether one value has the shape of this part."""
    words = _word_sets()
    tokens = value.replace(",", " ").split()
    if part in ("first", "middle", "last"):
        return 1 <= len(tokens) <= 3 and all(_WORD.match(t) for t in tokens)
    if part == "prefix":
        return all(_plain(t) in words["titles"] for t in tokens)
    if part == "suffix":
        return len(tokens) <= 2 and all(_WORD.match(t) or t.isupper() for t in tokens)
    if part == "house_number":
        return bool(_HOUSE_NUMBER.match(value))
    if part == "street":
        return any(c.isalpha() for c in value) and len(value) <= 60
    if part == "line":  # "123 Main St": a number and words
        return any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
    if part == "street_type":
        return _plain(value) in words["street_types"]
    if part in ("pre_direction", "post_direction"):
        return _plain(value) in words["directions"]
    if part == "unit":
        return len(value) <= 20
    if part == "area":
        return bool(_PHONE_CHARS.match(value)) and 1 <= _digits(value) <= 4
    if part == "number":
        return bool(_PHONE_CHARS.match(value)) and 5 <= _digits(value) <= 15
    if part == "extension":
        return bool(_EXTENSION.match(value))
    return False


def _part_share(part: str, column: pd.Series) -> float:
    values = _sample(column, SAMPLE_ROWS)
    return sum(_looks_like(part, v) for v in values) / len(values) if values else 0.0


def _free_name(kind: str, context: str, taken: set[str]) -> str:
    prefix = f"{context.title()} " if context else ""
    candidates = [prefix + name for name in OUTPUT_NAMES[kind]]
    number = 2
    while all(c in taken for c in candidates):
        candidates = [f"{prefix}{OUTPUT_NAMES[kind][0]} {number}"]
        number += 1
    return next(c for c in candidates if c not in taken)


def _required_met(kind: str, parts: Sequence[str]) -> bool:
    return all(any(p in parts for p in either) for either in _roles()[kind]["required"])


def suggest_combinations(
    frame: pd.DataFrame, *, options: Mapping[str, Any] | None = None
) -> list[Suggestion]:
    """Suggested combinations of ``frame``'s columns, in the order of their first source."""
    parsed = validate_options(options)
    headers = [c for c in frame.columns if isinstance(c, str)]
    unique = [c for c in headers if headers.count(c) == 1]  # a source must be unambiguous
    groups: dict[tuple[str, str], dict[str, tuple[str, float]]] = {}
    for column in unique:
        found = _header_role(column)
        if found is None:
            continue
        kind, part, context, score = found
        groups.setdefault((kind, context), {}).setdefault(part, (column, score))

    taken = {str(c) for c in frame.columns}
    first_source = {c: i for i, c in enumerate(frame.columns) if isinstance(c, str)}
    suggestions = []
    for (kind, context), found_parts in groups.items():
        shares = {part: _part_share(part, frame[col]) for part, (col, _) in found_parts.items()}
        parts = [
            p for p in _roles()[kind]["order"] if p in found_parts and shares[p] >= MIN_PART_SHARE
        ]
        if len(parts) < 2 or not _required_met(kind, parts):
            continue
        sources = tuple(found_parts[p][0] for p in parts)
        rows = _sample_rows(frame, sources)
        if not rows:
            continue
        combined = [join_parts(kind, row) for row in rows]
        results = REGISTRY[kind].normalize(combined, parsed)
        valid = [r.reason is None and bool(r.value) for r in results]
        if kind == "phone":  # valid or not, as detection counts a phone column
            valid_share = sum(looks_like_number(text, parsed) for text in combined) / len(valid)
        else:
            valid_share = sum(valid) / len(valid)
        if valid_share < MIN_VALID_SHARE:
            continue
        header = sum(found_parts[p][1] for p in parts) / len(parts)
        shape = sum(shares[p] for p in parts) / len(parts)
        confidence = round(min(1.0, 0.2 * header + 0.2 * shape + 0.6 * valid_share), 2)
        name = _free_name(kind, context, taken)
        taken.add(name)
        preview = tuple(
            PreviewRow(tuple(row), text, result.value or "", ok)
            for row, text, result, ok in list(zip(rows, combined, results, valid, strict=True))[
                :PREVIEW_ROWS
            ]
        )
        suggestions.append(Suggestion(name, kind, sources, confidence, preview))
    return sorted(suggestions, key=lambda s: min(first_source[c] for c in s.sources))


def _sample_rows(frame: pd.DataFrame, sources: Sequence[str]) -> list[list[str]]:
    """The first ``SAMPLE_ROWS`` rows with any non-empty part, as stripped strings."""
    columns = [[_to_str(v).strip() for v in frame[s].tolist()] for s in sources]
    rows = [list(row) for row in zip(*columns, strict=True) if any(row)]
    return rows[:SAMPLE_ROWS]


def detection_report(
    frame: pd.DataFrame, *, options: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What ``POST nbjobs/api/detect`` answers (less ``inputName``), in input column order.

    ``columns``: ``[{name, type, confidence, reason, partOf}]`` (``partOf``: the suggestion that
    consumes the column, or None); ``suggestions``: :meth:`Suggestion.as_json`; ``fields``: the
    field types.
    """
    detected = detect_types(frame, options=options)
    suggestions = suggest_combinations(frame, options=options)
    part_of = {source: s.name for s in suggestions for source in s.sources}
    return {
        "columns": [
            {
                "name": column,
                "type": found.type,
                "confidence": found.confidence,
                "reason": found.reason,
                "partOf": part_of.get(column),
            }
            for column, found in detected.items()
        ],
        "suggestions": [s.as_json() for s in suggestions],
        "fields": list(FIELD_TYPES),
    }
