"""What a worker is told: the job (``WorkerJob``) and how to run it (``WorkerSettings``).

Both are frozen and picklable: a local worker process receives them as its arguments, a Dask task
as its inputs. The spec in ``WorkerJob.columns`` was validated by the server when the job was
created (``normalization.validate_spec``), against the input's header.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..normalization.backends import Choice
from ..normalization.engine import DEFAULT_CACHE_BYTES, DEFAULT_CACHE_SIZE

__all__ = ["WorkerJob", "WorkerSettings"]


@dataclasses.dataclass(frozen=True)
class WorkerJob:
    """One job's input and spec."""

    job_id: int
    input_path: str
    input_format: str  # "csv" | "arrow" | "parquet"
    columns: dict[str, Any]
    options: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class WorkerSettings:
    """How every job of an executor runs.

    ``output_dir``: where outputs are written (temp files renamed into place).
    ``chunk_size``: rows per chunk, one progress message each.
    ``chunk_delay``: seconds to pause after each chunk, so demos and tests can watch (default 0).
    ``processes``: processes parsing one job's distinct values, the worker among them
    (``chunk_pool``); 1 normalizes in the worker itself, as does a job of at most
    ``pool_min_rows`` rows (default 20,000): starting a pool costs about a second, more than
    such a job takes alone.
    ``cache_size``: parsed values a job remembers per field type, at most (``Normalizer``).
    ``cache_bytes``: what they may hold, all types together (``Normalizer``).
    ``escape_formulas``: neutralize spreadsheet formulas in the CSV outputs
    (``chunk_pool.Rendering``).
    ``parser_backend``: "auto" or "reference" (``normalization.backends``).
    """

    output_dir: str
    chunk_size: int = 1000
    chunk_delay: float = 0.0
    processes: int = 1
    cache_size: int = DEFAULT_CACHE_SIZE
    cache_bytes: int = DEFAULT_CACHE_BYTES
    pool_min_rows: int = 20_000
    escape_formulas: bool = True
    parser_backend: Choice = "auto"
