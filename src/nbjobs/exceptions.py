"""Every error nbjobs raises, under one root, with its HTTP status mapped here once.

NbJobsError
├── BadRequest (400)
│   ├── SpecError        a column spec names an unknown type or a missing column
│   └── InputError       the input file cannot be read (empty, not UTF-8, malformed)
├── NotFound (404)       unknown job, or a job of another user
├── Conflict (409)       the job is not in a state that allows the action
├── PayloadTooLarge (413)
├── JobFailed            raised by the client when a job it waits on failed or was cancelled
└── ServerUnavailable    the client found no server with the extension and could not start one
"""

from __future__ import annotations


class NbJobsError(Exception):
    """Root of every nbjobs error; ``status`` is the HTTP status the REST API answers with."""

    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(NbJobsError):
    status = 400


class SpecError(BadRequest):
    """The ``columns`` spec is not usable (unknown field type, column not in the input, ...)."""


class InputError(BadRequest):
    """The input cannot be read as a table (empty, wrong encoding, malformed CSV, ...)."""


class NotFound(NbJobsError):
    status = 404


class Conflict(NbJobsError):
    status = 409


class PayloadTooLarge(NbJobsError):
    status = 413


class JobFailed(NbJobsError):
    """A job the client waited on ended as failed, cancelled or interrupted."""

    def __init__(self, message: str, *, job_id: int | None = None, status: str = "failed") -> None:
        super().__init__(message)
        self.job_id = job_id
        self.job_status = status


class ServerUnavailable(NbJobsError):
    """No Jupyter server with nbjobs could be found or started."""

    status = 503
