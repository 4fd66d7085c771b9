"""A job's work as Dask tasks, run in Dask worker processes (``server.dask_executor`` submits
them and assembles what they write).

``split_input`` reads the input once, exactly as the local job loop does (``iter_chunks`` in
``batches``), and writes it as parts of whole batches, each a file in the job's parts folder;
``normalize_part`` normalizes one part's batches with the job loop's own ``prepare`` and writes
the part's rendered rows. The server appends the parts to the outputs in input order
(``Outputs.append_part``), so a Dask job's outputs are byte-identical to the local executor's.

Both tasks report on the job's topic of Dask's event log (``Worker.log_event``, which the
server follows with ``Client.subscribe_topic``): ``started`` once the rows are counted,
``part`` as each part is written (the server submits its task at once, so normalizing starts
while the rest is still being read), ``progress`` within a part at most every
``PROGRESS_SECONDS``. They write only into the job's parts folder, each file under a temporary
name renamed into place, so a task that Dask reruns after its worker died writes the same
files again; they never create the folder, so a task still running after its job was cancelled
cannot bring back what the server removed.

A part's input file is a pickle of the chunks' DataFrames: the worker reads back exactly the
frames the local job loop would have normalized (dtypes and all), which an Arrow round trip
would not promise. It is written and read only inside the job's parts folder, next to the
job database on the storage the deployment trusts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import pickle
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pyarrow as pa

from ..exceptions import InputError, SpecError
from ..normalization import Normalizer, Summary, status_columns
from .chunk_pool import BATCH_ROWS, Rendering, batches, prepare
from .inputs import count_rows, inspect_input, iter_chunks
from .job import pause
from .settings import WorkerJob, WorkerSettings

__all__ = [
    "PROGRESS_SECONDS",
    "PartDone",
    "SplitDone",
    "TaskFailed",
    "normalize_part",
    "part_files",
    "read_tables",
    "split_input",
]

PROGRESS_SECONDS = 0.5  # at most this long between two progress events of a running part


@dataclasses.dataclass(frozen=True)
class SplitDone:
    """``split_input``'s result: the input, counted and written as ``parts`` parts."""

    total_rows: int
    parts: int
    valid_column: str


@dataclasses.dataclass(frozen=True)
class PartDone:
    """``normalize_part``'s result: rows and valid rows of each chunk; per batch, where its
    table is in the part's tables file and the table's ``nbytes`` (the Parquet output's row
    groups are cut by it); the CSV header; the summary."""

    index: int
    chunks: list[tuple[int, int]]
    tables: list[tuple[int, int, int]]  # (offset, length, nbytes) per batch
    header: bytes
    summary: Summary


@dataclasses.dataclass(frozen=True)
class TaskFailed:
    """The input or the spec is wrong, in words a person can act on (``InputError``,
    ``SpecError``); returned, not raised, so Dask does not take it for a lost worker."""

    message: str


def part_files(folder: str, index: int) -> dict[str, str]:
    """The files of part ``index``: its input and its three rendered outputs."""
    stem = os.path.join(folder, str(index))
    return {
        "input": f"{stem}.in.pickle",
        "csv": f"{stem}.csv",
        "invalid_csv": f"{stem}.invalid.csv",
        "tables": f"{stem}.tables.pickle",
    }


def split_input(
    job: WorkerJob,
    settings: WorkerSettings,
    folder: str,
    topic: str,
    part_rows: int,
    cancel_event: str,
) -> SplitDone | TaskFailed | None:
    """Count ``job``'s input, then write it into ``folder`` as parts of whole batches of at
    least ``part_rows`` rows; ``None`` if the job was cancelled meanwhile."""
    log = _EventLog(topic)
    cancelled = _Cancelled(cancel_event)
    try:
        info = inspect_input(job.input_path, job.input_format)
        total = info.total_rows
        if total is None:
            total = count_rows(job.input_path, job.input_format)
        # The spec's validity column, as the job loop names it; a bad spec fails here, once.
        spec = Normalizer(job.columns, job.options, cache_size=0).spec
        valid_column = status_columns(info.columns, spec).valid
        log.send({"kind": "started", "total": total, "validColumn": valid_column})
        # The job loop's batches: one chunk each when pausing after each (a demo).
        most = 1 if settings.chunk_delay else max(1, BATCH_ROWS // settings.chunk_size)
        chunks = iter_chunks(job.input_path, job.input_format, settings.chunk_size)
        parts = 0
        for part in _parts(batches(chunks, most), part_rows):
            if cancelled():
                return None
            _write_atomically(part_files(folder, parts)["input"], pickle.dumps(part, protocol=5))
            log.send({"kind": "part", "index": parts})
            parts += 1
        return SplitDone(total_rows=total, parts=parts, valid_column=valid_column)
    except (InputError, SpecError) as exc:
        return TaskFailed(exc.message)


def _parts(
    job_batches: Iterator[list[pd.DataFrame]], part_rows: int
) -> Iterator[list[list[pd.DataFrame]]]:
    """Consecutive batches, gathered until they hold ``part_rows`` rows."""
    part: list[list[pd.DataFrame]] = []
    rows = 0
    for batch in job_batches:
        part.append(batch)
        rows += sum(len(chunk) for chunk in batch)
        if rows >= part_rows:
            yield part
            part, rows = [], 0
    if part:
        yield part


def normalize_part(
    job: WorkerJob,
    settings: WorkerSettings,
    folder: str,
    topic: str,
    index: int,
    valid_column: str,
    cancel_event: str,
) -> PartDone | TaskFailed | None:
    """Normalize part ``index`` of ``job`` (``split_input`` wrote it) as the job loop would its
    batches, and write its rendered rows next to it; ``None`` if the job was cancelled."""
    log = _EventLog(topic)
    cancelled = _Cancelled(cancel_event)
    files = part_files(folder, index)
    with open(files["input"], "rb") as file:
        part: list[list[pd.DataFrame]] = pickle.load(file)
    try:
        normalizer = _normalizer(job, settings, topic)
    except SpecError as exc:
        return TaskFailed(exc.message)
    rendering = Rendering(valid_column, escape_formulas=settings.escape_formulas)
    main, invalid, tables_file = io.BytesIO(), io.BytesIO(), io.BytesIO()
    chunks: list[tuple[int, int]] = []
    tables: list[tuple[int, int, int]] = []
    summary = Summary()
    header = b""
    reported = time.monotonic()
    for batch in part:
        if cancelled():
            return None
        prepared = prepare(normalizer, batch, rendering)
        if not header:
            header = prepared.header(rendering)
        main.write(prepared.csv)
        invalid.write(prepared.invalid_csv)
        # Pickled, not as Arrow IPC: IPC drops the validity bitmap of a column without nulls,
        # and Parquet's writer then cuts its dictionary pages elsewhere (other bytes).
        data = pickle.dumps(prepared.table, protocol=5)
        tables.append((tables_file.tell(), len(data), prepared.table.nbytes))
        tables_file.write(data)
        summary += prepared.result.summary
        for chunk in prepared.chunks:
            chunks.append(chunk)
            if settings.chunk_delay:
                pause(settings.chunk_delay, cancelled)
            if settings.chunk_delay or time.monotonic() - reported >= PROGRESS_SECONDS:
                rows = sum(r for r, _ in chunks)
                log.send(
                    {
                        "kind": "progress",
                        "index": index,
                        "rows": rows,
                        "valid": sum(v for _, v in chunks),
                    }
                )
                reported = time.monotonic()
    if cancelled():
        return None
    for kind, buffer in (("csv", main), ("invalid_csv", invalid), ("tables", tables_file)):
        _write_atomically(files[kind], buffer.getbuffer())
    return PartDone(index, chunks, tables, header, summary)


def read_tables(part: PartDone, path: str) -> Iterator[tuple[pa.Table, int]]:
    """The tables of ``part``'s batches, read back from its tables file ``path``, each with
    its ``nbytes`` as made."""
    with open(path, "rb") as file:
        data = file.read()
    for offset, length, nbytes in part.tables:
        table: pa.Table = pickle.loads(data[offset : offset + length])
        yield table, nbytes


class _EventLog:
    """Events on the job's topic of Dask's event log (``Worker.log_event``)."""

    def __init__(self, topic: str) -> None:
        from distributed import get_worker

        self.worker = get_worker()
        self.topic = topic

    def send(self, message: dict[str, Any]) -> None:
        self.worker.log_event(self.topic, message)


class _Cancelled:
    """Whether the server set the job's cancel event (a ``distributed.Event``); asks the
    scheduler at most every ``PROGRESS_SECONDS``."""

    def __init__(self, name: str) -> None:
        from distributed import Event

        self.event = Event(name)
        self.checked = 0.0
        self.answer = False

    def __call__(self) -> bool:
        if not self.answer and time.monotonic() - self.checked >= PROGRESS_SECONDS:
            self.answer = self.event.is_set()
            self.checked = time.monotonic()
        return self.answer


# One normalizer per worker thread, for the job whose part it ran last: the parts of a job
# that land on the same thread share its cache of parsed values (cache_size, cache_bytes).
_THREAD = threading.local()


def _normalizer(job: WorkerJob, settings: WorkerSettings, topic: str) -> Normalizer:
    options = json.dumps([job.columns, job.options], sort_keys=True)
    key = (topic, options, settings.cache_size, settings.cache_bytes)
    cached = getattr(_THREAD, "normalizer", None)
    if cached is None or cached[0] != key:
        cached = (
            key,
            Normalizer(
                job.columns,
                job.options,
                cache_size=settings.cache_size,
                cache_bytes=settings.cache_bytes,
                parser_backend=settings.parser_backend,
            ),
        )
        _THREAD.normalizer = cached
    normalizer: Normalizer = cached[1]
    return normalizer


def _write_atomically(path: str, data: bytes | memoryview) -> None:
    """``data`` as ``path``, under a temporary name until whole; fails if the folder is gone."""
    folder = os.path.dirname(path)
    fd, temp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.tmp-", dir=folder)
    try:
        with open(fd, "wb") as file:
            file.write(data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
