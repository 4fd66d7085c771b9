"""``DaskExecutor``: jobs on a Dask distributed cluster (``c.NbJobs.executor = "dask"``).

A job is a few tasks (``worker.dask_tasks``): one reads the input and writes it as parts of
about ``part_rows`` rows, whole batches each; one per part normalizes it and writes its rendered
rows. The server submits a part's task as soon as the part is written, then appends the parts
to the outputs in input order, off the event loop, and renames them into place as the local
executor does: the outputs are byte-identical to the local executor's.

The cluster is the scheduler at ``scheduler_address``, or, with ``"local"``, a
``distributed.LocalCluster`` this server starts and stops. Every worker must see the server's
data directory at the same path (a shared mount): the tasks read the input and write the parts
there. Progress comes through Dask's event log (``log_event`` / ``subscribe_topic``), so the
bar moves within a long part. A worker that dies mid-task has its task rerun by Dask (the parts
are written atomically, so the rerun writes the same files); a scheduler lost mid-job fails the
job with what to check.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from types import ModuleType
from typing import Any

from traitlets import Float, Int, Unicode, default

from ..protocol import Cancelled, Completed, Counts, Failed, Progress, Started
from ..worker import dask_tasks
from ..worker.dask_tasks import PartDone, SplitDone, TaskFailed, part_files
from ..worker.outputs import Outputs
from ..worker.settings import WorkerJob
from .executor import Execution, Executor

__all__ = ["DaskExecution", "DaskExecutor"]


class DaskExecution(Execution):
    """One job on the cluster: its tasks, their events, and the assembly of its parts."""

    def __init__(self, job: WorkerJob, executor: DaskExecutor) -> None:
        super().__init__(job.job_id)
        self.job = job
        self.executor = executor
        self.key = f"nbjobs-{executor.instance}-{job.job_id}"
        self.folder = executor.parts_folder(job.job_id)
        self.total = 0
        self.started = False
        self.futures: list[Any] = []  # per part, in input order
        self.split: Any = None
        self.valid_column = ""  # the job's validity column, from the split's "started" event
        self.reported: dict[int, Counts] = {}  # per running part: the most it reported
        self.done_counts = Counts()  # of the parts appended to the outputs
        self.last_sent = Counts()
        self.parts_known = asyncio.Event()  # set when a part is submitted or the split ends
        self.cancelled = False
        self.cancelling: asyncio.Future[None] | None = None
        self.outputs = Outputs(executor.output_dir, job.job_id)
        self.run = asyncio.ensure_future(self._run())

    # -- the job --------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            client = await self.executor.connect()
            await asyncio.to_thread(os.makedirs, self.folder, exist_ok=True)
            client.subscribe_topic(self.key, self._on_event)
            self.split = client.submit(
                dask_tasks.split_input,
                self.job,
                self.executor.settings(),
                self.folder,
                self.key,
                self.executor.part_rows,
                self.key,
                key=f"{self.key}-split",
                pure=False,
            )
            message = await self._assemble()
        except asyncio.CancelledError:
            raise  # terminate
        except Exception as exc:
            message = Failed(self.executor.explain(exc), counts=self.done_counts)
        if self.cancelled:
            message = Cancelled(counts=self.last_sent)
        if not isinstance(message, Completed):
            await self._clean_up(discard=True)
        else:
            await self._clean_up(discard=False)
        self.messages.put_nowait(message)

    async def _assemble(self) -> Completed | Failed | Cancelled:
        split_result: SplitDone | TaskFailed | None = None
        split_wait = asyncio.ensure_future(_result(self.split))
        index = 0
        summary = None
        try:
            while True:
                while index >= len(self.futures) and not split_wait.done():
                    self.parts_known.clear()
                    waiter = asyncio.ensure_future(self.parts_known.wait())
                    await asyncio.wait({waiter, split_wait}, return_when=asyncio.FIRST_COMPLETED)
                    waiter.cancel()
                if split_wait.done() and split_result is None:
                    split_result = split_wait.result()
                    if not isinstance(split_result, SplitDone):
                        return self._unfinished(split_result)
                    self._submit_parts(split_result.parts, split_result.valid_column)
                if index >= len(self.futures):
                    break  # the split is done and every part appended
                part = await _result(self.futures[index])
                self.futures[index] = None  # its result is ours now: the cluster may forget it
                if not isinstance(part, PartDone):
                    return self._unfinished(part)
                if self.cancelled:
                    return Cancelled(counts=self.last_sent)
                await asyncio.to_thread(self._append, part)
                summary = part.summary if summary is None else summary + part.summary
                self.reported.pop(index, None)
                self.done_counts += _counts(part.chunks)
                self._send_progress()
                index += 1
        finally:
            split_wait.cancel()
        assert split_result is not None and isinstance(split_result, SplitDone)
        if self.cancelled:
            return Cancelled(counts=self.last_sent)
        if not split_result.parts:
            return Failed("The file has no data rows.", counts=self.done_counts)
        paths = await asyncio.to_thread(self.outputs.commit)
        return Completed(
            counts=self.done_counts,
            total_rows=split_result.total_rows,
            summary=summary.to_json() if summary is not None else [],
            **paths,
        )

    def _unfinished(self, result: TaskFailed | Any | None) -> Failed | Cancelled:
        if result is None or self.cancelled:
            return Cancelled(counts=self.last_sent)
        return Failed(result.message, counts=self.done_counts)

    def _append(self, part: PartDone) -> None:
        """Part ``part.index``'s rows onto the outputs (in a thread), then its files go."""
        files = part_files(self.folder, part.index)
        self.outputs.append_part(
            part.header,
            files["csv"],
            files["invalid_csv"],
            dask_tasks.read_tables(part, files["tables"]),
        )
        for path in files.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    # -- events -----------------------------------------------------------------------------

    def _on_event(self, event: tuple[float, dict[str, Any]]) -> None:
        _, message = event
        kind = message.get("kind")
        if kind == "started" and not self.started:
            self.started = True
            self.total = int(message["total"])
            self.valid_column = str(message["validColumn"])
            self.messages.put_nowait(Started(total_rows=self.total))
        elif kind == "part":
            self._submit_parts(int(message["index"]) + 1, self.valid_column)
        elif kind == "progress":
            index = int(message["index"])
            if index >= len(self.futures) or self.futures[index] is None:
                return
            rows, valid = int(message["rows"]), int(message["valid"])
            best = self.reported.get(index, Counts())
            if rows > best.processed:  # a rerun part starts again from 0: keep the most
                self.reported[index] = Counts(rows, valid, rows - valid)
                self._send_progress()

    def _submit_parts(self, parts: int, valid_column: str) -> None:
        """Submit the tasks of parts up to ``parts`` not submitted yet."""
        if self.cancelled:
            return
        self.valid_column = valid_column
        while len(self.futures) < parts:
            index = len(self.futures)
            self.futures.append(
                self.executor.client.submit(
                    dask_tasks.normalize_part,
                    self.job,
                    self.executor.settings(),
                    self.folder,
                    self.key,
                    index,
                    self.valid_column,
                    self.key,
                    key=f"{self.key}-part-{index}",
                    pure=False,
                )
            )
        self.parts_known.set()

    def _send_progress(self) -> None:
        counts = self.done_counts
        for running in self.reported.values():
            counts += running
        if self.started and counts.processed > self.last_sent.processed:
            self.last_sent = counts
            self.messages.put_nowait(Progress(counts=counts, total_rows=self.total))

    # -- cancel and clean-up ------------------------------------------------------------------

    def cancel(self) -> None:
        if self.cancelled or self.run.done():
            return
        self.cancelled = True
        self.cancelling = asyncio.ensure_future(self._cancel_tasks())

    async def _cancel_tasks(self) -> None:
        with contextlib.suppress(Exception):
            await _distributed().Event(self.key, client=self.executor.client).set()
        futures = [future for future in [self.split, *self.futures] if future is not None]
        with contextlib.suppress(Exception):
            await self.executor.client.cancel(futures, force=True)

    async def terminate(self) -> None:
        self.cancelled = True
        self.run.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.run
        await self._cancel_tasks()
        await self._clean_up(discard=True)

    async def _clean_up(self, *, discard: bool) -> None:
        with contextlib.suppress(Exception):
            self.executor.client.unsubscribe_topic(self.key)
        if discard:
            await asyncio.to_thread(self.outputs.discard)
        await asyncio.to_thread(self.executor.remove_parts, self.job.job_id)
        with contextlib.suppress(Exception):
            await _distributed().Event(self.key, client=self.executor.client).clear()


async def _result(future: Any) -> Any:
    """A task's result (a lost scheduler cancels every future: ``DaskExecutor.explain``)."""
    return await future


def _counts(chunks: list[tuple[int, int]]) -> Counts:
    rows = sum(r for r, _ in chunks)
    valid = sum(v for _, v in chunks)
    return Counts(rows, valid, rows - valid)


class DaskExecutor(Executor):
    """Jobs on a Dask distributed cluster (module docstring)."""

    scheduler_address = Unicode(
        "local",
        config=True,
        help=(
            'The Dask scheduler, e.g. "tcp://scheduler:8786"; "local" starts a '
            "distributed.LocalCluster owned by this server (local_workers workers of one "
            "thread). Every worker must see the data directory at the same path."
        ),
    )
    local_workers = Int(
        min=1, config=True, help='Workers of the "local" cluster (default: the CPUs).'
    )
    part_rows = Int(
        100_000,
        min=1,
        config=True,
        help=(
            "Rows per task (whole batches of chunks): large enough that Dask's cost per task "
            "(a few ms) is noise, small enough to spread a job over the workers "
            "(benchmarks/README.md)."
        ),
    )

    connect_timeout = Float(
        10.0, min=0.1, config=True, help="Seconds to wait for the scheduler when connecting."
    )

    @default("local_workers")
    def _default_local_workers(self) -> int:
        return len(os.sched_getaffinity(0))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.instance = uuid.uuid4().hex[:8]  # task keys of two servers never collide
        self.client: Any = None
        self.cluster: Any = None

    @property
    def address(self) -> str:
        if self.cluster is not None:
            return f"the local cluster at {self.cluster.scheduler_address}"
        return str(self.scheduler_address)

    def connected(self) -> bool:
        return self.client is not None and self.client.status == "running"

    async def start(self) -> None:
        if self.scheduler_address == "local":
            self.cluster = await _distributed().LocalCluster(
                n_workers=self.local_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                asynchronous=True,
            )
        try:
            await self.connect()
        except OSError as exc:  # the server still starts: jobs say what is wrong until it is up
            self.log.warning("nbjobs: %s", self.explain(exc))

    async def connect(self) -> Any:
        """The client, connected again if it gave up on a scheduler that went away (each
        job calls this first, so the executor recovers once the scheduler is back)."""
        if self.client is not None and self.client.status in ("running", "connecting"):
            return self.client
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.close()
        target: Any = self.cluster if self.cluster is not None else self.scheduler_address
        self.client = await _distributed().Client(
            target, asynchronous=True, timeout=self.connect_timeout
        )
        return self.client

    async def stop(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                await self.cluster.close()

    def submit(self, job: WorkerJob) -> Execution:
        return DaskExecution(job, self)

    def explain(self, exc: BaseException) -> str:
        """A task's error in words a person can act on."""
        from distributed.client import FutureCancelledError

        if isinstance(exc, FutureCancelledError) and exc.reason == "scheduler-connection-lost":
            return (
                f"Lost the connection to the Dask scheduler ({self.address}) while the job "
                "ran. Check that the scheduler is running and reachable from the server, then "
                "submit the job again."
            )
        if isinstance(exc, OSError) and not self.connected():
            return (
                f"Cannot reach the Dask scheduler ({self.address}): {exc}. Check that it is "
                "running and reachable from the server, then submit the job again."
            )
        if isinstance(exc, _distributed().KilledWorker):
            return (
                "Dask workers died running this job's tasks several times over "
                f"({exc}); a part may need more memory than a worker has: lower "
                "DaskExecutor.part_rows or give the workers more memory."
            )
        return f"Internal error while normalizing ({type(exc).__name__}: {exc})"

    def parts_folder(self, job_id: int) -> str:
        """Where a job's parts are written: a dot-folder of its own next to its outputs."""
        return os.path.join(self.output_dir, f".{job_id}.parts")

    def remove_parts(self, job_id: int) -> None:
        shutil.rmtree(self.parts_folder(job_id), ignore_errors=True)

    def discard_outputs(self, job_id: int) -> None:
        super().discard_outputs(job_id)
        self.remove_parts(job_id)


def _distributed() -> ModuleType:
    """Dask distributed, imported when the executor is used: it is an optional dependency."""
    try:
        import distributed
    except ImportError as exc:
        raise RuntimeError(
            "c.NbJobs.executor = \"dask\" needs Dask distributed: pip install 'nbjobs[dask]'."
        ) from exc
    return distributed
