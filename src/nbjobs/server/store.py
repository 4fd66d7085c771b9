"""The job store contract: what the runner and the handlers need of the place jobs live.

The store is the truth; events only announce it. Implementations: ``SqliteJobStore`` (one
machine, the default) and any class a deployment sets as ``c.NbJobs.store_class``; every one
must pass ``tests/server/test_store_contract.py``. Every method is a coroutine that never blocks
the event loop (a store on a database server waits on the network).

A job moves queued -> running -> completed | failed | cancelled, or to interrupted when its
server stopped before it finished. Once final, a job never changes again: each ``mark_*`` of a
final job returns it unchanged (a worker's late "completed" must not overwrite "cancelled").
"""

from __future__ import annotations

import os
from typing import Any

from traitlets import Unicode
from traitlets.config import LoggingConfigurable

from ..protocol import Completed, Counts
from .records import JobRecord

__all__ = ["INTERRUPTED_MESSAGE", "JobStore"]

INTERRUPTED_MESSAGE = "The server stopped before this job finished; submit it again."


class JobStore(LoggingConfigurable):
    """Jobs, their counts and their outputs' paths, per owner.

    ``server_id`` names this server instance; the store records it on the jobs this server
    runs, so that at start-up (``reconcile_at_startup``) only the jobs of servers that are gone
    are marked interrupted.
    """

    database_url = Unicode(
        "",
        config=True,
        help="The job database: sqlite:///<path>. Default: sqlite:///<data_dir>/jobs.db.",
    )
    data_dir = Unicode(help="nbjobs' data directory (set by the extension).")
    server_id = Unicode(help="This server instance (set by the extension).")

    @property
    def url(self) -> str:
        """``database_url``, or the default database in ``data_dir``."""
        return self.database_url or "sqlite:///" + os.path.join(self.data_dir, "jobs.db")

    async def open(self) -> None:
        """Connect and bring the schema up to date (two servers starting at once migrate
        once). Called once, before anything else."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release the connection; no call follows."""
        raise NotImplementedError

    async def create(
        self,
        *,
        owner: str,
        input_name: str,
        input_path: str,
        input_format: str,
        columns: dict[str, Any],
        options: dict[str, Any],
    ) -> JobRecord:
        """Insert a ``queued`` job of this server, with a new id never used before."""
        raise NotImplementedError

    async def get(self, job_id: int, *, owner: str | None = None) -> JobRecord:
        """The job; ``NotFound`` if there is none or (with ``owner``) it is someone else's,
        with the same message, so other users' ids reveal nothing."""
        raise NotImplementedError

    async def list_recent(self, *, owner: str, limit: int = 50) -> list[JobRecord]:
        """The owner's latest ``limit`` jobs, newest first."""
        raise NotImplementedError

    async def list_active(self, *, owner: str) -> list[JobRecord]:
        """The owner's queued and running jobs, oldest first."""
        raise NotImplementedError

    async def mark_running(self, job_id: int) -> bool:
        """Claim a queued job for this server and start its clock; False (and nothing
        changes) unless it was queued."""
        raise NotImplementedError

    async def update_progress(self, job_id: int, counts: Counts, *, total: int | None) -> None:
        """Record an active job's counts and total rows; a final job is left alone."""
        raise NotImplementedError

    async def mark_completed(self, job_id: int, done: Completed) -> JobRecord:
        """Final: completed, with the counts, outputs and summary of ``done``."""
        raise NotImplementedError

    async def mark_failed(
        self, job_id: int, message: str, *, counts: Counts | None = None
    ) -> JobRecord:
        """Final: failed with ``message``; ``counts`` None keeps the last recorded ones."""
        raise NotImplementedError

    async def mark_cancelled(self, job_id: int, *, counts: Counts | None = None) -> JobRecord:
        """Final: cancelled; ``counts`` None keeps the last recorded ones."""
        raise NotImplementedError

    async def reconcile_at_startup(self) -> list[int]:
        """Mark ``interrupted`` (with ``INTERRUPTED_MESSAGE``) every queued or running job whose
        server is gone; this server's own id counts as gone (an earlier process with the same
        id). Returns the ids marked, ascending."""
        raise NotImplementedError

    async def interrupt_own_jobs(self, message: str) -> list[int]:
        """At a clean shutdown: this server's queued and running jobs become ``interrupted``
        with ``message``. Returns their ids, ascending."""
        raise NotImplementedError
