"""The engine: a DataFrame chunk and a column spec in, the normalized chunk and its counts out.

Pure (no I/O) and chunk-size independent: a row's output depends only on that row, so any split
of a table gives the same rows. Each typed column is normalized per *distinct* value, and a
:class:`Normalizer` remembers results across chunks, because real columns repeat values a lot.

Output columns, in order: the input columns unchanged; then for each typed column in spec order
``<col>_normalized`` and ``<col>_<component>`` per component of its type (strings, "" when
invalid, empty or absent); then ``_valid`` (bool: every non-empty typed value normalized) and
``_errors`` (``"Phone:phone_invalid; Email:email_invalid"``, "" when valid) and ``_repairs``
(what was fixed on the way, per typed column: ``"Name:title_removed,credential_removed;
Phone:letter_typo_repaired"``, "" when nothing was; codes in ``registry.REPAIRS``;
``status_columns`` gives the three names). A generated name
that an input column (or an earlier generated column) already uses gets the first free suffix
``_1``, ``_2``, ...: ``Phone_normalized`` in the input makes ours ``Phone_normalized_1``.

A combination in the spec (``"Name": {"type": "name", "from": ["First", "Last"]}``, see
``combine``) adds the combined raw value as a column ``Name`` right after the input columns (in
spec order, before every generated column), so the output shows what was normalized; ``Name`` is
then a typed column like any other (``Name_normalized``, ``Name_first``, ``Name:name_invalid``).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .combine import combinations, join_parts, spec_types
from .fields import FieldResult, OptionsMap
from .registry import REGISTRY, FieldType, validate_options, validate_spec
from .summary import ColumnStats, Summary

VALID_COLUMN = "_valid"
ERRORS_COLUMN = "_errors"
REPAIRS_COLUMN = "_repairs"
ERROR_SEPARATOR = "; "
# Parsed values remembered per field type: about 0.5 kB each with their components (measured,
# benchmarks/README.md), so at most ~50 MB per type and process.
DEFAULT_CACHE_SIZE = 100_000


@dataclass
class ChunkResult:
    """A normalized chunk: its rows, counts and per-column ``summary`` (add them up per job)."""

    frame: pd.DataFrame
    valid: int
    invalid: int
    summary: Summary = field(default_factory=Summary)


class StatusColumns(NamedTuple):
    """The names the per-row status columns got in an output (suffixed on a collision)."""

    valid: str
    errors: str
    repairs: str


@dataclass(frozen=True)
class _TypedColumn:
    column: str
    field: FieldType
    outputs: tuple[str, ...]  # <col>_normalized, then one per component


@dataclass(frozen=True)
class _Layout:
    typed: tuple[_TypedColumn, ...]
    status: StatusColumns

    def generated(self) -> list[str]:
        return [name for typed in self.typed for name in typed.outputs] + list(self.status)


def _layout(input_columns: Sequence[Hashable], spec: Mapping[str, Any]) -> _Layout:
    taken = set(input_columns)

    def claim(name: str) -> str:
        candidate, suffix = name, 0
        while candidate in taken:
            suffix += 1
            candidate = f"{name}_{suffix}"
        taken.add(candidate)
        return candidate

    typed = []
    for column, kind in spec_types(spec).items():
        field = REGISTRY[kind]
        slots = ("normalized", *field.components)
        typed.append(_TypedColumn(column, field, tuple(claim(f"{column}_{s}") for s in slots)))
    status = StatusColumns(claim(VALID_COLUMN), claim(ERRORS_COLUMN), claim(REPAIRS_COLUMN))
    return _Layout(tuple(typed), status)


def _output_layout(
    input_columns: Sequence[str], columns: Mapping[str, Any]
) -> tuple[list[str], _Layout]:
    """The header before the generated columns (input + combinations), and the layout."""
    spec = validate_spec(columns)
    header = [*input_columns, *combinations(spec)]
    return header, _layout(header, spec)


def output_columns(input_columns: Sequence[str], columns: Mapping[str, Any]) -> list[str]:
    """The exact header of the normalized output for this input header and spec."""
    header, layout = _output_layout(input_columns, columns)
    return [*header, *layout.generated()]


def status_columns(input_columns: Sequence[str], columns: Mapping[str, Any]) -> StatusColumns:
    """The names of ``_valid``, ``_errors`` and ``_repairs`` in the output for this header."""
    return _output_layout(input_columns, columns)[1].status


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
    """Results by value, oldest dropped first beyond ``capacity`` entries. ``parsed``: when not
    None, collects the results parsed here, for the caches of sibling processes."""

    def __init__(self, field: FieldType, options: OptionsMap, capacity: int) -> None:
        self._field = field
        self._options = options
        self._capacity = capacity
        self._results: dict[str, FieldResult] = {}
        self.parsed: dict[str, FieldResult] | None = None

    def lookup(self, values: list[str]) -> list[FieldResult]:
        known = self._results
        missing = list(dict.fromkeys(v for v in values if v not in known))
        fresh = dict(zip(missing, self._field.normalize(missing, self._options), strict=True))
        # Answer before storing: eviction below may drop entries this very call relies on.
        results = [fresh[v] if v in fresh else known[v] for v in values]
        if self.parsed is not None:
            self.parsed.update(fresh)
        self.add(fresh)
        return results

    def add(self, fresh: Mapping[str, FieldResult]) -> None:
        if self._capacity > 0 and fresh:
            known = self._results
            known.update(fresh)
            excess = len(known) - self._capacity
            for key in list(islice(known, max(excess, 0))):
                del known[key]


def _take(per_distinct: list[str], codes: np.ndarray) -> pd.Series:
    return pd.Series(np.array(per_distinct, dtype=object)[codes], dtype=str)


def _with_combined(
    df: pd.DataFrame, combined: Mapping[str, tuple[str, tuple[str, ...]]]
) -> pd.DataFrame:
    """``df`` (index reset) plus one column per combination: its joined raw value per row."""
    frame = df.reset_index(drop=True)
    if not combined:
        return frame
    added = {}
    for column, (kind, sources) in combined.items():
        parts = []
        for source in sources:
            cells = frame[source]
            if isinstance(cells, pd.DataFrame):  # duplicate header: the first one, as typed
                cells = cells.iloc[:, 0]
            parts.append([_to_str(v).strip() for v in cells.tolist()])
        added[column] = pd.Series(
            [join_parts(kind, row) for row in zip(*parts, strict=True)], dtype=str
        )
    return pd.concat([frame, pd.DataFrame(added, index=frame.index)], axis=1)


class Normalizer:
    """Normalizes chunk after chunk of one table.

    ``columns``: ``{column: field type or combination}``, validated here (SpecError when
    unusable); a combination's column is built per row before normalizing (module docstring).
    ``options``: job options, validated here; defaults filled in.
    ``cache_size``: distinct values remembered per field type across chunks; default 100,000
    (a bound on memory: about 50 MB per type when full); 0 remembers nothing.
    """

    def __init__(
        self,
        columns: Mapping[str, Any],
        options: Mapping[str, Any] | None = None,
        *,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self.spec = validate_spec(columns)
        self.options = validate_options(options)
        self._combined = combinations(self.spec)
        self._caches = {
            kind: _BoundedCache(REGISTRY[kind], self.options, cache_size)
            for kind in dict.fromkeys(spec_types(self.spec).values())
        }

    def take_parsed(self) -> dict[str, dict[str, FieldResult]]:
        """The results parsed since the last call, per field type, for ``add_parsed`` of
        other processes normalizing the same job (so each value is parsed about once). The
        first call starts the collection (and returns empty dicts)."""
        taken = {}
        for kind, cache in self._caches.items():
            taken[kind], cache.parsed = cache.parsed or {}, {}
        return taken

    def add_parsed(self, parsed: Mapping[str, Mapping[str, FieldResult]]) -> None:
        """Remember results another process parsed (``take_parsed``); results are a pure
        function of the value and the options, so this never changes an output."""
        for kind, results in parsed.items():
            self._caches[kind].add(results)

    def normalize_chunk(self, df: pd.DataFrame) -> ChunkResult:
        validate_spec(self.spec, list(df.columns))
        df = _with_combined(df, self._combined)
        layout = _layout(list(df.columns), self.spec)
        frame = df.reset_index(drop=True)
        added: dict[str, pd.Series] = {}
        row_errors: list[np.ndarray] = []
        repairs = _RepairLog(len(frame))
        stats: list[ColumnStats] = []
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
            repairs.add(typed.column, results, codes)
            # Missing cells have code -1: the "" appended last by _distinct.
            rows = np.bincount(codes % len(values), minlength=len(values))
            kind = typed.field.name
            stats.append(ColumnStats.count(typed.column, kind, values, results, rows.tolist()))

        valid = np.ones(len(frame), dtype=bool)
        for errors in row_errors:
            valid &= errors == ""
        joined = np.full(len(frame), "", dtype=object)
        for row in np.flatnonzero(~valid):
            joined[row] = ERROR_SEPARATOR.join(e[row] for e in row_errors if e[row])
        added[layout.status.valid] = pd.Series(valid, dtype=bool)
        added[layout.status.errors] = pd.Series(joined, dtype=str)
        added[layout.status.repairs] = repairs.texts()

        out = pd.concat([frame, pd.DataFrame(added, index=frame.index)], axis=1)
        n_valid = int(valid.sum())
        return ChunkResult(
            frame=out, valid=n_valid, invalid=len(frame) - n_valid, summary=Summary.of(stats)
        )


class _RepairLog:
    """The ``_repairs`` text of each row of a chunk.

    Rows are grouped by their combination of per-column notes, and each combination's text is
    built once: there are few (most values need the same repairs or none) even when every
    value is distinct, so the per-row work is integer arithmetic only.
    """

    def __init__(self, rows: int) -> None:
        self.key = np.zeros(rows, dtype=np.int64)  # per row: its combination's index
        self.combinations: list[tuple[str, ...]] = [()]  # index -> the columns' texts

    def add(self, column: str, results: list[FieldResult], codes: np.ndarray) -> None:
        ids: dict[tuple[str, ...], int] = {(): 0}  # notes -> id, per distinct value below
        note_ids = np.fromiter(
            (ids.setdefault(r.notes, len(ids)) for r in results), np.int64, len(results)
        )
        if len(ids) == 1:
            return
        texts = [f"{column}:{','.join(notes)}" if notes else "" for notes in ids]
        width = len(texts)
        # codes index the distinct values (-1, a missing cell, is the "" appended last).
        self.key, pairs = pd.factorize(self.key * width + note_ids[codes])
        self.combinations = [
            (*self.combinations[pair // width], texts[pair % width]) for pair in pairs
        ]

    def texts(self) -> pd.Series:
        joined = [ERROR_SEPARATOR.join(filter(None, texts)) for texts in self.combinations]
        return pd.Series(np.array(joined, dtype=object)[self.key], dtype=str)


def normalize_chunk(
    df: pd.DataFrame, columns: Mapping[str, Any], options: Mapping[str, Any] | None = None
) -> ChunkResult:
    """One-off normalization of ``df``; use a :class:`Normalizer` for a stream of chunks."""
    return Normalizer(columns, options).normalize_chunk(df)
