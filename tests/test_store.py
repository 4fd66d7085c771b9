"""JobStore against a real SQLite file: CRUD, ownership, transitions, restart reconciliation."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import threading
from datetime import timezone

import pytest

from nbjobs.exceptions import NotFound
from nbjobs.store import (
    INTERRUPTED_MESSAGE,
    SCHEMA_VERSION,
    JobStore,
    database_path,
    server_is_alive,
)

HOST = socket.gethostname()
ME = f"{HOST}:{os.getpid()}"


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "state" / "jobs.db")


@pytest.fixture
def store(db_path):
    store = JobStore(f"sqlite:///{db_path}", server_id=ME)
    yield store
    store.close()


def new_job(store: JobStore, owner: str = "alice", name: str = "contacts.csv"):
    return store.create(
        owner=owner,
        input_name=name,
        input_path=f"/data/inputs/.upload-{name}",
        input_format="csv",
        columns={"Phone": "phone"},
        options={"default_region": "GB"},
    )


def test_create_and_get_round_trip(store, db_path):
    assert os.path.isfile(db_path)  # parent directory created from a sqlite://// URL
    job = new_job(store)
    assert job.status == "queued"
    assert job.owner == "alice"
    assert job.columns == {"Phone": "phone"}
    assert job.options == {"default_region": "GB"}
    assert job.created_at.tzinfo == timezone.utc
    assert (job.started_at, job.finished_at, job.total_rows) == (None, None, None)
    assert (job.processed_rows, job.valid_rows, job.invalid_rows) == (0, 0, 0)

    store.set_input_path(job.id, "/data/inputs/1.csv")
    again = store.get(job.id, owner="alice")
    assert again.input_path == "/data/inputs/1.csv"
    assert again.created_at == job.created_at


def test_server_id_is_stored_in_the_table(store, db_path):
    job = new_job(store)
    with sqlite3.connect(db_path) as other:
        (server_id,) = other.execute(
            "SELECT server_id FROM jobs WHERE id = ?", (job.id,)
        ).fetchone()
    assert server_id == ME


def test_unknown_and_foreign_jobs_are_not_found_alike(store):
    job = new_job(store, owner="alice")
    with pytest.raises(NotFound) as missing:
        store.get(job.id + 100)
    with pytest.raises(NotFound) as foreign:
        store.get(job.id, owner="bob")
    assert missing.value.message == f"Job {job.id + 100} not found."
    assert foreign.value.message == f"Job {job.id} not found."
    assert store.get(job.id, owner="alice").id == job.id


def test_list_is_newest_first_limited_and_per_owner(store):
    ids = [new_job(store, owner="alice", name=f"{i}.csv").id for i in range(5)]
    new_job(store, owner="bob")
    assert [job.id for job in store.list(owner="alice")] == ids[::-1]
    assert [job.id for job in store.list(owner="alice", limit=2)] == ids[::-1][:2]
    assert [job.owner for job in store.list(owner="bob")] == ["bob"]
    assert store.list(owner="carol") == []


def test_running_progress_and_completed(store):
    job = new_job(store)
    store.mark_running(job.id)
    running = store.get(job.id)
    assert running.status == "running"
    assert running.started_at is not None

    store.update_progress(job.id, processed=100, valid=90, invalid=10, total=250)
    progressed = store.get(job.id)
    assert (progressed.processed_rows, progressed.valid_rows, progressed.invalid_rows) == (
        100,
        90,
        10,
    )
    assert progressed.total_rows == 250

    done = store.mark_completed(
        job.id,
        processed=250,
        valid=240,
        invalid=10,
        total=250,
        output_path="/o/1.csv",
        invalid_path="/o/1.invalid.csv",
        parquet_path="/o/1.parquet",
    )
    assert done.status == "completed"
    assert done.finished_at is not None and done.finished_at >= done.started_at
    assert (done.output_path, done.invalid_path, done.parquet_path) == (
        "/o/1.csv",
        "/o/1.invalid.csv",
        "/o/1.parquet",
    )
    assert store.get(job.id) == done


def test_failed_without_counts_keeps_the_last_progress(store):
    job = new_job(store)
    store.mark_running(job.id)
    store.update_progress(job.id, processed=30, valid=20, invalid=10, total=None)
    failed = store.mark_failed(job.id, "The worker process stopped unexpectedly.")
    assert failed.status == "failed"
    assert failed.error_message == "The worker process stopped unexpectedly."
    assert (failed.processed_rows, failed.valid_rows, failed.invalid_rows) == (30, 20, 10)


def test_terminal_states_are_never_overwritten(store):
    job = new_job(store)
    store.mark_running(job.id)
    cancelled = store.mark_cancelled(job.id, processed=10, valid=10, invalid=0)
    assert cancelled.status == "cancelled"

    late = store.mark_completed(
        job.id,
        processed=99,
        valid=99,
        invalid=0,
        total=99,
        output_path="/o/x.csv",
        invalid_path="/o/x.invalid.csv",
        parquet_path="/o/x.parquet",
    )
    assert late == cancelled
    assert store.mark_failed(job.id, "late") == cancelled
    store.update_progress(job.id, processed=50, valid=50, invalid=0, total=99)
    store.mark_running(job.id)
    assert store.get(job.id) == cancelled


def test_reconcile_interrupts_jobs_of_dead_servers_and_of_this_id_only(store, db_path):
    dead = f"{HOST}:999999"
    alive_elsewhere = "other-host:4242"
    mine = new_job(store)  # recorded under this server's id: a previous process, same pid
    store.mark_running(mine.id)
    finished = new_job(store)
    store.mark_failed(finished.id, "boom")

    stores = {sid: JobStore(db_path, server_id=sid) for sid in (dead, alive_elsewhere)}
    orphan_running = new_job(stores[dead])
    stores[dead].mark_running(orphan_running.id)
    orphan_queued = new_job(stores[dead])
    foreign = new_job(stores[alive_elsewhere])
    stores[alive_elsewhere].mark_running(foreign.id)
    for other in stores.values():
        other.close()

    asked: list[str] = []

    def is_alive(server_id: str) -> bool:
        asked.append(server_id)
        return server_id != dead

    interrupted = store.reconcile_at_startup(is_alive)
    assert interrupted == sorted([mine.id, orphan_running.id, orphan_queued.id])
    for job_id in interrupted:
        job = store.get(job_id)
        assert job.status == "interrupted"
        assert job.error_message == INTERRUPTED_MESSAGE
        assert job.finished_at is not None
    assert store.get(foreign.id).status == "running"
    assert store.get(finished.id).error_message == "boom"
    assert store.reconcile_at_startup(is_alive) == []  # idempotent
    assert ME not in asked  # its own id is never "alive": that process is this one's past


def test_server_is_alive():
    assert server_is_alive(ME)
    assert server_is_alive("some-other-host:1")  # cannot be checked: left alone
    child = subprocess.Popen(["true"])
    child.wait()  # reaped: its pid is free
    assert not server_is_alive(f"{HOST}:{child.pid}")
    assert not server_is_alive(f"{HOST}:not-a-pid")


def test_wal_and_pragmas(store, db_path):
    new_job(store)
    with sqlite3.connect(db_path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert other.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert os.path.exists(db_path + "-wal")
    with store._lock:
        pragmas = {
            name: store._db.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragmas == {"synchronous": 1, "foreign_keys": 1, "busy_timeout": 5000}


def test_reopen_keeps_jobs_and_refuses_a_newer_schema(db_path):
    first = JobStore(db_path, server_id=ME)
    job = new_job(first)
    first.close()
    second = JobStore(f"sqlite:///{db_path}", server_id=ME)
    assert second.get(job.id).input_name == "contacts.csv"
    assert new_job(second).id == job.id + 1
    second.close()

    with sqlite3.connect(db_path) as raw:
        raw.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(RuntimeError, match="upgrade nbjobs"):
        JobStore(db_path, server_id=ME)


def test_database_path_forms():
    assert database_path("sqlite:////abs/jobs.db") == "/abs/jobs.db"
    assert database_path("sqlite:///rel/jobs.db") == "rel/jobs.db"
    assert database_path("/plain/jobs.db") == "/plain/jobs.db"
    with pytest.raises(ValueError, match="sqlite"):
        database_path("postgresql://db/jobs")


def test_concurrent_writers_from_threads(store):
    ids: list[int] = []

    def work() -> None:
        for _ in range(25):
            job = new_job(store)
            store.update_progress(job.id, processed=1, valid=1, invalid=0, total=1)
            ids.append(job.id)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 100
    assert all(job.processed_rows == 1 for job in store.list(owner="alice", limit=200))
    assert store.integrity_ok()


def test_integrity_ok_detects_a_damaged_file(db_path):
    store = JobStore(db_path, server_id=ME)
    for i in range(300):  # several pages of rows
        new_job(store, name=f"{i}-{'x' * 200}.csv")
    assert store.integrity_ok()
    store.close()  # checkpoints the WAL into the main file

    page_size = 4096
    with open(db_path, "r+b") as raw:
        raw.seek(page_size * 2)  # page 1 holds the header and schema: damage a data page
        raw.write(b"\xff" * page_size)
    damaged = JobStore(db_path, server_id=ME)
    try:
        assert not damaged.integrity_ok()
    finally:
        damaged.close()
