"""REST API under ``<base_url>nbjobs/api/``: thin handlers that parse, authorize, call the
intake, store or runner, and map nbjobs errors to statuses (``exceptions.HTTP_STATUS``)."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from ..exceptions import (
    BadRequest,
    Conflict,
    Gone,
    NbJobsError,
    NotFound,
    ServerUnavailable,
    http_status,
)
from ..normalization import FIELD_TYPES, output_columns, status_columns
from ..protocol import JobStatus
from ..worker.inputs import format_for
from .auth import Identity, identity_of, is_single_user
from .jobs import AUTO, JobIntake, Staged, detection_of
from .realtime import Realtime
from .records import JobRecord, public_job
from .runner import JobRunner
from .store import JobStore

__all__ = [
    "CancelHandler",
    "DetectHandler",
    "DownloadHandler",
    "FieldsHandler",
    "InputHandler",
    "InvalidRowsHandler",
    "JobHandler",
    "JobsHandler",
    "NbJobsHandler",
    "Services",
    "SummaryHandler",
    "api",
    "invalid_parquet",
    "route_table",
]

MAX_LIST_LIMIT = 500
MAX_JOB_ID = 2**63 - 1  # what both databases store in an id column
DOWNLOAD_BLOCK = 1 << 20
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


@dataclasses.dataclass
class Services:
    """What handlers reach through ``self.settings["nbjobs"]``, set by the extension.

    Jupyter listens before its extensions have started; a request waits for ``started`` (the
    store open, crashed jobs reconciled), and gets a 503 if the start failed
    (``startup_error``)."""

    store: JobStore
    runner: JobRunner
    intake: JobIntake
    realtime: Realtime
    user_mode: str
    started: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    startup_error: str | None = None

    async def wait_started(self) -> None:
        await self.started.wait()
        if self.startup_error is not None:
            raise ServerUnavailable(f"nbjobs could not start: {self.startup_error}")


def api(method: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Authenticate, then turn nbjobs errors into JSON ``{"message", "error"}`` with their
    status."""

    @functools.wraps(method)
    async def wrapper(self: NbJobsHandler, *args: Any, **kwargs: Any) -> None:
        try:
            await self.services.wait_started()
            await method(self, *args, **kwargs)
        except NbJobsError as exc:
            self.send_error_message(http_status(exc), exc.message, error=type(exc).__name__)

    # tornado types its decorator's result as possibly not awaitable; ours always is.
    return cast("Callable[..., Awaitable[None]]", web.authenticated(wrapper))


class NbJobsHandler(APIHandler):
    @property
    def services(self) -> Services:
        services: Services = self.settings["nbjobs"]
        return services

    @property
    def identity(self) -> Identity:
        single = is_single_user(self.identity_provider, self.services.user_mode)
        identity = identity_of(self, self.current_user, single_user=single)
        if identity is None:  # @web.authenticated has already refused these
            raise web.HTTPError(403)
        return identity

    def send_error_message(self, status: int, message: str, *, error: str | None = None) -> None:
        """``{"message"}``, plus ``"error"``: the nbjobs exception name (e.g. ``SpecError``),
        so clients can raise the same exception."""
        self.clear()
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        body = {"message": message}
        if error:
            body["error"] = error
        self.finish(json.dumps(body))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if status_code == 405:  # RFC 9110: a 405 lists the methods the resource has
            self.set_header("Allow", ", ".join(self.allowed_methods()))
        # Never a traceback: only the reason a person can act on.
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = getattr(exc, "log_message", None) or self._reason
        if status_code >= 500:
            message = "Internal server error; see the Jupyter server log."
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": message}))

    @classmethod
    def allowed_methods(cls) -> list[str]:
        return [
            method
            for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
            if getattr(cls, method.lower()) is not getattr(web.RequestHandler, method.lower())
        ]

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))

    def job_json(self, job: JobRecord) -> dict[str, Any]:
        return dict(public_job(job, self.base_url))

    def job_id(self, raw: str) -> int:
        """The job id in the path; a 404 (as for an unknown job) when it cannot be one."""
        if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= MAX_JOB_ID:
            raise NotFound(f"Job {raw[:40]} not found.")
        return int(raw)


def _json_field(raw: str | bytes | None, name: str, *, required: bool) -> dict[str, Any]:
    if raw is None or raw in ("", b""):
        if required:
            raise BadRequest(
                f'"{name}" is required: a JSON object mapping column names to field types, '
                f'e.g. {{"Phone": "phone"}}. Field types: {", ".join(FIELD_TYPES)}.'
            )
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f'"{name}" is not valid JSON: {exc}') from None
    if not isinstance(value, dict):
        raise BadRequest(f'"{name}" must be a JSON object.')
    return value


def _columns_field(raw: str | None) -> Any:
    """The ``columns`` form field: a JSON object, or ``auto`` (also when absent)."""
    if raw is None or raw.strip() in ("", AUTO, f'"{AUTO}"'):
        return AUTO
    return _json_field(raw, "columns", required=True)


class InputHandler(NbJobsHandler):
    """Stages the input of a request: a multipart upload, or JSON ``{"path"}`` naming a file
    under the server root. ``parse`` reads the body once, whichever it is."""

    def json_body(self) -> dict[str, Any] | None:
        """The JSON body, or None for a multipart form; refuses an oversized body first."""
        self.services.intake.check_size(len(self.request.body))
        if not self.request.headers.get("Content-Type", "").startswith("application/json"):
            return None
        body = _json_field(self.request.body, "body", required=True)
        if not isinstance(body.get("path"), str):
            raise BadRequest('A JSON request needs "path": a file inside the server root.')
        return body

    async def stage_upload(self) -> Staged:
        files = self.request.files.get("file")
        if not files:
            raise BadRequest(
                'Send the data as a multipart form with a "file" part (CSV, Arrow IPC or '
                'Parquet) and a "columns" field, or as JSON {"path": ..., "columns": ...}.'
            )
        upload = files[0]
        return await self.services.intake.stage_upload(
            upload.filename, upload.content_type, upload.body
        )


class JobsHandler(InputHandler):
    @api
    async def get(self) -> None:
        raw = self.get_query_argument("limit", "50")
        try:
            limit = int(raw)
        except ValueError:
            raise BadRequest(f"limit must be an integer from 1 to {MAX_LIST_LIMIT}.") from None
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise BadRequest(f"limit must be an integer from 1 to {MAX_LIST_LIMIT}.")
        jobs = await self.services.store.list_recent(owner=self.identity.username, limit=limit)
        self.write_json({"jobs": [self.job_json(job) for job in jobs]})

    @api
    async def post(self) -> None:
        intake = self.services.intake
        body = self.json_body()
        if body is not None:
            columns, options = body.get("columns") or AUTO, body.get("options") or {}
            staged, name = await intake.stage_path(body["path"]), body.get("name")
        else:
            columns = _columns_field(self.get_body_argument("columns", None))
            options = _json_field(
                self.get_body_argument("options", None), "options", required=False
            )
            staged, name = await self.stage_upload(), self.get_body_argument("name", None)
        job = await intake.create(
            staged, owner=self.identity.username, columns=columns, options=options, name=name
        )
        self.set_header("Location", url_path_join(self.base_url, "nbjobs/api/jobs", str(job.id)))
        self.write_json(self.job_json(job), status=201)


class JobHandler(NbJobsHandler):
    @api
    async def get(self, job_id: str) -> None:
        job = await self.services.store.get(self.job_id(job_id), owner=self.identity.username)
        self.write_json(self.job_json(job))


class CancelHandler(NbJobsHandler):
    @api
    async def post(self, job_id: str) -> None:
        job = await self.services.runner.cancel(self.job_id(job_id), self.identity.username)
        self.write_json(self.job_json(await self.services.store.get(job.id)), status=202)


class DownloadHandler(NbJobsHandler):
    """``output`` (every row) and ``invalid`` (invalid rows with reasons), CSV or Parquet."""

    kind = "output"

    @api
    async def get(self, job_id: str) -> None:
        job = await self.services.store.get(self.job_id(job_id), owner=self.identity.username)
        if job.status is not JobStatus.COMPLETED:
            raise Conflict(
                f"Job {job.id} is {job.status}; its output is available once it completes."
            )
        if job.expired_at is not None:
            raise Gone(
                f"The outputs of job {job.id} were removed on {job.expired_at:%Y-%m-%d}: this "
                "server keeps them NbJobs.retention_days days."
            )
        fmt = self.get_query_argument("format", "csv")
        if fmt not in MEDIA_TYPES:
            raise BadRequest('format must be "csv" or "parquet".')
        stem = Path(job.input_name).stem or f"job-{job.id}"
        suffix = "normalized" if self.kind == "output" else "invalid"
        self.set_header("Content-Type", MEDIA_TYPES[fmt])
        self.set_attachment_header(f"{stem}-{suffix}.{fmt}")
        if self.kind == "invalid" and fmt == "parquet":
            # The invalid rows as Parquet are a filter of the full Parquet output.
            parquet = self._require(job.parquet_path)
            loop = asyncio.get_running_loop()
            rows = await loop.run_in_executor(None, invalid_parquet, parquet, job.columns)
            # Jupyter's API handlers answer JSON unless told otherwise.
            self.finish(rows, set_content_type=MEDIA_TYPES[fmt])
            return
        path = job.output_path if self.kind == "output" else job.invalid_path
        path = self._require(job.parquet_path if fmt == "parquet" else path)
        self.set_header("Content-Length", str(os.path.getsize(path)))
        with open(path, "rb") as handle:
            while block := handle.read(DOWNLOAD_BLOCK):
                self.write(block)
                await self.flush()
        self.finish(set_content_type=MEDIA_TYPES[fmt])

    def _require(self, path: str | None) -> str:
        if not path or not os.path.exists(path):
            raise NotFound(f"The {self.kind} file of this job no longer exists.")
        return path


def invalid_parquet(parquet_path: str, columns: dict[str, Any]) -> bytes:
    """The rows of a job's Parquet output whose validity column (``_valid``, or ``_valid_1``
    when the input had its own ``_valid``) is false."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    header = pq.read_schema(parquet_path).names
    # The generated columns are the last ones, and how many there are depends on the spec only.
    inputs = header[: len(header) - len(output_columns([], columns))]
    valid = status_columns(inputs, columns).valid
    table = pq.read_table(parquet_path, filters=[(valid, "=", False)])
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


class InvalidRowsHandler(DownloadHandler):
    kind = "invalid"


class SummaryHandler(NbJobsHandler):
    """Per-column counts of a completed job: null, invalid, changed, unchanged, top reasons
    and repairs (``normalization.summary``)."""

    @api
    async def get(self, job_id: str) -> None:
        job = await self.services.store.get(self.job_id(job_id), owner=self.identity.username)
        if job.status is not JobStatus.COMPLETED:
            raise Conflict(
                f"Job {job.id} is {job.status}; its summary is available once it completes."
            )
        self.write_json({"jobId": job.id, "columns": job.summary or []})


class FieldsHandler(NbJobsHandler):
    @api
    async def get(self) -> None:
        self.write_json({"fields": list(FIELD_TYPES)})


class DetectHandler(InputHandler):
    """``POST detect``: each column's detected type and the suggested column combinations, from
    the first rows. A file under the root is read in place; an upload is staged and removed
    afterwards."""

    @api
    async def post(self) -> None:
        loop = asyncio.get_running_loop()
        body = self.json_body()
        if body is not None:
            options = body.get("options") or {}
            # Read in place, not staged: only the first rows are read and nothing keeps the file.
            source = self.services.intake.source_path(body["path"])
            fmt = format_for(source.name, None)
            report = await loop.run_in_executor(None, detection_of, str(source), fmt, options)
            self.write_json({"inputName": source.name, **report})
            return
        options = _json_field(self.get_body_argument("options", None), "options", required=False)
        staged = await self.stage_upload()
        try:
            report = await loop.run_in_executor(
                None, detection_of, str(staged.path), staged.fmt, options
            )
        finally:
            staged.remove()
        self.write_json({"inputName": staged.name, **report})


def route_table(prefix: str, socketio_handler: type) -> list[tuple[str, type]]:
    api_root = url_path_join(prefix, "nbjobs", "api")
    # Any segment: a job id that is not a number is answered as an unknown job (JSON 404).
    job = r"/jobs/(?P<job_id>[^/]+)"
    return [
        (url_path_join(prefix, "nbjobs", "socket.io") + "/", socketio_handler),
        (api_root + "/jobs", JobsHandler),
        (api_root + job, JobHandler),
        (api_root + job + "/cancel", CancelHandler),
        (api_root + job + "/output", DownloadHandler),
        (api_root + job + "/invalid", InvalidRowsHandler),
        (api_root + job + "/summary", SummaryHandler),
        (api_root + "/fields", FieldsHandler),
        (api_root + "/detect", DetectHandler),
    ]
