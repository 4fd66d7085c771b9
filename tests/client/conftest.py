"""Client tests run against a real jupyter-server subprocess with nbjobs (base_url "/a%40b/")
and talk to it over real REST and Socket.IO."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator

import pandas as pd
import pytest

from nbjobs.client import connection
from tests.conftest import contacts_csv
from tests.jupyter_process import JupyterProcess, running_server

# Slow enough to watch: 100-row chunks with a pause after each, every progress event sent.
SLOW_JOBS = [
    "--NbJobs.chunk_size=100",
    "--NbJobs.chunk_delay=0.05",
    "--NbJobs.progress_min_interval=0",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[JupyterProcess]:
    with running_server(tmp_path_factory.mktemp("server"), extra=SLOW_JOBS) as process:
        yield process


@pytest.fixture
def use_server(monkeypatch) -> Callable[[JupyterProcess], None]:
    """Point discovery at a test server (NBJOBS_URL), with a fresh per-kernel connection."""

    def use(process: JupyterProcess) -> None:
        connection.reset()
        monkeypatch.setenv("NBJOBS_URL", process.url + process.base_url)
        monkeypatch.setenv("NBJOBS_TOKEN", process.token)

    yield use
    connection.reset()


@pytest.fixture
def conn(server, use_server) -> connection.Connection:
    use_server(server)
    return connection.current()


def contacts(rows: int) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(contacts_csv(rows)), dtype=str, keep_default_na=False)


def eventually(predicate: Callable[[], object], timeout: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
