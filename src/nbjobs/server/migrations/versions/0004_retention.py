"""Quotas and retention: the bytes a completed job's outputs take, and when its files were
removed (the row stays).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("output_bytes", sa.BigInteger))
    op.add_column("jobs", sa.Column("expired_at", sa.Text))
