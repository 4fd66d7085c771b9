"""The job summary in the store: kept with a completed job, and added to older databases."""

from __future__ import annotations

import sqlite3

from nbjobs.store import _MIGRATIONS, SCHEMA_VERSION, JobStore

from .test_store import ME, new_job

SUMMARY = [
    {
        "column": "Phone",
        "type": "phone",
        "rows": 3,
        "null": 0,
        "invalid": 1,
        "changed": 2,
        "unchanged": 0,
        "topReasons": [{"code": "phone_invalid", "message": "Not valid.", "count": 1}],
        "topRepairs": [],
    }
]


def _complete(store: JobStore, job_id: int, summary: list | None):
    store.mark_running(job_id)
    return store.mark_completed(
        job_id,
        processed=3,
        valid=2,
        invalid=1,
        total=3,
        output_path="/o/1.csv",
        invalid_path="/o/1.invalid.csv",
        parquet_path="/o/1.parquet",
        summary=summary,
    )


def test_summary_is_kept_with_the_completed_job(tmp_path):
    store = JobStore(str(tmp_path / "jobs.db"), server_id=ME)
    try:
        job = new_job(store)
        assert job.summary is None
        done = _complete(store, job.id, SUMMARY)
        assert done.summary == SUMMARY
        assert store.get(job.id).summary == SUMMARY
    finally:
        store.close()


def test_a_database_of_the_previous_version_gets_the_summary_column(tmp_path):
    path = str(tmp_path / "old.db")
    # The database as the version before summaries left it: schema 1 and a finished job.
    raw = sqlite3.connect(path)
    raw.executescript(_MIGRATIONS[0])
    raw.execute(
        "INSERT INTO jobs (owner, status, input_name, input_path, input_format, columns,"
        " options, server_id, created_at, finished_at, output_path) VALUES ('alice',"
        " 'completed', 'old.csv', '/i/1.csv', 'csv', '{\"Phone\": \"phone\"}', '{}', ?,"
        " '2026-01-01T00:00:00+00:00', '2026-01-01T00:01:00+00:00', '/o/1.csv')",
        (ME,),
    )
    raw.execute("PRAGMA user_version=1")
    raw.commit()
    columns = [row[1] for row in raw.execute("PRAGMA table_info(jobs)")]
    assert "summary" not in columns
    raw.close()

    store = JobStore(path, server_id=ME)
    try:
        old = store.get(1)
        assert old.status == "completed" and old.summary is None  # readable, no summary
        job = new_job(store)
        assert _complete(store, job.id, SUMMARY).summary == SUMMARY
    finally:
        store.close()
    raw = sqlite3.connect(path)
    assert "summary" in [row[1] for row in raw.execute("PRAGMA table_info(jobs)")]
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    raw.close()
    JobStore(path, server_id=ME).close()  # opening again migrates nothing twice
