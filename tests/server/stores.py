"""The job stores the server tests run against, and helpers to fill one."""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nbjobs.server.records import JobRecord
from nbjobs.server.sql_store import SqlJobStore
from nbjobs.server.store import JobStore

HOST = socket.gethostname()
ME = f"{HOST}:{os.getpid()}"
# The PostgreSQL server the tests create their databases on (.ci/run makes sure it is up).
POSTGRES = os.environ.get("NBJOBS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextlib.contextmanager
def sqlite_database(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'state' / 'jobs.db'}"


@contextlib.contextmanager
def postgres_database(tmp_path: Path) -> Iterator[str]:
    """A new, empty database on the test PostgreSQL server, dropped afterwards."""
    import psycopg

    name = f"nbjobs_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at {POSTGRES}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = POSTGRES.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def store_on(url: str, server_id: str = ME, **options: object) -> JobStore:
    return SqlJobStore(database_url=url, server_id=server_id, **options)


StoreFactory = Callable[..., JobStore]  # (server_id, **options) -> an unopened store


@contextlib.contextmanager
def sql_stores(
    database: Callable[[Path], contextlib.AbstractContextManager[str]], tmp_path: Path
) -> Iterator[StoreFactory]:
    with database(tmp_path) as url:
        yield functools.partial(store_on, url)


# Every JobStore implementation the contract tests run against: how to get stores that share
# one new, empty database.
STORE_IMPLEMENTATIONS: dict[
    str, Callable[[Path], contextlib.AbstractContextManager[StoreFactory]]
] = {
    "sqlite": functools.partial(sql_stores, sqlite_database),
    "postgresql": functools.partial(sql_stores, postgres_database),
}


# A per-column summary as a completed job carries it (``normalization.Summary.to_json``).
SUMMARY = [
    {
        "column": "Phone",
        "type": "phone",
        "rows": 3,
        "null": 0,
        "invalid": 1,
        "changed": 2,
        "unchanged": 0,
        "topReasons": [{"code": "phone_invalid", "message": "Not valid.", "count": 1}],
        "topRepairs": [],
    }
]


async def new_job(store: JobStore, owner: str = "alice", name: str = "contacts.csv") -> JobRecord:
    return await store.create(
        owner=owner,
        input_name=name,
        input_path=f"/data/inputs/{name}",
        input_format="csv",
        columns={"Phone": "phone"},
        options={"default_region": "GB"},
    )
