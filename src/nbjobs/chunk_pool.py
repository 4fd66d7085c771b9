"""A job's chunks normalized on every core, handed back in input order.

The engine is mostly pure-Python parsing (nameparser, usaddress, phonenumbers), so threads would
share one core: a job runs its chunks in a few processes instead. Each pool process builds its
own :class:`Normalizer` from the job's spec and options (so whatever the engine computes per
chunk, statistics or column combinations, runs there) and keeps its own cache of distinct
values. Batch ``k`` of consecutive chunks goes to process ``k mod n`` and results are read back
in ``k`` order, so outputs, progress and counts are exactly those of one process.

Each value is still parsed about once per job, not once per process: a pool process returns the
results it parsed with its batch, and they go to the caches of the others with their next batch
(values repeat across the whole file, so without this every process would parse nearly every
distinct value of a job).

A pool process also renders its batch for the outputs (CSV text and an Arrow table), the second
most expensive step after the engine, so the job's own process only reads, writes and reports.

Nothing is left behind: a pool process only ever waits on its pipe from the job's process, and
exits at EOF, which it sees as soon as the job's process is gone, even after ``kill -9`` (it then
finishes at most the batch in hand). It writes no files. ``close`` ends the pool at once.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import multiprocessing
import pickle
import signal
import traceback
from collections.abc import Iterator, Mapping
from typing import Any, NoReturn

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from .exceptions import BadRequest
from .normalization import ChunkResult, Normalizer
from .normalization.engine import DEFAULT_CACHE_SIZE
from .normalization.fields import FieldResult

# Consecutive chunks are normalized together, up to this many rows: each engine call and each
# rendering has a fixed cost (about 25 ms of CPU per call for six typed columns), which would
# otherwise be a fifth of the time at 1000-row chunks. The engine gives the same rows for any
# split, and progress is still reported chunk by chunk.
BATCH_ROWS = 10_000


@dataclasses.dataclass
class PreparedBatch:
    """Consecutive chunks, normalized together and ready to append to the outputs.

    ``result``: the engine's result for the whole batch (counts and whatever else it reports),
    whose ``frame`` keeps the output columns but no rows: the rows travel once, as ``csv`` (no
    header), ``invalid_csv`` (the invalid rows) and ``table`` (for Parquet). ``chunks``: rows
    and valid rows of each chunk, for progress chunk by chunk.
    """

    result: ChunkResult
    chunks: list[tuple[int, int]]
    csv: bytes
    invalid_csv: bytes
    table: pa.Table

    def header(self) -> bytes:
        return self.result.frame.to_csv(index=False, lineterminator="\n").encode()


def prepare(normalizer: Normalizer, chunks: list[pd.DataFrame], valid_column: str) -> PreparedBatch:
    """Normalize ``chunks`` as one table and render it for the three outputs."""
    result = normalizer.normalize_chunk(chunks[0] if len(chunks) == 1 else pd.concat(chunks))
    frame = result.frame
    valid = frame[valid_column].astype(bool).to_numpy()
    sizes, start = [], 0
    for chunk in chunks:
        sizes.append((len(chunk), int(valid[start : start + len(chunk)].sum())))
        start += len(chunk)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    invalid = ~valid
    return PreparedBatch(
        result=dataclasses.replace(result, frame=frame.iloc[:0]),
        chunks=sizes,
        csv=_csv(frame, table),
        invalid_csv=_csv(frame, table, invalid) if invalid.any() else b"",
        table=table,
    )


def batches(chunks: Iterator[pd.DataFrame], most: int) -> Iterator[list[pd.DataFrame]]:
    """Chunks in lists of 1, 2, 4, ... up to ``most`` (the first progress comes quickly). A read
    error comes after the batch of the chunks read before it, as it would chunk by chunk."""
    size, batch = 1, []
    try:
        for chunk in chunks:
            batch.append(chunk)
            if len(batch) >= size:
                yield batch
                batch, size = [], min(size * 2, most)
    except Exception:
        if batch:
            yield batch
        raise
    if batch:
        yield batch


def _csv(frame: pd.DataFrame, table: pa.Table, rows: np.ndarray | None = None) -> bytes:
    """``frame`` (``table`` is the same in Arrow), or its ``rows`` (a mask), as CSV without a
    header.

    Tables of text, booleans and integers (the engine's output, and every CSV input) are
    written by Arrow's CSV writer (C++, a tenth of the csv module's time): booleans as
    ``True``/``False`` and integers as pandas writes them, but every text value in quotes
    (``"Ann"``, ``""``; a missing value stays empty). Other tables (floats, dates, ...) are
    ``frame.to_csv(header=False, index=False, lineterminator="\\n")``, pandas' formatting.
    """
    if rows is not None:
        table = table.filter(rows)
    columns = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_boolean(kind):
            column = pc.if_else(column, "True", "False")
        elif not (
            pa.types.is_string(kind)
            or pa.types.is_large_string(kind)
            or pa.types.is_integer(kind)
            or pa.types.is_null(kind)
        ):
            frame = frame if rows is None else frame[rows]
            return frame.to_csv(header=False, index=False, lineterminator="\n").encode()
        columns.append(column)
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(pa.table(columns, names=table.column_names), sink, _CSV_OPTIONS)
    return sink.getvalue().to_pybytes()


# "needed" quotes every text value (and only those), so no value, not even a lone "\r", can
# break a row; Arrow writes "\n" between rows.
_CSV_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="needed")


class InProcess:
    """The pool of one: batches normalized in the calling process, lazily (read one, do one)."""

    def __init__(
        self,
        columns: Mapping[str, Any],
        options: Mapping[str, Any],
        valid: str,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self.normalizer = Normalizer(columns, options, cache_size=cache_size)
        self.valid_column = valid

    def map(self, batches: Iterator[list[pd.DataFrame]]) -> Iterator[PreparedBatch]:
        for batch in batches:
            yield prepare(self.normalizer, batch, self.valid_column)

    def close(self) -> None:
        pass


class ChunkPool:
    """``processes`` pool processes; ``map`` yields their results in input order.

    Each process has at most one batch at a time: the next one is sent only after its result
    has been read, so neither side can block on a full pipe while the other does too.
    """

    def __init__(
        self,
        columns: Mapping[str, Any],
        options: Mapping[str, Any],
        valid: str,
        processes: int,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        ctx = _context()
        # The runner starts a job's process as a daemon (the server never waits for it at
        # exit), and multiprocessing refuses children to daemons lest they be orphaned; ours
        # cannot be (see the module docstring), and they are daemons of this process in turn.
        current = multiprocessing.current_process()
        if current.daemon:
            current.daemon = False
        self.conns: list[Any] = []
        self.processes: list[Any] = []
        try:
            for index in range(processes):
                ours, theirs = ctx.Pipe(duplex=True)
                self.conns.append(ours)
                process = ctx.Process(
                    target=_serve,
                    args=(theirs, dict(columns), dict(options), valid, cache_size),
                    name=f"{current.name}-pool-{index}",
                    daemon=True,
                )
                process.start()
                theirs.close()  # only the pool process holds its end: EOF when it exits
                self.processes.append(process)
        except BaseException:
            self.close()
            raise

    def map(self, batches: Iterator[list[pd.DataFrame]]) -> Iterator[PreparedBatch]:
        source = _Source(batches)
        in_flight: collections.deque[int] = collections.deque()
        # Per process: results the others parsed since its last batch, still pickled.
        news: list[list[bytes]] = [[] for _ in self.conns]
        for index in range(len(self.conns)):
            batch = source.next()
            if batch is None:
                break
            self._send(index, batch, [])
            in_flight.append(index)
        while in_flight:
            index = in_flight.popleft()
            prepared, parsed = self._receive(index)
            for other, pending in enumerate(news):
                if other != index:
                    pending.append(parsed)
            batch = source.next()  # read ahead, so this process works while we write
            if batch is not None:
                self._send(index, batch, news[index])
                news[index] = []
                in_flight.append(index)
            yield prepared
        source.raise_error()

    def _send(self, index: int, batch: list[pd.DataFrame], parsed: list[bytes]) -> None:
        try:
            self.conns[index].send((batch, parsed))
        except OSError:
            self._died(index)

    def _receive(self, index: int) -> tuple[PreparedBatch, bytes]:
        try:
            kind, *payload = self.conns[index].recv()
        except (EOFError, OSError):
            self._died(index)
        if kind == "error":
            raise payload[0]
        return payload[0], payload[1]

    def _died(self, index: int) -> NoReturn:
        process = self.processes[index]
        process.join(5)
        raise RuntimeError(
            f"a normalization process stopped unexpectedly (exit code {process.exitcode})"
        ) from None

    def close(self) -> None:
        """End the pool processes now (at EOF when idle, by SIGTERM when busy)."""
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.close()
        for process in self.processes:
            process.join(0.5)
            if process.exitcode is None:
                process.terminate()
        for process in self.processes:
            process.join(5)
        self.conns, self.processes = [], []


def open_pool(
    columns: Mapping[str, Any],
    options: Mapping[str, Any],
    valid: str,
    processes: int,
    cache_size: int = DEFAULT_CACHE_SIZE,
) -> InProcess | ChunkPool:
    """``cache_size``: parsed values each process remembers per field type (``Normalizer``)."""
    if processes <= 1:
        return InProcess(columns, options, valid, cache_size)
    return ChunkPool(columns, options, valid, processes, cache_size)


def _pack(parsed: dict[str, dict[str, FieldResult]]) -> bytes:
    """Results for the other pool processes, pickled once here; the job's process forwards the
    bytes unopened. Plain tuples: unpickling named tuples costs several times more."""
    packed = {
        kind: (list(results), [tuple(r) for r in results.values()])
        for kind, results in parsed.items()
    }
    return pickle.dumps(packed, protocol=pickle.HIGHEST_PROTOCOL)


def _unpack(blob: bytes) -> dict[str, dict[str, FieldResult]]:
    return {
        kind: dict(zip(values, map(FieldResult._make, results), strict=True))
        for kind, (values, results) in pickle.loads(blob).items()
    }


class _Source:
    """The batches, with a read error kept until the batches before it are handed back: a file
    that breaks at chunk 9 reports chunks 1 to 8 whatever the pool size."""

    def __init__(self, chunks: Iterator[list[pd.DataFrame]]) -> None:
        self.chunks = chunks
        self.error: BaseException | None = None

    def next(self) -> list[pd.DataFrame] | None:
        if self.error is not None:
            return None
        try:
            return next(self.chunks)
        except StopIteration:
            return None
        except Exception as exc:
            self.error = exc
            return None

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error


_pool_context: Any = None


def _context() -> Any:
    """A forkserver with the engine preloaded (its own, if the job's process is a forkserver
    child: forking a process that has run pyarrow's threads is unsafe)."""
    global _pool_context
    if _pool_context is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["nbjobs.chunk_pool"])
        _pool_context = ctx
    return _pool_context


def _serve(
    conn: Any, columns: dict[str, Any], options: dict[str, Any], valid: str, cache_size: int
) -> None:
    """A pool process: ``(batch, results parsed by the others)`` in, ``("ok", PreparedBatch,
    results parsed here)`` or ``("error", exception)`` out."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is for the server to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # nothing to clean up: just go
    normalizer = Normalizer(columns, options, cache_size=cache_size)
    normalizer.take_parsed()  # start collecting
    while True:
        try:
            chunk, parsed = conn.recv()
        except (EOFError, OSError):
            return  # the job's process closed the pool or is gone
        try:
            for blob in parsed:
                normalizer.add_parsed(_unpack(blob))
            prepared = prepare(normalizer, chunk, valid)
            reply: tuple[Any, ...] = ("ok", prepared, _pack(normalizer.take_parsed()))
        except Exception as exc:
            if not isinstance(exc, BadRequest):  # a bug: keep its traceback in the server log
                traceback.print_exc()
            reply = ("error", exc)
        try:
            conn.send(reply)
        except (OSError, EOFError):
            return
        except Exception:  # the exception does not pickle: send what it said
            error = RuntimeError("".join(traceback.format_exception_only(reply[1])).strip())
            conn.send(("error", error))
