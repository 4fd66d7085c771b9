"""The job stores the server tests run against, and helpers to fill one."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

from nbjobs.server.records import JobRecord
from nbjobs.server.sqlite_store import SqliteJobStore
from nbjobs.server.store import JobStore

HOST = socket.gethostname()
ME = f"{HOST}:{os.getpid()}"

StoreFactory = Callable[..., JobStore]


def _sqlite(tmp_path: Any) -> StoreFactory:
    url = f"sqlite:///{tmp_path / 'state' / 'jobs.db'}"

    def make(server_id: str = ME) -> JobStore:
        return SqliteJobStore(database_url=url, server_id=server_id)

    return make


# Every JobStore implementation the contract tests run against.
STORE_IMPLEMENTATIONS = {"sqlite": _sqlite}


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
