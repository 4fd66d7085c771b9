"""The executors the server tests run against, with what only each one knows: how to kill the
worker of a running execution."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any

from nbjobs.server.executor import Execution, Executor
from nbjobs.server.local_executor import LocalExecution, LocalExecutor


def _kill_local(execution: Execution) -> None:
    assert isinstance(execution, LocalExecution)
    pid = execution.process.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)


# name -> (how to build one with these options, how to kill an execution's worker)
EXECUTOR_IMPLEMENTATIONS: dict[str, tuple[Callable[..., Executor], Callable[[Execution], None]]] = {
    "local": (LocalExecutor, _kill_local),
}


def make_executor(name: str, **options: Any) -> Executor:
    return EXECUTOR_IMPLEMENTATIONS[name][0](**options)


def kill_worker(name: str, execution: Execution) -> None:
    EXECUTOR_IMPLEMENTATIONS[name][1](execution)
