"""SIGKILL a real server at random moments of random jobs, restart it, and check after each
restart that nothing is lost or corrupt. ``tests/server/test_crash_loop.py`` runs a few rounds;
``benchmarks/crash_loop.py`` runs many and writes the figures.

Each round: start the server on the same data directory, submit one to three jobs of random
sizes (a slow server: small chunks with a pause, so a kill lands in every phase), wait a random
time from 0 to ``max_wait`` seconds, ``kill -9`` it, restart it, wait until it has no active
job left (queued jobs are taken over and run), and check every job of every round so far:
- it ended ``completed`` with all three outputs in place and complete (every row, the right
  header; the Parquet output readable), or ``interrupted`` / ``failed`` / ``cancelled`` with
  no output of its id visible;
- SQLite's ``PRAGMA integrity_check`` is ok;
- no temporary file is left in the outputs or inputs directory.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import random
import sqlite3
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import requests

from tests.conftest import COLUMNS, contacts_csv
from tests.jupyter_process import JupyterProcess

SLOW = ["--NbJobs.chunk_size=200", "--NbJobs.chunk_delay=0.02", "--NbJobs.max_concurrent_jobs=2"]
FINAL = {"completed", "failed", "cancelled", "interrupted"}


@dataclasses.dataclass
class Loop:
    workdir: Path
    seed: int = 0
    max_wait: float = 2.0
    rounds: int = 0
    rows: dict[int, int] = dataclasses.field(default_factory=dict)  # job id -> rows submitted
    phases: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        self.data_dir = self.workdir / "data"
        self.token = "crash-loop-token"

    def server(self) -> JupyterProcess:
        return JupyterProcess(
            self.workdir / f"run-{self.rounds}",
            extra=SLOW,
            data_dir=self.data_dir,
            token=self.token,
        )

    def api(self, server: JupyterProcess, path: str, **kwargs: Any) -> requests.Response:
        method = kwargs.pop("method", "GET")
        kwargs.setdefault("timeout", 30)
        return requests.request(method, f"{server.api}/{path}", headers=server.headers, **kwargs)

    def one_round(self) -> None:
        self.rounds += 1
        server = self.server().start()
        # The kill comes at a random moment from the first upload on, whatever is under way
        # then: an upload, a queued job, a first chunk, the middle, the outputs' renames.
        deadline = time.monotonic() + self.random.uniform(0, self.max_wait)
        submitted = []
        for _ in range(self.random.randint(1, 3)):
            rows = self.random.choice([50, 400, 1500, 4000, 8000])
            try:
                response = self.api(
                    server,
                    "jobs",
                    method="POST",
                    files={"file": ("c.csv", contacts_csv(rows), "text/csv")},
                    data={"columns": json.dumps(COLUMNS)},
                    timeout=max(0.05, deadline - time.monotonic()),
                )
            except requests.RequestException:
                self.phases["upload"] += 1
                server.kill()
                self.settle()
                return
            if response.status_code == 201:
                job_id = response.json()["jobId"]
                self.rows[job_id] = rows
                submitted.append(job_id)
        time.sleep(max(0.0, deadline - time.monotonic()))
        self.phases[self.phase(server, submitted)] += 1
        server.kill()
        self.settle()

    def phase(self, server: JupyterProcess, job_ids: list[int]) -> str:
        """Where the round's jobs were when the kill came (as far as REST could tell)."""
        try:
            jobs = [self.api(server, f"jobs/{job_id}").json() for job_id in job_ids]
        except requests.RequestException:
            return "unknown"
        if not jobs:
            return "upload"
        if any(job["status"] == "running" and job["processedRows"] == 0 for job in jobs):
            return "first chunk"
        if any(job["status"] == "running" for job in jobs):
            done = max(job["progress"] for job in jobs if job["status"] == "running")
            return "writing outputs" if done >= 90 else "mid-job"
        if any(job["status"] == "queued" for job in jobs):
            return "queued"
        return "finished"

    def settle(self) -> None:
        """Restart on the same data, let it finish what it took over, check, stop it."""
        server = self.server().start()
        try:
            deadline = time.monotonic() + 120
            while True:
                jobs = self.api(server, "jobs", params={"limit": 500}).json()["jobs"]
                if all(job["status"] in FINAL for job in jobs):
                    break
                assert time.monotonic() < deadline, f"jobs never finished: {jobs}"
                time.sleep(0.2)
            self.check(server, jobs)
        finally:
            server.stop()

    def check(self, server: JupyterProcess, jobs: list[dict[str, Any]]) -> None:
        outputs = self.data_dir / "outputs"
        names = {path.name for path in outputs.iterdir()}
        temps = [name for name in names if name.startswith(".")]
        assert temps == [], f"temporary files left: {temps}"
        inputs = [p.name for p in (self.data_dir / "inputs").iterdir() if p.name.startswith(".")]
        assert inputs == [], f"partial uploads left: {inputs}"
        seen = {job["jobId"]: job for job in jobs}
        assert set(self.rows) <= set(seen), "a job was lost"
        for job_id, rows in self.rows.items():
            job = seen[job_id]
            files = {f"{job_id}.csv", f"{job_id}.invalid.csv", f"{job_id}.parquet"}
            if job["status"] == "completed":
                assert files <= names, f"job {job_id} completed without its outputs"
                assert job["processedRows"] == rows
                csv = (outputs / f"{job_id}.csv").read_bytes()
                assert csv.startswith(b"Full Name,Phone,Email,Note,")
                assert pq.read_metadata(outputs / f"{job_id}.parquet").num_rows == rows
                assert csv.count(b"\n") == rows + 1  # no value of the test data holds a newline
            else:
                assert not files & names, f"job {job_id} is {job['status']} but has outputs"
        for job_id, job in seen.items():  # jobs whose upload the kill cut short too
            files = {f"{job_id}.csv", f"{job_id}.invalid.csv", f"{job_id}.parquet"}
            if job["status"] == "completed":
                assert files <= names, f"job {job_id} completed without its outputs"
            else:
                assert not files & names, f"job {job_id} is {job['status']} but has outputs"
        with sqlite3.connect(self.data_dir / "jobs.db") as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    def report(self) -> dict[str, Any]:
        with sqlite3.connect(self.data_dir / "jobs.db") as db:
            statuses = dict(db.execute("SELECT status, count(*) FROM jobs GROUP BY status"))
        return {
            "rounds": self.rounds,
            "jobs": len(self.rows),
            "kills_by_phase": dict(self.phases),
            "final_status": statuses,
        }
