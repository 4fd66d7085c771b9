"""A job's three outputs, written so that nobody ever sees one half-written, even after
``kill -9``.

Every output is appended to a dot-named temp file in the output directory, which is fsynced and
renamed into place only when the whole input is done (the main CSV last, so its presence means
all three are complete). A worker holds an ``flock`` on each of its temp files, so at server
start ``remove_stale_temp_files`` deletes exactly the temps whose worker died, and never those
of a job still running under another server that shares the directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import sys
import tempfile
import traceback
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .chunk_pool import PreparedBatch, Rendering

__all__ = ["OUTPUT_KINDS", "Outputs", "remove_outputs", "remove_stale_temp_files"]

# The files a job publishes, "{job id}.{kind}", in the order they are renamed into place.
OUTPUT_KINDS = ("parquet", "invalid.csv", "csv")
COPY_BYTES = 4 << 20  # read size when a part's rows are appended (``Outputs.append_part``)

# ".12.csv.tmp-k3j4", ".12.invalid.csv.tmp-…", ".12.parquet.tmp-…"
_TEMP_NAME = re.compile(r"\.\d+\..+\.tmp-[^/]*")


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


def remove_outputs(output_dir: str, job_id: int) -> list[str]:
    """Remove the published outputs of ``job_id`` (not its temps: see
    ``remove_stale_temp_files``); returns the names removed."""
    removed = []
    for kind in OUTPUT_KINDS:
        name = f"{job_id}.{kind}"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(output_dir, name))
            removed.append(name)
    return removed


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

    def append_file(self, path: str) -> None:
        with open(path, "rb") as source:
            shutil.copyfileobj(source, self.file, COPY_BYTES)

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

    def append(self, table: pa.Table, nbytes: int | None = None) -> None:
        """``table``'s rows; ``nbytes``: its size as made, if it was read back since."""
        if nbytes is None:
            nbytes = table.nbytes  # walks every buffer: once per table
        if not table.schema.equals(self.schema, check_metadata=False):
            table = table.cast(self.schema)
        self.pending.append(table)
        self.pending_rows += table.num_rows
        self.pending_bytes += nbytes
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
        try:
            self.writer.close()  # writes the footer, which fails again on a full disk...
        except OSError:
            pass
        finally:
            self.temp.discard()  # ...and the temp goes anyway


class Outputs:
    """The three outputs of a job: ``{id}.csv``, ``{id}.invalid.csv``, ``{id}.parquet``."""

    def __init__(self, output_dir: str, job_id: int) -> None:
        self.output_dir, self.job_id = output_dir, job_id
        self.files: list[Any] = []  # created with the first chunk; the main CSV is last

    def append(self, chunk: PreparedBatch, rendering: Rendering) -> None:
        if not self.files:
            self._open(chunk.table, chunk.header(rendering))
        parquet, invalid, main = self.files
        main.append(chunk.csv)
        invalid.append(chunk.invalid_csv)
        parquet.append(chunk.table)

    def append_part(
        self,
        header: bytes,
        csv_path: str,
        invalid_csv_path: str,
        tables: Iterable[tuple[pa.Table, int]],
    ) -> None:
        """A part that was normalized elsewhere (``dask_tasks.normalize_part``): its CSV rows
        (no header) appended as they are, and its batches' tables, each with the ``nbytes`` it
        had when made, so the Parquet row groups are cut exactly where the job loop cuts them."""
        for table, nbytes in tables:
            if not self.files:
                self._open(table, header)
            self.files[0].append(table, nbytes)
        _, invalid, main = self.files
        main.append_file(csv_path)
        invalid.append_file(invalid_csv_path)

    def _open(self, first_table: pa.Table, header: bytes) -> None:
        directory, job_id = self.output_dir, self.job_id
        os.makedirs(directory, exist_ok=True)
        try:
            self.files.append(_ParquetOutput(directory, job_id, first_table))
            self.files.append(_CsvOutput(directory, job_id, "invalid.csv"))
            self.files.append(_CsvOutput(directory, job_id, "csv"))
        except BaseException:
            self.discard()
            raise
        for output in self.files[1:]:
            output.append(header)

    def commit(self) -> dict[str, str]:
        """Publish every output (the main CSV last); their paths, as ``Completed`` names them."""
        if not self.files:
            raise RuntimeError("no rows were written")
        for output in self.files:
            output.publish()
        parquet, invalid, main = (output.temp.final for output in self.files)
        self.files = []
        _fsync_dir(self.output_dir)
        return {"output_path": main, "invalid_path": invalid, "parquet_path": parquet}

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
