"""REST API under ``<base_url>nbjobs/api/``: thin handlers that parse, authorize, call the
store or runner, and map nbjobs errors to statuses (``exceptions.NbJobsError.status``)."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import shutil
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from .auth import Identity, identity_of, is_single_user
from .exceptions import BadRequest, Conflict, NbJobsError, NotFound, PayloadTooLarge, SpecError
from .inputs import format_for, inspect_input, iter_chunks
from .models import public_job
from .normalization import (
    FIELD_TYPES,
    output_columns,
    status_columns,
    validate_options,
    validate_spec,
)

if TYPE_CHECKING:
    from .app import Services

MAX_LIST_LIMIT = 500
AUTO = "auto"
DETECTION_SAMPLE_ROWS = 500
DOWNLOAD_BLOCK = 1 << 20
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


def api(method: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Authenticate, then turn nbjobs errors into JSON ``{"message"}`` with their status."""

    @web.authenticated
    @functools.wraps(method)
    async def wrapper(self: NbJobsHandler, *args: Any, **kwargs: Any) -> None:
        try:
            await method(self, *args, **kwargs)
        except NbJobsError as exc:
            self.send_error_message(exc.status, exc.message, error=type(exc).__name__)

    return wrapper


class NbJobsHandler(APIHandler):
    @property
    def services(self) -> Services:
        return self.settings["nbjobs"]

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
        # Never a traceback: only the reason a person can act on.
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = getattr(exc, "log_message", None) or self._reason
        if status_code >= 500:
            message = "Internal server error; see the Jupyter server log."
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": message}))

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))

    def job_json(self, job: Any) -> dict[str, Any]:
        return public_job(job, self.base_url)

    def job_id(self, raw: str) -> int:
        return int(raw)  # the route only matches digits


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


def detect_spec(path: str, fmt: str, columns: Any) -> dict[str, Any]:
    """Fill ``"auto"`` in a spec (or the whole spec) from the types detected in the first rows."""
    from .normalization.detect import detect_types

    sample = next(iter_chunks(path, fmt, DETECTION_SAMPLE_ROWS))
    detected = detect_types(sample)
    if columns == AUTO:
        spec = {column: d.type for column, d in detected.items() if d.type != "text"}
        if not spec:
            raise SpecError(
                "No column looks like a known field type; name them in columns, e.g. "
                f'{{"Phone": "phone"}}. Field types: {", ".join(FIELD_TYPES)}.'
            )
        return spec
    return {
        column: detected[column].type if kind == AUTO and column in detected else kind
        for column, kind in columns.items()
    }


class InputHandler(NbJobsHandler):
    """Stages the input of a request (an upload, or a copy of a file under the server root) as a
    file in the input directory: for job submission and for detection."""

    def _refuse_oversized_body(self) -> None:
        length = len(self.request.body)
        if length > self.services.max_upload_bytes:
            raise PayloadTooLarge(
                f"The upload is {length:,} bytes; this server accepts at most "
                f"{self.services.max_upload_bytes:,} (NbJobs.max_upload_bytes)."
            )

    def _staging_path(self, fmt: str) -> Path:
        return Path(self.services.input_dir) / f".upload-{uuid.uuid4().hex}.{fmt}"

    async def _stage_upload(self) -> tuple[Path, str, str]:
        files = self.request.files.get("file")
        if not files:
            raise BadRequest(
                'Send the data as a multipart form with a "file" part (CSV, Arrow IPC or '
                'Parquet) and a "columns" field, or as JSON {"path": ..., "columns": ...}.'
            )
        upload = files[0]
        fmt = format_for(upload.filename or "upload.csv", upload.content_type)
        staged = self._staging_path(fmt)
        await asyncio.get_running_loop().run_in_executor(None, staged.write_bytes, upload.body)
        return staged, os.path.basename(upload.filename or "upload.csv"), fmt

    def _source_path(self, relative: str) -> Path:
        """The file ``relative`` names under the server root; refuses anything outside it."""
        root = Path(self.services.root_dir).resolve()
        source = (root / relative).resolve()
        if root != source and root not in source.parents:
            raise BadRequest(f'"{relative}" is outside the server root directory.')
        if not source.is_file():
            raise NotFound(f'No file "{relative}" in the server root directory.')
        return source

    async def _stage_path(self, relative: str) -> tuple[Path, str, str]:
        source = self._source_path(relative)
        size = source.stat().st_size
        if size > self.services.max_upload_bytes:
            raise PayloadTooLarge(
                f"The file is {size:,} bytes; this server accepts at most "
                f"{self.services.max_upload_bytes:,} (NbJobs.max_upload_bytes)."
            )
        fmt = format_for(source.name, None)
        staged = self._staging_path(fmt)
        # A copy, so a later edit of the file cannot change a queued job's input.
        await asyncio.get_running_loop().run_in_executor(None, shutil.copyfile, source, staged)
        return staged, source.name, fmt


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
        jobs = self.services.store.list(owner=self.identity.username, limit=limit)
        self.write_json({"jobs": [self.job_json(job) for job in jobs]})

    @api
    async def post(self) -> None:
        services = self.services
        self._refuse_oversized_body()
        content_type = self.request.headers.get("Content-Type", "")
        if content_type.startswith("application/json"):
            body = _json_field(self.request.body, "body", required=True)
            columns, options = body.get("columns") or AUTO, body.get("options") or {}
            if not isinstance(body.get("path"), str):
                raise BadRequest('A JSON submission needs "path": a file inside the server root.')
            staged, input_name, fmt = await self._stage_path(body["path"])
            input_name = body.get("name") or input_name
        else:
            columns = _columns_field(self.get_body_argument("columns", None))
            options = _json_field(
                self.get_body_argument("options", None), "options", required=False
            )
            staged, input_name, fmt = await self._stage_upload()
            input_name = self.get_body_argument("name", None) or input_name
        try:
            spec, options = await self._validate(staged, fmt, columns, options)
            job = services.store.create(
                owner=self.identity.username,
                input_name=input_name,
                input_path=str(staged),
                input_format=fmt,
                columns=spec,
                options=options,
            )
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        final_path = staged.with_name(f"{job.id}.{fmt}")
        os.replace(staged, final_path)
        services.store.set_input_path(job.id, str(final_path))
        job = services.store.get(job.id)
        services.runner.submit(job)
        self.set_header("Location", url_path_join(self.base_url, "nbjobs/api/jobs", str(job.id)))
        self.write_json(self.job_json(job), status=201)

    async def _validate(
        self, staged: Path, fmt: str, columns: Any, options: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        loop = asyncio.get_running_loop()
        info = await loop.run_in_executor(None, inspect_input, str(staged), fmt)
        if columns == AUTO or (isinstance(columns, dict) and AUTO in columns.values()):
            columns = await loop.run_in_executor(None, detect_spec, str(staged), fmt, columns)
        return validate_spec(columns, info.columns), validate_options(options)


class JobHandler(NbJobsHandler):
    @api
    async def get(self, job_id: str) -> None:
        job = self.services.store.get(self.job_id(job_id), owner=self.identity.username)
        self.write_json(self.job_json(job))


class CancelHandler(NbJobsHandler):
    @api
    async def post(self, job_id: str) -> None:
        job = await self.services.runner.cancel(self.job_id(job_id), self.identity.username)
        self.write_json(self.job_json(self.services.store.get(job.id)), status=202)


class DownloadHandler(NbJobsHandler):
    """``output`` (every row) and ``invalid`` (invalid rows with reasons), CSV or Parquet."""

    kind = "output"

    @api
    async def get(self, job_id: str) -> None:
        job = self.services.store.get(self.job_id(job_id), owner=self.identity.username)
        if job.status != "completed":
            raise Conflict(
                f"Job {job.id} is {job.status}; its output is available once it completes."
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
            self._require(job.parquet_path)
            loop = asyncio.get_running_loop()
            rows = await loop.run_in_executor(None, invalid_parquet, job.parquet_path, job.columns)
            self.finish(rows)
            return
        path = job.output_path if self.kind == "output" else job.invalid_path
        if fmt == "parquet":
            path = job.parquet_path
        self._require(path)
        self.set_header("Content-Length", str(os.path.getsize(path)))
        with open(path, "rb") as handle:
            while block := handle.read(DOWNLOAD_BLOCK):
                self.write(block)
                await self.flush()
        self.finish()

    def _require(self, path: str | None) -> None:
        if not path or not os.path.exists(path):
            raise NotFound(f"The {self.kind} file of this job no longer exists.")


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
    return sink.getvalue().to_pybytes()


class InvalidRowsHandler(DownloadHandler):
    kind = "invalid"


class SummaryHandler(NbJobsHandler):
    """Per-column counts of a completed job: null, invalid, changed, unchanged, top reasons
    and repairs (``normalization.summary``)."""

    @api
    async def get(self, job_id: str) -> None:
        job = self.services.store.get(self.job_id(job_id), owner=self.identity.username)
        if job.status != "completed":
            raise Conflict(
                f"Job {job.id} is {job.status}; its summary is available once it completes."
            )
        self.write_json({"jobId": job.id, "columns": job.summary or []})


class FieldsHandler(NbJobsHandler):
    @api
    async def get(self) -> None:
        self.write_json({"fields": list(FIELD_TYPES)})


def detection_of(path: str, fmt: str, options: Any) -> dict[str, Any]:
    """The detect answer (less ``inputName``) for the first rows of a staged input."""
    from .normalization.mapping import detection_report

    inspect_input(path, fmt)  # an unreadable input is a 400 with the reader's message
    sample = next(iter_chunks(path, fmt, DETECTION_SAMPLE_ROWS))
    return detection_report(sample, options=validate_options(options))


class DetectHandler(InputHandler):
    """``POST detect``: each column's detected type and the suggested column combinations, from
    the first ``DETECTION_SAMPLE_ROWS`` rows. A file under the root is read in place; an upload
    is staged and removed afterwards."""

    @api
    async def post(self) -> None:
        self._refuse_oversized_body()
        loop = asyncio.get_running_loop()
        if self.request.headers.get("Content-Type", "").startswith("application/json"):
            body = _json_field(self.request.body, "body", required=True)
            if not isinstance(body.get("path"), str):
                raise BadRequest('A JSON request needs "path": a file inside the server root.')
            options = body.get("options") or {}
            # Read in place, not staged: only the first rows are read and nothing keeps the file.
            source = self._source_path(body["path"])
            fmt = format_for(source.name, None)
            report = await loop.run_in_executor(None, detection_of, str(source), fmt, options)
            self.write_json({"inputName": source.name, **report})
            return
        options = _json_field(self.get_body_argument("options", None), "options", required=False)
        staged, input_name, fmt = await self._stage_upload()
        try:
            report = await loop.run_in_executor(None, detection_of, str(staged), fmt, options)
        finally:
            staged.unlink(missing_ok=True)
        self.write_json({"inputName": input_name, **report})


def route_table(prefix: str, socketio_handler: type) -> list[tuple[str, type]]:
    api_root = url_path_join(prefix, "nbjobs", "api")
    job = r"/jobs/(?P<job_id>\d+)"
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
