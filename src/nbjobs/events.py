"""The event contract: names and payload keys are public API.

Clients written for the original web platform listen for exactly these names and read
exactly these camelCase keys, so every payload is built here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PROGRESS = "job:progress"
COMPLETED = "job:completed"
FAILED = "job:failed"
CANCELLED = "job:cancelled"

ALL_EVENTS = (PROGRESS, COMPLETED, FAILED, CANCELLED)

PROGRESS_KEYS = ("jobId", "processedRows", "validRows", "invalidRows", "totalRows", "progress")
COMPLETED_KEYS = ("jobId", "status", "processedRows", "validRows", "invalidRows", "outputFileUrl")
FAILED_KEYS = ("jobId", "status", "errorMessage")
CANCELLED_KEYS = ("jobId", "status", "processedRows", "validRows", "invalidRows")

# Terminal job status -> the event announcing it. "interrupted" is only ever found at
# restart, when no client of the dead process can be told, so it has no event.
TERMINAL_EVENTS = {"completed": COMPLETED, "failed": FAILED, "cancelled": CANCELLED}


def percent(processed: int, total: int | None) -> int:
    """Progress 0-100; 100 only once every row is processed."""
    if not total:
        return 0
    if processed >= total:
        return 100
    return min(99, (processed * 100) // total)


def _pick(job: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: job[key] for key in keys}


def progress_payload(job: Mapping[str, Any]) -> dict[str, Any]:
    """``job`` is the public job dict (see ``JobStore``/``handlers``), camelCase keys."""
    return _pick(job, PROGRESS_KEYS)


def terminal_payload(job: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The event name and payload announcing a job's terminal status."""
    status = job["status"]
    if status == "completed":
        return COMPLETED, _pick(job, COMPLETED_KEYS)
    if status == "failed":
        return FAILED, _pick(job, FAILED_KEYS)
    if status == "cancelled":
        return CANCELLED, _pick(job, CANCELLED_KEYS)
    raise ValueError(f"status {status!r} has no terminal event")
