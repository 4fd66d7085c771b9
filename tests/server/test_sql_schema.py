"""The Alembic migrations build, on SQLite and on PostgreSQL, the tables ``sql_schema``
describes (which the queries are written against)."""

from __future__ import annotations

import sqlalchemy as sa

from nbjobs.server.sql_schema import metadata
from nbjobs.server.sql_store import SqlJobStore


async def test_the_migrations_build_the_schema_the_code_describes(make_store):
    store = await make_store()
    assert isinstance(store, SqlJobStore)

    def built() -> dict[str, tuple[dict[str, bool], set[str]]]:
        """Per table: each column's nullability, and the index names."""
        inspector = sa.inspect(store.db.engine)
        return {
            table.name: (
                {c["name"]: c["nullable"] for c in inspector.get_columns(table.name)},
                {index["name"] for index in inspector.get_indexes(table.name)},
            )
            for table in metadata.sorted_tables
        }

    tables = await store._call(built)
    for table in metadata.sorted_tables:
        columns, indexes = tables[table.name]
        assert columns == {column.name: column.nullable for column in table.columns}, table.name
        assert indexes >= {index.name for index in table.indexes}, table.name
