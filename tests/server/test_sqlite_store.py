"""``SqliteJobStore`` beyond the contract: the file, its pragmas and schema versions, and
reconciliation by process id for servers sharing one file."""

from __future__ import annotations

import os
import sqlite3
import subprocess

import pytest

from nbjobs.protocol import JobStatus
from nbjobs.server.sqlite_store import (
    SCHEMA_VERSION,
    SqliteJobStore,
    database_path,
    server_is_alive,
)
from nbjobs.server.store import INTERRUPTED_MESSAGE

from .stores import HOST, ME, new_job


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "state" / "jobs.db")


@pytest.fixture
def open_store(db_path, jp_asyncio_loop):
    """``await open_store(server_id=ME, url=...)``: an opened SqliteJobStore; closed at the end."""
    opened: list[SqliteJobStore] = []

    async def make(server_id: str = ME, url: str | None = None) -> SqliteJobStore:
        store = SqliteJobStore(database_url=url or f"sqlite:///{db_path}", server_id=server_id)
        opened.append(store)
        await store.open()
        return store

    yield make
    for store in opened:
        jp_asyncio_loop.run_until_complete(store.close())


async def test_the_file_and_its_directory_are_created(open_store, db_path):
    store = await open_store()
    job = await new_job(store)
    assert os.path.isfile(db_path)
    with sqlite3.connect(db_path) as other:
        (server_id,) = other.execute(
            "SELECT server_id FROM jobs WHERE id = ?", (job.id,)
        ).fetchone()
    assert server_id == ME


def test_the_default_database_is_in_the_data_dir(tmp_path):
    store = SqliteJobStore(data_dir=str(tmp_path), server_id=ME)
    assert store.path == str(tmp_path / "jobs.db")


async def test_wal_and_pragmas(open_store, db_path):
    store = await open_store()
    await new_job(store)
    with sqlite3.connect(db_path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert other.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert os.path.exists(db_path + "-wal")

    def pragmas() -> dict[str, int]:
        return {
            name: store.db.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("synchronous", "foreign_keys", "busy_timeout")
        }

    assert await store._call(pragmas) == {"synchronous": 1, "foreign_keys": 1, "busy_timeout": 5000}


async def test_reopen_keeps_jobs_and_refuses_a_newer_schema(open_store, db_path):
    first = await open_store(url=db_path)
    job = await new_job(first)
    await first.close()
    second = await open_store()
    assert (await second.get(job.id)).input_name == "contacts.csv"
    assert (await new_job(second)).id == job.id + 1
    await second.close()

    with sqlite3.connect(db_path) as raw:
        raw.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(RuntimeError, match="upgrade nbjobs"):
        await open_store()


def test_database_path_forms():
    assert database_path("sqlite:////abs/jobs.db") == "/abs/jobs.db"
    assert database_path("sqlite:///rel/jobs.db") == "rel/jobs.db"
    assert database_path("/plain/jobs.db") == "/plain/jobs.db"
    with pytest.raises(ValueError, match="sqlite"):
        database_path("postgresql://db/jobs")


def test_server_is_alive():
    assert server_is_alive(ME)
    assert server_is_alive("some-other-host:1")  # cannot be checked: left alone
    child = subprocess.Popen(["true"])
    child.wait()  # reaped: its pid is free
    assert not server_is_alive(f"{HOST}:{child.pid}")
    assert not server_is_alive(f"{HOST}:not-a-pid")


async def test_reconcile_interrupts_jobs_of_dead_servers_only(open_store):
    child = subprocess.Popen(["true"])
    child.wait()
    dead, alive_elsewhere = f"{HOST}:{child.pid}", "other-host:4242"
    store = await open_store()
    finished = await new_job(store)
    await store.mark_failed(finished.id, "boom")
    others = {sid: await open_store(sid) for sid in (dead, alive_elsewhere)}
    orphan_running = await new_job(others[dead])
    await others[dead].mark_running(orphan_running.id)
    orphan_queued = await new_job(others[dead])
    foreign = await new_job(others[alive_elsewhere])
    await others[alive_elsewhere].mark_running(foreign.id)

    interrupted = await store.reconcile_at_startup()
    assert interrupted == sorted([orphan_running.id, orphan_queued.id])
    for job_id in interrupted:
        job = await store.get(job_id)
        assert job.status is JobStatus.INTERRUPTED
        assert job.error_message == INTERRUPTED_MESSAGE
    assert (await store.get(foreign.id)).status is JobStatus.RUNNING
    assert (await store.get(finished.id)).error_message == "boom"


async def test_integrity_ok_detects_a_damaged_file(open_store, db_path):
    store = await open_store()
    for i in range(300):  # several pages of rows
        await new_job(store, name=f"{i}-{'x' * 200}.csv")
    assert await store.integrity_ok()
    await store.close()  # checkpoints the WAL into the main file

    page_size = 4096
    with open(db_path, "r+b") as raw:
        raw.seek(page_size * 2)  # page 1 holds the header and schema: damage a data page
        raw.write(b"\xff" * page_size)
    damaged = await open_store()
    assert not await damaged.integrity_ok()
