"""Fixtures for the server's parts on their own: job stores of every implementation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import pytest

from nbjobs.server.store import JobStore
from tests.redis_process import RedisProcess

from .stores import ME, STORE_IMPLEMENTATIONS


@pytest.fixture(params=sorted(STORE_IMPLEMENTATIONS))
def make_store(request, tmp_path, jp_asyncio_loop) -> Iterator[Callable[..., Awaitable[JobStore]]]:
    """``await make_store(server_id)``: opened stores of one implementation on one database, as
    many as a test asks for (other ``server_id``s: several servers sharing it); all closed at
    the end."""
    opened: list[JobStore] = []
    with STORE_IMPLEMENTATIONS[request.param](tmp_path) as factory:

        async def make(server_id: str = ME, **options: object) -> JobStore:
            store = factory(server_id, **options)
            await store.open()
            opened.append(store)
            return store

        yield make
        for store in opened:
            jp_asyncio_loop.run_until_complete(store.close())


@pytest.fixture
def store(make_store, jp_asyncio_loop) -> JobStore:
    return jp_asyncio_loop.run_until_complete(make_store())


@pytest.fixture
def redis_url(tmp_path):
    """A redis-server of the test's own, on a free port."""
    try:
        server = RedisProcess(tmp_path).start()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    yield server.url
    server.stop()
