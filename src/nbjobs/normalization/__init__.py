"""Normalization engine: DataFrame chunk + column spec -> normalized chunk, counts and reasons.

    from nbjobs.normalization import Normalizer
    normalizer = Normalizer({"Phone": "phone", "Email": "email"}, {"default_region": "GB"})
    result = normalizer.normalize_chunk(chunk)   # result.frame, result.valid, result.invalid

Pure: no I/O, no server; the same rows for any chunk size. See ``engine`` for the output
columns, ``registry`` for the field types and options, ``fields/`` for each type.
"""

from __future__ import annotations

from .engine import (
    ERRORS_COLUMN,
    VALID_COLUMN,
    ChunkResult,
    Normalizer,
    normalize_chunk,
    output_columns,
)
from .fields import MAX_VALUE_LENGTH, FieldResult
from .registry import FIELD_TYPES, REASONS, validate_options, validate_spec

__all__ = [
    "ERRORS_COLUMN",
    "FIELD_TYPES",
    "MAX_VALUE_LENGTH",
    "REASONS",
    "VALID_COLUMN",
    "ChunkResult",
    "FieldResult",
    "Normalizer",
    "normalize_chunk",
    "output_columns",
    "validate_options",
    "validate_spec",
]
