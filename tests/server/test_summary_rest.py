"""The per-column summary over REST (a real server and worker processes), the repair log in the
output, and the invalid rows when the input has its own ``_valid`` column."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from nbjobs import protocol
from tests.conftest import COLUMNS, contacts_csv

from .test_rest import message


async def summary_of(jp_fetch, job_id: int, **kwargs):
    return await jp_fetch("nbjobs", "api", "jobs", str(job_id), "summary", **kwargs)


@pytest.mark.nbjobs_config(chunk_size=7)  # 20 rows in 3 chunks: the counts are merged
async def test_summary_of_a_completed_job(jp_fetch, submit, connect_client, server_token):
    _, recorder = await connect_client(token=server_token)
    response = await submit(contacts_csv(20))  # rows 9 and 19 have a bad phone and email
    job_id = json.loads(response.body)["jobId"]
    name, payload = await recorder.wait_final(job_id)
    assert name == protocol.COMPLETED
    assert "summary" not in payload  # event payloads keep their fixed keys

    body = json.loads((await summary_of(jp_fetch, job_id)).body)
    assert body["jobId"] == job_id
    columns = {c["column"]: c for c in body["columns"]}
    assert [c["column"] for c in body["columns"]] == list(COLUMNS)
    phone, email, name_ = columns["Phone"], columns["Email"], columns["Full Name"]
    assert (phone["type"], phone["rows"], phone["null"], phone["invalid"]) == ("phone", 20, 0, 2)
    # "(415) 555-2000" -> "+14155552000": every valid phone is changed.
    assert (phone["changed"], phone["unchanged"]) == (18, 0)
    assert sum(r["count"] for r in phone["topReasons"]) == 2
    assert all(r["message"] for r in phone["topReasons"])
    # "Person.0@Example.COM" -> domain lowercased on every valid address.
    assert (email["invalid"], email["changed"]) == (2, 18)
    assert email["topReasons"] == [
        {"code": "email_invalid", "message": "Not a valid email address.", "count": 2}
    ]
    assert email["topRepairs"][0]["code"] == "domain_lowercased"
    assert email["topRepairs"][0]["count"] == 18
    # Names: "dr. jane   doe" loses its title, "JOHN   doe" is recased; none invalid.
    assert name_["invalid"] == 0 and name_["rows"] == 20
    repairs = {r["code"]: r["count"] for r in name_["topRepairs"]}
    assert repairs["title_removed"] == 3  # rows 0, 7 and 14 start with "dr. jane"
    assert "recased" in repairs

    job = json.loads((await jp_fetch("nbjobs", "api", "jobs", str(job_id))).body)
    assert job["summary"] == body["columns"]

    output = await jp_fetch("nbjobs", "api", "jobs", str(job_id), "output")
    frame = pd.read_csv(io.BytesIO(output.body), dtype=str, keep_default_na=False)
    assert frame.columns[-3:].tolist() == ["_valid", "_errors", "_repairs"]
    assert frame["_repairs"][0].startswith("Full Name:")
    assert "Email:domain_lowercased" in frame["_repairs"][0]
    assert frame["_repairs"][9] == "Full Name:recased"  # bad phone and email: no repairs


@pytest.mark.nbjobs_config(chunk_size=10, chunk_delay=0.5)
async def test_summary_before_completion_is_409_and_null_in_the_job(jp_fetch, submit):
    job_id = json.loads((await submit(contacts_csv(100))).body)["jobId"]
    response = await summary_of(jp_fetch, job_id, raise_error=False)
    assert response.code == 409
    assert "summary is available once it completes" in message(response)
    job = json.loads((await jp_fetch("nbjobs", "api", "jobs", str(job_id))).body)
    assert job["summary"] is None
    await jp_fetch("nbjobs", "api", "jobs", str(job_id), "cancel", method="POST", body=b"")


async def test_summary_of_an_unknown_job_is_404(jp_fetch):
    response = await summary_of(jp_fetch, 999, raise_error=False)
    assert response.code == 404 and "999" in message(response)


async def test_invalid_parquet_when_the_input_has_its_own_valid_column(
    jp_fetch, submit, connect_client, server_token
):
    _, recorder = await connect_client(token=server_token)
    data = b"Phone,_valid\n(415) 555-2671,yes\n12,yes\n(415) 555-2672,no\n"
    job_id = json.loads((await submit(data, {"Phone": "phone"})).body)["jobId"]
    assert (await recorder.wait_final(job_id))[0] == protocol.COMPLETED
    response = await jp_fetch(
        "nbjobs", "api", "jobs", str(job_id), "invalid", params={"format": "parquet"}
    )
    invalid = pd.read_parquet(io.BytesIO(response.body))
    assert invalid["Phone"].tolist() == ["12"]
    assert invalid["_valid"].tolist() == ["yes"]  # the input's own column, untouched
    assert invalid["_valid_1"].tolist() == [False]
