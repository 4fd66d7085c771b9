"""The data directory's disk fills up while a job writes its outputs (a real tmpfs of 1 MiB):
the job fails with "Disk full" in plain words, its temporary files are gone, the database is
intact, the server still answers, and the next job that fits completes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time

import pytest
import requests

from tests.conftest import COLUMNS, contacts_csv
from tests.jupyter_process import JupyterProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small-disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def final(server: JupyterProcess, job_id: int) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = requests.get(f"{server.api}/jobs/{job_id}", headers=server.headers, timeout=10).json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} is stuck")


def submit(server: JupyterProcess, rows: int) -> requests.Response:
    return requests.post(
        f"{server.api}/jobs",
        headers=server.headers,
        files={"file": ("c.csv", contacts_csv(rows), "text/csv")},
        data={"columns": json.dumps(COLUMNS)},
        timeout=30,
    )


def test_a_full_disk_fails_the_job_in_plain_words_and_nothing_else(tmp_path, small_disk):
    server = JupyterProcess(tmp_path / "server", data_dir=small_disk).start()
    try:
        big = submit(server, rows=6000)  # ~330 kB in; its three outputs need ~1.5 MB
        assert big.status_code == 201, big.text
        job = final(server, big.json()["jobId"])
        assert job["status"] == "failed"
        assert job["errorMessage"].startswith("Disk full: the outputs could not be written")
        assert "Traceback" not in job["errorMessage"]
        outputs = os.listdir(small_disk / "outputs")
        assert outputs == []  # no temp file, no partial output

        # An upload that does not fit: a 507 that says so, nothing staged.
        filler = small_disk / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"x" * 4096)
        except OSError:  # ENOSPC: the disk is full now
            pass
        finally:
            os.close(fd)
        refused = submit(server, rows=2000)
        assert refused.status_code == 507, refused.text
        assert "full" in refused.json()["message"]
        assert not [n for n in os.listdir(small_disk / "inputs") if n.startswith(".upload-")]
        filler.unlink()

        small = submit(server, rows=20)
        assert small.status_code == 201, small.text
        assert final(server, small.json()["jobId"])["status"] == "completed"
        assert requests.get(
            f"{server.url}{server.base_url}api/status", headers=server.headers, timeout=10
        ).ok
    finally:
        server.stop()
    with sqlite3.connect(small_disk / "jobs.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
