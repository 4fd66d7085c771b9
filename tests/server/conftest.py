"""Fixtures for the server's parts on their own: job stores of every implementation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import pytest

from nbjobs.server.store import JobStore

from .stores import ME, STORE_IMPLEMENTATIONS


@pytest.fixture(params=sorted(STORE_IMPLEMENTATIONS))
def make_store(request, tmp_path, jp_asyncio_loop) -> Iterator[Callable[..., Awaitable[JobStore]]]:
    """``await make_store(server_id)``: opened stores of one implementation on one database, as
    many as a test asks for (other ``server_id``s: several servers sharing it); all closed at
    the end."""
    factory = STORE_IMPLEMENTATIONS[request.param](tmp_path)
    opened: list[JobStore] = []

    async def make(server_id: str = ME) -> JobStore:
        store = factory(server_id)
        await store.open()
        opened.append(store)
        return store

    yield make
    for store in opened:
        jp_asyncio_loop.run_until_complete(store.close())


@pytest.fixture
def store(make_store, jp_asyncio_loop) -> JobStore:
    return jp_asyncio_loop.run_until_complete(make_store())
