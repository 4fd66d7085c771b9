"""Alembic migrations of the job database, for SQLite and PostgreSQL (run by ``sql_store``)."""
