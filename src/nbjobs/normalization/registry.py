"""The field-type registry: which types exist, their reasons and options, and spec validation.

Adding a type is one module in ``fields/``: every public module there is a field type.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import pkgutil
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ..exceptions import SpecError
from . import fields
from .combine import COMBINATION_KEYS
from .fields import (
    MAX_VALUE_LENGTH,
    FieldResult,
    NormalizeMany,
    Option,
    OptionsMap,
)

log = logging.getLogger(__name__)

# Every public module of ``fields`` ("_tables" and the like are helpers).
_MODULES: tuple[ModuleType, ...] = tuple(
    importlib.import_module(f"{fields.__name__}.{module.name}")
    for module in pkgutil.iter_modules(fields.__path__)
    if not module.name.startswith("_")
)

_LOST = "\N{REPLACEMENT CHARACTER}"  # what a byte that is not UTF-8 is read as
# Invisible characters that copy and paste bring along (zero-width space, byte order mark,
# word joiner, direction marks and embeddings): no value means them, and they break every
# parser ("john\u200b@example.com"). Not the zero-width (non-)joiners, which Persian, Indic
# scripts and emoji spell words with, nor the soft hyphen, which is half of the mojibake of
# "í" ("Ã\u00ad") that the name field repairs.
_INVISIBLE = re.compile("[\u200b\ufeff\u2060\u200e\u200f\u202a-\u202e\u2066-\u2069]")

# Codes the registry itself emits, whatever the type.
COMMON_REPAIRS = {
    "invisible_removed": "Invisible characters (zero-width space, byte order mark, direction "
    "marks) removed.",
}
COMMON_REASONS = {
    "value_too_long": f"Longer than {MAX_VALUE_LENGTH:,} characters; not parsed.",
    "not_utf8": (
        "Bytes that are not UTF-8 text, read as \N{REPLACEMENT CHARACTER} (the file is in "
        "another encoding, such as Windows-1252: save it as UTF-8); not parsed."
    ),
    "unexpected_error": "The normalizer failed on this value (a bug in nbjobs; please report it).",
}


@dataclass(frozen=True)
class FieldType:
    name: str
    components: tuple[str, ...]
    reasons: Mapping[str, str]
    options: Mapping[str, Option]
    normalize_values: NormalizeMany
    repairs: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def result(self, value: str | None, reason: str | None = None) -> FieldResult:
        """A result with every component empty: for empty input and for registry-level reasons."""
        return FieldResult(value, ("",) * len(self.components), reason)

    def normalize(self, values: Sequence[str], options: OptionsMap) -> list[FieldResult]:
        """Results for stripped ``values``; never raises, whatever the strings hold.

        Invisible characters (``_INVISIBLE``) are removed first. Empty values are left empty
        (not invalid); over-long ones and ones holding U+FFFD (bytes the reader could not
        decode, or text already lost in an earlier conversion) are rejected unparsed here, once
        for every type, so no field module has to remember to.
        """
        results: list[FieldResult | None] = [None] * len(values)
        todo: list[int] = []
        cleaned: set[int] = set()
        values = list(values)
        for index, value in enumerate(values):
            # isascii() first: ~0.06 µs a value, where the search alone takes ~0.3.
            if not value.isascii() and _INVISIBLE.search(value):
                value = values[index] = _INVISIBLE.sub("", value).strip()
                cleaned.add(index)
            if not value:
                results[index] = self.result("")
            elif len(value) > MAX_VALUE_LENGTH:
                results[index] = self.result(None, "value_too_long")
            elif _LOST in value:
                results[index] = self.result(None, "not_utf8")
            else:
                todo.append(index)
        parsed = self._parse([values[i] for i in todo], options)
        for index, result in zip(todo, parsed, strict=True):
            if index in cleaned and result.reason is None:
                result = result._replace(notes=("invisible_removed", *result.notes))
            results[index] = result
        return results  # type: ignore[return-value]  # every slot is filled above

    def _parse(self, values: list[str], options: OptionsMap) -> list[FieldResult]:
        if not values:
            return []
        try:
            results = self.normalize_values(values, options)
            if len(results) != len(values):
                raise ValueError(f"{len(results)} results for {len(values)} values")
            return results
        except Exception:
            # One bad value must not sink its chunk: retry one by one to isolate it.
            return [self._parse_one(value, options) for value in values]

    def _parse_one(self, value: str, options: OptionsMap) -> FieldResult:
        try:
            return self.normalize_values([value], options)[0]
        except Exception:
            log.exception("%s normalizer failed on a value of %d characters", self.name, len(value))
            return self.result(None, "unexpected_error")


REGISTRY: dict[str, FieldType] = {
    module.NAME: FieldType(
        name=module.NAME,
        components=module.COMPONENTS,
        reasons=module.REASONS,
        options=module.OPTIONS,
        normalize_values=module.normalize_values,
        repairs={**module.REPAIRS, **COMMON_REPAIRS},
    )
    for module in sorted(_MODULES, key=lambda module: module.NAME)
}

FIELD_TYPES: tuple[str, ...] = tuple(REGISTRY)

REASONS: dict[str, str] = {
    **COMMON_REASONS,
    **{code: message for field in REGISTRY.values() for code, message in field.reasons.items()},
}

REPAIRS: dict[str, str] = {
    code: message for field in REGISTRY.values() for code, message in field.repairs.items()
}

OPTIONS: dict[str, Option] = {
    key: option for field in REGISTRY.values() for key, option in field.options.items()
}

_EXAMPLE = '{"Phone": "phone", "Email": "email"}'
_MAX_LISTED_COLUMNS = 20


def _quoted(names: Sequence[Any]) -> str:
    shown = ", ".join(f'"{name}"' for name in names[:_MAX_LISTED_COLUMNS])
    extra = len(names) - _MAX_LISTED_COLUMNS
    return f"{shown} and {extra} more" if extra > 0 else shown


def _canonical_type(kind: str, column: str) -> str:
    canonical = kind.strip().lower()
    if canonical not in REGISTRY:
        raise SpecError(
            f'Unknown field type "{kind}" for column "{column}". '
            f"Valid types: {', '.join(FIELD_TYPES)}."
        )
    return canonical


_COMBINATION_EXAMPLE = '{"Name": {"type": "name", "from": ["First", "Last"]}}'


def _combination(column: str, entry: Mapping[Any, Any]) -> dict[str, Any]:
    """A combination entry (see ``combine``), canonical: ``{"type": ..., "from": [...]}``."""
    unknown = [key for key in entry if key not in COMBINATION_KEYS]
    if unknown or not isinstance(entry.get("type"), str):
        what = f'unknown key "{unknown[0]}"' if unknown else 'no "type" string'
        raise SpecError(
            f'Column "{column}" combines columns but has {what}: a combination has exactly '
            f'"type" and "from", e.g. {_COMBINATION_EXAMPLE}.'
        )
    sources = entry.get("from")
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise SpecError(
            f'"from" of column "{column}" must be a list of column names, e.g. '
            f"{_COMBINATION_EXAMPLE}; got {sources!r}."
        )
    if not sources:
        raise SpecError(f'"from" of column "{column}" is empty: name the columns to combine.')
    if len(set(sources)) != len(sources):
        raise SpecError(f'"from" of column "{column}" names a column twice: {sources!r}.')
    return {"type": _canonical_type(entry["type"], column), "from": list(sources)}


def validate_spec(
    columns: Mapping[str, Any], available: Sequence[str] | None = None
) -> dict[str, Any]:
    """The column spec with canonical type names (``"Phone "`` -> ``"phone"``), in spec order.

    An entry is a field type, or a combination ``{"type": "name", "from": ["First", "Last"]}``
    (a new column built from others; see ``combine``), kept as ``{"type", "from"}``.
    Raises SpecError, worded for the person who wrote the spec, when it is not a non-empty mapping
    of strings, names an unknown type, or (given ``available``) a column not in the input; a
    combination also when its keys are not exactly "type" and "from", "from" is not a non-empty
    list of distinct names, or (given ``available``) its name is already an input column.
    """
    if not isinstance(columns, Mapping):
        raise SpecError(
            f"columns must map column names to field types, e.g. {_EXAMPLE}; "
            f"got {type(columns).__name__}."
        )
    if not columns:
        raise SpecError(
            f"No columns to normalize: give at least one, e.g. {_EXAMPLE}. "
            f"Field types: {', '.join(FIELD_TYPES)}."
        )
    spec: dict[str, Any] = {}
    for column, kind in columns.items():
        if isinstance(column, str) and isinstance(kind, Mapping):
            spec[column] = _combination(column, kind)
            continue
        if not isinstance(column, str) or not isinstance(kind, str):
            raise SpecError(
                f"Column names and field types must be strings, e.g. {_EXAMPLE}; "
                f"got {column!r}: {kind!r}."
            )
        spec[column] = _canonical_type(kind, column)
    if available is not None:
        present = set(available)
        for column, entry in spec.items():
            combined = not isinstance(entry, str)
            if combined and column in present:
                raise SpecError(
                    f'Column "{column}" combines other columns but the input already has a '
                    f'column "{column}": give the combination another name.'
                )
            for needed in entry["from"] if combined else [column]:
                if needed not in present:
                    where = f' (in "from" of "{column}")' if combined else ""
                    raise SpecError(
                        f'Column "{needed}"{where} is not in the input. '
                        f"Columns: {_quoted(list(available))}."
                    )
    return spec


def validate_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every known option, parsed, with defaults filled in (so a job records what it ran with)."""
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise SpecError(
            f'options must be a mapping such as {{"default_region": "GB"}}; '
            f"got {type(options).__name__}."
        )
    unknown = [key for key in options if key not in OPTIONS]
    if unknown:
        raise SpecError(
            f'Unknown option "{unknown[0]}". Known options: {", ".join(sorted(OPTIONS))}.'
        )
    parsed: dict[str, Any] = {}
    for key, option in OPTIONS.items():
        if options.get(key) is None:  # absent or JSON null: the default
            parsed[key] = option.default
            continue
        try:
            parsed[key] = option.parse(options[key])
        except ValueError as error:
            raise SpecError(str(error)) from None
    return parsed
