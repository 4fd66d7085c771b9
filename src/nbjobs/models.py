"""The job record the store keeps, and its public (camelCase) form shared by REST and events."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from typing import Any

from .events import percent

STATUSES = ("queued", "running", "completed", "failed", "cancelled", "interrupted")
ACTIVE_STATUSES = ("queued", "running")
FINAL_STATUSES = ("completed", "failed", "cancelled", "interrupted")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


@dataclasses.dataclass
class JobRecord:
    """One row of the jobs table. Paths are absolute; times are timezone-aware UTC."""

    id: int
    owner: str
    status: str
    input_name: str
    input_path: str
    input_format: str  # "csv" | "arrow" | "parquet"
    columns: dict[str, Any]  # column -> field type, or a combination {"type", "from"}
    options: dict[str, Any]
    created_at: datetime
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


def job_url(base_url: str, job_id: int, *parts: str) -> str:
    """URL path of a job resource under the server's ``base_url`` (which ends with '/')."""
    tail = "/".join((str(job_id), *parts))
    return f"{base_url}nbjobs/api/jobs/{tail}"


def public_job(job: JobRecord, base_url: str) -> dict[str, Any]:
    """The job as REST returns it: the event keys plus status, times, input name and columns."""
    completed = job.status == "completed"
    return {
        "jobId": job.id,
        "status": job.status,
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
        # Per-column counts (``normalization.summary``); not in any event payload.
        "summary": job.summary if completed else None,
    }
