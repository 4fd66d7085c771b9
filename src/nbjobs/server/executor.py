"""The executor contract: what runs a job's input through the engine to its outputs.

The runner decides *when* a job runs (``runner``); an executor decides *where*: worker
processes of this machine (``LocalExecutor``, the default) or any class a deployment sets as
``c.NbJobs.executor_class``. Every implementation passes
``tests/server/test_executor_contract.py`` and writes byte-identical outputs for the same input
and spec.
"""

from __future__ import annotations

import asyncio

from traitlets import Bool, Enum, Float, Int, Unicode
from traitlets.config import LoggingConfigurable

from ..normalization.backends import BACKEND_CHOICES
from ..normalization.engine import DEFAULT_CACHE_BYTES, DEFAULT_CACHE_SIZE
from ..protocol import WorkerMessage
from ..worker.outputs import remove_outputs
from ..worker.settings import WorkerJob, WorkerSettings

__all__ = ["Execution", "Executor"]


class Execution:
    """One job handed to an executor (``Executor.submit``).

    ``messages`` receives what the job reports, in order (``protocol``): ``Started``, a
    ``Progress`` after every chunk, then exactly one of ``Completed``, ``Failed`` or
    ``Cancelled``, after which nothing more arrives. If the job's worker dies, the executor puts
    a ``Failed`` that says so in words a person can act on. Only ``terminate`` ends an execution
    without a final message.
    """

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.messages: asyncio.Queue[WorkerMessage] = asyncio.Queue()

    def cancel(self) -> None:
        """Ask the job to stop between chunks; ``Cancelled`` follows (or the final message it
        had already sent). Returns at once."""
        raise NotImplementedError

    async def terminate(self) -> None:
        """Stop the job now, leaving no output behind (the server is shutting down)."""
        raise NotImplementedError


class Executor(LoggingConfigurable):
    """Runs jobs: ``submit`` returns at once with the job's ``Execution``.

    The options every executor shares are here; each implementation adds its own.
    """

    chunk_size = Int(
        1000, min=1, config=True, help="Rows normalized per chunk (one progress event each)."
    )
    chunk_delay = Float(
        0.0, config=True, help="Seconds to pause after each chunk; for demos of live progress."
    )
    cache_size = Int(
        DEFAULT_CACHE_SIZE,
        min=0,
        config=True,
        help=(
            "Parsed values a job remembers per field type, at most, so a repeated value is "
            "parsed once (cache_bytes bounds their memory); 0 to remember nothing."
        ),
    )
    cache_bytes = Int(
        DEFAULT_CACHE_BYTES,
        min=0,
        config=True,
        help=(
            "Bytes a job's remembered values and their outputs may hold in its worker process, "
            "all field types together (about 0.25-0.3 kB a value); the oldest values go first. "
            "0 to remember nothing."
        ),
    )
    csv_escape_formulas = Bool(
        True,
        config=True,
        help=(
            "Put a ' before text that a spreadsheet would run as a formula (starting with =, +, "
            "-, @, tab or carriage return, and not a plain number) in the CSV outputs (OWASP's "
            "CSV-injection advice). The Parquet output is never changed."
        ),
    )
    parser_backend = Enum(
        list(BACKEND_CHOICES),
        "auto",
        config=True,
        help=(
            'Which libraries parse values: "auto", compiled ports (rphonenumbers, fastaddress) '
            "where installed at a version the parity gate passed, else the reference libraries; "
            '"reference", phonenumbers, usaddress, ... only. Both give the same outputs.'
        ),
    )
    output_dir = Unicode(help="Where outputs are written (set by the extension).")

    def settings(self) -> WorkerSettings:
        """What every job's worker is told."""
        return WorkerSettings(
            output_dir=self.output_dir,
            chunk_size=self.chunk_size,
            chunk_delay=self.chunk_delay,
            cache_size=self.cache_size,
            cache_bytes=self.cache_bytes,
            escape_formulas=self.csv_escape_formulas,
            parser_backend=self.parser_backend,
        )

    async def start(self) -> None:
        """Get ready, off the event loop, so the first job does not wait (or block Jupyter)."""

    def submit(self, job: WorkerJob) -> Execution:
        """Start ``job`` now; its messages arrive in the returned execution."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Release what ``start`` acquired; the runner has terminated every execution."""

    def discard_outputs(self, job_id: int) -> None:
        """Remove any output of ``job_id`` that is in place, for a job that did not complete
        (its worker may have renamed its outputs just before it, or its server, was killed).
        Blocking: the runner calls it off the event loop."""
        remove_outputs(self.output_dir, job_id)
