"""A real Dask cluster for the tests: ``dask scheduler`` and ``dask worker`` processes (each
worker behind its nanny, which restarts it if it dies), over TCP on the loopback, as a
deployment runs them. ``shared_cluster()`` starts one for the whole test session, on first
use; each test that kills its scheduler starts its own ``DaskCluster``."""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
from pathlib import Path

from nbjobs.client.embedded import free_port

__all__ = ["DaskCluster", "shared_cluster"]

DASK = str(Path(sys.executable).with_name("dask"))


class DaskCluster:
    """A scheduler and ``workers`` single-threaded workers."""

    def __init__(self, workers: int = 2, port: int | None = None) -> None:
        self.workers = workers
        self.port = port or free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.scheduler: subprocess.Popen[bytes] | None = None
        self.nannies: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> DaskCluster:
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        self.scheduler = subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(self.port), "--no-dashboard"],
            start_new_session=True,
            **quiet,
        )
        self.nannies = subprocess.Popen(
            [
                DASK,
                "worker",
                self.address,
                "--host",
                "127.0.0.1",
                "--no-dashboard",
                "--nworkers",
                str(self.workers),
                "--nthreads",
                "1",
                "--memory-limit",
                "0",
            ],
            start_new_session=True,
            **quiet,
        )
        # Ready when every worker has registered: asked by a client of its own, in a process
        # of its own (a test may call this from inside a running event loop).
        wait = (
            "from distributed import Client; "
            f"Client({self.address!r}, timeout={timeout}).wait_for_workers({self.workers}, "
            f"timeout={timeout})"
        )
        try:
            subprocess.run([sys.executable, "-c", wait], check=True, timeout=timeout + 10, **quiet)
        except (subprocess.SubprocessError, OSError):
            self.stop()
            raise
        return self

    def kill_scheduler(self) -> None:
        if self.scheduler is not None:
            os.killpg(self.scheduler.pid, signal.SIGKILL)
            self.scheduler.wait(10)

    def stop(self) -> None:
        for process in (self.nannies, self.scheduler):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in (self.nannies, self.scheduler):
            if process is not None:
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(10)


_SHARED: DaskCluster | None = None


def shared_cluster() -> DaskCluster:
    """The session's cluster, started on first use and stopped at exit."""
    global _SHARED
    if _SHARED is None:
        _SHARED = DaskCluster().start()
        atexit.register(_SHARED.stop)
    return _SHARED
