"""The jobs table, as the first nbjobs schema (SQLite user_version 1) had it.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STATUS_CHECK = "status IN ('queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted')"
ACTIVE_SQL = "status IN ('queued', 'running')"


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("input_name", sa.Text, nullable=False),
        sa.Column("input_path", sa.Text, nullable=False),
        sa.Column("input_format", sa.Text, nullable=False),
        sa.Column("columns", sa.Text, nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("server_id", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("started_at", sa.Text),
        sa.Column("finished_at", sa.Text),
        sa.Column("total_rows", sa.BigInteger),
        sa.Column("processed_rows", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("valid_rows", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("invalid_rows", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("error_message", sa.Text),
        sa.Column("output_path", sa.Text),
        sa.Column("invalid_path", sa.Text),
        sa.Column("parquet_path", sa.Text),
        sa.CheckConstraint(STATUS_CHECK, name="jobs_status"),
        sqlite_autoincrement=True,
    )
    op.create_index("jobs_owner_id", "jobs", ["owner", sa.text("id DESC")])
    op.create_index(
        "jobs_active",
        "jobs",
        ["status"],
        sqlite_where=sa.text(ACTIVE_SQL),
        postgresql_where=sa.text(ACTIVE_SQL),
    )
