"""A job's distinct values parsed on every core; chunks assembled in input order.

The engine's cost is Python parsing of distinct values (nameparser, usaddress, the fields'
rules around the compiled parsers), so threads would share one core: a job parses in a few
processes instead. The job's own process plans each batch of chunks (``Normalizer.plan``: its
distinct values, and the ones its cache has no result for), queues those values as tasks of at
most ``TASK_VALUES``, and finishes and renders the batches in input order, so outputs, progress
and counts are exactly those of one process. The pool processes only parse: ``(field type,
values)`` in, results out. The job's process is one of the parsing processes too: while the
batch it has to finish next still waits for values, it takes the next queued task itself. So a
job of ``processes`` processes keeps that many cores busy whether parsing is most of its work
(every value new: the job's process mostly parses) or little of it (few new values: it mostly
finishes and writes batches while the pool parses), where a pool of ``processes`` beside a busy
job's process would have one process more than cores to share (measured in
``benchmarks/README.md``, issue 17).

Each distinct value is parsed once per job (as long as the cache holds it): a value already
queued or being parsed for an earlier batch is not queued again, the later batch waits for
that task instead. Up to ``LOOKAHEAD`` batches are planned ahead, so the pool has work while
the job's process finishes, renders and writes a batch.

Nothing is left behind: a pool process only ever waits on its pipe from the job's process, and
exits at EOF, which it sees as soon as the job's process is gone, even after ``kill -9`` (it then
finishes at most the task in hand). It writes no files. ``close`` ends the pool at once.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import multiprocessing
import queue
import re
import threading
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from ..normalization import ChunkResult, Normalizer
from ..normalization.encoded import EncodedResults
from ..normalization.engine import Plan
from ..normalization.fields import FieldResult
from . import pool_process
from .forkserver import forkserver_context

__all__ = [
    "BATCH_ROWS",
    "ChunkPool",
    "InProcess",
    "PreparedBatch",
    "Rendering",
    "batches",
    "neutralize",
    "open_pool",
    "prepare",
    "render",
]

# Consecutive chunks are normalized together, up to this many rows: each engine call and each
# rendering has a fixed cost (about 25 ms of CPU per call for six typed columns), which would
# otherwise be a fifth of the time at 1000-row chunks. The engine gives the same rows for any
# split, and progress is still reported chunk by chunk.
BATCH_ROWS = 10_000
# Values per pool task: small enough to spread a batch over the processes, large enough that
# the pipe round trip (well under a millisecond) is noise next to the parsing (50-200 ms).
TASK_VALUES = 1000
# Batches planned (and their values queued) ahead of the one being finished.
LOOKAHEAD = 4
# Tasks sent to a pool process before its results come back (``ChunkPool``).
TASKS_SENT = 2


@dataclasses.dataclass(frozen=True)
class Rendering:
    """How a job's batches are written. ``valid_column``: the name of its validity column in
    the output (``_valid``, or ``_valid_1`` when the input has a ``_valid``).
    ``escape_formulas``: in the CSV outputs, a text that a spreadsheet would run as a formula
    (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, and is not a plain
    number such as ``-5`` or ``+14155552671``) gets a ``'`` in front, as OWASP's advice on CSV
    injection has it (https://owasp.org/www-community/attacks/CSV_Injection); the header too.
    The Parquet output keeps every value as it is."""

    valid_column: str
    escape_formulas: bool = True


# What a spreadsheet reads as the start of a formula (each one byte in UTF-8, which no other
# character's first byte is), and the numbers it starts.
_FORMULA_FIRST = "=+-@\t\r"
_FORMULA_BYTE = np.zeros(256, dtype=bool)
_FORMULA_BYTE[list(_FORMULA_FIRST.encode())] = True
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)*")


def neutralize(text: str) -> str:
    """``text`` as the CSV outputs write it with ``escape_formulas`` (``Rendering``)."""
    if text and text[0] in _FORMULA_FIRST and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _neutralize_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """``neutralize`` over a text column, by NumPy and Arrow (no Python per value)."""
    chunks = [_neutralize_array(chunk) for chunk in column.chunks]
    if all(new is old for new, old in zip(chunks, column.chunks, strict=True)):
        return column
    return pa.chunked_array(chunks, type=column.type)


def _neutralize_array(array: pa.Array) -> pa.Array:
    # Which values start with a formula character, from the first byte of each value in the
    # array's data buffer (Arrow's documented layout: offsets, then the bytes): a table
    # lookup over the whole column, where Arrow's string kernels cost a few times more. Only
    # those values, usually few, go through the regular expression.
    if len(array) == 0:
        return array
    _, offsets_buffer, data_buffer = array.buffers()
    if data_buffer is None or data_buffer.size == 0:  # every value empty or missing
        return array
    assert offsets_buffer is not None  # a string array always has its offsets
    offset_type = np.int64 if pa.types.is_large_string(array.type) else np.int32
    offsets = np.frombuffer(memoryview(offsets_buffer), dtype=offset_type)
    offsets = offsets[array.offset : array.offset + len(array) + 1]
    starts = offsets[:-1]
    filled = offsets[1:] > starts
    if array.null_count:  # a missing value's slot need not be empty
        filled &= array.is_valid().to_numpy(zero_copy_only=False)
    data = np.frombuffer(memoryview(data_buffer), dtype=np.uint8)
    formula = np.zeros(len(array), dtype=bool)
    formula[filled] = _FORMULA_BYTE[data[starts[filled]]]
    if not formula.any():
        return array
    candidates = array.filter(pa.array(formula))
    number = pc.match_substring_regex(candidates, f"^{_PLAIN_NUMBER.pattern}$")
    if pc.all(number).as_py():
        return array
    risky = pc.invert(number)
    formula[formula] = risky.to_numpy(zero_copy_only=False)
    quoted = pc.utf8_replace_slice(candidates.filter(risky), 0, 0, "'")
    return pc.replace_with_mask(array, pa.array(formula), quoted)


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

    def header(self, rendering: Rendering) -> bytes:
        """The CSV outputs' header row."""
        frame = self.result.frame
        if rendering.escape_formulas:
            frame = frame.rename(columns=lambda name: neutralize(str(name)))
        return frame.to_csv(index=False, lineterminator="\n").encode()


def prepare(
    normalizer: Normalizer, chunks: list[pd.DataFrame], rendering: Rendering
) -> PreparedBatch:
    """Normalize ``chunks`` as one table and render it for the three outputs."""
    return render(normalizer.normalize_chunk(_concat(chunks)), chunks, rendering)


def render(result: ChunkResult, chunks: list[pd.DataFrame], rendering: Rendering) -> PreparedBatch:
    """``result``, the normalized ``chunks``, rendered for the three outputs."""
    frame = result.frame
    valid = frame[rendering.valid_column].astype(bool).to_numpy()
    sizes, start = [], 0
    for chunk in chunks:
        sizes.append((len(chunk), int(valid[start : start + len(chunk)].sum())))
        start += len(chunk)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    invalid = ~valid
    escape = rendering.escape_formulas
    written = _csv_table(table, escape=escape)
    if written is None:  # pandas formats it
        csv = _pandas_csv(frame, escape=escape)
        invalid_csv = _pandas_csv(frame[invalid], escape=escape) if invalid.any() else b""
    else:  # neutralized once for both outputs
        csv = _arrow_csv(written)
        invalid_csv = _arrow_csv(written.filter(invalid)) if invalid.any() else b""
    return PreparedBatch(
        result=dataclasses.replace(result, frame=frame.iloc[:0]),
        chunks=sizes,
        csv=csv,
        invalid_csv=invalid_csv,
        table=table,
    )


def _concat(chunks: list[pd.DataFrame]) -> pd.DataFrame:
    return chunks[0] if len(chunks) == 1 else pd.concat(chunks)


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


def _csv_table(table: pa.Table, *, escape: bool) -> pa.Table | None:
    """``table`` as Arrow's CSV writer should write it, or None for pandas to format it.

    Tables of text, booleans and integers (the engine's output, and every CSV input) are
    written by Arrow's CSV writer (C++, a tenth of the csv module's time): booleans as
    ``True``/``False`` and integers as pandas writes them, but every text value in quotes
    (``"Ann"``, ``""``; a missing value stays empty); with ``escape``, formulas neutralized
    (``Rendering.escape_formulas``). Other tables (floats, dates, ...) are left to pandas'
    formatting (``_pandas_csv``).
    """
    columns = []
    for column in table.columns:
        kind = column.type
        text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
        if pa.types.is_boolean(kind):
            column = pc.if_else(column, "True", "False")
        elif text and escape:
            column = _neutralize_column(column)
        elif not (text or pa.types.is_integer(kind) or pa.types.is_null(kind)):
            return None
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def _arrow_csv(table: pa.Table) -> bytes:
    """``table`` (from ``_csv_table``) as CSV rows without a header."""
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(table, sink, _CSV_OPTIONS)
    return sink.getvalue().to_pybytes()


def _pandas_csv(frame: pd.DataFrame, *, escape: bool) -> bytes:
    """``frame`` as ``frame.to_csv(header=False, index=False, lineterminator="\\n")`` writes it;
    with ``escape``, formulas neutralized."""
    if escape:
        frame = frame.apply(
            lambda cells: (
                cells.map(lambda v: neutralize(v) if isinstance(v, str) else v)
                if cells.dtype == object or pd.api.types.is_string_dtype(cells)
                else cells
            )
        )
    return frame.to_csv(header=False, index=False, lineterminator="\n").encode()


# "needed" quotes every text value (and only those), so no value, not even a lone "\r", can
# break a row; Arrow writes "\n" between rows.
_CSV_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="needed")


class InProcess:
    """The pool of one: batches normalized in the calling process, lazily (read one, do one)."""

    def __init__(self, normalizer: Normalizer, rendering: Rendering) -> None:
        self.normalizer = normalizer
        self.rendering = rendering

    def map(self, batches: Iterator[list[pd.DataFrame]]) -> Iterator[PreparedBatch]:
        for batch in batches:
            yield prepare(self.normalizer, batch, self.rendering)

    def close(self) -> None:
        pass


class ChunkPool:
    """``processes`` processes parsing the distinct values of a job's batches, this one and
    ``processes - 1`` pool processes (module docstring); ``map`` yields the batches in input
    order.

    Each pool process has two threads here: one sends it the next task from the queue, one
    takes in its results, so the pool keeps parsing while this process finishes, renders and
    writes batches (or parses). ``TASKS_SENT`` tasks at most are sent ahead per process, the
    next one waiting in its pipe while this process's threads wait for the GIL to take in the
    results of the last one. A thread for each direction: neither end ever waits to write while
    the other does too. The sender starts its pool process: the forkserver takes ~0.3 s to
    start one (it imports the field libraries first), during which this process parses the
    first batches itself instead of waiting.
    """

    def __init__(self, normalizer: Normalizer, rendering: Rendering, processes: int) -> None:
        self.normalizer = normalizer
        self.rendering = rendering
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        # Values queued or being parsed, per field type: a later batch waits for their task.
        self._in_flight: dict[str, dict[str, _Task]] = collections.defaultdict(dict)
        # Pool processes run only the field types' libraries (``pool_process``), not pandas; a
        # forkserver of this process, as forking a process that has run pyarrow's threads is
        # unsafe.
        ctx = forkserver_context([pool_process])
        # The runner starts a job's process as a daemon (the server never waits for it at
        # exit), and multiprocessing refuses children to daemons lest they be orphaned; ours
        # cannot be (see the module docstring), and they are daemons of this process in turn.
        current = multiprocessing.current_process()
        if current.daemon:
            current.daemon = False
        self.conns: list[Any] = []
        self.processes: list[Any] = []
        self._senders: list[threading.Thread] = []  # per process: its sender thread
        self._receivers: list[threading.Thread] = []  # per process: its receiver thread
        self._room: list[threading.Semaphore] = []  # per process: tasks it may be sent
        self._closing = threading.Event()
        try:
            for index in range(processes - 1):
                ours, theirs = ctx.Pipe(duplex=True)
                self.conns.append(ours)
                process = ctx.Process(
                    target=pool_process.serve,
                    args=(theirs, dict(self.normalizer.options), self.normalizer.parser_backend),
                    name=f"{current.name}-pool-{index}",
                    daemon=True,
                )
                self.processes.append(process)
                sent: collections.deque[_Task] = collections.deque()  # in the order sent
                room = threading.Semaphore(TASKS_SENT)
                self._room.append(room)
                sender = threading.Thread(
                    target=self._send,
                    args=(index, ours, theirs, sent, room),
                    name=f"nbjobs-pool-sender-{index}",
                    daemon=True,
                )
                receiver = threading.Thread(
                    target=self._receive,
                    args=(index, ours, sent, room),
                    name=f"nbjobs-pool-receiver-{index}",
                    daemon=True,
                )
                sender.start()
                receiver.start()
                self._senders.append(sender)
                self._receivers.append(receiver)
        except BaseException:
            self.close()
            raise

    def map(self, batches: Iterator[list[pd.DataFrame]]) -> Iterator[PreparedBatch]:
        source = _Source(batches)
        ahead: collections.deque[tuple[Plan, list[pd.DataFrame], set[_Task]]]
        ahead = collections.deque()
        while True:
            while len(ahead) < LOOKAHEAD and (batch := source.next()) is not None:
                try:
                    plan = self.normalizer.plan(_concat(batch))
                except Exception as exc:  # reported after the batches before it, as a read error
                    source.error = exc
                    break
                ahead.append((plan, batch, self._submit(plan)))
            if not ahead:
                break
            plan, batch, awaited = ahead.popleft()
            self._collect(block=False)
            while not all(task.done for task in awaited):
                if not self._parse_one():
                    self._collect(block=True)
            self._check_alive()
            yield render(self.normalizer.finish(plan), batch, self.rendering)
        source.raise_error()

    def _submit(self, plan: Plan) -> set[_Task]:
        """Queue the values ``plan`` lacks; returns the tasks it has to wait for."""
        awaited: set[_Task] = set()
        for kind, values in plan.missing.items():
            in_flight = self._in_flight[kind]
            new = []
            for value in values:
                task = in_flight.get(value)
                if task is None:
                    new.append(value)
                elif task not in awaited:
                    awaited.add(task)
                    task.plans.append(plan)
            for start in range(0, len(new), TASK_VALUES):
                task = _Task(kind, new[start : start + TASK_VALUES], [plan])
                in_flight.update(dict.fromkeys(task.values, task))
                self._enqueue(task)
                awaited.add(task)
        return awaited

    def _enqueue(self, task: _Task) -> None:
        self._tasks.put(task)

    def _send(
        self,
        index: int,
        conn: Any,
        their_end: Any,
        sent: collections.deque[_Task],
        room: threading.Semaphore,
    ) -> None:
        """Pool process ``index``'s sender thread: starts the process, then sends it tasks from
        the queue, while it has room."""
        try:
            self.processes[index].start()
        except Exception as exc:  # the job fails as it would have failed to open the pool
            self._done.put(("error", exc))
            return
        finally:
            their_end.close()  # only the pool process holds its end: EOF when it exits
        while True:
            room.acquire()
            if self._closing.is_set() or (task := self._tasks.get()) is None:
                return
            sent.append(task)
            try:
                conn.send((task.kind, task.values))
            except (EOFError, OSError):
                self._done.put(("died", index))
                return

    def _receive(
        self, index: int, conn: Any, sent: collections.deque[_Task], room: threading.Semaphore
    ) -> None:
        """Pool process ``index``'s receiver thread: its results to ``_done``, in the order
        its tasks were sent."""
        while True:
            try:
                kind, payload = conn.recv()
            except (EOFError, OSError):
                self._done.put(("died", index))
                return
            if kind == "error":
                self._done.put(("error", payload))
                return
            self._done.put(("ok", sent.popleft(), payload))  # EncodedResults
            room.release()

    def _parse_one(self) -> bool:
        """Parse the next queued task here, if there is one (the senders take the others to
        the pool processes); whether there was."""
        try:
            task = self._tasks.get_nowait()
        except queue.Empty:
            return False
        if task is None:  # a sender's stop sign (only ``close`` sends them): it is for them
            self._tasks.put(None)
            return False
        self._resolved(task, self.normalizer.parse(task.kind, task.values))
        return True

    def _collect(self, block: bool) -> None:
        """Take in the results of the tasks done (waiting for one if ``block``)."""
        while True:
            try:
                reply = self._done.get(block=block)
            except queue.Empty:
                return
            block = False
            if reply[0] == "died":
                self._died(reply[1])
            if reply[0] == "error":
                raise reply[1]
            _, task, results = reply
            self._resolved(task, results)

    def _resolved(self, task: _Task, results: EncodedResults | Sequence[FieldResult]) -> None:
        """``task``'s values are parsed: their ``results`` to the batches waiting for them."""
        self.normalizer.resolve(task.plans, task.kind, task.values, results)
        in_flight = self._in_flight[task.kind]
        for value in task.values:
            del in_flight[value]
        task.done = True

    def _check_alive(self) -> None:
        """A pool process that died while it had nothing to do fails the job too: it was
        killed (by a person or the kernel's OOM killer), and the next task would find out."""
        for index, process in enumerate(self.processes):
            if process.exitcode is not None:
                self._died(index)

    def _died(self, index: int) -> NoReturn:
        process = self.processes[index]
        process.join(5)
        raise RuntimeError(
            f"a normalization process stopped unexpectedly (exit code {process.exitcode})"
        ) from None

    def close(self) -> None:
        """End the pool processes now (SIGTERM: they hold nothing), then their threads."""
        self._closing.set()
        for room in self._room:  # a sender waiting for room sees that it is closing
            self._tasks.put(None)  # one waiting for a task, its stop sign
            room.release()
        self._terminate_started()  # first: a sender may wait to write to its process
        for thread in self._senders:  # one still starting its process returns once it has
            thread.join(5)
        self._terminate_started()  # the processes started meanwhile
        for process in self.processes:
            if process.pid is not None:
                process.join(5)
        for thread in self._receivers:  # receivers see their process's EOF
            thread.join(5)
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.close()
        self.conns, self.processes, self._senders, self._receivers = [], [], [], []
        self._room = []

    def _terminate_started(self) -> None:
        for process in self.processes:
            if process.pid is not None and process.exitcode is None:
                process.terminate()


class _Task:
    """Values of one field type for a pool process; ``plans``: the batches waiting for them."""

    __slots__ = ("done", "kind", "plans", "values")

    def __init__(self, kind: str, values: list[str], plans: list[Plan]) -> None:
        self.kind, self.values, self.plans, self.done = kind, values, plans, False


def open_pool(
    normalizer: Normalizer, rendering: Rendering, processes: int
) -> InProcess | ChunkPool:
    """The pool of ``processes`` for a job that ``normalizer`` normalizes and ``rendering``
    writes."""
    if processes <= 1:
        return InProcess(normalizer, rendering)
    return ChunkPool(normalizer, rendering, processes)


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
