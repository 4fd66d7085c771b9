"""POST nbjobs/api/detect through a real server, and jobs whose spec combines columns."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from urllib3.filepost import encode_multipart_formdata

from nbjobs import protocol
from nbjobs.normalization import FIELD_TYPES

from .test_rest import message

FRAGMENTED = (
    b"First,Middle,Last,Area Code,Phone Number,Ext,Email\n"
    b"ann,,lee,415,555-2671,12,Ann@Example.com\n"
    b"Bob,J,Smith,212,555-7788,,bob@example.com\n"
    b"Carla,Maria,Ruiz,202,456-1111,,carla@example.org\n"
    b"Dee,,Park,617,555-3344,7,dee@example.net\n"
    b"Eve,,O'Brien,312,555 9000,,eve@example.com\n"
)
COMBINED = {
    "Name": {"type": "name", "from": ["First", "Middle", "Last"]},
    "Phone": {"type": "phone", "from": ["Area Code", "Phone Number", "Ext"]},
    "Email": "email",
}


async def detect_upload(jp_fetch, data: bytes, filename: str = "contacts.csv", **fields):
    body, ctype = encode_multipart_formdata({**fields, "file": (filename, data, "text/csv")})
    return await jp_fetch(
        "nbjobs", "api", "detect", method="POST", body=body,
        headers={"Content-Type": ctype}, raise_error=False,
    )  # fmt: skip


def staged_files(nbjobs_config) -> list[Path]:
    return [p for p in Path(nbjobs_config["data_dir"]).rglob(".upload-*")]


async def test_detect_upload_answers_types_and_suggestions(jp_fetch, nbjobs_config):
    response = await detect_upload(jp_fetch, FRAGMENTED)
    assert response.code == 200, response.body
    found = json.loads(response.body)
    assert set(found) == {"inputName", "columns", "suggestions", "fields"}
    assert found["inputName"] == "contacts.csv" and found["fields"] == list(FIELD_TYPES)
    columns = found["columns"]
    assert [c["name"] for c in columns] == FRAGMENTED.decode().splitlines()[0].split(",")
    assert set(columns[0]) == {"name", "type", "confidence", "reason", "partOf"}
    email = columns[-1]
    assert (email["type"], email["partOf"]) == ("email", None) and 0 < email["confidence"] <= 1
    assert [(s["name"], s["type"], s["from"]) for s in found["suggestions"]] == [
        (name, entry["type"], entry["from"]) for name, entry in COMBINED.items() if name != "Email"
    ]
    preview = found["suggestions"][0]["preview"]
    assert preview[0] == {
        "parts": ["ann", "", "lee"], "combined": "ann lee", "normalized": "Ann Lee", "valid": True
    }  # fmt: skip
    assert len(preview) == 3
    assert staged_files(nbjobs_config) == []  # the staged copy is gone


async def test_detect_by_path_reads_only_the_first_rows(jp_fetch, jp_root_dir, nbjobs_config):
    # Row 501 on would be valid phones: only the first 500 rows (all text) count.
    lines = ["Code"] + [f"X{i:04d}" for i in range(500)] + ["(415) 555-2671"] * 600
    (jp_root_dir / "codes.csv").write_text("\n".join(lines) + "\n")
    body = json.dumps({"path": "codes.csv"}).encode()
    response = await jp_fetch(
        "nbjobs", "api", "detect", method="POST", body=body,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    found = json.loads(response.body)
    assert found["inputName"] == "codes.csv"
    assert [(c["name"], c["type"]) for c in found["columns"]] == [("Code", "text")]
    assert found["suggestions"] == []
    assert staged_files(nbjobs_config) == []


@pytest.mark.parametrize(
    ("kind", "payload", "status", "expected"),
    [
        ("json", {"path": "../outside.csv"}, 400, "outside"),
        ("json", {"path": "missing.csv"}, 404, "No file"),
        ("json", {}, 400, '"path"'),
        ("upload", b"", 400, "empty"),
        ("upload", b"A,B\n", 400, "no data rows"),
        ("form", b"", 400, '"file" part'),
    ],
)
async def test_detect_bad_input(jp_fetch, nbjobs_config, kind, payload, status, expected):
    if kind == "upload":
        response = await detect_upload(jp_fetch, payload)
    else:
        body = json.dumps(payload).encode() if kind == "json" else b"options=%7B%7D"
        ctype = "application/json" if kind == "json" else "application/x-www-form-urlencoded"
        response = await jp_fetch(
            "nbjobs", "api", "detect", method="POST", body=body,
            headers={"Content-Type": ctype}, raise_error=False,
        )  # fmt: skip
    assert response.code == status
    assert expected in message(response)
    assert staged_files(nbjobs_config) == []


async def test_detect_with_a_bad_option_is_400(jp_fetch):
    response = await detect_upload(jp_fetch, FRAGMENTED, options=json.dumps({"colour": 1}))
    assert response.code == 400 and 'Unknown option "colour"' in message(response)


async def test_job_with_combinations_through_rest(submit, connect_client, server_token, jp_fetch):
    _, recorder = await connect_client(token=server_token)
    response = await submit(FRAGMENTED, COMBINED)
    assert response.code == 201, response.body
    job = json.loads(response.body)
    assert job["columns"] == COMBINED  # stored and returned as given
    assert (await recorder.wait_final(job["jobId"]))[0] == protocol.COMPLETED
    again = json.loads((await jp_fetch("nbjobs", "api", "jobs", str(job["jobId"]))).body)
    assert again["columns"] == COMBINED
    output = await jp_fetch("nbjobs", "api", "jobs", str(job["jobId"]), "output")
    frame = pd.read_csv(io.BytesIO(output.body), dtype=str, keep_default_na=False)
    assert list(frame["Name"][:2]) == ["ann lee", "Bob J Smith"]
    assert list(frame["Name_normalized"][:2]) == ["Ann Lee", "Bob J Smith"]
    assert list(frame["Phone"][:2]) == ["415 555-2671 ext. 12", "212 555-7788"]
    assert list(frame["Phone_normalized"][:2]) == ["+14155552671", "+12125557788"]
    assert list(frame["Phone_extension"][:2]) == ["12", ""]


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ({"Name": {"type": "nom", "from": ["First"]}}, "Valid types: address,"),
        ({"Name": {"type": "name", "from": ["First", "Nick"]}}, 'Columns: "First", "Middle"'),
        ({"Name": {"type": "name", "from": []}}, "is empty"),
        ({"Email": {"type": "name", "from": ["First"]}}, 'already has a column "Email"'),
    ],
)
async def test_bad_combination_is_400(submit, jp_fetch, columns, expected):
    response = await submit(FRAGMENTED, columns)
    assert response.code == 400
    assert expected in message(response)
    assert json.loads(response.body)["error"] == "SpecError"
    assert json.loads((await jp_fetch("nbjobs", "api", "jobs")).body)["jobs"] == []
