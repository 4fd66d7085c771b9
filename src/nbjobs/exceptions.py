"""Every error nbjobs raises, under one root; the HTTP status of each lives in one table.

NbJobsError
├── BadRequest           400
│   ├── SpecError        a column spec names an unknown type or a missing column
│   └── InputError       the input file cannot be read (empty, not UTF-8, malformed)
├── Forbidden            403: a path the server does not serve (outside its root, hidden)
├── NotFound             404: unknown job, or a job of another user
├── Conflict             409: the job is not in a state that allows the action
├── Gone                 410: the job's files were removed by retention
├── PayloadTooLarge      413
├── QuotaExceeded        429: too many queued jobs, or too many stored output bytes
├── DiskFull             507: the data directory's disk is full
├── JobFailed            raised by the client when a job it waits on failed or was cancelled
└── ServerUnavailable    503: the client found no server with nbjobs and could not start one

The server answers an error as ``{"message": ..., "error": "<class name>"}`` with the status of
``HTTP_STATUS``; the client raises the class of that name (``ERRORS_BY_NAME``), or the class of
the status when the name is unknown to it.
"""

from __future__ import annotations

__all__ = [
    "ERRORS_BY_NAME",
    "HTTP_STATUS",
    "BadRequest",
    "Conflict",
    "DiskFull",
    "Forbidden",
    "Gone",
    "InputError",
    "JobFailed",
    "NbJobsError",
    "NotFound",
    "PayloadTooLarge",
    "QuotaExceeded",
    "ServerUnavailable",
    "SpecError",
    "error_class_for",
    "http_status",
]


class NbJobsError(Exception):
    """Root of every nbjobs error. ``status``: the HTTP status of the answer it came in (on the
    client), else the one the server answers it with (``HTTP_STATUS``)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self._status = status

    @property
    def status(self) -> int:
        return self._status if self._status is not None else http_status(self)


class BadRequest(NbJobsError):
    """The request cannot be served as sent."""


class SpecError(BadRequest):
    """The ``columns`` spec is not usable (unknown field type, column not in the input, ...)."""


class InputError(BadRequest):
    """The input cannot be read as a table (empty, wrong encoding, malformed CSV, ...)."""


class Forbidden(NbJobsError):
    """The request names something this server does not give out (a file outside its root,
    or a hidden one)."""


class NotFound(NbJobsError):
    """No such job for this user (another user's job is not found either)."""


class Conflict(NbJobsError):
    """The job's status does not allow the action (cancel a finished job, download too soon)."""


class Gone(NbJobsError):
    """The job's input and outputs were removed by retention; its record stays."""


class PayloadTooLarge(NbJobsError):
    """The upload is over ``max_upload_bytes``."""


class QuotaExceeded(NbJobsError):
    """The user has as many queued jobs, or stores as many output bytes, as the server allows."""


class DiskFull(NbJobsError):
    """The disk of nbjobs' data directory is full: nothing more can be stored until some space
    is freed."""


class JobFailed(NbJobsError):
    """A job the client waited on ended as failed, cancelled or interrupted."""

    def __init__(self, message: str, *, job_id: int | None = None, status: str = "failed") -> None:
        super().__init__(message)
        self.job_id = job_id
        self.job_status = status


class ServerUnavailable(NbJobsError):
    """No Jupyter server with nbjobs could be found or started."""


# The one place an error meets HTTP; a class answers with the status of its nearest listed base.
HTTP_STATUS: dict[type[NbJobsError], int] = {
    BadRequest: 400,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    PayloadTooLarge: 413,
    QuotaExceeded: 429,
    DiskFull: 507,
    ServerUnavailable: 503,
    NbJobsError: 500,
}


def http_status(error: type[NbJobsError] | NbJobsError) -> int:
    """The HTTP status the REST API answers ``error`` with."""
    cls = error if isinstance(error, type) else type(error)
    return next(HTTP_STATUS[base] for base in cls.__mro__ if base in HTTP_STATUS)


def _all_errors(root: type[NbJobsError]) -> list[type[NbJobsError]]:
    found = [root]
    for sub in root.__subclasses__():
        found.extend(_all_errors(sub))
    return found


# What a server may answer with: every error but the client's own.
ERRORS_BY_NAME: dict[str, type[NbJobsError]] = {
    cls.__name__: cls for cls in _all_errors(NbJobsError) if cls is not JobFailed
}


def error_class_for(name: object, status: int) -> type[NbJobsError]:
    """The class the client raises for an error answer: by ``name`` (the ``error`` key), else
    the most general class answered with ``status``, else the root."""
    if isinstance(name, str) and name in ERRORS_BY_NAME:
        return ERRORS_BY_NAME[name]
    for cls, code in HTTP_STATUS.items():
        if code == status and cls is not NbJobsError:
            return cls
    return NbJobsError
