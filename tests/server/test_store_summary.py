"""The job summary in an SQLite store of the version before summaries: the column is added."""

from __future__ import annotations

import sqlite3

from nbjobs.protocol import Completed, Counts
from nbjobs.server.sqlite_store import _MIGRATIONS, SCHEMA_VERSION, SqliteJobStore
from nbjobs.server.store import JobStore

from .stores import ME, SUMMARY, new_job


async def _complete(store: JobStore, job_id: int, summary: list):
    await store.mark_running(job_id)
    done = Completed(Counts(3, 2, 1), 3, "/o/1.csv", "/o/1.invalid.csv", "/o/1.parquet", summary)
    return await store.mark_completed(job_id, done)


async def _open(path: str) -> SqliteJobStore:
    store = SqliteJobStore(database_url=path, server_id=ME)
    await store.open()
    return store


async def test_a_database_of_the_previous_version_gets_the_summary_column(tmp_path):
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

    store = await _open(path)
    try:
        old = await store.get(1)
        assert old.status == "completed" and old.summary is None  # readable, no summary
        job = await new_job(store)
        assert (await _complete(store, job.id, SUMMARY)).summary == SUMMARY
    finally:
        await store.close()
    raw = sqlite3.connect(path)
    assert "summary" in [row[1] for row in raw.execute("PRAGMA table_info(jobs)")]
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    raw.close()
    await (await _open(path)).close()  # opening again migrates nothing twice
