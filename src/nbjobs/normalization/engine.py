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
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa

from . import backends
from .backends import Choice
from .combine import combinations, join_parts, spec_types
from .encoded import CHANGED, INVALID, EncodedResults
from .fields import FieldResult
from .registry import REGISTRY, FieldType, validate_options, validate_spec
from .results import ResultStore
from .summary import ColumnStats, Summary

VALID_COLUMN = "_valid"
ERRORS_COLUMN = "_errors"
REPAIRS_COLUMN = "_repairs"
ERROR_SEPARATOR = "; "
# Parsed values remembered per field type, at most; and the bytes they may hold, all field
# types of a job together (about 0.25-0.3 kB a value with its outputs): 192 MiB holds the
# 100,000 values of each of six types. A smaller bound makes a job with that many distinct
# values slower and its worker larger, not smaller (re-parsed values churn the store;
# benchmarks/README.md, issue 17): it is for values far longer than these.
DEFAULT_CACHE_SIZE = 100_000
DEFAULT_CACHE_BYTES = 192 * 2**20
# What str.strip() strips: Unicode's whitespace, all of it below U+3001 (a test checks).
_WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())


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
    uniques: Any  # an Index, or an ndarray for a column of objects
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
        # Every CSV column: stripped by Arrow (exactly what str.strip() strips) before
        # factorizing, so no Python work per value, and " Ann" and "Ann" are one value.
        codes, uniques = pd.factorize(series.str.strip(_WHITESPACE))
        return [*uniques.tolist(), ""], codes
    if series.dtype == object:
        # Stringify first: factorizing raw objects would merge 1, 1.0 and True.
        codes, uniques = pd.factorize(np.array([_to_str(v) for v in series.tolist()], dtype=object))
    else:
        codes, uniques = pd.factorize(series)  # missing -> code -1, i.e. the "" appended below
    # tolist(): iterating an Arrow-backed array element by element is several times slower.
    if isinstance(series.dtype, pd.StringDtype):  # text without missing values: no _to_str
        return [value.strip() for value in uniques.tolist()] + [""], codes
    return [_to_str(value).strip() for value in uniques.tolist()] + [""], codes


@dataclass(eq=False)  # compared by identity: a pending plan is found with ``is``
class Plan:
    """A chunk read for normalizing (``Normalizer.plan``).

    Per typed column: its distinct values and each row's index into them (``distinct``), and
    per distinct value its row in the field type's ``results.ResultStore`` (``ids``, -1 until
    known). Per field type: the values still to parse (``missing``), and where each of them
    waits in ``ids`` (``waiting``), filled in by ``Normalizer.resolve`` wherever they were
    parsed."""

    frame: pd.DataFrame
    layout: _Layout
    distinct: list[tuple[list[str], np.ndarray]]
    ids: list[np.ndarray]
    missing: dict[str, list[str]]
    waiting: dict[str, dict[str, list[tuple[np.ndarray, int]]]]

    def ids_of(self, kind: str) -> list[np.ndarray]:
        """The ``ids`` of the typed columns of field type ``kind``."""
        return [
            ids
            for typed, ids in zip(self.layout.typed, self.ids, strict=True)
            if typed.field.name == kind
        ]


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
    ``cache_size``: distinct values remembered per field type across chunks; default 100,000;
    0 remembers nothing. ``cache_bytes``: what those values and their outputs may hold, all
    types together (each type an equal share); default 192 MiB; 0 remembers nothing.
    ``parser_backend``: "auto" (compiled parsers where the parity gate passed them) or
    "reference" (the reference libraries only); set for this process (``backends.use``).

    ``normalize_chunk`` runs three steps that a pool of processes can also run apart
    (``chunk_pool``): ``plan`` (the distinct values, and which of them the cache lacks),
    ``parse`` + ``resolve`` of those, and ``finish`` (the output rows).
    """

    def __init__(
        self,
        columns: Mapping[str, Any],
        options: Mapping[str, Any] | None = None,
        *,
        cache_size: int = DEFAULT_CACHE_SIZE,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        parser_backend: Choice = "auto",
    ) -> None:
        self.parser_backend = parser_backend
        backends.use(parser_backend)
        self.spec = validate_spec(columns)
        self.options = validate_options(options)
        self._combined = combinations(self.spec)
        kinds = list(dict.fromkeys(spec_types(self.spec).values()))
        self._stores = {
            kind: ResultStore(
                1 + len(REGISTRY[kind].components), cache_size, cache_bytes // max(len(kinds), 1)
            )
            for kind in kinds
        }
        self._pending: list[Plan] = []  # planned, not finished: their rows must stay

    def plan(self, df: pd.DataFrame) -> Plan:
        """``df``'s typed values, with what the cache already knows of them (step 1 of 3).
        Until ``finish``, the rows the plan refers to are kept whatever the cache's bounds say."""
        validate_spec(self.spec, list(df.columns))
        df = _with_combined(df, self._combined)
        layout = _layout(list(df.columns), self.spec)
        frame = df.reset_index(drop=True)
        distinct, column_ids = [], []
        waiting: dict[str, dict[str, list[tuple[np.ndarray, int]]]]
        waiting = {kind: {} for kind in self._stores}
        for typed in layout.typed:
            cells = frame[typed.column]
            if isinstance(cells, pd.DataFrame):  # duplicate header: the first one is typed
                cells = cells.iloc[:, 0]
            values, codes = _distinct(cells)
            ids = self._stores[typed.field.name].rows_of(values)
            distinct.append((values, codes))
            column_ids.append(ids)
            waits = waiting[typed.field.name]  # shared per type: parsed once for all columns
            for position in np.flatnonzero(ids < 0).tolist():
                waits.setdefault(values[position], []).append((ids, position))
        missing = {kind: list(waits) for kind, waits in waiting.items()}
        plan = Plan(frame, layout, distinct, column_ids, missing, waiting)
        self._pending.append(plan)
        return plan

    def parse(self, kind: str, values: Sequence[str]) -> list[FieldResult]:
        """Results for distinct stripped ``values`` of field type ``kind`` (step 2, here or
        in another process with the same options: results depend on the value and options)."""
        backends.use(self.parser_backend)  # another Normalizer of this process may have chosen
        return REGISTRY[kind].normalize(values, self.options)

    def resolve(
        self,
        plans: Iterable[Plan],
        kind: str,
        values: Sequence[str],
        results: EncodedResults | Sequence[FieldResult],
    ) -> None:
        """Store parsed ``results`` (``FieldResult`` objects, or ``encoded`` as a pool process
        sends them) and hand their rows to the ``plans`` waiting for them."""
        store = self._stores[kind]
        rows = store.add(values, results)
        for plan in plans:
            waits = plan.waiting[kind]
            for value, row in zip(values, rows, strict=True):
                for ids, position in waits.pop(value, ()):
                    ids[position] = row
        store.compact(ids for plan in self._pending for ids in plan.ids_of(kind))

    def normalize_chunk(self, df: pd.DataFrame) -> ChunkResult:
        plan = self.plan(df)
        try:
            for kind, values in plan.missing.items():
                self.resolve([plan], kind, values, self.parse(kind, values))
        except BaseException:
            self._forget(plan)  # its rows need not be kept for it
            raise
        return self.finish(plan)

    def _forget(self, plan: Plan) -> None:
        self._pending = [pending for pending in self._pending if pending is not plan]

    def finish(self, plan: Plan) -> ChunkResult:
        """The normalized chunk, once every missing value of ``plan`` is resolved (step 3).

        Each distinct value's row was looked up once, by ``plan``; the rest is whole columns
        (``results``): output texts taken by Arrow, reasons and repair notes as row ids.
        """
        self._forget(plan)
        frame, layout = plan.frame, plan.layout
        added: dict[str, pd.Series] = {}
        valid = np.ones(len(frame), dtype=bool)
        errors, repairs = _RowTexts(len(frame)), _RowTexts(len(frame))
        stats: list[ColumnStats] = []
        for typed, (values, codes), ids in zip(layout.typed, plan.distinct, plan.ids, strict=True):
            kind, column = typed.field.name, typed.column
            store = self._stores[kind]
            if len(ids) and ids.min() < 0:
                raise RuntimeError(f"finish before every value of {column!r} was resolved")
            # Missing cells have code -1: the "" appended last by _distinct.
            distinct_of_row = codes % len(values)
            rows = pa.array(ids[distinct_of_row])
            for name, texts in zip(typed.outputs, store.texts, strict=True):
                added[name] = pd.Series(texts.take(rows), dtype=str)
            reason_ids = store.reason_ids[ids][distinct_of_row]
            valid &= reason_ids == 0
            errors.add(reason_ids, [f"{column}:{code}" if code else "" for code in store.reasons])
            repairs.add(
                store.notes_ids[ids][distinct_of_row],
                [f"{column}:{','.join(notes)}" if notes else "" for notes in store.notes],
            )
            counts = np.bincount(distinct_of_row, minlength=len(values))
            stats.append(_column_stats(column, kind, store, ids, counts))

        added[layout.status.valid] = pd.Series(valid, dtype=bool)
        added[layout.status.errors] = errors.texts()
        added[layout.status.repairs] = repairs.texts()
        out = pd.concat([frame, pd.DataFrame(added, index=frame.index)], axis=1)
        n_valid = int(valid.sum())
        return ChunkResult(
            frame=out, valid=n_valid, invalid=len(frame) - n_valid, summary=Summary.of(stats)
        )


def _column_stats(
    column: str, kind: str, store: ResultStore, ids: np.ndarray, counts: np.ndarray
) -> ColumnStats:
    """``ColumnStats.count`` of a column whose distinct values have rows ``ids`` in ``store``
    and occur ``counts`` times, by whole columns."""
    status = store.status[ids]
    by_status = np.bincount(status, weights=counts, minlength=4).astype(np.int64).tolist()
    invalid_rows = np.where(status == INVALID, counts, 0)
    per_reason = np.bincount(
        store.reason_ids[ids], weights=invalid_rows, minlength=len(store.reasons)
    )
    reasons = Counter(
        {code: int(n) for code, n in zip(store.reasons, per_reason, strict=True) if n > 0}
    )
    valid_rows = np.where(status >= CHANGED, counts, 0)
    per_notes = np.bincount(store.notes_ids[ids], weights=valid_rows, minlength=len(store.notes))
    repairs: Counter[str] = Counter()
    for notes, n in zip(store.notes, per_notes, strict=True):
        for code in notes if n > 0 else ():
            repairs[code] += int(n)
    null, invalid, changed, unchanged = by_status
    return ColumnStats(column, kind, null, invalid, changed, unchanged, reasons, repairs)


class _RowTexts:
    """Per row of a chunk, the texts of its typed columns joined by "; " (the ``_errors`` and
    ``_repairs`` columns), empty texts left out.

    Each column gives per row a small id (0: no text) and the text of each id. Rows are grouped
    by their combination of ids, and each combination's text is built once: there are few
    (most values have the same reasons or repairs, or none) even when every value is distinct,
    so the per-row work is integer arithmetic only.
    """

    def __init__(self, rows: int) -> None:
        self.key = np.zeros(rows, dtype=np.int64)  # per row: its combination's index
        self.combinations: list[tuple[str, ...]] = [()]  # index -> the columns' texts

    def add(self, ids: np.ndarray, texts: Sequence[str]) -> None:
        if not ids.any():
            return
        width = len(texts)
        self.key, pairs = pd.factorize(self.key * width + ids)
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
