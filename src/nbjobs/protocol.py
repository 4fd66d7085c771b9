"""The wire contract every runtime shares: job statuses, the public job shape, the Socket.IO
events with their payloads, and the messages a worker sends the server.

Clients written for the original web platform listen for exactly these event names and read
exactly these camelCase keys, so every payload is built here and nowhere else. Extra keys may be
added for richer clients; the listed ones never change. The kernel imports this module and
``client/`` only; the server and the workers import it too, so it imports nothing of theirs.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any, Final, TypedDict

__all__ = [
    "ACTIVE_STATUSES",
    "ALL_EVENTS",
    "CANCELLED",
    "CANCELLED_KEYS",
    "COMPLETED",
    "COMPLETED_KEYS",
    "FAILED",
    "FAILED_KEYS",
    "FINAL_STATUSES",
    "LIVE_KEYS",
    "LIVE_SECONDS",
    "PREVIEW_CHARS",
    "PREVIEW_ROWS",
    "PROGRESS",
    "PROGRESS_KEYS",
    "THROUGHPUT_KEYS",
    "Cancelled",
    "CancelledPayload",
    "ColumnCount",
    "Completed",
    "CompletedPayload",
    "Counts",
    "Failed",
    "FailedPayload",
    "JobStatus",
    "LiveProgressPayload",
    "LiveView",
    "Progress",
    "ProgressPayload",
    "PublicJob",
    "Started",
    "Throughput",
    "WorkerMessage",
    "job_url",
    "percent",
    "progress_payload",
    "terminal_event",
    "throughput",
]


class JobStatus(str, enum.Enum):
    """Where a job is. ``interrupted``: its server stopped before it finished (found at the
    next start, or by another server sharing the store); it has no event, as the clients of
    that server are gone with it."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    def __str__(self) -> str:  # "completed", not "JobStatus.COMPLETED", in messages
        return self.value

    @property
    def active(self) -> bool:
        return self in ACTIVE_STATUSES

    @property
    def final(self) -> bool:
        return self in FINAL_STATUSES


# In the order a job passes through them: a client never moves a job back along it.
ACTIVE_STATUSES: Final = (JobStatus.QUEUED, JobStatus.RUNNING)
FINAL_STATUSES: Final = (
    JobStatus.COMPLETED,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
    JobStatus.INTERRUPTED,
)

# -- events ----------------------------------------------------------------------------------

PROGRESS: Final = "job:progress"
COMPLETED: Final = "job:completed"
FAILED: Final = "job:failed"
CANCELLED: Final = "job:cancelled"
ALL_EVENTS: Final = (PROGRESS, COMPLETED, FAILED, CANCELLED)


class PublicJob(TypedDict):
    """A job as REST returns it (``GET jobs/{jobId}``), camelCase. ``summary``: the per-column
    counts of a completed job (``normalization.summary``), in no event payload. An expired
    job (``expiredAt``) has no output URLs any more."""

    jobId: int
    status: str
    processedRows: int
    validRows: int
    invalidRows: int
    totalRows: int | None
    progress: int
    outputFileUrl: str | None
    invalidRowsUrl: str | None
    errorMessage: str | None
    createdAt: str | None
    startedAt: str | None
    finishedAt: str | None
    inputName: str
    columns: dict[str, Any]
    options: dict[str, Any]
    summary: list[dict[str, Any]] | None
    expiredAt: str | None  # retention removed its input and outputs then


class ProgressPayload(TypedDict):
    jobId: int
    processedRows: int
    validRows: int
    invalidRows: int
    totalRows: int | None
    progress: int


class Throughput(TypedDict, total=False):
    """Once rows have been processed: ``rowsPerSecond`` since the worker started reading, and
    ``eta``, the seconds left at that rate (None while the total is unknown)."""

    rowsPerSecond: int
    eta: int | None


class ColumnCount(TypedDict):
    """One typed column's counts so far: non-empty values ``valid`` and ``invalid``, and
    ``null`` (empty) ones."""

    column: str
    type: str
    valid: int
    invalid: int
    null: int


class LiveView(TypedDict, total=False):
    """Every few seconds while a job runs (``LIVE_SECONDS``): ``columnCounts``, per typed
    column, and ``preview``, the first rows of the latest chunk: each typed column as typed and
    normalized (``<column>_normalized``) and the row's validity, texts cut at ``PREVIEW_CHARS``."""

    columnCounts: list[ColumnCount]
    preview: list[dict[str, str]]


class LiveProgressPayload(ProgressPayload, Throughput, LiveView):
    """``job:progress`` as the runner sends it while a job runs: the exact keys, then its
    ``Throughput`` when known and, every few seconds, its ``LiveView``. Old clients ignore the
    extra keys."""


class CompletedPayload(TypedDict):
    jobId: int
    status: str
    processedRows: int
    validRows: int
    invalidRows: int
    outputFileUrl: str | None


class FailedPayload(TypedDict):
    jobId: int
    status: str
    errorMessage: str | None


class CancelledPayload(TypedDict):
    jobId: int
    status: str
    processedRows: int
    validRows: int
    invalidRows: int


# The keys each payload always has, in order (clients may rely on every one of them).
PROGRESS_KEYS: Final = tuple(ProgressPayload.__annotations__)
COMPLETED_KEYS: Final = tuple(CompletedPayload.__annotations__)
FAILED_KEYS: Final = tuple(FailedPayload.__annotations__)
CANCELLED_KEYS: Final = tuple(CancelledPayload.__annotations__)
THROUGHPUT_KEYS: Final = tuple(Throughput.__annotations__)  # extra, in running jobs' progress
LIVE_KEYS: Final = tuple(LiveView.__annotations__)  # extra, every LIVE_SECONDS
LIVE_SECONDS: Final = 2.0  # how often a running job's progress carries its LiveView
PREVIEW_ROWS: Final = 3
PREVIEW_CHARS: Final = 80


def percent(processed: int, total: int | None) -> int:
    """Progress 0-100; 100 only once every row is processed."""
    if not total:
        return 0
    if processed >= total:
        return 100
    return min(99, (processed * 100) // total)


def throughput(processed: int, total: int | None, seconds: float) -> Throughput:
    """The ``Throughput`` after ``seconds`` of work; empty before the first rows (no rate to
    speak of yet)."""
    if processed <= 0 or seconds <= 0:
        return {}
    rate = processed / seconds
    eta = None if total is None else max(0, round((total - processed) / rate))
    return {"rowsPerSecond": round(rate), "eta": eta}


def job_url(base_url: str, job_id: int, *parts: str) -> str:
    """URL path of a job resource under the server's ``base_url`` (which ends with '/')."""
    tail = "/".join((str(job_id), *parts))
    return f"{base_url}nbjobs/api/jobs/{tail}"


def progress_payload(job: Mapping[str, Any]) -> ProgressPayload:
    """The ``job:progress`` payload of a public job (or of any mapping with its keys)."""
    return {
        "jobId": job["jobId"],
        "processedRows": job["processedRows"],
        "validRows": job["validRows"],
        "invalidRows": job["invalidRows"],
        "totalRows": job["totalRows"],
        "progress": job["progress"],
    }


def terminal_event(
    job: PublicJob,
) -> tuple[str, CompletedPayload | FailedPayload | CancelledPayload]:
    """The event name and payload announcing a job's final status."""
    status = JobStatus(job["status"])
    if status is JobStatus.COMPLETED:
        completed: CompletedPayload = {
            "jobId": job["jobId"],
            "status": status.value,
            "processedRows": job["processedRows"],
            "validRows": job["validRows"],
            "invalidRows": job["invalidRows"],
            "outputFileUrl": job["outputFileUrl"],
        }
        return COMPLETED, completed
    if status is JobStatus.FAILED:
        return FAILED, {
            "jobId": job["jobId"],
            "status": status.value,
            "errorMessage": job["errorMessage"],
        }
    if status is JobStatus.CANCELLED:
        return CANCELLED, {
            "jobId": job["jobId"],
            "status": status.value,
            "processedRows": job["processedRows"],
            "validRows": job["validRows"],
            "invalidRows": job["invalidRows"],
        }
    raise ValueError(f"status {status} has no event")


# -- worker -> server --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Counts:
    """Rows a job has normalized so far; ``invalid`` rows have at least one invalid value."""

    processed: int = 0
    valid: int = 0
    invalid: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.processed + other.processed,
            self.valid + other.valid,
            self.invalid + other.invalid,
        )


@dataclasses.dataclass(frozen=True)
class Started:
    """The worker has counted the input: ``total_rows`` data rows."""

    total_rows: int


@dataclasses.dataclass(frozen=True)
class Progress:
    """After each chunk: the job's counts so far, and the total they count towards; every
    ``LIVE_SECONDS`` also the ``LiveView`` (per-column counts and a preview)."""

    counts: Counts
    total_rows: int
    live: LiveView | None = None


@dataclasses.dataclass(frozen=True)
class Completed:
    """Every output is written, fsynced and renamed into place (the main CSV last)."""

    counts: Counts
    total_rows: int
    output_path: str
    invalid_path: str
    parquet_path: str
    summary: list[dict[str, Any]]  # ``normalization.Summary.to_json()``


@dataclasses.dataclass(frozen=True)
class Failed:
    """The job stopped; ``error_message`` says why in words a person can act on. ``counts``:
    the rows done before it stopped (no output of them is kept)."""

    error_message: str
    counts: Counts | None = None


@dataclasses.dataclass(frozen=True)
class Cancelled:
    """The job stopped between chunks because it was asked to; no output is kept."""

    counts: Counts


# In order: Started, then Progress after every chunk, then exactly one of the last three.
WorkerMessage = Started | Progress | Completed | Failed | Cancelled
