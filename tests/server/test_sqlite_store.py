"""``SqlJobStore`` on SQLite, beyond the contract: the file and its pragmas, databases of the
nbjobs before Alembic carried on, a newer schema refused, damage found, and a server of this
host found dead by its process id at once."""

from __future__ import annotations

import os
import sqlite3
import subprocess

import pytest

from nbjobs.protocol import Completed, Counts, JobStatus
from nbjobs.server.sql_store import SqlJobStore, database_path, engine_url, server_is_alive
from nbjobs.server.store import INTERRUPTED_MESSAGE

from .stores import HOST, ME, SUMMARY, new_job

HEAD = "0004"

# The first schema, as the nbjobs before Alembic created it (SQLite user_version 1).
FIRST_SCHEMA = """
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN
        ('queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted')),
    input_name TEXT NOT NULL,
    input_path TEXT NOT NULL,
    input_format TEXT NOT NULL,
    columns TEXT NOT NULL,
    options TEXT NOT NULL,
    server_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    total_rows INTEGER,
    processed_rows INTEGER NOT NULL DEFAULT 0,
    valid_rows INTEGER NOT NULL DEFAULT 0,
    invalid_rows INTEGER NOT NULL DEFAULT 0,
    error_message TEXT,
    output_path TEXT,
    invalid_path TEXT,
    parquet_path TEXT
);
CREATE INDEX jobs_owner_id ON jobs (owner, id DESC);
CREATE INDEX jobs_active ON jobs (status) WHERE status IN ('queued', 'running');
"""


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "state" / "jobs.db")


@pytest.fixture
def open_store(db_path, jp_asyncio_loop):
    """``await open_store(server_id=ME, url=...)``: an opened SqlJobStore; closed at the end."""
    opened: list[SqlJobStore] = []

    async def make(server_id: str = ME, url: str | None = None, **options) -> SqlJobStore:
        store = SqlJobStore(
            database_url=url or f"sqlite:///{db_path}", server_id=server_id, **options
        )
        opened.append(store)
        await store.open()
        return store

    yield make
    for store in opened:
        jp_asyncio_loop.run_until_complete(store.close())


def revision(path: str) -> str:
    with sqlite3.connect(path) as raw:
        return raw.execute("SELECT version_num FROM alembic_version").fetchone()[0]


async def test_the_file_and_its_directory_are_created(open_store, db_path):
    store = await open_store()
    job = await new_job(store)
    assert os.path.isfile(db_path)
    with sqlite3.connect(db_path) as other:
        (server_id,) = other.execute(
            "SELECT server_id FROM jobs WHERE id = ?", (job.id,)
        ).fetchone()
    assert server_id == ME
    assert revision(db_path) == HEAD


def test_the_default_database_is_in_the_data_dir(tmp_path):
    store = SqlJobStore(data_dir=str(tmp_path), server_id=ME)
    assert store.path == str(tmp_path / "jobs.db")


async def test_wal_and_pragmas(open_store, db_path):
    store = await open_store()
    await new_job(store)
    with sqlite3.connect(db_path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert os.path.exists(db_path + "-wal")

    def pragmas() -> dict[str, int]:
        with store.db.engine.connect() as connection:
            return {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar_one()
                for name in ("synchronous", "foreign_keys", "busy_timeout")
            }

    assert await store._call(pragmas) == {"synchronous": 1, "foreign_keys": 1, "busy_timeout": 5000}


@pytest.mark.parametrize("version", [1, 2])
async def test_a_database_of_the_nbjobs_before_alembic_is_carried_on(open_store, db_path, version):
    os.makedirs(os.path.dirname(db_path))
    raw = sqlite3.connect(db_path)
    raw.executescript(FIRST_SCHEMA)
    if version == 2:
        raw.execute("ALTER TABLE jobs ADD COLUMN summary TEXT")
    raw.execute(
        "INSERT INTO jobs (owner, status, input_name, input_path, input_format, columns,"
        " options, server_id, created_at, finished_at, output_path) VALUES ('alice',"
        " 'completed', 'old.csv', '/i/1.csv', 'csv', '{\"Phone\": \"phone\"}', '{}', ?,"
        " '2026-01-01T00:00:00+00:00', '2026-01-01T00:01:00+00:00', '/o/1.csv')",
        (ME,),
    )
    raw.execute(f"PRAGMA user_version={version}")
    raw.commit()
    raw.close()

    store = await open_store()
    old = await store.get(1)
    assert old.status is JobStatus.COMPLETED and old.summary is None  # readable, no summary
    job = await new_job(store)
    assert job.id == 2
    await store.mark_running(job.id)
    done = Completed(Counts(3, 2, 1), 3, "/o/2.csv", "/o/2.invalid.csv", "/o/2.parquet", SUMMARY)
    assert (await store.mark_completed(job.id, done)).summary == SUMMARY
    assert revision(db_path) == HEAD
    await store.close()
    await (await open_store()).close()  # opening again migrates nothing twice
    assert revision(db_path) == HEAD


async def test_a_newer_schema_is_refused(open_store, db_path):
    await (await open_store()).close()
    with sqlite3.connect(db_path) as raw:
        raw.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(RuntimeError, match="upgrade nbjobs"):
        await open_store()


async def test_a_newer_pre_alembic_schema_is_refused(open_store, db_path):
    os.makedirs(os.path.dirname(db_path))
    with sqlite3.connect(db_path) as raw:
        raw.executescript(FIRST_SCHEMA)
        raw.execute("PRAGMA user_version=7")
    with pytest.raises(RuntimeError, match="upgrade nbjobs"):
        await open_store()


def test_database_urls():
    assert database_path("sqlite:////abs/jobs.db") == "/abs/jobs.db"
    assert database_path("sqlite:///rel/jobs.db") == "rel/jobs.db"
    assert database_path("/plain/jobs.db") == "/plain/jobs.db"
    with pytest.raises(ValueError, match="SQLite"):
        database_path("postgresql://db/jobs")
    assert engine_url("postgresql://u@h:5/db").drivername == "postgresql+psycopg"
    assert engine_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(ValueError, match="Unsupported database URL"):
        engine_url("mysql://u@h/db")


def test_server_is_alive():
    assert server_is_alive(ME)
    assert server_is_alive(f"{ME}:nonce")
    assert server_is_alive("some-other-host:1")  # cannot be checked from here
    child = subprocess.Popen(["true"])
    child.wait()  # reaped: its pid is free
    assert not server_is_alive(f"{HOST}:{child.pid}")
    assert not server_is_alive(f"{HOST}:{child.pid}:nonce")
    assert not server_is_alive(f"{HOST}:not-a-pid")


async def test_a_crashed_server_of_this_host_is_dead_before_its_lease_runs_out(open_store):
    child = subprocess.Popen(["true"])
    child.wait()
    crashed = await open_store(f"{HOST}:{child.pid}:x")  # its lease is fresh, its process gone
    lost = await new_job(crashed)
    await crashed.mark_running(lost.id)
    waiting = await new_job(crashed)
    survivor = await open_store()
    reconciled = await survivor.reconcile()
    assert reconciled.interrupted == [lost.id]
    assert [job.id for job in reconciled.adopted] == [waiting.id]
    job = await survivor.get(lost.id)
    assert (job.status, job.error_message) == (JobStatus.INTERRUPTED, INTERRUPTED_MESSAGE)


async def test_integrity_ok_detects_a_damaged_file(open_store, db_path):
    store = await open_store()
    for i in range(300):  # several pages of rows
        await new_job(store, name=f"{i}-{'x' * 200}.csv")
    assert await store.integrity_ok()
    await store.close()  # checkpoints the WAL into the main file

    page_size = 4096
    with open(db_path, "r+b") as raw:
        raw.seek(page_size * 4)  # the first pages hold the header and schema: damage a data page
        raw.write(b"\xff" * page_size)
    damaged = await open_store()
    assert not await damaged.integrity_ok()
