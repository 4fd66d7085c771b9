"""Alembic's entry point: migrate over the connection ``sql_store`` hands over."""

from __future__ import annotations

from alembic import context

from nbjobs.server.sql_schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot ALTER most things in place: Alembic copies the table ("batch" mode).
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
