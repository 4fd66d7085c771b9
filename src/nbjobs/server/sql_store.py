"""``SqlJobStore``: the jobs in SQLite (one machine, the default) or PostgreSQL (a team's
servers sharing one database), one implementation over SQLAlchemy Core.

``database_url`` picks the database: ``sqlite:///<path>`` (or a plain path) or
``postgresql://user@host/db`` (driver psycopg 3). The schema is brought up to date by Alembic
(``migrations/``) when the store opens; a database of an nbjobs from before Alembic (SQLite
``user_version`` 1 or 2) is recognised and carried on from there.

Every call runs on the store's own threads (one for SQLite, which has one writer at a time;
``pool_size`` for PostgreSQL), so the event loop never waits for a lock or the network.

Servers sharing the database each hold a lease (``servers``), renewed by ``heartbeat``: a
server whose lease ran out, or whose process is gone from this host, is dead, and
``reconcile`` interrupts its running jobs and adopts its queued ones.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import fcntl
import functools
import json
import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from traitlets import Int

from ..exceptions import NotFound
from ..protocol import ACTIVE_STATUSES, Completed, Counts, JobStatus
from .records import JobRecord, utcnow
from .sql_schema import jobs, servers
from .store import INTERRUPTED_MESSAGE, JobStore, Reconciled

__all__ = ["SqlJobStore", "database_path", "engine_url", "server_is_alive"]

_T = TypeVar("_T")

# The SQLite schema versions of the nbjobs before Alembic, and the revision each one is.
_PRAGMA_VERSIONS = {1: "0001", 2: "0002"}
# Any constant: the key of PostgreSQL's advisory lock that lets one server migrate at a time.
_MIGRATION_LOCK = 0x6E626A6F6273
_ACTIVE = [status.value for status in ACTIVE_STATUSES]


def database_path(database_url: str) -> str:
    """The file of an SQLite URL: ``sqlite:////abs/jobs.db``, ``sqlite:///rel.db``, or a plain
    path."""
    if database_url.startswith("sqlite:///"):
        return database_url[len("sqlite:///") :]
    if "://" in database_url:
        raise ValueError(f"{database_url!r} is not an SQLite database URL.")
    return database_url


def engine_url(database_url: str) -> sa.URL:
    """SQLAlchemy's URL for ``database_url``: PostgreSQL through psycopg 3."""
    if database_url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise RuntimeError(
                "A PostgreSQL job database needs psycopg 3: pip install 'nbjobs[postgresql]'."
            ) from None
        url = sa.make_url(database_url.replace("postgres://", "postgresql://", 1))
        return url.set(drivername="postgresql+psycopg")
    if database_url.startswith("sqlite:///") or "://" not in database_url:
        path = os.path.expanduser(database_path(database_url))
        return sa.URL.create("sqlite", database=path)
    raise ValueError(
        f"Unsupported database URL {database_url!r}: use sqlite:///<path> or postgresql://..."
    )


def server_is_alive(server_id: str) -> bool:
    """Whether the process of ``server_id`` ("hostname:pid" or "hostname:pid:nonce") may be
    running: another host's processes cannot be seen from here, so they count as alive."""
    host, _, rest = server_id.partition(":")
    pid_text = rest.partition(":")[0]
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


def _counts(counts: Counts | None) -> dict[str, int]:
    if counts is None:
        return {}
    return {
        "processed_rows": counts.processed,
        "valid_rows": counts.valid,
        "invalid_rows": counts.invalid,
    }


def _record(row: sa.RowMapping) -> JobRecord:
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
        cancel_requested=bool(row["cancel_requested"]),
        output_bytes=row["output_bytes"],
        expired_at=_time(row["expired_at"]),
    )


@dataclasses.dataclass
class _Database:
    """The engine and what is done with it, called on the store's threads only."""

    engine: sa.Engine
    server_id: str
    lease_seconds: float

    @property
    def sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextlib.contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        with self.engine.begin() as connection:
            yield connection

    # -- schema ------------------------------------------------------------------------------

    def migrate(self, url: str) -> None:
        config = AlembicConfig()
        config.set_main_option("script_location", str(resources.files(__package__) / "migrations"))
        with self._migration_lock(url), self.engine.connect() as connection:
            if self.sqlite:
                self._adopt_pragma_version(config, connection)
            config.attributes["connection"] = connection
            current = MigrationContext.configure(connection).get_current_revision()
            known = {
                script.revision for script in ScriptDirectory.from_config(config).walk_revisions()
            }
            if current is not None and current not in known:
                raise RuntimeError(
                    f"The job database {url} has schema revision {current}, newer than this "
                    "nbjobs understands; upgrade nbjobs."
                )
            try:
                command.upgrade(config, "head")
            except CommandError as exc:
                raise RuntimeError(f"Cannot migrate the job database {url}: {exc}") from exc
            connection.commit()

    @contextlib.contextmanager
    def _migration_lock(self, url: str) -> Iterator[None]:
        """One server migrates at a time (two starting at once migrate once)."""
        if self.sqlite:
            database = self.engine.url.database or ""
            with open(f"{database}.migrate-lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                yield
            return
        with self.engine.connect() as connection:
            connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
            try:
                yield
            finally:
                connection.execute(
                    sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK}
                )

    def _adopt_pragma_version(self, config: AlembicConfig, connection: sa.Connection) -> None:
        """A database of the nbjobs before Alembic: stamp the revision its version is."""
        tables = set(sa.inspect(connection).get_table_names())
        if "jobs" not in tables or "alembic_version" in tables:
            return
        version = connection.exec_driver_sql("PRAGMA user_version").scalar_one()
        if version not in _PRAGMA_VERSIONS:
            raise RuntimeError(
                f"The job database {self.engine.url.database} has schema version {version}, "
                "newer than this nbjobs understands; upgrade nbjobs."
            )
        config.attributes["connection"] = connection
        command.stamp(config, _PRAGMA_VERSIONS[version])
        connection.commit()

    # -- jobs --------------------------------------------------------------------------------

    def one(self, connection: sa.Connection, job_id: int) -> JobRecord | None:
        row = connection.execute(sa.select(jobs).where(jobs.c.id == job_id)).mappings().first()
        return _record(row) if row else None

    def get(self, job_id: int, owner: str | None) -> JobRecord:
        with self.engine.connect() as connection:
            job = self.one(connection, job_id)
        if job is None or (owner is not None and job.owner != owner):
            raise NotFound(f"Job {job_id} not found.")
        return job

    def create(self, fields: dict[str, Any]) -> JobRecord:
        values = {
            **fields,
            "columns": json.dumps(fields["columns"]),
            "options": json.dumps(fields["options"]),
            "status": JobStatus.QUEUED.value,
            "server_id": self.server_id,
            "created_at": _now(),
        }
        with self.begin() as connection:
            row = connection.execute(jobs.insert().values(values).returning(jobs)).mappings().one()
        return _record(row)

    def select(
        self, where: sa.ColumnElement[bool], order: Any, limit: int | None
    ) -> list[JobRecord]:
        query = sa.select(jobs).where(where).order_by(order).limit(limit)
        with self.engine.connect() as connection:
            return [_record(row) for row in connection.execute(query).mappings()]

    def output_bytes_of(self, owner: str) -> int:
        query = sa.select(sa.func.coalesce(sa.func.sum(jobs.c.output_bytes), 0)).where(
            jobs.c.owner == owner, jobs.c.expired_at.is_(None)
        )
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def expirable(self, before: str, limit: int) -> list[JobRecord]:
        final = [status.value for status in JobStatus if status.final]
        query = (
            sa.select(jobs)
            .where(
                jobs.c.status.in_(final),
                jobs.c.expired_at.is_(None),
                jobs.c.finished_at < before,
            )
            .order_by(jobs.c.id)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [_record(row) for row in connection.execute(query).mappings()]

    def mark_expired(self, job_ids: Sequence[int]) -> None:
        with self.begin() as connection:
            connection.execute(
                jobs.update()
                .where(jobs.c.id.in_(list(job_ids)), jobs.c.expired_at.is_(None))
                .values(expired_at=_now())
            )

    def count_by_status(self) -> dict[str, int]:
        query = sa.select(jobs.c.status, sa.func.count()).group_by(jobs.c.status)
        with self.engine.connect() as connection:
            return {status: int(count) for status, count in connection.execute(query).all()}

    def mark_running(self, job_id: int) -> bool:
        with self.begin() as connection:
            result = connection.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.status == JobStatus.QUEUED.value)
                .values(status=JobStatus.RUNNING.value, started_at=_now(), server_id=self.server_id)
            )
        return result.rowcount == 1

    def set_if_active(self, job_id: int, fields: dict[str, Any]) -> JobRecord:
        """Update an active job; a final job is returned unchanged."""
        with self.begin() as connection:
            connection.execute(
                jobs.update().where(jobs.c.id == job_id, jobs.c.status.in_(_ACTIVE)).values(fields)
            )
            job = self.one(connection, job_id)
        if job is None:
            raise NotFound(f"Job {job_id} not found.")
        return job

    def cancel_queued(self, job_id: int) -> JobRecord | None:
        with self.begin() as connection:
            row = (
                connection.execute(
                    jobs.update()
                    .where(jobs.c.id == job_id, jobs.c.status == JobStatus.QUEUED.value)
                    .values(status=JobStatus.CANCELLED.value, finished_at=_now())
                    .returning(jobs)
                )
                .mappings()
                .first()
            )
        return _record(row) if row else None

    def request_cancel(self, job_id: int) -> bool:
        with self.begin() as connection:
            result = connection.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.status == JobStatus.RUNNING.value)
                .values(cancel_requested=True)
            )
        return result.rowcount == 1

    def cancel_requests(self, job_ids: Sequence[int]) -> list[int]:
        query = sa.select(jobs.c.id).where(
            jobs.c.id.in_(list(job_ids)), jobs.c.cancel_requested.is_(True)
        )
        with self.engine.connect() as connection:
            return sorted(connection.execute(query).scalars())

    # -- servers -----------------------------------------------------------------------------

    def heartbeat(self) -> None:
        now = time.time()
        with self.begin() as connection:
            renewed = connection.execute(
                servers.update()
                .where(servers.c.server_id == self.server_id)
                .values(heartbeat_at=now)
            )
            if renewed.rowcount == 0:
                host, _, rest = self.server_id.partition(":")
                pid = rest.partition(":")[0]
                connection.execute(
                    servers.insert().values(
                        server_id=self.server_id,
                        host=host,
                        pid=int(pid) if pid.isdigit() else 0,
                        started_at=now,
                        heartbeat_at=now,
                    )
                )

    def dead_servers(self, connection: sa.Connection, at_start: bool) -> list[str]:
        """The servers of active jobs that are gone: no live lease, or no process on this host.
        At this server's start, its own id is an earlier process's (the same host and pid)."""
        leases = dict(
            connection.execute(sa.select(servers.c.server_id, servers.c.heartbeat_at)).all()
        )
        owners = connection.execute(
            sa.select(jobs.c.server_id).where(jobs.c.status.in_(_ACTIVE)).distinct()
        ).scalars()
        expired = time.time() - self.lease_seconds
        dead = []
        for server_id in {*owners, *leases}:
            if server_id == self.server_id:
                if at_start:
                    dead.append(server_id)
                continue
            lease = leases.get(server_id)
            if lease is None or lease < expired or not server_is_alive(server_id):
                dead.append(server_id)
        return sorted(dead)

    def reconcile(self, at_start: bool) -> Reconciled:
        interrupted: list[int] = []
        adopted: list[JobRecord] = []
        with self.begin() as connection:
            for server_id in self.dead_servers(connection, at_start):
                interrupted += self._interrupt(connection, server_id, INTERRUPTED_MESSAGE)
                adopted += self._adopt_queued(connection, server_id)
                if server_id != self.server_id:
                    connection.execute(servers.delete().where(servers.c.server_id == server_id))
        return Reconciled(sorted(interrupted), sorted(adopted, key=lambda job: job.id))

    def _interrupt(self, connection: sa.Connection, server_id: str, message: str) -> list[int]:
        """``server_id``'s running jobs become interrupted."""
        rows = connection.execute(
            jobs.update()
            .where(jobs.c.server_id == server_id, jobs.c.status == JobStatus.RUNNING.value)
            .values(status=JobStatus.INTERRUPTED.value, finished_at=_now(), error_message=message)
            .returning(jobs.c.id)
        ).scalars()
        return list(rows)

    def _adopt_queued(self, connection: sa.Connection, server_id: str) -> list[JobRecord]:
        rows = connection.execute(
            jobs.update()
            .where(jobs.c.server_id == server_id, jobs.c.status == JobStatus.QUEUED.value)
            .values(server_id=self.server_id)
            .returning(jobs)
        ).mappings()
        return [_record(row) for row in rows]

    def interrupt_own(self, message: str) -> list[int]:
        with self.begin() as connection:
            stopped = self._interrupt(connection, self.server_id, message)
            connection.execute(servers.delete().where(servers.c.server_id == self.server_id))
        return sorted(stopped)

    def integrity_ok(self) -> bool:
        if not self.sqlite:
            return True  # PostgreSQL checks its own pages (checksums); nothing to ask here
        try:
            with self.engine.connect() as connection:
                rows = connection.exec_driver_sql("PRAGMA integrity_check").all()
        except sa.exc.DatabaseError:
            return False
        return [tuple(row) for row in rows] == [("ok",)]


def _sqlite_begin_immediate(connection: sa.Connection) -> None:
    # Every transaction takes the write lock at once: one that read first and wrote later
    # would fail, not wait, when another server sharing the file wrote meanwhile.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers (REST polls, another server) never block the writer and vice versa.
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable across application crashes in WAL mode; only a power loss can lose the
    # last commits, and a lost progress update is harmless (the job is then reconciled as
    # interrupted). FULL would fsync on every progress update.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Another server sharing the file may hold the write lock for a moment.
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
    # pysqlite's own transactions leave DDL and SELECTs outside them: begin them ourselves
    # (``_sqlite_begin_immediate``), as SQLAlchemy's SQLite documentation recommends.
    dbapi_connection.isolation_level = None


class SqlJobStore(JobStore):
    """The job store on SQLite or PostgreSQL (module docstring)."""

    pool_size = Int(
        4, min=1, config=True, help="Connections (and threads) to a PostgreSQL job database."
    )

    _db: _Database | None = None
    _threads: concurrent.futures.ThreadPoolExecutor | None = None

    @property
    def db(self) -> _Database:
        if self._db is None:
            raise RuntimeError("the job store is not open")
        return self._db

    @property
    def path(self) -> str:
        """The SQLite file (SQLite URLs only)."""
        return database_path(self.url)

    async def _call(self, method: Callable[..., _T], *args: Any) -> _T:
        if self._threads is None:
            raise RuntimeError("the job store is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, functools.partial(method, *args))

    def _engine(self) -> sa.Engine:
        url = engine_url(self.url)
        if url.get_backend_name() == "sqlite":
            Path(url.database or "").parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(url, pool_size=1, max_overflow=0)
            sa.event.listen(engine, "connect", _sqlite_pragmas)
            sa.event.listen(engine, "begin", _sqlite_begin_immediate)
            return engine
        return sa.create_engine(url, pool_size=self.pool_size, max_overflow=0, pool_pre_ping=True)

    async def open(self) -> None:
        engine = self._engine()
        threads = 1 if engine.dialect.name == "sqlite" else self.pool_size
        self._threads = concurrent.futures.ThreadPoolExecutor(
            threads, thread_name_prefix="nbjobs-store"
        )
        db = _Database(engine, self.server_id, self.lease_seconds)
        try:
            await self._call(db.migrate, self.url)
            await self._call(db.heartbeat)
        except BaseException:
            await self._call(engine.dispose)
            self._threads.shutdown(wait=False)
            self._threads = None
            raise
        self._db = db

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await self._call(db.engine.dispose)
        if self._threads is not None:
            self._threads.shutdown(wait=True)
            self._threads = None

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
        return await self._call(self.db.select, jobs.c.owner == owner, jobs.c.id.desc(), limit)

    async def list_active(self, *, owner: str) -> list[JobRecord]:
        where = sa.and_(jobs.c.owner == owner, jobs.c.status.in_(_ACTIVE))
        return await self._call(self.db.select, where, jobs.c.id, None)

    async def count_by_status(self) -> dict[str, int]:
        return await self._call(self.db.count_by_status)

    async def output_bytes_of(self, owner: str) -> int:
        return await self._call(self.db.output_bytes_of, owner)

    async def expirable(self, before: datetime, *, limit: int = 100) -> list[JobRecord]:
        return await self._call(self.db.expirable, before.isoformat(), limit)

    async def mark_expired(self, job_ids: Sequence[int]) -> None:
        if job_ids:
            await self._call(self.db.mark_expired, list(job_ids))

    async def mark_running(self, job_id: int) -> bool:
        return await self._call(self.db.mark_running, job_id)

    async def update_progress(self, job_id: int, counts: Counts, *, total: int | None) -> None:
        await self._call(self.db.set_if_active, job_id, {**_counts(counts), "total_rows": total})

    async def mark_completed(
        self, job_id: int, done: Completed, *, output_bytes: int | None = None
    ) -> JobRecord:
        fields = {
            "output_bytes": output_bytes,
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

    async def cancel_queued(self, job_id: int) -> JobRecord | None:
        return await self._call(self.db.cancel_queued, job_id)

    async def request_cancel(self, job_id: int) -> bool:
        return await self._call(self.db.request_cancel, job_id)

    async def cancel_requests(self, job_ids: Sequence[int]) -> list[int]:
        if not job_ids:
            return []
        return await self._call(self.db.cancel_requests, list(job_ids))

    async def heartbeat(self) -> None:
        await self._call(self.db.heartbeat)

    async def reconcile(self, *, at_start: bool = False) -> Reconciled:
        return await self._call(self.db.reconcile, at_start)

    async def interrupt_own_jobs(self, message: str) -> list[int]:
        return await self._call(self.db.interrupt_own, message)

    async def integrity_ok(self) -> bool:
        """Whether the database finds itself intact (SQLite's integrity_check; a badly damaged
        file may not even answer)."""
        return await self._call(self.db.integrity_ok)
