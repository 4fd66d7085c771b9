"""Normalization engine: DataFrame chunk + column spec -> normalized chunk, counts and reasons.

    from nbjobs.normalization import Normalizer
    normalizer = Normalizer({"Phone": "phone", "Email": "email"}, {"default_region": "GB"})
    result = normalizer.normalize_chunk(chunk)   # result.frame, result.valid, result.invalid
    summary = result.summary + next_result.summary  # per-column counts; summary.to_json()

Pure: no I/O, no server; the same rows for any chunk size. See ``engine`` for the output
columns, ``registry`` for the field types and options, ``fields/`` for each type.
"""

from __future__ import annotations

import typing

from .fields import MAX_VALUE_LENGTH, FieldResult
from .registry import FIELD_TYPES, REASONS, REPAIRS, validate_options, validate_spec
from .summary import ColumnStats, Summary

if typing.TYPE_CHECKING:
    from .engine import (
        ERRORS_COLUMN,
        REPAIRS_COLUMN,
        VALID_COLUMN,
        ChunkResult,
        Normalizer,
        StatusColumns,
        normalize_chunk,
        output_columns,
        status_columns,
    )

# The engine (pandas, pyarrow) is imported on first use: a pool process only parses values
# (``registry``, ``fields``), and starts faster and stays smaller without it (pool_process).
_ENGINE = {
    "ERRORS_COLUMN",
    "REPAIRS_COLUMN",
    "VALID_COLUMN",
    "ChunkResult",
    "Normalizer",
    "StatusColumns",
    "normalize_chunk",
    "output_columns",
    "status_columns",
}


def __getattr__(name: str) -> typing.Any:
    if name in _ENGINE:
        from . import engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ERRORS_COLUMN",
    "FIELD_TYPES",
    "MAX_VALUE_LENGTH",
    "REASONS",
    "REPAIRS",
    "REPAIRS_COLUMN",
    "VALID_COLUMN",
    "ChunkResult",
    "ColumnStats",
    "FieldResult",
    "Normalizer",
    "StatusColumns",
    "Summary",
    "normalize_chunk",
    "output_columns",
    "status_columns",
    "validate_options",
    "validate_spec",
]
