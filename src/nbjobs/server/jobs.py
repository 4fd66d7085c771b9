"""``JobIntake``: an input becomes a job in one place, for the REST handlers.

An input is an upload or a copy of a file under the server's root. It is written to a dot-temp
file, renamed to its final name in the input directory, read far enough to check the spec
(``"auto"`` columns filled in from the detected types), and then the job is stored with one
insert and handed to the runner. Anything wrong is an ``NbJobsError`` before the job exists,
and the staged file is removed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import os
import shutil
import stat
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from traitlets import Bool, Int, Unicode
from traitlets.config import LoggingConfigurable

from ..exceptions import (
    BadRequest,
    DiskFull,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    QuotaExceeded,
    SpecError,
)
from ..normalization import FIELD_TYPES, validate_options, validate_spec
from ..protocol import JobStatus
from ..worker.inputs import format_for, inspect_input, iter_chunks
from .records import JobRecord
from .runner import JobRunner
from .store import JobStore

__all__ = ["AUTO", "DETECTION_SAMPLE_ROWS", "JobIntake", "Staged", "detect_spec", "detection_of"]

AUTO = "auto"
DETECTION_SAMPLE_ROWS = 500
_TEMP_PREFIX = ".upload-"


@dataclasses.dataclass(frozen=True)
class Staged:
    """An input in the input directory: ``path``, the ``name`` the user knows it by, its
    format."""

    path: Path
    name: str
    fmt: str

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


class JobIntake(LoggingConfigurable):
    """Stages inputs and creates jobs (module docstring)."""

    max_upload_bytes = Int(
        512 * 1024 * 1024, config=True, help="Largest accepted input, in bytes (413 above)."
    )
    max_queued_jobs_per_user = Int(
        100,
        min=1,
        config=True,
        help="Jobs one user may have queued at once; another submission gets 429.",
    )
    max_output_bytes_per_user = Int(
        0,
        min=0,
        config=True,
        help=(
            "Bytes the outputs of one user's jobs may take (until retention removes them); a "
            "submission beyond gets 429. 0: no limit."
        ),
    )
    input_dir = Unicode(help="Where inputs are staged (set by the extension).")
    root_dir = Unicode(help="The Jupyter server's root directory (set by the extension).")
    allow_hidden = Bool(False, help="Whether hidden files are served (ContentsManager's).")

    def __init__(self, *, store: JobStore, runner: JobRunner, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = store
        self.runner = runner

    # -- staging -----------------------------------------------------------------------------

    def check_size(self, size: int, what: str = "upload") -> None:
        if size > self.max_upload_bytes:
            raise PayloadTooLarge(
                f"The {what} is {size:,} bytes; this server accepts at most "
                f"{self.max_upload_bytes:,} (NbJobs.max_upload_bytes)."
            )

    async def _stage(self, fmt: str, write: Callable[[Path], object]) -> Path:
        """A new input file written by ``write`` (off the event loop) under a dot-temp name,
        then renamed to its final name, so a half-written input is never taken for one."""
        name = uuid.uuid4().hex
        temp = Path(self.input_dir) / f"{_TEMP_PREFIX}{name}.{fmt}"
        final = temp.with_name(f"{name}.{fmt}")

        def stage() -> None:
            try:
                write(temp)
                os.replace(temp, final)
            except BaseException:
                temp.unlink(missing_ok=True)
                raise

        try:
            await asyncio.get_running_loop().run_in_executor(None, stage)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFull(
                    f"The disk of nbjobs' data directory ({self.input_dir}) is full: the input "
                    "cannot be stored. Free some space (or ask the server's administrator to) "
                    "and submit it again."
                ) from None
            raise
        return final

    async def stage_upload(
        self, filename: str | None, content_type: str | None, body: bytes
    ) -> Staged:
        self.check_size(len(body))
        name = os.path.basename(filename or "upload.csv")
        fmt = format_for(filename or "upload.csv", content_type)
        return Staged(await self._stage(fmt, lambda path: path.write_bytes(body)), name, fmt)

    def source_path(self, relative: str) -> Path:
        """The regular file ``relative`` names under the server root, as Jupyter's contents
        API would serve it: nothing outside the root (``..``, an absolute path, a symlink
        pointing out: 400), nothing hidden unless the server shows hidden files (403), no
        directory, device or pipe (400)."""
        if "\0" in relative or not relative.strip():
            raise BadRequest('"path" must name a file inside the server root directory.')
        if os.path.isabs(relative):
            raise BadRequest(
                f'"{relative}" is outside the server root directory: give a path relative to it.'
            )
        root = Path(self.root_dir).resolve()
        source = (root / relative).resolve()
        if root != source and root not in source.parents:
            raise BadRequest(f'"{relative}" is outside the server root directory.')
        hidden = [part for part in source.relative_to(root).parts if part.startswith(".")]
        if hidden and not self.allow_hidden:
            raise Forbidden(
                f'"{relative}" is a hidden file, which this server does not serve '
                "(ContentsManager.allow_hidden)."
            )
        try:
            mode = source.stat().st_mode
        except OSError:
            raise NotFound(f'No file "{relative}" in the server root directory.') from None
        if not stat.S_ISREG(mode):
            raise BadRequest(f'"{relative}" is not a regular file.')
        return source

    async def stage_path(self, relative: str) -> Staged:
        """A copy of a file under the root, so a later edit cannot change a queued job."""
        source = self.source_path(relative)
        fmt = format_for(source.name, None)

        def copy(path: Path) -> None:
            # Opened without following a link and checked again once open: a file swapped
            # for a link (or a pipe) after the checks above is refused, not read.
            fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as file:
                info = os.fstat(file.fileno())
                if not stat.S_ISREG(info.st_mode):
                    raise BadRequest(f'"{relative}" is not a regular file.')
                self.check_size(info.st_size, "file")
                with open(path, "wb") as target:
                    shutil.copyfileobj(file, target, 1 << 20)

        try:
            path = await self._stage(fmt, copy)
        except OSError as exc:
            if exc.errno != errno.ELOOP:  # it became a link since it was checked
                raise
            raise BadRequest(f'"{relative}" is a link now, not the file it was.') from None
        return Staged(path, source.name, fmt)

    def remove_stale_uploads(self) -> int:
        """Remove uploads a crash left half-written; returns how many."""
        stale = list(Path(self.input_dir).glob(f"{_TEMP_PREFIX}*"))
        for path in stale:
            path.unlink(missing_ok=True)
        return len(stale)

    # -- jobs --------------------------------------------------------------------------------

    async def create(
        self,
        staged: Staged,
        *,
        owner: str,
        columns: Any,
        options: Any,
        name: str | None = None,
    ) -> JobRecord:
        """Check ``columns`` and ``options`` against the staged input, store the job, queue it.

        ``columns``: a spec, or ``"auto"`` (every column detected), or a spec with ``"auto"``
        types. On any error the staged input is removed."""
        try:
            await self._check_quotas(owner)
            loop = asyncio.get_running_loop()
            info = await loop.run_in_executor(None, inspect_input, str(staged.path), staged.fmt)
            if columns == AUTO or (isinstance(columns, dict) and AUTO in columns.values()):
                columns = await loop.run_in_executor(
                    None, detect_spec, str(staged.path), staged.fmt, columns
                )
            job = await self.store.create(
                owner=owner,
                input_name=name or staged.name,
                input_path=str(staged.path),
                input_format=staged.fmt,
                columns=validate_spec(columns, info.columns),
                options=validate_options(options),
            )
        except BaseException:
            staged.remove()
            raise
        self.runner.submit(job)
        return job

    async def _check_quotas(self, owner: str) -> None:
        queued = [
            job
            for job in await self.store.list_active(owner=owner)
            if job.status is JobStatus.QUEUED
        ]
        if len(queued) >= self.max_queued_jobs_per_user:
            raise QuotaExceeded(
                f"You have {len(queued):,} jobs queued, as many as this server takes "
                f"(NbJobs.max_queued_jobs_per_user); submit more once some have started."
            )
        if self.max_output_bytes_per_user:
            stored = await self.store.output_bytes_of(owner)
            if stored >= self.max_output_bytes_per_user:
                raise QuotaExceeded(
                    f"The outputs of your jobs take {stored:,} bytes, as much as this server "
                    f"keeps per user ({self.max_output_bytes_per_user:,}, "
                    "NbJobs.max_output_bytes_per_user); they are removed after the server's "
                    "retention_days, or ask its administrator."
                )


def detect_spec(path: str, fmt: str, columns: Any) -> dict[str, Any]:
    """Fill ``"auto"`` in a spec (or the whole spec) from the types detected in the first rows."""
    from ..normalization.detect import detect_types

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


def detection_of(path: str, fmt: str, options: Any) -> dict[str, Any]:
    """The detect answer (less ``inputName``) for the first rows of an input."""
    from ..normalization.mapping import detection_report

    inspect_input(path, fmt)  # an unreadable input is a 400 with the reader's message
    sample = next(iter_chunks(path, fmt, DETECTION_SAMPLE_ROWS))
    return detection_report(sample, options=validate_options(options))
