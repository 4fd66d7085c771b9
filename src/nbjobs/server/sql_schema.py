"""The job database's tables, as SQLAlchemy Core describes them for SQLite and PostgreSQL alike.

Migrations (``migrations/versions``, run by Alembic at start-up) build exactly this; a test
compares the two. Times a person reads are ISO 8601 text in UTC (as the first schema had them);
lease times are seconds since the epoch, which both databases compare as numbers.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    false,
    text,
)

__all__ = ["ACTIVE_SQL", "STATUS_CHECK", "jobs", "metadata", "servers"]

metadata = MetaData()

STATUS_CHECK = "status IN ('queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted')"
ACTIVE_SQL = "status IN ('queued', 'running')"

jobs = Table(
    "jobs",
    metadata,
    # SQLite's AUTOINCREMENT (and PostgreSQL's sequence): ids are never reused.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("owner", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("input_name", Text, nullable=False),
    Column("input_path", Text, nullable=False),
    Column("input_format", Text, nullable=False),
    Column("columns", Text, nullable=False),  # JSON
    Column("options", Text, nullable=False),  # JSON
    Column("server_id", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("started_at", Text),
    Column("finished_at", Text),
    Column("total_rows", BigInteger),
    Column("processed_rows", BigInteger, nullable=False, server_default=text("0")),
    Column("valid_rows", BigInteger, nullable=False, server_default=text("0")),
    Column("invalid_rows", BigInteger, nullable=False, server_default=text("0")),
    Column("error_message", Text),
    Column("output_path", Text),
    Column("invalid_path", Text),
    Column("parquet_path", Text),
    Column("summary", Text),  # JSON, ``Summary.to_json``; NULL until completed
    # Asked on another server instance; the one running the job stops it between chunks.
    Column("cancel_requested", Boolean, nullable=False, server_default=false()),
    Column("output_bytes", BigInteger),  # the three outputs of a completed job, for quotas
    Column("expired_at", Text),  # when retention removed the job's files; the row stays
    CheckConstraint(STATUS_CHECK, name="jobs_status"),
    Index("jobs_owner_id", "owner", text("id DESC")),
    Index(
        "jobs_active",
        "status",
        sqlite_where=text(ACTIVE_SQL),
        postgresql_where=text(ACTIVE_SQL),
    ),
    sqlite_autoincrement=True,
)

# One row per server instance sharing the database: its lease, renewed by its heartbeat.
servers = Table(
    "servers",
    metadata,
    Column("server_id", Text, primary_key=True),
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("heartbeat_at", Float, nullable=False),
)
