"""One job in a worker process: read chunk by chunk, normalize, append to temp outputs, and
report to the server after every chunk.

Messages (``protocol``), in order: ``Started`` once the rows are counted, ``Progress`` after
every chunk, then exactly one of ``Completed`` (the outputs are in place), ``Failed`` (with a
message a person can act on) or ``Cancelled``. ``run_in_subprocess`` is the entry point of a
local worker process; ``run_job`` is the loop itself, which any executor can call.
"""

from __future__ import annotations

import contextlib
import errno
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from ..exceptions import InputError, SpecError
from ..normalization import Normalizer, Summary, status_columns
from ..protocol import (
    LIVE_SECONDS,
    PREVIEW_CHARS,
    PREVIEW_ROWS,
    Cancelled,
    ColumnCount,
    Completed,
    Counts,
    Failed,
    LiveView,
    Progress,
    Started,
    WorkerMessage,
)
from .chunk_pool import BATCH_ROWS, Rendering, batches, open_pool
from .inputs import count_rows, inspect_input, iter_chunks
from .outputs import Outputs
from .settings import WorkerJob, WorkerSettings

__all__ = ["Report", "live_view", "pause", "run_in_subprocess", "run_job"]

Report = Callable[[WorkerMessage], None]


class _ReportFailed(Exception):
    """``report`` raised: the server cannot hear us any more, so stop without reporting."""


def run_job(
    job: WorkerJob, settings: WorkerSettings, report: Report, cancelled: Callable[[], bool]
) -> None:
    """Run ``job`` to the end, reporting as it goes; never raises for a failing job."""

    def send(message: WorkerMessage) -> None:
        try:
            report(message)
        except Exception as exc:  # not SystemExit: SIGTERM may land during a send
            raise _ReportFailed from exc

    counts = Counts()
    outputs = Outputs(settings.output_dir, job.job_id)
    try:
        info = inspect_input(job.input_path, job.input_format)
        total = info.total_rows
        if total is None:
            total = count_rows(job.input_path, job.input_format)
        send(Started(total_rows=total))
        normalizer = Normalizer(
            job.columns,
            job.options,
            cache_size=settings.cache_size,
            cache_bytes=settings.cache_bytes,
            parser_backend=settings.parser_backend,
        )
        # The engine's validity column: "_valid", or "_valid_1" if the input has a "_valid".
        valid_column = status_columns(info.columns, normalizer.spec).valid
        rendering = Rendering(valid_column, escape_formulas=settings.escape_formulas)
        summary = Summary()  # per-column counts, summed over the chunks
        # No more processes than chunks, and none for a small job.
        processes = min(settings.processes, -(-total // settings.chunk_size))
        if total <= settings.pool_min_rows:
            processes = 1
        pool = open_pool(normalizer, rendering, processes)
        # Chunks one by one when pausing after each (a demo); else in batches (chunk_pool).
        most = 1 if settings.chunk_delay else max(1, BATCH_ROWS // settings.chunk_size)
        stopped = False
        last_view = float("-inf")
        try:
            chunks = iter_chunks(job.input_path, job.input_format, settings.chunk_size)
            for prepared in pool.map(batches(chunks, most)):
                if stopped := cancelled():
                    break
                outputs.append(prepared, rendering)
                summary += prepared.result.summary
                # Every LIVE_SECONDS, the batch's last progress (whose counts it matches)
                # carries the live view.
                view = None
                if time.monotonic() - last_view >= LIVE_SECONDS:
                    view = live_view(summary, prepared.table, valid_column)
                    last_view = time.monotonic()
                last = len(prepared.chunks) - 1
                for i, (rows, valid) in enumerate(prepared.chunks):
                    if stopped := cancelled():
                        break
                    counts += Counts(rows, valid, rows - valid)
                    live = view if i == last else None
                    send(Progress(counts=counts, total_rows=total, live=live))
                    pause(settings.chunk_delay, cancelled)
                if stopped:
                    break
        finally:
            pool.close()
        if stopped or cancelled():
            outputs.discard()
            send(Cancelled(counts=counts))
            return
        paths = outputs.commit()
        send(Completed(counts=counts, total_rows=total, summary=summary.to_json(), **paths))
    except _ReportFailed:
        raise
    except (InputError, SpecError) as exc:  # the input or the spec: the user can act on it
        outputs.discard()
        send(Failed(error_message=exc.message, counts=counts))
    except Exception as exc:
        outputs.discard()
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            message = (
                f"Disk full: the outputs could not be written to {settings.output_dir} "
                f"({exc.strerror}). Free some space there and submit the job again."
            )
        else:
            traceback.print_exc(file=sys.stderr)
            message = f"Internal error while normalizing ({type(exc).__name__}: {exc})"
        send(Failed(error_message=message, counts=counts))
    finally:
        outputs.discard()  # a no-op once committed


def live_view(summary: Summary, table: pa.Table, valid_column: str) -> LiveView:
    """The ``LiveView`` of a running job: ``summary``'s counts per typed column, and the first
    ``PREVIEW_ROWS`` rows of the latest batch's output ``table`` (each typed column as typed and
    normalized, and the row's validity), texts cut at ``PREVIEW_CHARS``."""
    counts: list[ColumnCount] = [
        {
            "column": stats.column,
            "type": stats.type,
            "valid": stats.changed + stats.unchanged,
            "invalid": stats.invalid,
            "null": stats.null,
        }
        for stats in summary.columns.values()
    ]
    shown = [
        name
        for column in summary.columns
        for name in (column, f"{column}_normalized")
        if name in table.column_names
    ]
    if valid_column in table.column_names:
        shown.append(valid_column)
    rows = table.slice(0, PREVIEW_ROWS).select(shown).to_pylist()
    preview = [
        {name: "" if value is None else str(value)[:PREVIEW_CHARS] for name, value in row.items()}
        for row in rows
    ]
    return {"columnCounts": counts, "preview": preview}


def run_in_subprocess(job: WorkerJob, settings: WorkerSettings, conn: Any, cancel: Any) -> None:
    """Target of a local worker process: ``run_job`` reporting over the pipe ``conn``,
    cancelled when the ``multiprocessing.Event`` ``cancel`` is set."""
    # Ctrl+C in the server's terminal reaches the whole process group; the server decides
    # what happens to its workers. SIGTERM (the executor stopping) unwinds, so temps go.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        run_job(job, settings, conn.send, cancel.is_set)
    except _ReportFailed as exc:
        if not isinstance(exc.__cause__, OSError):  # BrokenPipeError: the server is gone
            raise
    finally:
        with contextlib.suppress(OSError):
            conn.close()


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def pause(seconds: float, cancelled: Callable[[], bool]) -> None:
    """Sleep ``seconds`` (``WorkerSettings.chunk_delay``), or less if ``cancelled``."""
    deadline = time.monotonic() + seconds
    while not cancelled() and (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.05))
