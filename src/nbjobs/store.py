"""Persistence: the jobs table in SQLite. The store is the truth; events only notify.

Several servers may share one database file (say, JupyterLab's server and a private embedded
server started by a kernel), so every job row records the ``server_id`` ("hostname:pid") of the
server that runs it, and restart reconciliation only touches jobs whose server is gone.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from .exceptions import NotFound
from .models import ACTIVE_STATUSES, JobRecord, utcnow

INTERRUPTED_MESSAGE = "The server stopped before this job finished; submit it again."

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

_ACTIVE_SQL = "status IN ({})".format(", ".join(f"'{status}'" for status in ACTIVE_STATUSES))


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


class JobStore:
    """Jobs in one SQLite file.

    ``database_url``: "sqlite:////abs/path/jobs.db" or a plain path; the parent directory and
    the schema are created. ``server_id``: "hostname:pid" of this server, stored on each job.
    Safe to call from the event loop thread and worker threads (one connection, one lock).
    """

    def __init__(self, database_url: str, *, server_id: str) -> None:
        self.server_id = server_id
        self.path = database_path(database_url)
        if self.path != ":memory:":
            Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # isolation_level=None: autocommit; the few multi-statement writes open their own
        # transaction, so no statement is left waiting in an implicit one.
        self._db = sqlite3.connect(
            os.path.expanduser(self.path), check_same_thread=False, isolation_level=None
        )
        self._db.row_factory = sqlite3.Row
        with self._lock:
            # WAL: readers (REST polls, another server) never block the writer and vice versa.
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable across application crashes in WAL mode; only a power loss can
            # lose the last commits, and a lost progress update is harmless (the job is then
            # reconciled as interrupted). FULL would fsync on every progress update.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            # Another server sharing the file may hold the write lock for a moment.
            self._db.execute("PRAGMA busy_timeout=5000")
            self._migrate()

    # -- schema ------------------------------------------------------------------------------

    def _migrate(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")  # two servers starting at once migrate only once
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"The job database {self.path} has schema version {version}, newer than "
                    f"this nbjobs understands ({SCHEMA_VERSION}); upgrade nbjobs."
                )
            for script in _MIGRATIONS[version:]:
                for statement in script.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
            # PRAGMA takes no parameters; SCHEMA_VERSION is our own int.
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    # -- helpers -----------------------------------------------------------------------------

    def _execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, tuple(params))

    def _fetch(self, job_id: int) -> JobRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _record(row) if row else None

    def _set_if_active(self, job_id: int, **fields: Any) -> JobRecord:
        """Update an active job; a finished job is returned unchanged (a late 'completed'
        after 'cancelled' must not overwrite it)."""
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self._execute(
            f"UPDATE jobs SET {assignments} WHERE id = ? AND {_ACTIVE_SQL}",
            [*fields.values(), job_id],
        )
        return self.get(job_id)

    def _finish(self, job_id: int, status: str, **fields: Any) -> JobRecord:
        counts = {key: value for key, value in fields.items() if value is not None}
        return self._set_if_active(job_id, status=status, finished_at=_now(), **counts)

    # -- public ------------------------------------------------------------------------------

    def create(
        self,
        *,
        owner: str,
        input_name: str,
        input_path: str,
        input_format: str,
        columns: dict[str, Any],
        options: dict[str, Any],
    ) -> JobRecord:
        cursor = self._execute(
            "INSERT INTO jobs (owner, status, input_name, input_path, input_format, columns,"
            " options, server_id, created_at) VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?)",
            (
                owner,
                input_name,
                input_path,
                input_format,
                json.dumps(columns),
                json.dumps(options),
                self.server_id,
                _now(),
            ),
        )
        return self.get(int(cursor.lastrowid or 0))

    def set_input_path(self, job_id: int, input_path: str) -> None:
        self._execute("UPDATE jobs SET input_path = ? WHERE id = ?", (input_path, job_id))

    def get(self, job_id: int, *, owner: str | None = None) -> JobRecord:
        """The job; ``NotFound`` if it does not exist or (with ``owner``) is someone else's,
        with the same message, so ids of other users' jobs reveal nothing."""
        job = self._fetch(job_id)
        if job is None or (owner is not None and job.owner != owner):
            raise NotFound(f"Job {job_id} not found.")
        return job

    def list(self, *, owner: str, limit: int = 50) -> list[JobRecord]:
        """The owner's jobs, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM jobs WHERE owner = ? ORDER BY id DESC LIMIT ?",
                (owner, max(0, limit)),
            ).fetchall()
        return [_record(row) for row in rows]

    def mark_running(self, job_id: int) -> None:
        self._execute(
            "UPDATE jobs SET status = 'running', started_at = ?, server_id = ?"
            " WHERE id = ? AND status = 'queued'",
            (_now(), self.server_id, job_id),
        )

    def update_progress(
        self, job_id: int, *, processed: int, valid: int, invalid: int, total: int | None
    ) -> None:
        self._execute(
            "UPDATE jobs SET processed_rows = ?, valid_rows = ?, invalid_rows = ?,"
            f" total_rows = ? WHERE id = ? AND {_ACTIVE_SQL}",
            (processed, valid, invalid, total, job_id),
        )

    def mark_completed(
        self,
        job_id: int,
        *,
        processed: int,
        valid: int,
        invalid: int,
        total: int | None,
        output_path: str,
        invalid_path: str,
        parquet_path: str,
        summary: list[dict[str, Any]] | None = None,
    ) -> JobRecord:
        return self._finish(
            job_id,
            "completed",
            processed_rows=processed,
            valid_rows=valid,
            invalid_rows=invalid,
            total_rows=total,
            output_path=output_path,
            invalid_path=invalid_path,
            parquet_path=parquet_path,
            summary=json.dumps(summary) if summary is not None else None,
        )

    def mark_failed(
        self,
        job_id: int,
        message: str,
        *,
        processed: int | None = None,
        valid: int | None = None,
        invalid: int | None = None,
    ) -> JobRecord:
        """Counts left as None keep the last reported progress."""
        return self._finish(
            job_id,
            "failed",
            error_message=message,
            processed_rows=processed,
            valid_rows=valid,
            invalid_rows=invalid,
        )

    def mark_cancelled(self, job_id: int, *, processed: int, valid: int, invalid: int) -> JobRecord:
        return self._finish(
            job_id,
            "cancelled",
            processed_rows=processed,
            valid_rows=valid,
            invalid_rows=invalid,
        )

    def reconcile_at_startup(self, is_alive: Callable[[str], bool]) -> list[int]:
        """Mark ``interrupted`` every queued/running job whose server is gone.

        This server's own id counts as gone: a job recorded under it is from an earlier
        process that had the same pid (a restart in a container, where pids repeat).
        Returns the ids of the jobs marked.
        """
        with self._lock:
            rows = self._db.execute(
                f"SELECT DISTINCT server_id FROM jobs WHERE {_ACTIVE_SQL}"
            ).fetchall()
        dead = [
            row["server_id"]
            for row in rows
            if row["server_id"] == self.server_id or not is_alive(row["server_id"])
        ]
        interrupted: list[int] = []
        for server_id in dead:
            interrupted.extend(self._interrupt(server_id, INTERRUPTED_MESSAGE))
        return sorted(interrupted)

    def interrupt_own_jobs(self, message: str) -> list[int]:
        """At a clean shutdown: this server's queued/running jobs become ``interrupted``."""
        return sorted(self._interrupt(self.server_id, message))

    def _interrupt(self, server_id: str, message: str) -> list[int]:
        with self._lock:
            ids = self._db.execute(
                f"UPDATE jobs SET status = 'interrupted', finished_at = ?, error_message = ?"
                f" WHERE server_id = ? AND {_ACTIVE_SQL} RETURNING id",
                (_now(), message, server_id),
            ).fetchall()
        return [row["id"] for row in ids]

    def integrity_ok(self) -> bool:
        """Whether SQLite finds the file intact (a badly damaged file may not even answer)."""
        try:
            with self._lock:
                rows = self._db.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.DatabaseError:
            return False
        return [tuple(row) for row in rows] == [("ok",)]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _record(row: sqlite3.Row) -> JobRecord:
    return JobRecord(
        id=row["id"],
        owner=row["owner"],
        status=row["status"],
        input_name=row["input_name"],
        input_path=row["input_path"],
        input_format=row["input_format"],
        columns=json.loads(row["columns"]),
        options=json.loads(row["options"]),
        created_at=_time(row["created_at"]) or utcnow(),
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
