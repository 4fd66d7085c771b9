"""Reading job inputs (CSV, Arrow IPC, Parquet) chunk by chunk, with errors a user can act on.

Memory follows the chunk size, never the file size: CSV is parsed by pyarrow's streaming
reader one block at a time, Arrow IPC is memory-mapped and Parquet is read batch by batch.
Every CSV column is read as text: "00501" stays "00501", a missing field is "". The delimiter
is read off the header line: a comma, or else ";", tab or "|" (European spreadsheets save
"CSV" with semicolons). A value with bytes that are not UTF-8 is read with U+FFFD in their place
(Python's "replace"), which the engine reports as that value's reason (``not_utf8``) instead of
failing the whole job; a header that is not UTF-8 is an error, as its names are the spec's.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import csv
import dataclasses
import io
import json
import os
import re
import threading
import typing
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from ..exceptions import InputError

__all__ = [
    "InputInfo",
    "count_rows",
    "format_for",
    "inspect_input",
    "iter_chunks",
    "sniff_delimiter",
]

# One CSV block must hold a whole row, and a reader's memory follows its block size (about 15
# blocks' worth at its peak: pyarrow's parsing and prefetch, the text columns, the converted
# chunks; 240 MB at 16 MiB, 60 MB at 1 MiB, benchmarks/README.md). So a CSV is read in blocks of
# CSV_FIRST_BLOCK_SIZE, and a row larger than that (a field of a few MB) has the file read again
# with blocks 4 times larger, up to CSV_BLOCK_SIZE, past the rows already read.
CSV_FIRST_BLOCK_SIZE = 1 << 20
CSV_BLOCK_SIZE = 16 << 20
CONVERT_ROWS = 10_000  # rows converted to pandas at a time (see _rechunk)

_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".arrow": "arrow",
    ".arrows": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_MEDIA_TYPES = {
    "text/csv": "csv",
    "application/csv": "csv",
    "text/plain": "csv",
    "application/vnd.apache.arrow.stream": "arrow",
    "application/vnd.apache.arrow.file": "arrow",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
}
ACCEPTED = "CSV (.csv, .tsv), Arrow IPC (.arrow, .feather) or Parquet (.parquet)"

# Columns pandas adds for an unnamed index; they are not data the user asked to normalize.
_PANDAS_INDEX = re.compile(r"__index_level_\d+__")


@dataclasses.dataclass
class InputInfo:
    columns: list[str]
    total_rows: int | None  # known cheaply for Arrow and Parquet; None for CSV


def format_for(filename: str, content_type: str | None) -> str:
    """The input format from the file name, else from the media type."""
    extension = os.path.splitext(filename.lower())[1]
    if extension in _EXTENSIONS:
        return _EXTENSIONS[extension]
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type in _MEDIA_TYPES:
        return _MEDIA_TYPES[media_type]
    raise InputError(f'Cannot read "{os.path.basename(filename)}": send {ACCEPTED}.')


def inspect_input(path: str, fmt: str) -> InputInfo:
    """Column names and, where cheap, the row count; of a CSV reads only the first block."""
    _check_not_empty(path)
    if fmt == "csv":
        _check_plain_text(path)
        with _csv_errors(path), _CsvStream(path) as stream:
            if not any(batch.num_rows for batch in stream):  # stops at the first rows
                raise InputError("The file has a header row but no data rows.")
            return InputInfo(columns=stream.names, total_rows=None)
    table = _open_table(path, fmt)
    if table.num_rows == 0:
        raise InputError("The table in the file has no rows.")
    return InputInfo(columns=table.columns, total_rows=table.num_rows)


def count_rows(path: str, fmt: str) -> int:
    """Data rows in the file; for CSV a full streaming pass (right with quoted newlines)."""
    _check_not_empty(path)
    if fmt == "csv":
        with _csv_errors(path):
            with _CsvStream(path) as stream:
                first = stream.names[0]
            # Converting one column is enough to count; the parser still checks every row.
            with _CsvStream(path, only_column=first) as stream:
                return sum(batch.num_rows for batch in stream)
    return _open_table(path, fmt).num_rows


def iter_chunks(path: str, fmt: str, chunk_size: int) -> Iterator[pd.DataFrame]:
    """DataFrames of exactly ``chunk_size`` rows (the last may be shorter), in file order.

    The index runs on across chunks (0, 1, 2, ... over the whole file).
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    _check_not_empty(path)
    if fmt == "csv":
        with _csv_errors(path), _CsvStream(path) as stream:
            yield from _rechunk(stream, chunk_size, pa.Table.to_pandas)
        return
    table = _open_table(path, fmt)
    yield from _rechunk(table.batches(chunk_size), chunk_size, table.to_pandas)


# -- re-chunking -------------------------------------------------------------------------------


def _rechunk(
    batches: Iterable[pa.RecordBatch],
    chunk_size: int,
    to_pandas: Callable[[pa.Table], pd.DataFrame],
) -> Iterator[pd.DataFrame]:
    """Record batches of any size -> DataFrames of exactly ``chunk_size`` rows."""
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    offset = 0

    def emit(table: pa.Table) -> pd.DataFrame:
        nonlocal offset
        frame = to_pandas(table)
        frame.index = pd.RangeIndex(offset, offset + len(frame))
        offset += len(frame)
        return frame

    for batch in batches:
        if not batch.num_rows:
            continue
        pending.append(batch)
        pending_rows += batch.num_rows
        if pending_rows < chunk_size:
            continue
        table = pa.Table.from_batches(pending)
        whole = pending_rows - pending_rows % chunk_size
        # Chunks are converted a group at a time, each a slice of its group's DataFrame: a
        # conversion costs ~0.4 ms whatever its size (0.4 s a million rows chunk by chunk);
        # a group of at most CONVERT_ROWS keeps what is converted ahead small.
        group = chunk_size * max(1, CONVERT_ROWS // chunk_size)
        for first in range(0, whole, group):
            frame = emit(table.slice(first, min(group, whole - first)))
            for start in range(0, len(frame), chunk_size):
                yield frame.iloc[start : start + chunk_size]
        rest = table.slice(whole)
        pending, pending_rows = rest.to_batches(), rest.num_rows
    if pending_rows:
        yield emit(pa.Table.from_batches(pending))


# -- Arrow IPC and Parquet ---------------------------------------------------------------------


class _Table:
    """An Arrow IPC (file or stream format) or Parquet file as a sequence of record batches.

    Its pandas metadata is kept, so nullable and categorical dtypes survive, but a pandas
    index becomes a plain column (or is dropped if unnamed): a job reads and writes columns.
    """

    def __init__(self, path: str, fmt: str) -> None:
        self.path, self.fmt = path, fmt
        self._ipc_file: pa.ipc.RecordBatchFileReader | None = None
        if fmt == "parquet":
            self._parquet = pq.ParquetFile(path, memory_map=True)
            schema = self._parquet.schema_arrow
            self.num_rows: int = self._parquet.metadata.num_rows
        else:
            try:
                self._ipc_file = pa.ipc.open_file(pa.memory_map(path))
                schema = self._ipc_file.schema
                batches = (
                    self._ipc_file.get_batch(i) for i in range(self._ipc_file.num_record_batches)
                )
                self.num_rows = sum(batch.num_rows for batch in batches)
            except pa.ArrowInvalid:  # no file footer: the stream format
                stream = pa.ipc.open_stream(pa.memory_map(path))
                schema = stream.schema
                # Batches of a memory-mapped stream are not copied: counting is cheap.
                self.num_rows = sum(batch.num_rows for batch in stream)
        self.columns = [name for name in schema.names if not _PANDAS_INDEX.fullmatch(name)]
        _check_header(self.columns)
        self._metadata = _plain_pandas_metadata(schema, self.columns)

    def batches(self, batch_size: int) -> Iterator[pa.RecordBatch]:
        if self.fmt == "parquet":
            yield from self._parquet.iter_batches(
                batch_size=batch_size, columns=self.columns, use_pandas_metadata=False
            )
        elif self._ipc_file is not None:
            for i in range(self._ipc_file.num_record_batches):
                yield self._ipc_file.get_batch(i).select(self.columns)
        else:
            for batch in pa.ipc.open_stream(pa.memory_map(self.path)):
                yield batch.select(self.columns)

    def to_pandas(self, chunk: pa.Table) -> pd.DataFrame:
        return chunk.replace_schema_metadata(self._metadata).to_pandas()


def _plain_pandas_metadata(schema: pa.Schema, columns: list[str]) -> dict[bytes, bytes]:
    """The schema metadata with pandas' index entries removed."""
    metadata = dict(schema.metadata or {})
    if b"pandas" in metadata:
        pandas_meta = json.loads(metadata[b"pandas"])
        pandas_meta["index_columns"] = []
        pandas_meta["columns"] = [
            entry for entry in pandas_meta.get("columns", []) if entry.get("field_name") in columns
        ]
        metadata[b"pandas"] = json.dumps(pandas_meta).encode()
    return metadata


def _open_table(path: str, fmt: str) -> _Table:
    if fmt not in ("arrow", "parquet"):
        raise InputError(f"Unknown input format {fmt!r}: send {ACCEPTED}.")
    kind = "an Arrow IPC" if fmt == "arrow" else "a Parquet"
    try:
        return _Table(path, fmt)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(
            f"The file is not {kind} file nbjobs can read ({_first_line(exc)})."
        ) from None


# -- CSV -------------------------------------------------------------------------------------


class _CsvStream:
    """pyarrow's streaming CSV reader with every column as text, reading through a
    :class:`_Throttle`, in blocks that grow when a row does not fit (``CSV_FIRST_BLOCK_SIZE``).
    Opening it reads the first block and checks the header."""

    def __init__(self, path: str, *, only_column: str | None = None) -> None:
        self._path, self._only_column = path, only_column
        self._delimiter = sniff_delimiter(path)
        self._block_size = CSV_FIRST_BLOCK_SIZE
        self._open()
        if only_column is None:
            _check_header(self.names)

    def _open(self) -> None:
        """Open the reader at the file's start, with blocks larger until the first fits."""
        while True:
            self._source = _Throttle(self._path)
            try:
                self._reader = pa_csv.open_csv(
                    typing.cast("IO[bytes]", self._source),  # a RawIOBase, which open_csv reads
                    read_options=pa_csv.ReadOptions(block_size=self._block_size),
                    # newlines_in_values: a quoted field may span lines (addresses, notes).
                    parse_options=pa_csv.ParseOptions(
                        delimiter=self._delimiter, newlines_in_values=True
                    ),
                    # pyarrow-stubs 20 lack default_column_type (pyarrow has it since 15).
                    convert_options=pa_csv.ConvertOptions(  # type: ignore[call-arg]
                        # Bytes, decoded by _as_text: Arrow's own UTF-8 check fails the read.
                        default_column_type=pa.binary(),
                        strings_can_be_null=False,
                        include_columns=[self._only_column] if self._only_column else [],
                    ),
                )
                self.names: list[str] = self._reader.schema.names
                return
            except pa.ArrowInvalid as exc:
                self._source.close()
                if not self._grow(exc):
                    raise
            except BaseException:
                self._source.close()
                raise

    def _grow(self, exc: pa.ArrowInvalid) -> bool:
        """Whether ``exc`` says a row did not fit in a block, and blocks may grow still (then
        they did)."""
        if "straddling" not in str(exc) or self._block_size >= CSV_BLOCK_SIZE:
            return False
        self._block_size = min(self._block_size * 4, CSV_BLOCK_SIZE)
        return True

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        delivered = skip = 0  # rows handed out; rows to pass over after reading again
        while True:
            self._source.consumer_waiting(True)
            try:
                batch = self._reader.read_next_batch()
            except StopIteration:
                return
            except pa.ArrowInvalid as exc:
                if not self._grow(exc):
                    raise
                self._source.close()
                self._open()  # from the start again, with larger blocks
                skip = delivered
                continue
            finally:
                self._source.consumer_waiting(False)
            self._source.delivered()
            if skip >= batch.num_rows:
                skip -= batch.num_rows
                continue
            if skip:
                batch, skip = batch.slice(skip), 0
            delivered += batch.num_rows
            yield _as_text(batch)

    def __enter__(self) -> _CsvStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._source.close()


def _as_text(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The batch's byte columns as UTF-8 text; the bytes of a value that are not UTF-8 become
    U+FFFD. Casting checks the UTF-8 and copies nothing; only a column where that fails (a
    file saved in another encoding) is decoded value by value."""
    columns = []
    for column in batch.columns:
        try:
            columns.append(column.cast(pa.string()))
        except pa.ArrowInvalid:
            texts = [v if v is None else v.decode("utf-8", "replace") for v in column.to_pylist()]
            columns.append(pa.array(texts, pa.string()))
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


class _Throttle(io.RawIOBase):
    """The CSV file as pyarrow reads it, a bounded number of blocks ahead of the consumer.

    pyarrow's streaming reader prefetches up to 32 blocks on a background thread (512 MiB
    at 16 MiB a block) whatever the chunk size. Batch k needs blocks 0..k plus, at the end,
    one read that finds the end of the file, so ``AHEAD`` blocks beyond that are allowed.
    Should pyarrow ever need more while the consumer waits for a batch, a read is let
    through after a second rather than waiting forever.
    """

    AHEAD = 1

    def __init__(self, path: str) -> None:
        super().__init__()
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115  # closed by close()
        self._state = threading.Condition()
        self._io = threading.Lock()
        self._reads = 0
        self._delivered = 0
        self._waiting = True  # open_csv waits for the first block
        self._stopped = False

    def readable(self) -> bool:
        return True

    def consumer_waiting(self, waiting: bool) -> None:
        with self._state:
            self._waiting = waiting

    def delivered(self) -> None:
        with self._state:
            self._delivered += 1
            self._state.notify_all()

    def readinto(self, buffer: Any) -> int:
        with self._state:
            while not self._stopped and self._reads > self._delivered + self.AHEAD:
                if not self._state.wait(timeout=1.0) and self._waiting:
                    break
            if self._stopped:
                return 0  # end of file for a reader nobody listens to any more
            self._reads += 1
        with self._io:
            return 0 if self._file.closed else self._file.readinto(buffer)

    def close(self) -> None:
        with self._state:
            self._stopped = True
            self._state.notify_all()
        with self._io:
            self._file.close()
        super().close()


@contextlib.contextmanager
def _csv_errors(path: str) -> Iterator[None]:
    """pyarrow's CSV errors -> InputError naming the row to fix; no traceback for the user."""
    try:
        yield
    except UnicodeDecodeError:  # in the header, which pyarrow decodes in Python
        raise InputError(_utf8_message(path)) from None
    except pa.ArrowInvalid as exc:
        raise InputError(_csv_message(path, str(exc))) from None
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"The CSV file cannot be read ({_first_line(exc)}).") from None


def _utf8_message(path: str) -> str:
    """Where the header is not UTF-8: its first such byte (Python's error names the byte
    within the line pyarrow decoded, not within the file)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0  # bytes fed to the decoder so far
    with open(path, "rb") as file:
        while True:
            block = file.read(1 << 20)
            pending = decoder.getstate()[0]  # an incomplete character from the last block
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                return _not_utf8(exc.object[exc.start], offset - len(pending) + exc.start)
            if not block:
                break
            offset += len(block)
    return "The header row is not UTF-8 text. Save the file as UTF-8 and submit it again."


def _not_utf8(byte: int, position: int) -> str:
    return (
        f"The header row is not UTF-8 text (invalid byte 0x{byte:02x} near byte {position}). "
        "Save the file as UTF-8 and submit it again."
    )


def _csv_message(path: str, arrow_message: str) -> str:
    if "Empty CSV file" in arrow_message:
        return "The file is empty."
    found = _find_malformed_row(path)
    if found:
        return found
    if "straddling" in arrow_message:
        return _too_large(None)
    match = re.search(r"Expected (\d+) columns, got (\d+): (.*)", arrow_message, re.S)
    if match:
        expected, got, text = match.groups()
        return (
            f"Malformed CSV: expected {expected} fields, found {got} in the row starting "
            f"{text.splitlines()[0][:60]!r}."
        )
    return f"Malformed CSV: {_first_line(arrow_message)}"


def _too_large(line: int | None) -> str:
    where = f"at line {line}" if line else "in the file"
    return (
        f"Malformed CSV: a row {where} is larger than {CSV_BLOCK_SIZE >> 20} MiB, the most "
        "nbjobs reads at once. Check for a quote that is never closed."
    )


_DELIMITERS = ",;\t|"


def sniff_delimiter(path: str) -> str:
    """The header line's delimiter: "," if it has one outside quotes, else the most frequent
    of ";", tab and "|", else "," (a one-column file). The header decides because data rows
    hold free text; a header with no comma but semicolons is a semicolon file."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as file:
        line = file.readline(1 << 16)
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    if counts[","]:
        return ","
    best = max(_DELIMITERS[1:], key=counts.__getitem__)
    return best if counts[best] else ","


def _find_malformed_row(path: str) -> str | None:
    """The first row pyarrow would reject, with its row and line numbers.

    Python's csv module parses like pyarrow (RFC 4180, lenient about stray quotes) but knows
    line numbers. This runs only after pyarrow failed; memory stays bounded by the block size.
    """
    limit = CSV_BLOCK_SIZE
    record_chars = 0  # characters of the record being parsed
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as file:

        def lines() -> Iterator[str]:
            nonlocal record_chars
            while line := file.readline(limit):
                record_chars += len(line)
                if record_chars >= limit:
                    raise _RowTooLarge
                yield line

        reader = csv.reader(lines(), delimiter=sniff_delimiter(path))
        saved_limit = csv.field_size_limit(limit)
        line_end = 0  # the last line of the previous record
        try:
            header = next(reader, None)
            expected, row, line_end, record_chars = len(header or ()), 0, reader.line_num, 0
            for fields in reader:
                start, line_end, record_chars = line_end + 1, reader.line_num, 0
                if not fields:
                    continue  # a blank line, skipped by pyarrow too
                row += 1
                if len(fields) != expected:
                    where = f"Malformed CSV at row {row} (line {start})"
                    if reader.line_num > start and next(reader, None) is None:
                        return f"{where}: a quoted field that starts there is never closed."
                    return f"{where}: expected {expected} fields, found {len(fields)}."
        except (_RowTooLarge, csv.Error):  # csv.Error: a field over the limit
            return _too_large(line_end + 1)
        finally:
            csv.field_size_limit(saved_limit)
    return None


class _RowTooLarge(Exception):
    pass


# -- shared checks -----------------------------------------------------------------------------


def _check_not_empty(path: str) -> None:
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise InputError(f"The input file cannot be opened ({exc.strerror}).") from None
    if size == 0:
        raise InputError("The file is empty.")


# The first bytes of compressed files that are sometimes named .csv.
_COMPRESSED = {
    b"\x1f\x8b": "gzip-compressed",
    b"PK\x03\x04": "a zip archive",
    b"BZh": "bzip2-compressed",
    b"\xfd7zXZ\x00": "xz-compressed",
    b"\x28\xb5\x2f\xfd": "zstd-compressed",
}


def _check_plain_text(path: str) -> None:
    """Refuse what is not UTF-8 text at all, with what it is instead."""
    with open(path, "rb") as handle:
        start = handle.read(8)
    for magic, what in _COMPRESSED.items():
        if start.startswith(magic):
            raise InputError(
                f"The file is {what}, not CSV text. Extract the CSV file and submit that."
            )
    # Excel's "Unicode text" export is UTF-16; parsed as UTF-8 it looks like one odd column.
    if start[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(start) >= 4 and start[1:4:2] == b"\0\0"):
        raise InputError(
            "The file is UTF-16 text, not UTF-8. Save it as UTF-8 (CSV UTF-8) and submit it again."
        )


# Wider tables are refused: every column becomes an output column, and a header of this many
# names is a file that is not a table (or a table no spreadsheet opens).
MAX_COLUMNS = 10_000


def _check_header(names: list[str]) -> None:
    if len(names) > MAX_COLUMNS:
        raise InputError(
            f"The file has {len(names):,} columns; nbjobs reads at most {MAX_COLUMNS:,}. "
            "Keep the columns to normalize (and the ones to carry along) and submit it again."
        )
    blank = [str(i + 1) for i, name in enumerate(names) if not str(name).strip()]
    if blank:
        raise InputError(
            f"The header has blank column names (column {', '.join(blank)}). "
            "Name every column and submit it again."
        )
    counts = collections.Counter(names)
    duplicates = [f'"{name}"' for name, count in counts.items() if count > 1]
    if duplicates:
        raise InputError(
            f"The header has duplicate column names: {', '.join(duplicates)}. "
            "Give each column a unique name and submit it again."
        )


def _first_line(exc: BaseException | str) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
