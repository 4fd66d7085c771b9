"""The job store contract: what the runner and the handlers need of the place jobs live.

The store is the truth; events only announce it. Implementations: ``SqlJobStore`` (one
machine, the default) and any class a deployment sets as ``c.NbJobs.store_class``; every one
must pass ``tests/server/test_store_contract.py``. Every method is a coroutine that never blocks
the event loop (a store on a database server waits on the network).

A job moves queued -> running -> completed | failed | cancelled, or to interrupted when its
server stopped before it finished. Once final, a job never changes again: each ``mark_*`` of a
final job returns it unchanged (a worker's late "completed" must not overwrite "cancelled").
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from traitlets import Float, Unicode
from traitlets.config import LoggingConfigurable

from ..protocol import Completed, Counts
from .records import JobRecord

__all__ = ["INTERRUPTED_MESSAGE", "JobStore", "Reconciled"]

INTERRUPTED_MESSAGE = "The server stopped before this job finished; submit it again."


@dataclasses.dataclass(frozen=True)
class Reconciled:
    """What ``reconcile`` did: the running jobs of dead servers it marked ``interrupted``, and
    their queued jobs, which are this server's now (to run)."""

    interrupted: list[int]
    adopted: list[JobRecord]


class JobStore(LoggingConfigurable):
    """Jobs, their counts and their outputs' paths, per owner; shared by every server instance
    with the same ``database_url``.

    ``server_id`` names this server instance; the store records it on the jobs this server
    runs and holds a lease for it, renewed by ``heartbeat``. A server whose lease has run out
    (or whose process is gone from this host) is dead: ``reconcile`` interrupts its running jobs
    and hands its queued ones to this server.
    """

    database_url = Unicode(
        "",
        config=True,
        help="The job database: sqlite:///<path>. Default: sqlite:///<data_dir>/jobs.db.",
    )
    lease_seconds = Float(
        30.0,
        min=1.0,
        config=True,
        help=(
            "Seconds without a heartbeat after which another server counts as dead (its running "
            "jobs interrupted, its queued ones taken over). Heartbeats come 6 times as often."
        ),
    )
    data_dir = Unicode(help="nbjobs' data directory (set by the extension).")
    server_id = Unicode(help="This server instance (set by the extension).")

    @property
    def url(self) -> str:
        """``database_url``, or the default database in ``data_dir``."""
        return self.database_url or "sqlite:///" + os.path.join(self.data_dir, "jobs.db")

    async def open(self) -> None:
        """Connect, bring the schema up to date (two servers starting at once migrate once),
        and take this server's lease. Called once, before anything else."""
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

    async def output_bytes_of(self, owner: str) -> int:
        """What the outputs of the owner's completed, unexpired jobs take, in bytes."""
        raise NotImplementedError

    async def expirable(self, before: datetime, *, limit: int = 100) -> list[JobRecord]:
        """Up to ``limit`` final jobs that finished before ``before`` and still have their
        files, oldest first (retention removes their files, then ``mark_expired``)."""
        raise NotImplementedError

    async def mark_expired(self, job_ids: Sequence[int]) -> None:
        """The jobs' files are gone; their rows stay, with ``expired_at``."""
        raise NotImplementedError

    async def count_by_status(self) -> dict[str, int]:
        """How many jobs the store holds in each status (every owner, every server)."""
        raise NotImplementedError

    async def mark_running(self, job_id: int) -> bool:
        """Claim a queued job for this server and start its clock; False (and nothing
        changes) unless it was queued."""
        raise NotImplementedError

    async def update_progress(self, job_id: int, counts: Counts, *, total: int | None) -> None:
        """Record an active job's counts and total rows; a final job is left alone."""
        raise NotImplementedError

    async def mark_completed(
        self, job_id: int, done: Completed, *, output_bytes: int | None = None
    ) -> JobRecord:
        """Final: completed, with the counts, outputs and summary of ``done``, and the bytes
        its outputs take (``output_bytes_of``)."""
        raise NotImplementedError

    async def mark_failed(
        self, job_id: int, message: str, *, counts: Counts | None = None
    ) -> JobRecord:
        """Final: failed with ``message``; ``counts`` None keeps the last recorded ones."""
        raise NotImplementedError

    async def mark_cancelled(self, job_id: int, *, counts: Counts | None = None) -> JobRecord:
        """Final: cancelled; ``counts`` None keeps the last recorded ones."""
        raise NotImplementedError

    async def cancel_queued(self, job_id: int) -> JobRecord | None:
        """Cancel the job if it is still queued (final at once); None if it is not (it may
        have started meanwhile: ``mark_running`` and this never both succeed)."""
        raise NotImplementedError

    async def request_cancel(self, job_id: int) -> bool:
        """Ask the server running ``job_id`` to cancel it (``cancel_requests``); False unless
        the job is running."""
        raise NotImplementedError

    async def cancel_requests(self, job_ids: Sequence[int]) -> list[int]:
        """Which of ``job_ids`` (this server's running jobs) have a cancel request."""
        raise NotImplementedError

    async def heartbeat(self) -> None:
        """Renew this server's lease."""
        raise NotImplementedError

    async def reconcile(self, *, at_start: bool = False) -> Reconciled:
        """Interrupt (with ``INTERRUPTED_MESSAGE``) the running jobs of every dead server and
        take over its queued jobs. At start-up (``at_start``), this server's own id counts as
        dead: its jobs are an earlier process's with the same id (a restart where pids repeat)."""
        raise NotImplementedError

    async def interrupt_own_jobs(self, message: str) -> list[int]:
        """At a clean shutdown: this server's running jobs become ``interrupted`` with
        ``message``, its queued jobs stay queued for the next server to take over (this one,
        restarted, or another sharing the store), and its lease is given up. Returns the ids
        interrupted, ascending."""
        raise NotImplementedError
