"""REST status codes, listing and downloads; bad input gets a clear 400 before a job exists."""

from __future__ import annotations

import io
import json

import pandas as pd
import pyarrow as pa
import pytest

from nbjobs import protocol
from tests.conftest import COLUMNS, contacts_csv


def message(response) -> str:
    body = json.loads(response.body)
    assert set(body) <= {"message", "error"} and "message" in body, body
    assert "Traceback" not in body["message"]
    return body["message"]


async def list_jobs(jp_fetch, **params) -> list[dict]:
    response = await jp_fetch("nbjobs", "api", "jobs", params=params)
    return json.loads(response.body)["jobs"]


async def test_list_newest_first_with_limit(jp_fetch, submit, connect_client, server_token):
    _, recorder = await connect_client(token=server_token)
    ids = []
    for _ in range(3):
        response = await submit(contacts_csv(20))
        ids.append(json.loads(response.body)["jobId"])
    for job_id in ids:
        await recorder.wait_final(job_id)
    assert [j["jobId"] for j in await list_jobs(jp_fetch)] == ids[::-1]
    assert [j["jobId"] for j in await list_jobs(jp_fetch, limit=2)] == ids[::-1][:2]
    job = (await list_jobs(jp_fetch, limit=1))[0]
    assert {
        *protocol.PROGRESS_KEYS,
        *protocol.COMPLETED_KEYS,
        "createdAt",
        "startedAt",
        "finishedAt",
        "inputName",
        "columns",
    } <= set(job)
    assert job["inputName"] == "contacts.csv" and job["columns"] == COLUMNS
    for bad in ("0", "501", "x"):
        response = await jp_fetch("nbjobs", "api", "jobs", params={"limit": bad}, raise_error=False)
        assert response.code == 400 and "limit" in message(response)


async def test_unknown_job_is_404_not_500(jp_fetch):
    for parts in (("999",), ("999", "output"), ("999", "invalid")):
        response = await jp_fetch("nbjobs", "api", "jobs", *parts, raise_error=False)
        assert response.code == 404
        assert "999" in message(response)
    response = await jp_fetch(
        "nbjobs", "api", "jobs", "999", "cancel", method="POST", body=b"", raise_error=False
    )
    assert response.code == 404


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ({"Phone": "fone"}, 'Unknown field type "fone"'),
        ({"Phon": "phone"}, '"Phon"'),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ({}, ""),
    ],
)
async def test_bad_spec_is_400_and_creates_no_job(jp_fetch, submit, columns, expected):
    response = await submit(contacts_csv(10), columns)
    assert response.code == 400
    assert expected in message(response)
    assert json.loads(response.body)["error"] in ("SpecError", "BadRequest")
    assert await list_jobs(jp_fetch) == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty"),
        (b"Full Name,Phone,Email\n", "no data rows"),
        (b"Full Name,T\xe9l\xe9phone,Email\nAnn Lee,1,a@b.co\n", "header row is not UTF-8"),
        (b'Full Name,Phone,Email\n"a",1,a@b.co,extra,fields\n', "CSV"),
    ],
)
async def test_bad_file_is_400(jp_fetch, submit, data, expected):
    response = await submit(data)
    assert response.code == 400
    assert expected in message(response)
    assert await list_jobs(jp_fetch) == []


async def test_missing_file_part_is_400(jp_fetch):
    response = await jp_fetch(
        "nbjobs",
        "api",
        "jobs",
        method="POST",
        body=b"columns=%7B%7D",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        raise_error=False,
    )
    assert response.code == 400 and "file" in message(response)


@pytest.mark.nbjobs_config(max_upload_bytes=1000)
async def test_upload_over_limit_is_413(jp_fetch, submit):
    response = await submit(contacts_csv(200))
    assert response.code == 413 and "1,000" in message(response)


@pytest.mark.nbjobs_config(chunk_size=10, chunk_delay=0.5)
async def test_output_before_completion_is_409(jp_fetch, submit):
    job_id = json.loads((await submit(contacts_csv(100))).body)["jobId"]
    response = await jp_fetch("nbjobs", "api", "jobs", str(job_id), "output", raise_error=False)
    assert response.code == 409 and "output is available once it completes" in message(response)
    await jp_fetch("nbjobs", "api", "jobs", str(job_id), "cancel", method="POST", body=b"")


async def completed_with_invalid_rows(
    submit, connect_client, server_token, jp_fetch, data: bytes, rows: int
) -> tuple[int, pd.DataFrame]:
    """Submit ``data``, wait for it to complete with ``rows`` rows: its id and invalid rows."""
    _, recorder = await connect_client(token=server_token)
    response = await submit(data)
    assert response.code == 201, response.body
    job_id = json.loads(response.body)["jobId"]
    name, payload = await recorder.wait_final(job_id)
    assert name == protocol.COMPLETED and payload["processedRows"] == rows
    invalid = await jp_fetch("nbjobs", "api", "jobs", str(job_id), "invalid")
    return job_id, pd.read_csv(io.BytesIO(invalid.body), dtype=str, keep_default_na=False)


async def test_huge_field_is_invalid_value_not_a_crash(
    submit, connect_client, server_token, jp_fetch
):
    huge = "x" * (5 * 1024 * 1024)
    data = contacts_csv(20) + f'"{huge}",4155552671,big@example.com,huge\n'.encode()
    _, frame = await completed_with_invalid_rows(
        submit, connect_client, server_token, jp_fetch, data, 21
    )
    assert len(frame) == 3  # the 2 broken sample rows and the huge one
    assert frame["_errors"].iloc[-1].startswith("Full Name:")


async def test_values_not_utf8_are_invalid_values_not_a_failed_job(
    submit, connect_client, server_token, jp_fetch
):
    # An Excel export in Windows-1252 appended to a UTF-8 file: its accented values are invalid
    # with their reason, every other value is normalized, the job completes.
    data = contacts_csv(20) + "José García,+1 650 253 0000,jose@example.com,x\n".encode("cp1252")
    job_id, frame = await completed_with_invalid_rows(
        submit, connect_client, server_token, jp_fetch, data, 21
    )
    last = frame.iloc[-1]
    assert last["Full Name"] == "Jos\ufffd Garc\ufffda"
    assert (last["_errors"], last["Phone_normalized"]) == ("Full Name:not_utf8", "+16502530000")
    summary = json.loads((await jp_fetch("nbjobs", "api", "jobs", str(job_id), "summary")).body)
    name_column = next(c for c in summary["columns"] if c["column"] == "Full Name")
    assert {"code": "not_utf8", "count": 1} in [
        {"code": r["code"], "count": r["count"]} for r in name_column["topReasons"]
    ]


async def test_dataframe_upload_as_arrow_and_parquet_download(
    submit, connect_client, server_token, jp_fetch
):
    _, recorder = await connect_client(token=server_token)
    frame = pd.DataFrame(
        {"Phone": ["+44 20 7946 0958", "020 7946 0958", None], "Age": [31, 42, 53]}
    )
    sink = pa.BufferOutputStream()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    response = await submit(
        sink.getvalue().to_pybytes(),
        {"Phone": "phone"},
        filename="df.arrow",
        content_type="application/vnd.apache.arrow.stream",
        options={"default_region": "GB"},
    )
    assert response.code == 201, response.body
    job_id = json.loads(response.body)["jobId"]
    name, _ = await recorder.wait_final(job_id)
    assert name == protocol.COMPLETED
    parquet = await jp_fetch(
        "nbjobs", "api", "jobs", str(job_id), "output", params={"format": "parquet"}
    )
    result = pd.read_parquet(io.BytesIO(parquet.body))
    assert list(result["Phone_normalized"][:2]) == ["+442079460958", "+442079460958"]
    assert list(result["Age"]) == [31, 42, 53]
    assert list(result["_valid"]) == [True, True, True]


async def test_submit_by_path_inside_root(jp_root_dir, jp_fetch, connect_client, server_token):
    _, recorder = await connect_client(token=server_token)
    (jp_root_dir / "data").mkdir()
    (jp_root_dir / "data" / "c.csv").write_bytes(contacts_csv(30))
    body = json.dumps({"path": "data/c.csv", "columns": COLUMNS}).encode()
    headers = {"Content-Type": "application/json"}
    response = await jp_fetch("nbjobs", "api", "jobs", method="POST", body=body, headers=headers)
    job = json.loads(response.body)
    assert response.code == 201 and job["inputName"] == "c.csv"
    assert (await recorder.wait_final(job["jobId"]))[0] == protocol.COMPLETED
    escape = json.dumps({"path": "../../etc/passwd", "columns": COLUMNS}).encode()
    response = await jp_fetch(
        "nbjobs", "api", "jobs", method="POST", body=escape, headers=headers, raise_error=False
    )
    assert response.code == 400 and "outside" in message(response)


async def test_columns_auto_detects_types_from_the_data(jp_fetch, submit):
    response = await submit(contacts_csv(200), "auto")
    assert response.code == 201, response.body
    assert json.loads(response.body)["columns"] == COLUMNS  # "Note" stays untyped
    response = await submit(contacts_csv(200), {"Phone": "auto", "Note": "text"})
    assert json.loads(response.body)["columns"] == {"Phone": "phone", "Note": "text"}


async def test_columns_auto_with_nothing_recognisable_is_400(submit):
    data = b"Amount,Code\n" + b"".join(f"{i}.50,X{i:04d}\n".encode() for i in range(50))
    response = await submit(data, "auto")
    assert response.code == 400 and "No column looks like" in message(response)
