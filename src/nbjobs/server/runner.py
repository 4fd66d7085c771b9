"""``JobRunner``: which jobs run when, and what their messages become.

At most ``max_concurrent_jobs`` jobs run at once; others wait queued, in order. Each running
job's messages (``protocol``) are followed here: progress is coalesced per job (the latest
counts win, at most one event per ``progress_min_interval``) and becomes a ``job:progress``
event straight from the message, with the store updated alongside; a final message is written
to the store first, then announced (a completed job's 100% progress, then ``job:completed``),
so a client that hears of it finds it in the store.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
from typing import Any

from traitlets import Float, Int
from traitlets.config import LoggingConfigurable

from ..exceptions import Conflict
from ..protocol import (
    PROGRESS,
    Cancelled,
    Completed,
    Counts,
    Failed,
    JobStatus,
    Progress,
    ProgressPayload,
    Started,
    WorkerMessage,
    percent,
    progress_payload,
    terminal_event,
)
from ..worker.settings import WorkerJob
from .events import EventSink
from .executor import Execution, Executor
from .records import JobRecord, public_job
from .store import JobStore

__all__ = ["JobRunner"]

SHUTDOWN_MESSAGE = "The server was shut down before this job finished; submit it again."


@dataclasses.dataclass(eq=False)
class _Slot:
    """A job this runner has taken from the queue: starting, then running."""

    job_id: int
    execution: Execution | None = None
    cancel_requested: bool = False
    task: asyncio.Task[None] | None = None

    def cancel(self) -> None:
        self.cancel_requested = True
        if self.execution is not None:
            self.execution.cancel()


class JobRunner(LoggingConfigurable):
    """Schedules jobs on an ``Executor`` and turns their messages into store updates and
    events (module docstring)."""

    max_concurrent_jobs = Int(
        2, min=1, config=True, help="Jobs running at once, each in its own worker; others queue."
    )
    progress_min_interval = Float(
        0.1, config=True, help="At most one job:progress event per job per this many seconds."
    )

    def __init__(
        self,
        *,
        store: JobStore,
        executor: Executor,
        events: EventSink,
        base_url: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.executor = executor
        self.events = events
        self.base_url = base_url
        self._pending: collections.deque[int] = collections.deque()
        self._slots: dict[int, _Slot] = {}
        self._stopping = False

    # -- public ------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether a job of this runner is queued or running."""
        return bool(self._pending or self._slots)

    def submit(self, job: JobRecord) -> None:
        """Queue ``job`` (stored as queued); it starts as soon as a slot is free."""
        self._pending.append(job.id)
        self._start_pending()

    async def cancel(self, job_id: int, owner: str) -> JobRecord:
        """Cancel a queued job now, or ask a running one to stop between chunks; ``Conflict``
        for a job that is neither (``NotFound`` for another owner's)."""
        job = await self.store.get(job_id, owner=owner)
        if job.status is JobStatus.QUEUED and job_id in self._pending:
            self._pending.remove(job_id)
            cancelled = await self.store.mark_cancelled(job_id)
            await self._announce(cancelled, JobStatus.CANCELLED)
            return cancelled
        slot = self._slots.get(job_id)
        if job.status.active and slot is not None:
            slot.cancel()
            return job
        raise Conflict(
            f"Job {job_id} is {job.status}; only queued or running jobs can be cancelled."
        )

    async def stop(self) -> None:
        """Server shutdown: stop every job now; they read ``interrupted`` from then on."""
        self._stopping = True
        self._pending.clear()
        for slot in list(self._slots.values()):
            if slot.execution is not None:
                await slot.execution.terminate()
            if slot.task is not None:
                slot.task.cancel()
        stopped = await self.store.interrupt_own_jobs(SHUTDOWN_MESSAGE)
        if stopped:
            self.log.warning("nbjobs: shutdown interrupted jobs %s", stopped)

    # -- running -----------------------------------------------------------------------------

    def _start_pending(self) -> None:
        while not self._stopping and self._pending and len(self._slots) < self.max_concurrent_jobs:
            slot = _Slot(self._pending.popleft())
            self._slots[slot.job_id] = slot
            slot.task = asyncio.ensure_future(self._run(slot))

    async def _run(self, slot: _Slot) -> None:
        try:
            job = await self.store.get(slot.job_id)
            if job.status is JobStatus.QUEUED and await self.store.mark_running(job.id):
                await self._execute(slot, job)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.log.exception("nbjobs: error while running job %s", slot.job_id)
        finally:
            if self._slots.get(slot.job_id) is slot:
                del self._slots[slot.job_id]
            self._start_pending()

    async def _execute(self, slot: _Slot, job: JobRecord) -> None:
        work = WorkerJob(job.id, job.input_path, job.input_format, job.columns, job.options)
        try:
            slot.execution = self.executor.submit(work)
        except Exception as exc:  # the worker could not even start: fail this job only
            self.log.exception("nbjobs: could not start job %s", job.id)
            failed = await self.store.mark_failed(job.id, f"Could not start a worker: {exc}")
            await self._announce(failed, JobStatus.FAILED)
            return
        if slot.cancel_requested:
            slot.execution.cancel()
        await self._follow(job, slot.execution)

    async def _follow(self, job: JobRecord, execution: Execution) -> None:
        """Handle ``execution``'s messages until its final one, coalescing progress."""
        loop = asyncio.get_running_loop()
        messages = execution.messages
        pending: Progress | None = None  # the latest progress not announced yet
        held: WorkerMessage | None = None  # the message that ended a burst of progress
        last_sent = float("-inf")
        while True:
            message: WorkerMessage
            if held is not None:
                message, held = held, None
            elif pending is not None:
                due = last_sent + self.progress_min_interval - loop.time()
                if due <= 0:
                    await self._progress(job, pending)
                    pending, last_sent = None, loop.time()
                    continue
                try:
                    message = await asyncio.wait_for(messages.get(), due)
                except asyncio.TimeoutError:
                    continue
            else:
                message = await messages.get()
            if isinstance(message, Progress):
                # A batch of chunks arrives as a burst: only its latest counts matter.
                pending = message
                while held is None and not messages.empty():
                    following = messages.get_nowait()
                    if isinstance(following, Progress):
                        pending = following
                    else:
                        held = following
            elif isinstance(message, Started):
                await self.store.update_progress(job.id, Counts(), total=message.total_rows)
            else:
                await self._finish(job, message, pending)
                return

    async def _progress(self, job: JobRecord, progress: Progress) -> None:
        counts, total = progress.counts, progress.total_rows
        payload: ProgressPayload = {
            "jobId": job.id,
            "processedRows": counts.processed,
            "validRows": counts.valid,
            "invalidRows": counts.invalid,
            "totalRows": total,
            "progress": percent(counts.processed, total),
        }
        await self.events.emit(PROGRESS, payload, owner=job.owner)
        await self.store.update_progress(job.id, counts, total=total)

    async def _finish(
        self, job: JobRecord, message: Completed | Failed | Cancelled, pending: Progress | None
    ) -> None:
        if isinstance(message, Completed):
            final = await self.store.mark_completed(job.id, message)
            await self._announce(final, JobStatus.COMPLETED)
            return
        if pending is not None:  # the counts the job stopped at
            await self._progress(job, pending)
        if isinstance(message, Failed):
            final = await self.store.mark_failed(
                job.id, message.error_message, counts=message.counts
            )
            await self._announce(final, JobStatus.FAILED)
        else:
            final = await self.store.mark_cancelled(job.id, counts=message.counts)
            await self._announce(final, JobStatus.CANCELLED)

    async def _announce(self, job: JobRecord, status: JobStatus) -> None:
        """Announce that ``job`` became ``status`` (unless the store kept another final status:
        that one was announced when it was set)."""
        if job.status is not status:
            return
        public = public_job(job, self.base_url)
        if status is JobStatus.COMPLETED:
            await self.events.emit(PROGRESS, progress_payload(public), owner=job.owner)
        event, payload = terminal_event(public)
        await self.events.emit(event, payload, owner=job.owner)
