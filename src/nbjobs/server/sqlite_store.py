"""``SqliteJobStore``: the jobs table in one SQLite file (WAL), the default store.

Several servers may share one database file (say, JupyterLab's server and a private embedded
server started by a kernel), so every job row records the ``server_id`` ("hostname:pid") of the
server that runs it, and restart reconciliation only touches jobs whose server is gone. Every
call runs on one thread of its own, so the event loop never waits for SQLite's file locks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import json
import os
import socket
import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from ..exceptions import NotFound
from ..protocol import ACTIVE_STATUSES, Completed, Counts, JobStatus
from .records import JobRecord, utcnow
from .store import INTERRUPTED_MESSAGE, JobStore

__all__ = ["SqliteJobStore", "database_path", "server_is_alive"]

_T = TypeVar("_T")

# Index = the user_version a script upgrades from. Append new scripts; never edit old ones.
_MIGRATIONS = (
    """
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids are never reused
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
    """,
    # Per-column counts of a completed job (JSON, ``Summary.to_json``); NULL before.
    "ALTER TABLE jobs ADD COLUMN summary TEXT",
)
SCHEMA_VERSION = len(_MIGRATIONS)

_ACTIVE_SQL = "status IN ({})".format(", ".join(f"'{status.value}'" for status in ACTIVE_STATUSES))


def database_path(database_url: str) -> str:
    """``sqlite:////abs/jobs.db`` (SQLAlchemy style), ``sqlite:///rel.db`` or a plain path."""
    if database_url.startswith("sqlite:///"):
        return database_url[len("sqlite:///") :]
    if "://" in database_url:
        raise ValueError(f"Only sqlite database URLs are supported, not {database_url!r}.")
    return database_url


def server_is_alive(server_id: str) -> bool:
    """Whether the server that wrote ``server_id`` ("hostname:pid") may still be running.

    Another host's processes cannot be checked, so they count as alive: their jobs are left
    for that host to reconcile.
    """
    host, _, pid_text = server_id.rpartition(":")
    if host != socket.gethostname():
        return True
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, but belongs to another user
        return True
    return True


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _now() -> str:
    return utcnow().isoformat()


class _Database:
    """The SQLite file, called from one thread at a time (``SqliteJobStore``'s)."""

    def __init__(self, path: str, server_id: str) -> None:
        self.path = path
        self.server_id = server_id
        if path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: autocommit; the few multi-statement writes open their own
        # transaction, so no statement is left waiting in an implicit one. The connection is
        # made on the store's thread and used only there, but sqlite3 checks the thread that
        # made it, and the constructor runs elsewhere in tests: check_same_thread=False.
        self.db = sqlite3.connect(
            os.path.expanduser(path), check_same_thread=False, isolation_level=None
        )
        self.db.row_factory = sqlite3.Row
        # WAL: readers (REST polls, another server) never block the writer and vice versa.
        self.db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable across application crashes in WAL mode; only a power loss can
        # lose the last commits, and a lost progress update is harmless (the job is then
        # reconciled as interrupted). FULL would fsync on every progress update.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        # Another server sharing the file may hold the write lock for a moment.
        self.db.execute("PRAGMA busy_timeout=5000")
        self._migrate()

    def _migrate(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")  # two servers starting at once migrate only once
        try:
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"The job database {self.path} has schema version {version}, newer than "
                    f"this nbjobs understands ({SCHEMA_VERSION}); upgrade nbjobs."
                )
            for script in _MIGRATIONS[version:]:
                for statement in script.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
            # PRAGMA takes no parameters; SCHEMA_VERSION is our own int.
            self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        return self.db.execute(sql, tuple(params))

    def fetch(self, job_id: int) -> JobRecord | None:
        row = self.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _record(row) if row else None

    def get(self, job_id: int, owner: str | None) -> JobRecord:
        job = self.fetch(job_id)
        if job is None or (owner is not None and job.owner != owner):
            raise NotFound(f"Job {job_id} not found.")
        return job

    def create(self, fields: dict[str, Any]) -> JobRecord:
        cursor = self.execute(
            "INSERT INTO jobs (owner, status, input_name, input_path, input_format, columns,"
            " options, server_id, created_at) VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?)",
            (
                fields["owner"],
                fields["input_name"],
                fields["input_path"],
                fields["input_format"],
                json.dumps(fields["columns"]),
                json.dumps(fields["options"]),
                self.server_id,
                _now(),
            ),
        )
        return self.get(int(cursor.lastrowid or 0), None)

    def select(self, where: str, params: Iterable[Any], order: str, limit: int) -> list[JobRecord]:
        rows = self.execute(
            f"SELECT * FROM jobs WHERE {where} ORDER BY {order} LIMIT ?", (*params, limit)
        ).fetchall()
        return [_record(row) for row in rows]

    def mark_running(self, job_id: int) -> bool:
        cursor = self.execute(
            "UPDATE jobs SET status = 'running', started_at = ?, server_id = ?"
            " WHERE id = ? AND status = 'queued'",
            (_now(), self.server_id, job_id),
        )
        return cursor.rowcount == 1

    def set_if_active(self, job_id: int, fields: dict[str, Any]) -> JobRecord:
        """Update an active job; a final job is returned unchanged."""
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self.execute(
            f"UPDATE jobs SET {assignments} WHERE id = ? AND {_ACTIVE_SQL}",
            [*fields.values(), job_id],
        )
        return self.get(job_id, None)

    def interrupt(self, server_id: str, message: str) -> list[int]:
        rows = self.execute(
            f"UPDATE jobs SET status = 'interrupted', finished_at = ?, error_message = ?"
            f" WHERE server_id = ? AND {_ACTIVE_SQL} RETURNING id",
            (_now(), message, server_id),
        ).fetchall()
        return sorted(row["id"] for row in rows)

    def reconcile(self, is_alive: Callable[[str], bool]) -> list[int]:
        rows = self.execute(f"SELECT DISTINCT server_id FROM jobs WHERE {_ACTIVE_SQL}").fetchall()
        dead = [
            row["server_id"]
            for row in rows
            if row["server_id"] == self.server_id or not is_alive(row["server_id"])
        ]
        return sorted(i for server in dead for i in self.interrupt(server, INTERRUPTED_MESSAGE))

    def integrity_ok(self) -> bool:
        try:
            rows = self.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.DatabaseError:
            return False
        return [tuple(row) for row in rows] == [("ok",)]


def _counts(counts: Counts | None) -> dict[str, int]:
    if counts is None:
        return {}
    return {
        "processed_rows": counts.processed,
        "valid_rows": counts.valid,
        "invalid_rows": counts.invalid,
    }


class SqliteJobStore(JobStore):
    """Jobs in one SQLite file: ``database_url`` "sqlite:////abs/path/jobs.db" or a plain
    path; its directory and the schema are created. Calls run one at a time on the store's own
    thread (``JobStore`` contract: never on the event loop)."""

    _db: _Database | None = None
    _thread: concurrent.futures.ThreadPoolExecutor | None = None

    async def _call(self, method: Callable[..., _T], *args: Any) -> _T:
        if self._thread is None:
            raise RuntimeError("the job store is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, functools.partial(method, *args))

    @property
    def db(self) -> _Database:
        if self._db is None:
            raise RuntimeError("the job store is not open")
        return self._db

    @property
    def path(self) -> str:
        return database_path(self.url)

    async def open(self) -> None:
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="nbjobs-store")
        self._db = await self._call(_Database, self.path, self.server_id)

    async def close(self) -> None:
        if self._db is not None:
            await self._call(self._db.db.close)
            self._db = None
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None

    async def create(
        self,
        *,
        owner: str,
        input_name: str,
        input_path: str,
        input_format: str,
        columns: dict[str, Any],
        options: dict[str, Any],
    ) -> JobRecord:
        fields = {
            "owner": owner,
            "input_name": input_name,
            "input_path": input_path,
            "input_format": input_format,
            "columns": columns,
            "options": options,
        }
        return await self._call(self.db.create, fields)

    async def get(self, job_id: int, *, owner: str | None = None) -> JobRecord:
        return await self._call(self.db.get, job_id, owner)

    async def list_recent(self, *, owner: str, limit: int = 50) -> list[JobRecord]:
        return await self._call(self.db.select, "owner = ?", (owner,), "id DESC", max(0, limit))

    async def list_active(self, *, owner: str) -> list[JobRecord]:
        where = f"owner = ? AND {_ACTIVE_SQL}"
        return await self._call(self.db.select, where, (owner,), "id", -1)

    async def mark_running(self, job_id: int) -> bool:
        return await self._call(self.db.mark_running, job_id)

    async def update_progress(self, job_id: int, counts: Counts, *, total: int | None) -> None:
        await self._call(self.db.set_if_active, job_id, {**_counts(counts), "total_rows": total})

    async def mark_completed(self, job_id: int, done: Completed) -> JobRecord:
        fields = {
            "status": JobStatus.COMPLETED.value,
            "finished_at": _now(),
            **_counts(done.counts),
            "total_rows": done.total_rows,
            "output_path": done.output_path,
            "invalid_path": done.invalid_path,
            "parquet_path": done.parquet_path,
            "summary": json.dumps(done.summary),
        }
        return await self._call(self.db.set_if_active, job_id, fields)

    async def mark_failed(
        self, job_id: int, message: str, *, counts: Counts | None = None
    ) -> JobRecord:
        fields = {
            "status": JobStatus.FAILED.value,
            "finished_at": _now(),
            "error_message": message,
            **_counts(counts),
        }
        return await self._call(self.db.set_if_active, job_id, fields)

    async def mark_cancelled(self, job_id: int, *, counts: Counts | None = None) -> JobRecord:
        fields = {"status": JobStatus.CANCELLED.value, "finished_at": _now(), **_counts(counts)}
        return await self._call(self.db.set_if_active, job_id, fields)

    async def reconcile_at_startup(self) -> list[int]:
        return await self._call(self.db.reconcile, server_is_alive)

    async def interrupt_own_jobs(self, message: str) -> list[int]:
        return await self._call(self.db.interrupt, self.server_id, message)

    async def integrity_ok(self) -> bool:
        """Whether SQLite finds the file intact (a badly damaged file may not even answer)."""
        return await self._call(self.db.integrity_ok)


def _record(row: sqlite3.Row) -> JobRecord:
    return JobRecord(
        id=row["id"],
        owner=row["owner"],
        status=JobStatus(row["status"]),
        input_name=row["input_name"],
        input_path=row["input_path"],
        input_format=row["input_format"],
        columns=json.loads(row["columns"]),
        options=json.loads(row["options"]),
        created_at=_time(row["created_at"]) or utcnow(),
        server_id=row["server_id"],
        started_at=_time(row["started_at"]),
        finished_at=_time(row["finished_at"]),
        total_rows=row["total_rows"],
        processed_rows=row["processed_rows"],
        valid_rows=row["valid_rows"],
        invalid_rows=row["invalid_rows"],
        error_message=row["error_message"],
        output_path=row["output_path"],
        invalid_path=row["invalid_path"],
        parquet_path=row["parquet_path"],
        summary=json.loads(row["summary"]) if row["summary"] else None,
    )
