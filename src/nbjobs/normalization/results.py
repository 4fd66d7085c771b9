"""Parsed results of one field type, kept as columns, so a chunk is assembled in bulk.

Real columns repeat values, across the chunks of a job as much as within one: a value is parsed
once and its result used by every chunk that holds it. Kept as :class:`FieldResult` objects,
each use would still cost Python work per output column (taking the value and each component
apart, the error text, the repair notes, the summary counts), about as much as assembling a
row. Here a result becomes a *row* once, when it is added: its output texts in one column per
slot (the canonical value or "", then each component), its reason and its repair notes as
small integer ids, and its summary status. A chunk then needs one dict lookup per distinct
value (``index``), and everything else is NumPy or Arrow over whole columns (``engine``).

Memory is bounded by ``max_bytes`` (and by ``capacity`` values): beyond either, the oldest
values leave the ``index`` (they will be parsed again if they come back), and their rows are
dropped at the next compaction, unless a pending chunk still uses them: ``compact`` renumbers
the rows, and the rows the ``pending`` chunks hold. A row's bytes are counted as what it holds:
its value, its output texts, their offsets, its ids, and its index entry (``ROW_BYTES``).
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from .encoded import EncodedResults, encode
from .fields import FieldResult

# Dropped rows are left in place until there are at least this many (and as many as the rest).
COMPACT_MIN_ROWS = 4096
# What a row holds besides its value's characters and its texts' bytes: the value as a Python
# string (49 bytes) and its slot in ``keys`` (8), its index entry (a dict slot and the row
# number as an int, about 70), its reason and notes ids and status (17), its byte count (8).
# Each output slot adds an 8-byte offset.
ROW_BYTES = 152


class TextColumn:
    """One output slot of every row, laid out as an Arrow ``large_string`` array (UTF-8 bytes
    end to end, and int64 offsets), which ``take`` views without copying: a few bytes of
    overhead per text instead of a Python string object's ~50, and no conversion per use."""

    def __init__(self) -> None:
        self.size = 0
        self._data = bytearray()
        self._offsets = np.zeros(1, dtype=np.int64)  # size + 1 used

    def append(self, data: bytes, lengths: array[int]) -> None:
        """Texts given as their UTF-8 bytes end to end and their lengths (``encode_texts``)."""
        count = len(lengths)
        ends = self._offsets[self.size] + np.cumsum(np.frombuffer(lengths, dtype=np.int64))
        need = self.size + 1 + count
        if need > len(self._offsets):  # doubling: amortized copies
            grown = np.empty(max(need, 2 * len(self._offsets)), dtype=np.int64)
            grown[: self.size + 1] = self._offsets[: self.size + 1]
            self._offsets = grown
        self._offsets[self.size + 1 : need] = ends
        self._data += data
        self.size += count

    def _array(self) -> pa.LargeStringArray:
        # A view: the bytearray cannot grow while it lives, so it never leaves this class.
        offsets = pa.py_buffer(self._offsets[: self.size + 1].data)
        array = pa.Array.from_buffers(
            pa.large_string(), self.size, [None, offsets, pa.py_buffer(self._data)]
        )
        assert isinstance(array, pa.LargeStringArray)
        return array

    def take(self, rows: pa.Array) -> pa.LargeStringArray:
        """The texts of ``rows``, copied out."""
        return self._array().take(rows)

    def keep(self, mask: np.ndarray) -> None:
        """Only the rows where ``mask`` is true, in order."""
        kept = self._array().filter(pa.array(mask))
        _, offsets, data = kept.buffers()
        assert offsets is not None  # a string array always has its offsets
        ends = np.frombuffer(memoryview(offsets), dtype=np.int64)[
            kept.offset : kept.offset + len(kept) + 1
        ]
        first, last = int(ends[0]), int(ends[-1])
        self._offsets = ends - first  # a new array: the view of Arrow's buffer goes
        self._data = bytearray(data.to_pybytes()[first:last]) if data is not None else bytearray()
        self.size = len(kept)


class ResultStore:
    """The results of one field type, one row each (module docstring)."""

    def __init__(self, width: int, capacity: int, max_bytes: int) -> None:
        """``width``: output slots per result (1 + its components); ``capacity``: values
        remembered, ``max_bytes``: the bytes their rows may hold (either 0: none, every chunk
        parses its values again)."""
        self.capacity = capacity if max_bytes > 0 else 0
        self.max_bytes = max_bytes
        self.indexed_bytes = 0  # the bytes of the rows in the index
        self._fixed_row_bytes = ROW_BYTES + 8 * width
        self.index: dict[str, int] = {}  # value -> its newest row
        self.size = 0
        self._first_indexed = 0  # rows below this have left the index
        self.keys = np.empty(0, dtype=object)  # row -> its value
        self.texts = [TextColumn() for _ in range(width)]  # per slot: row -> output text
        self.reason_ids = np.empty(0, dtype=np.int64)  # row -> id in reasons (0: valid)
        self.notes_ids = np.empty(0, dtype=np.int64)  # row -> id in notes (0: none)
        self.status = np.empty(0, dtype=np.int8)  # row -> NULL, INVALID, CHANGED, UNCHANGED
        self.row_bytes = np.empty(0, dtype=np.int64)  # row -> its bytes (ROW_BYTES)
        self.reasons: dict[str, int] = {"": 0}  # reason code -> id (a type has a few)
        self.notes: dict[tuple[str, ...], int] = {(): 0}  # repair notes -> id (a few dozen)

    def rows_of(self, values: Sequence[str]) -> np.ndarray:
        """The row of each of ``values`` held here, -1 for the others (a new array)."""
        return np.fromiter(
            map(self.index.get, values, itertools.repeat(-1, len(values))), np.int64, len(values)
        )

    def add(
        self,
        values: Sequence[str],
        results: EncodedResults | Sequence[FieldResult] | Sequence[tuple[Any, ...]],
    ) -> range:
        """Store the ``results`` of ``values`` (``FieldResult`` objects, the same as plain
        tuples, or ``encoded`` already, as a pool process sends them); returns their rows.
        Call ``compact`` after handing the rows to the chunks waiting for them."""
        start, count = self.size, len(values)
        if not count:
            return range(start, start)
        if not isinstance(results, EncodedResults):
            results = encode(values, results)
        if len(results.status) != count:
            raise ValueError(f"{len(results.status)} results for {count} values")
        self._reserve(count)
        end = start + count
        self.keys[start:end] = values
        for texts, (data, lengths) in zip(self.texts, results.texts, strict=True):
            texts.append(data, lengths)
        ids = self.reasons
        self.reason_ids[start:end] = [ids.setdefault(r or "", len(ids)) for r in results.reasons]
        notes = self.notes
        self.notes_ids[start:end] = [notes.setdefault(n, len(notes)) for n in results.notes]
        self.status[start:end] = np.frombuffer(results.status, dtype=np.int8)
        row_bytes = self.row_bytes[start:end]
        row_bytes[:] = np.fromiter(map(len, values), np.int64, count) + self._fixed_row_bytes
        for _, lengths in results.texts:
            row_bytes += np.frombuffer(lengths, dtype=np.int64)
        self.size = end
        if self.capacity > 0:
            index = self.index
            # A value parsed twice (two chunks lacked it at once): its older row leaves.
            replaced = [index[value] for value in values if value in index]
            if replaced:
                self.indexed_bytes -= int(self.row_bytes[replaced].sum())
            index.update(zip(values, range(start, end), strict=True))
            self.indexed_bytes += int(row_bytes.sum())
            self._evict()
        return range(start, end)

    def _reserve(self, count: int) -> None:
        room = self.keys.shape[0]
        if self.size + count <= room:
            return
        room = max(self.size + count, 2 * room, 1024)  # doubling: amortized copies

        def grown(array: np.ndarray) -> np.ndarray:
            bigger = np.empty((*array.shape[:-1], room), dtype=array.dtype)
            bigger[..., : self.size] = array[..., : self.size]
            return bigger

        self.keys = grown(self.keys)
        self.reason_ids, self.notes_ids = grown(self.reason_ids), grown(self.notes_ids)
        self.status = grown(self.status)
        self.row_bytes = grown(self.row_bytes)

    def _evict(self) -> None:
        """Oldest values out of the index until it holds at most ``capacity`` values and
        ``max_bytes``."""
        index, keys, row_bytes = self.index, self.keys, self.row_bytes
        row = self._first_indexed
        while index and (len(index) > self.capacity or self.indexed_bytes > self.max_bytes):
            key = keys[row]
            if index.get(key) == row:  # not since parsed again (a newer row)
                del index[key]
                self.indexed_bytes -= int(row_bytes[row])
            row += 1
        self._first_indexed = row

    def compact(self, pending: Iterable[np.ndarray]) -> None:
        """Drop the rows neither indexed nor used by a ``pending`` chunk (arrays of rows, -1
        where not yet known), once they are as many as the rest (so each row is copied a
        bounded number of times); renumber the index and ``pending`` in place."""
        pending = list(pending)
        live = len(self.index) + sum(len(rows) for rows in pending)
        if self.size < 2 * live + COMPACT_MIN_ROWS:
            return
        keep = np.zeros(self.size, dtype=bool)
        indexed = np.fromiter(self.index.values(), np.int64, len(self.index))
        keep[indexed] = True
        for rows in pending:
            keep[rows[rows >= 0]] = True
        renumbered = np.cumsum(keep) - 1
        self._first_indexed = int(keep[: self._first_indexed].sum())
        kept = int(keep.sum())
        self.keys = self.keys[: self.size][keep]
        for texts in self.texts:
            texts.keep(keep)
        self.reason_ids = self.reason_ids[: self.size][keep]
        self.notes_ids = self.notes_ids[: self.size][keep]
        self.status = self.status[: self.size][keep]
        self.row_bytes = self.row_bytes[: self.size][keep]
        self.size = kept
        self.index = dict(zip(self.index, renumbered[indexed].tolist(), strict=True))
        for rows in pending:
            known = rows >= 0
            rows[known] = renumbered[rows[known]]
