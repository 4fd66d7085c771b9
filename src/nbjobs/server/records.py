"""The job record the store keeps, and its public (camelCase) form that REST and events share."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from typing import Any

from ..protocol import JobStatus, PublicJob, job_url, percent

__all__ = ["JobRecord", "public_job", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


@dataclasses.dataclass
class JobRecord:
    """One job as the store keeps it. Paths are absolute; times are timezone-aware UTC.

    ``server_id``: the server instance running the job (or, while it is queued, the one that
    accepted it); ``cancel_requested``: a cancel asked on another instance, for the running
    one to act on. A job whose ``expired_at`` is set keeps its row, but its files are gone."""

    id: int
    owner: str
    status: JobStatus
    input_name: str
    input_path: str
    input_format: str  # "csv" | "arrow" | "parquet"
    columns: dict[str, Any]  # column -> field type, or a combination {"type", "from"}
    options: dict[str, Any]
    created_at: datetime
    server_id: str = ""
    total_rows: int | None = None
    processed_rows: int = 0
    valid_rows: int = 0
    invalid_rows: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error_message: str | None = None
    output_path: str | None = None  # CSV output, present once completed
    invalid_path: str | None = None  # CSV of the invalid rows with reasons
    parquet_path: str | None = None  # the same output as Parquet
    summary: list[dict[str, Any]] | None = None  # per-column counts, once completed
    cancel_requested: bool = False
    output_bytes: int | None = None  # the outputs' size, once completed
    expired_at: datetime | None = None  # when retention removed its input and outputs

    def __post_init__(self) -> None:
        self.status = JobStatus(self.status)


def public_job(job: JobRecord, base_url: str) -> PublicJob:
    """The job as REST returns it: the event keys plus status, times, input name and columns."""
    completed = job.status is JobStatus.COMPLETED and job.expired_at is None
    return {
        "jobId": job.id,
        "status": job.status.value,
        "processedRows": job.processed_rows,
        "validRows": job.valid_rows,
        "invalidRows": job.invalid_rows,
        "totalRows": job.total_rows,
        "progress": 100 if completed else percent(job.processed_rows, job.total_rows),
        "outputFileUrl": job_url(base_url, job.id, "output") if completed else None,
        "invalidRowsUrl": job_url(base_url, job.id, "invalid") if completed else None,
        "errorMessage": job.error_message,
        "createdAt": _iso(job.created_at),
        "startedAt": _iso(job.started_at),
        "finishedAt": _iso(job.finished_at),
        "inputName": job.input_name,
        "columns": dict(job.columns),
        "options": dict(job.options),
        "summary": job.summary if job.status is JobStatus.COMPLETED else None,
        "expiredAt": _iso(job.expired_at),
    }
