"""The one way nbjobs starts processes: a forkserver per process, with its modules preloaded.

fork is unsafe in a threaded process (Jupyter's server, a worker that has run pyarrow's
threads); spawn re-imports pandas for every process (about a second). A forkserver imports what
its children run once and forks them from that clean, single-threaded process.

multiprocessing has one forkserver per process: the Jupyter server preloads the job loop
(``worker.job``), a job's worker preloads its pool processes' module (``worker.pool_process``).
Preloading only saves time: a module asked for after the forkserver started (a test process
that runs both) is imported by each child instead.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver
import threading
from collections.abc import Sequence
from types import ModuleType

__all__ = ["forkserver_context", "warm_up"]

_lock = threading.Lock()
_preload: list[str] = []


def forkserver_context(preload: Sequence[ModuleType]) -> multiprocessing.context.ForkServerContext:
    """The forkserver context of this process, with ``preload`` imported in the forkserver if
    it has not started yet."""
    with _lock:
        context = multiprocessing.get_context("forkserver")
        new = [module.__name__ for module in preload if module.__name__ not in _preload]
        if new:
            _preload.extend(new)
            context.set_forkserver_preload(list(_preload))
    return context


def warm_up(preload: Sequence[ModuleType]) -> None:
    """Start the forkserver now (it imports its preload), so the first child starts at once."""
    forkserver_context(preload)
    multiprocessing.forkserver.ensure_running()
