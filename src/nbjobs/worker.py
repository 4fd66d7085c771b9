"""One job, run in a worker process: read chunk by chunk, normalize, append to temp outputs.

Nobody ever sees a half-written output, even after ``kill -9``: every output is appended to a
dot-named temp file in the output directory, which is fsynced and renamed into place only when
the whole input is done (the main CSV last, so its presence means all three are complete).
A worker holds an ``flock`` on each of its temp files, so at server start
``remove_stale_temp_files`` deletes exactly the temps whose worker died, and never those of a
job still running under another server that shares the directory.

Messages to the server (``report(kind, data)``), in order: ``started`` {totalRows}; after each
chunk ``progress`` {processedRows, validRows, invalidRows, totalRows}; then one of
``completed`` (+ outputPath, invalidPath, parquetPath, and ``summary``: the per-column counts,
``Summary.to_json()``), ``failed`` {errorMessage, counts} or
``cancelled`` {counts}.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import re
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .chunk_pool import BATCH_ROWS, PreparedBatch, batches, open_pool
from .exceptions import BadRequest
from .inputs import count_rows, inspect_input, iter_chunks
from .normalization import Normalizer, Summary, status_columns
from .normalization.engine import DEFAULT_CACHE_SIZE

Report = Callable[[str, dict[str, Any]], None]

# ".12.csv.tmp-k3j4", ".12.invalid.csv.tmp-…", ".12.parquet.tmp-…"
_TEMP_NAME = re.compile(r"\.\d+\..+\.tmp-[^/]*")


@dataclasses.dataclass(frozen=True)
class WorkerJob:
    """Everything a worker needs, picklable. ``chunk_delay``: seconds to pause after each
    chunk, so demos and tests can watch progress live (default 0). ``processes``: processes
    parsing the job's distinct values (``chunk_pool``); 1 normalizes in the worker itself, as
    does a job of at most ``pool_min_rows`` rows (default 20,000): starting a pool costs about a
    second, more than such a job takes alone. ``cache_size``: parsed values the job remembers
    per field type (``Normalizer``)."""

    job_id: int
    input_path: str
    input_format: str
    columns: dict[str, Any]
    options: dict[str, Any]
    chunk_size: int
    output_dir: str
    chunk_delay: float = 0.0
    processes: int = 1
    cache_size: int = DEFAULT_CACHE_SIZE
    pool_min_rows: int = 20_000


class _ReportFailed(Exception):
    """``report`` raised: the server cannot hear us any more, so stop without reporting."""


@dataclasses.dataclass
class _Counts:
    processed: int = 0
    valid: int = 0
    invalid: int = 0

    def as_message(self) -> dict[str, int]:
        return {
            "processedRows": self.processed,
            "validRows": self.valid,
            "invalidRows": self.invalid,
        }


def process(job: WorkerJob, report: Report, cancelled: Callable[[], bool]) -> None:
    """Run ``job`` to the end, reporting as it goes; never raises for a failing job."""

    def send(kind: str, data: dict[str, Any]) -> None:
        try:
            report(kind, data)
        except Exception as exc:  # not SystemExit: SIGTERM may land during a send
            raise _ReportFailed from exc

    counts = _Counts()
    outputs = _Outputs(job)
    try:
        info = inspect_input(job.input_path, job.input_format)
        total = info.total_rows
        if total is None:
            total = count_rows(job.input_path, job.input_format)
        send("started", {"totalRows": total})
        normalizer = Normalizer(job.columns, job.options)  # a bad spec fails here, not in a pool
        # The engine's validity column: "_valid", or "_valid_1" if the input has a "_valid".
        valid_column = status_columns(info.columns, normalizer.spec).valid
        summary = Summary()  # per-column counts, summed over the chunks
        # No more processes than chunks, and none for a small job.
        processes = min(job.processes, -(-total // job.chunk_size))
        if total <= job.pool_min_rows:
            processes = 1
        pool = open_pool(job.columns, job.options, valid_column, processes, job.cache_size)
        # Chunks one by one when pausing after each (a demo); else in batches (chunk_pool).
        most = 1 if job.chunk_delay else max(1, BATCH_ROWS // job.chunk_size)
        stopped = False
        try:
            chunks = iter_chunks(job.input_path, job.input_format, job.chunk_size)
            for prepared in pool.map(batches(chunks, most)):
                if stopped := cancelled():
                    break
                result = prepared.result
                outputs.append(prepared)
                summary += result.summary
                for rows, valid in prepared.chunks:
                    if stopped := cancelled():
                        break
                    counts.processed += rows
                    counts.valid += valid
                    counts.invalid += rows - valid
                    send("progress", {**counts.as_message(), "totalRows": total})
                    _pause(job.chunk_delay, cancelled)
                if stopped:
                    break
        finally:
            pool.close()
        if stopped or cancelled():
            outputs.discard()
            send("cancelled", counts.as_message())
            return
        paths = outputs.commit()
        send(
            "completed",
            {**counts.as_message(), "totalRows": total, **paths, "summary": summary.to_json()},
        )
    except _ReportFailed:
        raise
    except BadRequest as exc:  # InputError, SpecError: the user can act on the message
        outputs.discard()
        send("failed", {"errorMessage": exc.message, **counts.as_message()})
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        outputs.discard()
        message = f"Internal error while normalizing ({type(exc).__name__}: {exc})"
        send("failed", {"errorMessage": message, **counts.as_message()})
    finally:
        outputs.discard()  # a no-op once committed


def run_in_subprocess(job: WorkerJob, conn: Any, cancel_event: Any) -> None:
    """Target of the worker ``Process``: ``process`` with the pipe and event of the runner."""
    # Ctrl+C in the server's terminal reaches the whole process group; the server decides
    # what happens to its workers. SIGTERM (runner.stop) unwinds so temp files are removed.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        process(job, lambda kind, data: conn.send((kind, data)), cancel_event.is_set)
    except _ReportFailed as exc:
        if not isinstance(exc.__cause__, OSError):  # BrokenPipeError: the server is gone
            raise
    finally:
        with contextlib.suppress(OSError):
            conn.close()


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _pause(seconds: float, cancelled: Callable[[], bool]) -> None:
    deadline = time.monotonic() + seconds
    while not cancelled() and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.05))


def remove_stale_temp_files(output_dir: str) -> int:
    """Delete temp outputs left by killed workers; returns how many. Temps whose worker is
    alive (it holds their lock) are left alone."""
    removed = 0
    try:
        entries = list(os.scandir(output_dir))
    except FileNotFoundError:
        return 0
    for entry in entries:
        if not _TEMP_NAME.fullmatch(entry.name) or not entry.is_file(follow_symlinks=False):
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            os.unlink(entry.path)
            removed += 1
        except FileNotFoundError:  # removed by another server starting at the same time
            pass
        finally:
            os.close(fd)
    return removed


# -- outputs -----------------------------------------------------------------------------------


class _TempFile:
    """A locked dot-temp file in ``output_dir`` that becomes ``final`` on ``publish``."""

    def __init__(self, output_dir: str, job_id: int, kind: str) -> None:
        self.final = os.path.join(output_dir, f"{job_id}.{kind}")
        while True:
            fd, self.path = tempfile.mkstemp(prefix=f".{job_id}.{kind}.tmp-", dir=output_dir)
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_nlink:
                break
            # remove_stale_temp_files took it for a dead worker's before we locked it.
            os.close(fd)
        self.fd = fd

    def publish(self) -> None:
        os.fsync(self.fd)
        os.replace(self.path, self.final)
        self.close()

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self.close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # releases the lock
            self.fd = -1


class _CsvOutput:
    def __init__(self, output_dir: str, job_id: int, kind: str) -> None:
        self.temp = _TempFile(output_dir, job_id, kind)
        # closefd=False: the temp keeps the descriptor (and its lock) until published.
        self.file = open(self.temp.fd, "wb", closefd=False)  # noqa: SIM115

    def append(self, text: bytes) -> None:
        self.file.write(text)

    def publish(self) -> None:
        self.file.close()  # flushes
        self.temp.publish()

    def discard(self) -> None:
        try:
            self.file.close()  # flushes, which fails again on a full disk: the temp goes anyway
        except OSError:
            pass
        finally:
            self.temp.discard()


class _ParquetOutput:
    """One Parquet file written chunk by chunk. Chunks are cast to the first one's schema (a
    column that is all-null in one chunk must not change type) and gathered into row groups
    of up to ``ROW_GROUP_ROWS`` rows or ``ROW_GROUP_BYTES``: a row group per 1000-row chunk
    would make the file slow to read. The pending rows are the worker's largest buffer: 16 MB
    (about 20,000 rows of a six-type output) keeps its memory well below 64 MB groups' (measured
    in benchmarks/README.md)."""

    ROW_GROUP_ROWS = 100_000
    ROW_GROUP_BYTES = 16 << 20

    def __init__(self, output_dir: str, job_id: int, first: pa.Table) -> None:
        self.temp = _TempFile(output_dir, job_id, "parquet")
        self.schema = first.schema
        # No min/max statistics for text columns: they cost a fifth of the writing (measured,
        # benchmarks/README.md), and over rows in input order they let no reader skip a row
        # group. Booleans keep theirs: the invalid rows' download filters on the valid column.
        not_text = [
            field.name
            for field in self.schema
            if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type))
        ]
        self.writer = pq.ParquetWriter(self.temp.path, self.schema, write_statistics=not_text)
        self.pending: list[pa.Table] = []
        self.pending_rows = self.pending_bytes = 0

    def append(self, table: pa.Table) -> None:
        if not table.schema.equals(self.schema, check_metadata=False):
            table = table.cast(self.schema)
        self.pending.append(table)
        self.pending_rows += table.num_rows
        self.pending_bytes += table.nbytes  # nbytes walks every buffer: once per table
        if self.pending_rows >= self.ROW_GROUP_ROWS or self.pending_bytes >= self.ROW_GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            table = pa.concat_tables(self.pending)
            self.writer.write_table(table, row_group_size=max(table.num_rows, 1))
            self.pending = []
            self.pending_rows = self.pending_bytes = 0

    def publish(self) -> None:
        self._flush()
        self.writer.close()
        self.temp.publish()  # fsyncs: pyarrow wrote through its own handle to the same file

    def discard(self) -> None:
        self.pending = []
        self.writer.close()
        self.temp.discard()


class _Outputs:
    """The three outputs of a job: ``{id}.csv``, ``{id}.invalid.csv``, ``{id}.parquet``."""

    def __init__(self, job: WorkerJob) -> None:
        self.job = job
        self.files: list[Any] = []  # created with the first chunk; the main CSV is last

    def append(self, chunk: PreparedBatch) -> None:
        if not self.files:
            self._open(chunk)
        parquet, invalid, main = self.files
        main.append(chunk.csv)
        invalid.append(chunk.invalid_csv)
        parquet.append(chunk.table)

    def _open(self, first: PreparedBatch) -> None:
        directory, job_id = self.job.output_dir, self.job.job_id
        os.makedirs(directory, exist_ok=True)
        try:
            self.files.append(_ParquetOutput(directory, job_id, first.table))
            self.files.append(_CsvOutput(directory, job_id, "invalid.csv"))
            self.files.append(_CsvOutput(directory, job_id, "csv"))
        except BaseException:
            self.discard()
            raise
        header = first.header()
        for output in self.files[1:]:
            output.append(header)

    def commit(self) -> dict[str, str]:
        """Publish every output (the main CSV last) and return their paths for the report."""
        if not self.files:
            raise RuntimeError("no rows were written")
        for output in self.files:
            output.publish()
        parquet, invalid, main = (output.temp.final for output in self.files)
        self.files = []
        _fsync_dir(self.job.output_dir)
        return {"outputPath": main, "invalidPath": invalid, "parquetPath": parquet}

    def discard(self) -> None:
        files, self.files = self.files, []
        for output in files:
            try:
                output.discard()
            except Exception:  # cleaning up after another error: keep the first one
                traceback.print_exc(file=sys.stderr)


def _fsync_dir(path: str) -> None:
    """Make the renames durable: they live in the directory's entries."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
