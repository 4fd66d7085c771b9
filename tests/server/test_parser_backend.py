"""``c.NbJobs.parser_backend``: the server says in its log which library parses each field type
with a compiled port, and jobs give the same rows with either choice."""

from __future__ import annotations

import time

import requests

from tests.conftest import contacts_csv
from tests.jupyter_process import running_server


def _output(server) -> bytes:
    response = requests.post(
        f"{server.api}/jobs",
        files={"file": ("c.csv", contacts_csv(300), "text/csv")},
        data={"columns": '{"Phone": "phone", "Email": "email"}'},
        headers=server.headers,
        timeout=30,
    )
    job_id = response.json()["jobId"]
    deadline = time.monotonic() + 60
    while (job := requests.get(f"{server.api}/jobs/{job_id}", headers=server.headers).json())[
        "status"
    ] not in ("completed", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    assert job["status"] == "completed", job
    return requests.get(
        f"{server.api}/jobs/{job_id}/output", params={"format": "csv"}, headers=server.headers
    ).content


def test_the_log_names_the_parsers_and_either_choice_gives_the_same_rows(tmp_path):
    outputs = {}
    for choice, phone_library in [("auto", "rphonenumbers"), ("reference", "phonenumbers")]:
        extra = [f"--NbJobs.parser_backend={choice}"]
        with running_server(tmp_path / choice, extra=extra) as server:
            outputs[choice] = _output(server)
            log = server.log_path.read_text()
        assert f"nbjobs: parser_backend {choice}: phone: {phone_library} " in log
    assert outputs["auto"] == outputs["reference"]
    assert outputs["auto"].count(b"\n") == 301  # the header and every row
