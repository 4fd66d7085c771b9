"""Parsed results as columns of bytes: the form in which they are stored, and in which a pool
process sends them.

Per output slot (the canonical value or "", then each component): the UTF-8 bytes of its texts
end to end, and their lengths. That is what ``results.ResultStore`` keeps (Arrow's string
layout), so encoding is the only per-text work, and a pool process does it: the job's own
process, the busiest one when values repeat, then unpickles one buffer per slot instead of a
string per text, and appends it as it is. No NumPy or pandas here: a pool process imports only
the field types' libraries (``pool_process``).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .fields import FieldResult

# Summary status of a value: empty, invalid, valid but written differently from its stripped
# input, and valid unchanged.
NULL, INVALID, CHANGED, UNCHANGED = range(4)


def status(value: str, output: str | None, reason: str | None) -> int:
    if not value:
        return NULL
    if reason:
        return INVALID
    return UNCHANGED if output == value else CHANGED


def encode_texts(texts: Sequence[str]) -> tuple[bytes, array[int]]:
    """``texts`` as their UTF-8 bytes end to end, and the length of each in bytes."""
    joined = "".join(texts)
    if joined.isascii():  # most outputs: a text's bytes are its characters, one encode for all
        return joined.encode(), array("q", map(len, texts))
    encoded = [text.encode() for text in texts]
    return b"".join(encoded), array("q", map(len, encoded))


@dataclass
class EncodedResults:
    """The results of some values of one field type, as columns (module docstring)."""

    texts: list[tuple[bytes, array[int]]]  # per output slot: ``encode_texts``
    reasons: list[str | None]
    notes: list[tuple[str, ...]]
    status: bytes  # one ``status`` per value


def encode(
    values: Sequence[str], results: Sequence[FieldResult] | Sequence[tuple[Any, ...]]
) -> EncodedResults:
    """The ``results`` of ``values`` (``FieldResult`` objects or the same as plain tuples)."""
    if not results:
        return EncodedResults([], [], [], b"")
    outputs, components, reasons, notes = zip(*results, strict=True)
    slots = [[output or "" for output in outputs], *zip(*components, strict=True)]
    return EncodedResults(
        texts=[encode_texts(slot) for slot in slots],
        reasons=list(reasons),
        notes=list(notes),
        status=bytes(map(status, values, outputs, reasons)),
    )
