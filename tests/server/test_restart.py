"""A server killed with SIGKILL in the middle of a job, then started again."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest
import requests

from tests.conftest import COLUMNS, contacts_csv
from tests.jupyter_process import JupyterProcess


def wait_status(server: JupyterProcess, job_id: int, wanted: set[str], timeout=60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = requests.get(f"{server.api}/jobs/{job_id}", headers=server.headers, timeout=5).json()
        if job["status"] in wanted and (job["processedRows"] or job["status"] != "running"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never reached {wanted}: {job}")


SLOW = ["--NbJobs.chunk_size=50", "--NbJobs.chunk_delay=0.3"]


def submit_slow_job(server: JupyterProcess) -> int:
    response = requests.post(
        f"{server.api}/jobs",
        headers=server.headers,
        files={"file": ("contacts.csv", contacts_csv(2000), "text/csv")},
        data={"columns": json.dumps(COLUMNS)},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()["jobId"]


@pytest.mark.slow
def test_clean_shutdown_mid_job_marks_it_interrupted(tmp_path):
    server = JupyterProcess(tmp_path, extra=SLOW).start()
    job_id = submit_slow_job(server)
    wait_status(server, job_id, {"running"})
    server.stop()  # SIGTERM: Jupyter's shutdown runs the extension's stop hook
    restarted = JupyterProcess(tmp_path, token=server.token, port=server.port).start()
    try:
        job = requests.get(
            f"{restarted.api}/jobs/{job_id}", headers=restarted.headers, timeout=5
        ).json()
        assert job["status"] == "interrupted" and "shut down" in job["errorMessage"]
        assert not list((tmp_path / "data" / "outputs").iterdir())
    finally:
        restarted.stop()


@pytest.mark.slow
def test_sigkill_mid_job_then_restart(tmp_path):
    server = JupyterProcess(tmp_path, extra=SLOW).start()
    try:
        job_id = submit_slow_job(server)
        running = wait_status(server, job_id, {"running"})
        assert 0 < running["processedRows"] < 2000
        server.kill()
        time.sleep(1.0)  # the orphaned worker notices the closed pipe at its next chunk

        outputs = tmp_path / "data" / "outputs"
        assert not (outputs / f"{job_id}.csv").exists()

        restarted = JupyterProcess(tmp_path, token=server.token, port=server.port).start()
        try:
            job = requests.get(
                f"{restarted.api}/jobs/{job_id}", headers=restarted.headers, timeout=5
            ).json()
            assert job["status"] == "interrupted"
            assert job["errorMessage"] and "submit it again" in job["errorMessage"]
            assert job["outputFileUrl"] is None
            visible = [p.name for p in outputs.iterdir() if str(job_id) in p.name]
            assert visible == [], visible
            download = requests.get(
                f"{restarted.api}/jobs/{job_id}/output", headers=restarted.headers, timeout=5
            )
            assert download.status_code == 409
        finally:
            restarted.stop()
        with sqlite3.connect(tmp_path / "data" / "jobs.db") as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        server.stop()
