"""The engine: a DataFrame chunk and a column spec in, the normalized chunk and its counts out.

Pure (no I/O) and chunk-size independent: a row's output depends only on that row, so any split
of a table gives the same rows. Each typed column is normalized per *distinct* value, and a
:class:`Normalizer` remembers results across chunks, because real columns repeat values a lot.

Output columns, in order: the input columns unchanged; then for each typed column in spec order
``<col>_normalized`` and ``<col>_<component>`` per component of its type (strings, "" when
invalid, empty or absent); then ``_valid`` (bool: every non-empty typed value normalized) and
``_errors`` (``"Phone:phone_invalid; Email:email_invalid"``, "" when valid). A generated name
that an input column (or an earlier generated column) already uses gets the first free suffix
``_1``, ``_2``, ...: ``Phone_normalized`` in the input makes ours ``Phone_normalized_1``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
import pandas as pd

from .fields import FieldResult, OptionsMap
from .registry import REGISTRY, FieldType, validate_options, validate_spec

VALID_COLUMN = "_valid"
ERRORS_COLUMN = "_errors"
ERROR_SEPARATOR = "; "


@dataclass
class ChunkResult:
    frame: pd.DataFrame
    valid: int
    invalid: int


@dataclass(frozen=True)
class _TypedColumn:
    column: str
    field: FieldType
    outputs: tuple[str, ...]  # <col>_normalized, then one per component


@dataclass(frozen=True)
class _Layout:
    typed: tuple[_TypedColumn, ...]
    valid: str
    errors: str

    def generated(self) -> list[str]:
        return [name for typed in self.typed for name in typed.outputs] + [self.valid, self.errors]


def _layout(input_columns: Sequence[Hashable], spec: Mapping[str, str]) -> _Layout:
    taken = set(input_columns)

    def claim(name: str) -> str:
        candidate, suffix = name, 0
        while candidate in taken:
            suffix += 1
            candidate = f"{name}_{suffix}"
        taken.add(candidate)
        return candidate

    typed = []
    for column, kind in spec.items():
        field = REGISTRY[kind]
        slots = ("normalized", *field.components)
        typed.append(_TypedColumn(column, field, tuple(claim(f"{column}_{s}") for s in slots)))
    return _Layout(tuple(typed), claim(VALID_COLUMN), claim(ERRORS_COLUMN))


def output_columns(input_columns: Sequence[str], columns: Mapping[str, str]) -> list[str]:
    """The exact header of the normalized output for this input header and spec."""
    layout = _layout(list(input_columns), validate_spec(columns))
    return [*input_columns, *layout.generated()]


def _to_str(value: Any) -> str:
    """A cell as the text to normalize; missing values of every flavour become ""."""
    if isinstance(value, str):
        return value
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return ""
        # A column of phone numbers with gaps arrives as float64: 4155552671.0 means 4155552671.
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if pd.api.types.is_scalar(value) and pd.isna(value):
        return ""
    return str(value)


def _distinct(series: pd.Series) -> tuple[list[str], np.ndarray]:
    """Stripped distinct values and, per row, the index of its value; missing -> "" (last)."""
    if series.dtype == object:
        # Stringify first: factorizing raw objects would merge 1, 1.0 and True.
        codes, uniques = pd.factorize(np.array([_to_str(v) for v in series.tolist()], dtype=object))
    else:
        codes, uniques = pd.factorize(series)  # missing -> code -1, i.e. the "" appended below
    # tolist(): iterating an Arrow-backed array element by element is several times slower.
    return [_to_str(value).strip() for value in uniques.tolist()] + [""], codes


class _BoundedCache:
    """Results by value, oldest dropped first beyond ``capacity`` entries."""

    def __init__(self, field: FieldType, options: OptionsMap, capacity: int) -> None:
        self._field = field
        self._options = options
        self._capacity = capacity
        self._results: dict[str, FieldResult] = {}

    def lookup(self, values: list[str]) -> list[FieldResult]:
        known = self._results
        missing = list(dict.fromkeys(v for v in values if v not in known))
        fresh = dict(zip(missing, self._field.normalize(missing, self._options), strict=True))
        # Answer before storing: eviction below may drop entries this very call relies on.
        results = [fresh[v] if v in fresh else known[v] for v in values]
        if self._capacity > 0:
            known.update(fresh)
            excess = len(known) - self._capacity
            for key in list(islice(known, max(excess, 0))):
                del known[key]
        return results


def _take(per_distinct: list[str], codes: np.ndarray) -> pd.Series:
    return pd.Series(np.array(per_distinct, dtype=object)[codes], dtype=str)


class Normalizer:
    """Normalizes chunk after chunk of one table.

    ``columns``: ``{column: field type}``, validated here (SpecError when unusable).
    ``options``: job options, validated here; defaults filled in.
    ``cache_size``: distinct values remembered per field type across chunks; default 100,000
    (a bound on memory: about 50 MB for a type with six components when full).
    """

    def __init__(
        self,
        columns: Mapping[str, str],
        options: Mapping[str, Any] | None = None,
        *,
        cache_size: int = 100_000,
    ) -> None:
        self.spec = validate_spec(columns)
        self.options = validate_options(options)
        self._caches = {
            kind: _BoundedCache(REGISTRY[kind], self.options, cache_size)
            for kind in dict.fromkeys(self.spec.values())
        }

    def normalize_chunk(self, df: pd.DataFrame) -> ChunkResult:
        validate_spec(self.spec, list(df.columns))
        layout = _layout(list(df.columns), self.spec)
        frame = df.reset_index(drop=True)
        added: dict[str, pd.Series] = {}
        row_errors: list[np.ndarray] = []
        for typed in layout.typed:
            cells = frame[typed.column]
            if isinstance(cells, pd.DataFrame):  # duplicate header: the first one is typed
                cells = cells.iloc[:, 0]
            values, codes = _distinct(cells)
            results = self._caches[typed.field.name].lookup(values)
            slots = [[r.value or "" for r in results]]
            slots += [[r.components[i] for r in results] for i in range(len(typed.outputs) - 1)]
            for name, slot in zip(typed.outputs, slots, strict=True):
                added[name] = _take(slot, codes)
            errors = [f"{typed.column}:{r.reason}" if r.reason else "" for r in results]
            row_errors.append(np.array(errors, dtype=object)[codes])

        valid = np.ones(len(frame), dtype=bool)
        for errors in row_errors:
            valid &= errors == ""
        joined = np.full(len(frame), "", dtype=object)
        for row in np.flatnonzero(~valid):
            joined[row] = ERROR_SEPARATOR.join(e[row] for e in row_errors if e[row])
        added[layout.valid] = pd.Series(valid, dtype=bool)
        added[layout.errors] = pd.Series(joined, dtype=str)

        out = pd.concat([frame, pd.DataFrame(added, index=frame.index)], axis=1)
        n_valid = int(valid.sum())
        return ChunkResult(frame=out, valid=n_valid, invalid=len(frame) - n_valid)


def normalize_chunk(
    df: pd.DataFrame, columns: Mapping[str, str], options: Mapping[str, Any] | None = None
) -> ChunkResult:
    """One-off normalization of ``df``; use a :class:`Normalizer` for a stream of chunks."""
    return Normalizer(columns, options).normalize_chunk(df)
