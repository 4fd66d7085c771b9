"""Reading inputs: formats, streaming chunks, and every error message a user can get."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nbjobs.exceptions import InputError
from nbjobs.worker.inputs import (
    CSV_BLOCK_SIZE,
    CSV_FIRST_BLOCK_SIZE,
    InputInfo,
    count_rows,
    format_for,
    inspect_input,
    iter_chunks,
)
from nbjobs.worker.inputs import _CsvStream as _CsvStream  # its block size, below


@pytest.fixture
def write(tmp_path):
    def _write(data: bytes, name: str = "input.csv") -> str:
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    return _write


def input_error(function, *args) -> str:
    with pytest.raises(InputError) as caught:
        result = function(*args)
        if hasattr(result, "__next__"):
            list(result)
    error = caught.value
    # No pyarrow exception chained: the user sees the message, not a traceback.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    return caught.value.message


def every_reader(path: str) -> list[str]:
    """The message from inspect_input, count_rows and iter_chunks, which must agree."""
    return [
        input_error(inspect_input, path, "csv"),
        input_error(count_rows, path, "csv"),
        input_error(iter_chunks, path, "csv", 10),
    ]


# -- formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content_type", "expected"),
    [
        ("contacts.csv", None, "csv"),
        ("CONTACTS.CSV", "application/octet-stream", "csv"),
        ("upload", "text/csv; charset=utf-8", "csv"),
        ("frame.arrow", None, "arrow"),
        ("frame.feather", None, "arrow"),
        ("blob", "application/vnd.apache.arrow.stream", "arrow"),
        ("blob", "application/vnd.apache.arrow.file", "arrow"),
        ("data.parquet", None, "parquet"),
    ],
)
def test_format_for(filename, content_type, expected):
    assert format_for(filename, content_type) == expected


def test_format_for_unknown_lists_the_accepted_formats():
    with pytest.raises(InputError) as caught:
        format_for("book.xlsx", "application/vnd.ms-excel")
    assert '"book.xlsx"' in caught.value.message
    for accepted in ("CSV", "Arrow", "Parquet"):
        assert accepted in caught.value.message


# -- CSV errors ------------------------------------------------------------------------------


def test_empty_file(write):
    assert every_reader(write(b"")) == ["The file is empty."] * 3
    assert every_reader(write(b"\n\n\r\n")) == ["The file is empty."] * 3


def test_header_without_rows(write):
    path = write(b"Name,Phone\n\n\n")
    assert input_error(inspect_input, path, "csv") == "The file has a header row but no data rows."
    assert count_rows(path, "csv") == 0


def test_not_utf8_values_are_read_with_replacement_characters(write):
    # Windows-1252 bytes in a UTF-8 file: the values hold U+FFFD where the engine finds them
    # (reason not_utf8); the rest of the file reads as it is.
    data = "Name,City\nJosé,Paris\n".encode("latin-1") + "Zoë,Köln\n".encode()
    path = write(data)
    assert inspect_input(path, "csv").columns == ["Name", "City"]
    frame = next(iter_chunks(path, "csv", 10))
    assert frame.to_dict("list") == {"Name": ["Jos\ufffd", "Zoë"], "City": ["Paris", "Köln"]}
    assert count_rows(path, "csv") == 2


def test_not_utf8_in_the_header(write):
    message = input_error(inspect_input, write("Café,b\n1,2\n".encode("latin-1")), "csv")
    assert message == (
        "The header row is not UTF-8 text (invalid byte 0xe9 near byte 3). "
        "Save the file as UTF-8 and submit it again."
    )


def test_not_utf8_far_into_the_file_is_read_while_streaming(write):
    head = b"Name,City\n" + b"Ann,Oslo\n" * 3_000_000  # 27 MB: past the first block
    path = write(head + "Zoë,Köln\n".encode("latin-1") + b"Bo,Rome\n")
    frames = list(iter_chunks(path, "csv", 1_000_000))
    assert [len(frame) for frame in frames] == [1_000_000] * 3 + [2]
    assert frames[-1].to_dict("list") == {"Name": ["Zo\ufffd", "Bo"], "City": ["K\ufffdln", "Rome"]}
    assert frames[0]["Name"].dtype == frames[-1]["Name"].dtype  # the same text dtype


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"a,b,c\n1,2,3\n4,5,6,7\n",
            "Malformed CSV at row 2 (line 3): expected 3 fields, found 4.",
        ),
        (b"a,b,c\n1,2,3\n\n4,5\n", "Malformed CSV at row 2 (line 4): expected 3 fields, found 2."),
        (
            b'a,b,c\n"1\nx",2,3\n"4,5,6\n7,8,9\n',
            "Malformed CSV at row 2 (line 4): a quoted field that starts there is never closed.",
        ),
    ],
)
def test_malformed_rows_name_row_and_line(write, data, expected):
    assert every_reader(write(data)) == [expected] * 3


def test_malformed_row_far_into_the_file(write):
    path = write(b"a,b,c\n" + b"1,2,3\n" * 3_000_000 + b"4,5\n" + b"1,2,3\n" * 10)
    assert input_error(count_rows, path, "csv") == (
        "Malformed CSV at row 3000001 (line 3000002): expected 3 fields, found 2."
    )


def test_row_larger_than_the_block(write):
    # An unterminated quote that swallows the rest of a large file looks just like this.
    path = write(b'a,b\n1,2\n3,"' + b"x" * (2 * CSV_BLOCK_SIZE + 10) + b"\n")
    message = input_error(iter_chunks, path, "csv", 10)
    assert message.startswith("Malformed CSV: a row at line 3 is larger than 16 MiB")
    assert "quote that is never closed" in message


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        (b"Name,Email,Name,Email", 'duplicate column names: "Name", "Email"'),
        (b"Name,,Email", "blank column names (column 2)"),
        (b"Name, ,Email", "blank column names (column 2)"),
    ],
)
def test_bad_header_names(write, header, fragment):
    row = b",".join([b"1"] * (header.count(b",") + 1))
    for message in every_reader(write(header + b"\n" + row + b"\n")):
        assert fragment in message


# -- CSV reading -----------------------------------------------------------------------------


def test_every_column_is_text_and_missing_is_empty(write):
    path = write(b'zip,amount,flag,when\n00501,1.50,true,2024-01-02\n,,"",\n')
    (chunk,) = iter_chunks(path, "csv", 10)
    assert chunk.to_dict("list") == {
        "zip": ["00501", ""],
        "amount": ["1.50", ""],
        "flag": ["true", ""],
        "when": ["2024-01-02", ""],
    }
    assert all(pd.api.types.is_string_dtype(dtype) for dtype in chunk.dtypes)


def test_quoted_newlines_are_counted_as_one_row(write):
    path = write(b'name,address\nAnn,"1 Main St\nApt 2\r\nSpringfield"\nBob,"x"\n')
    assert count_rows(path, "csv") == 2
    (chunk,) = iter_chunks(path, "csv", 10)
    assert chunk["address"].tolist() == ["1 Main St\nApt 2\r\nSpringfield", "x"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # European spreadsheets save "CSV" with semicolons (commas are decimal marks there).
        (b"Nom;Prix;Ville\nAnn;1,50;Lyon\n", {"Nom": ["Ann"], "Prix": ["1,50"], "Ville": ["Lyon"]}),
        (b"a\tb\n1\t2,3\n", {"a": ["1"], "b": ["2,3"]}),
        (b"a|b\n1|2\n", {"a": ["1"], "b": ["2"]}),
        # A comma in the header wins; semicolons in values or quoted names change nothing.
        (b'"x;y",b\n1;2,3\n', {"x;y": ["1;2"], "b": ["3"]}),
        (b"note\nsee; below\n", {"note": ["see; below"]}),
        (b"\xef\xbb\xbfa;b\n1;2\n", {"a": ["1"], "b": ["2"]}),
    ],
)
def test_the_delimiter_is_read_off_the_header(write, data, expected):
    path = write(data)
    (chunk,) = iter_chunks(path, "csv", 10)
    assert chunk.to_dict("list") == expected
    assert inspect_input(path, "csv").columns == list(expected)
    assert count_rows(path, "csv") == 1


def test_malformed_semicolon_rows_are_named(write):
    path = write(b"a;b;c\n1;2;3\n4;5\n")
    assert (
        every_reader(path) == ["Malformed CSV at row 2 (line 3): expected 3 fields, found 2."] * 3
    )


def test_utf8_bom_is_not_part_of_the_first_name(write):
    info = inspect_input(write(b"\xef\xbb\xbfName,Phone\nAnn,1\n"), "csv")
    assert info == InputInfo(columns=["Name", "Phone"], total_rows=None)


def test_a_five_megabyte_field_reads_fine(write):
    big = "é" * (5 << 19)  # 5 MB of UTF-8
    path = write(f'id,note\n1,"{big}"\n2,short\n'.encode())
    chunks = list(iter_chunks(path, "csv", 1))
    assert [len(chunk) for chunk in chunks] == [1, 1]
    assert chunks[0]["note"][0] == big
    assert count_rows(path, "csv") == 2


def test_chunks_have_exactly_chunk_size_rows_in_order(write):
    rows = 2_345
    path = write(b"n,text\n" + b"".join(b"%d,row %d\n" % (i, i) for i in range(rows)))
    chunks = list(iter_chunks(path, "csv", 1000))
    assert [len(chunk) for chunk in chunks] == [1000, 1000, 345]
    joined = pd.concat(chunks)
    assert joined["n"].tolist() == [str(i) for i in range(rows)]
    assert joined.index.tolist() == list(range(rows))  # the index runs on across chunks
    assert count_rows(path, "csv") == rows


@pytest.mark.parametrize("chunk_size", [3, 1000, 7_001, 30_000])
def test_chunks_converted_in_groups_are_the_same_chunks(write, chunk_size):
    """Chunks are slices of DataFrames converted CONVERT_ROWS (10,000) rows at a time: any
    chunk size, dividing that or not, gives the same rows, sizes and running index."""
    rows = 25_003
    path = write(b"n,text\n" + b"".join(b"%d,row %d\n" % (i, i) for i in range(rows)))
    chunks = list(iter_chunks(path, "csv", chunk_size))
    sizes = [chunk_size] * (rows // chunk_size) + ([rows % chunk_size] if rows % chunk_size else [])
    assert [len(chunk) for chunk in chunks] == sizes
    for chunk in chunks:
        first = chunk.index[0]
        assert chunk.index.tolist() == list(range(first, first + len(chunk)))
        assert chunk["text"].tolist() == [f"row {i}" for i in chunk.index]


@pytest.mark.parametrize("big", [2 * CSV_FIRST_BLOCK_SIZE, 6 * CSV_FIRST_BLOCK_SIZE])
def test_a_row_larger_than_the_first_blocks_is_read_in_larger_ones(write, big):
    # Rows over several first-size blocks, then one that needs blocks 4 (or 16) times larger:
    # the file is read again past the rows already handed out, none twice, none lost.
    rows = [b"%d,%s" % (i, b"y" * (i % 50)) for i in range(60_000)]
    rows[50_000] = b'50000,"' + b"z\n" * (big // 2) + b'"'
    path = write(b"n,text\n" + b"\n".join(rows) + b"\n")
    chunks = list(iter_chunks(path, "csv", 4096))
    frame = pd.concat(chunks)
    assert frame["n"].tolist() == [str(i) for i in range(60_000)]
    assert frame.index.tolist() == list(range(60_000))
    assert len(frame["text"][50_000]) == big and frame["text"][59_999] == "y" * 49
    assert count_rows(path, "csv") == 60_000


def test_small_rows_keep_the_first_block_size(write):
    path = write(b"n,text\n" + b"".join(b"%d,abc\n" % i for i in range(200_000)))
    with _CsvStream(path) as stream:
        assert sum(batch.num_rows for batch in stream) == 200_000
        assert stream._block_size == CSV_FIRST_BLOCK_SIZE


def test_chunks_regroup_across_csv_blocks(write):
    # Rows of ~1 MB: each 16 MiB block holds 15-16 of them, chunks of 7 straddle blocks.
    row = b"x" * (1 << 20)
    path = write(b"n,blob\n" + b"".join(b"%d,%s\n" % (i, row) for i in range(40)))
    sizes = [len(chunk) for chunk in iter_chunks(path, "csv", 7)]
    assert sizes == [7, 7, 7, 7, 7, 5]


# -- Arrow and Parquet -----------------------------------------------------------------------


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "zip": ["00501", None, "02134"] * 7,
            "count": pd.array([1, None, 3] * 7, dtype="Int64"),
            "kind": pd.Categorical(["a", "b", "a"] * 7),
            "score": [0.5, 1.5, float("nan")] * 7,
        },
        index=pd.Index([f"r{i}" for i in range(21)], name="key"),
    )


def write_arrow(frame: pd.DataFrame, path: str, *, stream: bool) -> None:
    table = pa.Table.from_pandas(frame)
    opener = pa.ipc.new_stream if stream else pa.ipc.new_file
    with pa.OSFile(path, "wb") as sink, opener(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=4):  # batches that do not match chunks
            writer.write_batch(batch)


@pytest.mark.parametrize("kind", ["arrow-stream", "arrow-file", "parquet"])
def test_arrow_and_parquet_round_trip(tmp_path, frame, kind):
    path = str(tmp_path / "frame.data")
    if kind == "parquet":
        pq.write_table(pa.Table.from_pandas(frame), path, row_group_size=5)
        fmt = "parquet"
    else:
        write_arrow(frame, path, stream=kind == "arrow-stream")
        fmt = "arrow"

    # A named index is data: it comes back as a plain column.
    expected = frame.reset_index()[["zip", "count", "kind", "score", "key"]]
    info = inspect_input(path, fmt)
    assert sorted(info.columns) == sorted(expected.columns)
    assert info.total_rows == 21
    assert count_rows(path, fmt) == 21

    chunks = list(iter_chunks(path, fmt, 6))
    assert [len(chunk) for chunk in chunks] == [6, 6, 6, 3]
    joined = pd.concat(chunks)[expected.columns]
    pd.testing.assert_frame_equal(joined, expected)  # values and dtypes (Int64, category)


def test_unnamed_pandas_index_is_not_a_column(tmp_path):
    frame = pd.DataFrame({"Phone": ["1", "2", "3"]}).iloc[[2, 0, 1]]
    path = str(tmp_path / "frame.arrow")
    write_arrow(frame, path, stream=True)
    assert inspect_input(path, "arrow").columns == ["Phone"]
    (chunk,) = iter_chunks(path, "arrow", 10)
    assert chunk["Phone"].tolist() == ["3", "1", "2"]


def test_unreadable_arrow_and_parquet(write):
    path = write(b"this is not a table " * 10, "junk.bin")
    assert input_error(inspect_input, path, "arrow").startswith(
        "The file is not an Arrow IPC file nbjobs can read ("
    )
    assert input_error(inspect_input, path, "parquet").startswith(
        "The file is not a Parquet file nbjobs can read ("
    )
    assert input_error(inspect_input, write(b"", "empty.arrow"), "arrow") == "The file is empty."


def test_arrow_without_rows(tmp_path):
    path = str(tmp_path / "none.arrow")
    write_arrow(pd.DataFrame({"Phone": pd.Series([], dtype=str)}), path, stream=False)
    assert input_error(inspect_input, path, "arrow") == "The table in the file has no rows."


# -- memory ----------------------------------------------------------------------------------

_MEASURE = """
import resource, sys
from nbjobs.worker.inputs import count_rows, inspect_input, iter_chunks
def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10
path, base = sys.argv[1], peak_mib()
inspect_input(path, "csv")
after_inspect = peak_mib()
rows = count_rows(path, "csv") + sum(len(chunk) for chunk in iter_chunks(path, "csv", 1000))
print(rows, after_inspect - base, peak_mib() - base)
"""


@pytest.mark.slow
def test_csv_memory_follows_the_block_not_the_file(tmp_path):
    # pyarrow alone prefetches up to 32 blocks of 16 MiB on a background thread: most of
    # this 270 MB file (measured: +360 MiB after inspect_input, +420 MiB at the end).
    path = tmp_path / "big.csv"
    row = b"(415) 555-2671,someone@example.com,a note that makes the row longer\n"
    with open(path, "wb") as file:
        file.write(b"Phone,Email,Note\n")
        for _ in range(40):
            file.write(row * 100_000)
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, check=True
    )
    rows, inspect_mib, peak_mib = map(int, result.stdout.split())
    assert rows == 2 * 4_000_000
    assert inspect_mib < 200  # measured about 110: the first blocks only
    assert peak_mib < 350  # measured about 270, the same for a file 6 times larger


def test_utf16_is_named_as_such(tmp_path):
    from nbjobs.exceptions import InputError
    from nbjobs.worker.inputs import inspect_input

    path = tmp_path / "excel.csv"
    path.write_bytes("Name,Phone\nJane,1\n".encode("utf-16"))
    with pytest.raises(InputError, match="UTF-16"):
        inspect_input(str(path), "csv")
