"""The nbjobs server extension: every option (``c.NbJobs.*``) and the wiring of its parts."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import multiprocessing.forkserver
import os
import re
import socket
import urllib.parse
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from traitlets import Enum, Float, Int, List, Type, Unicode, default, validate

from .normalization.engine import DEFAULT_CACHE_SIZE
from .realtime import Realtime, make_socketio_handler
from .runner import JobRunner
from .store import JobStore, server_is_alive
from .worker import remove_stale_temp_files

log = logging.getLogger("nbjobs")


@dataclasses.dataclass
class Services:
    """What handlers reach through ``self.settings["nbjobs"]``."""

    store: JobStore
    runner: JobRunner
    realtime: Realtime
    input_dir: str
    root_dir: str
    max_upload_bytes: int
    user_mode: str


class NbJobs(ExtensionApp):
    name = "nbjobs"
    description = "Live, background DataFrame normalization jobs for Jupyter."
    load_other_extensions = True

    chunk_size = Int(1000, config=True, help="Rows normalized per chunk (one progress event each).")
    chunk_delay = Float(
        0.0, config=True, help="Seconds to pause after each chunk; for demos of live progress."
    )
    max_concurrent_jobs = Int(
        2, config=True, help="Jobs running at once, each in its own worker process; others queue."
    )
    processes_per_job = Int(
        config=True,
        help=(
            "Processes parsing the distinct values of one job, rows assembled in input order "
            "(default: the CPUs this server may use); 1 normalizes in the job's worker alone."
        ),
    )
    cache_size = Int(
        DEFAULT_CACHE_SIZE,
        config=True,
        help=(
            "Parsed values a job remembers per field type (in its worker process), so a "
            "repeated value is parsed once (about 0.3 kB each: the default bounds a six-type "
            "job near 180 MB); lower it to save memory, 0 to remember nothing."
        ),
    )
    data_dir = Unicode(
        config=True,
        help="Where inputs, outputs and the job database live. Default: <jupyter data dir>/nbjobs.",
    )
    database_url = Unicode(
        config=True, help="Job database, sqlite:///<path>. Default: sqlite:///<data_dir>/jobs.db."
    )
    cors_allowed_origins = List(
        Unicode(),
        config=True,
        help="Extra origins whose cookie-authenticated browsers may open Socket.IO connections.",
    )
    max_upload_bytes = Int(
        512 * 1024 * 1024, config=True, help="Largest accepted input, in bytes (413 above)."
    )
    progress_min_interval = Float(
        0.1, config=True, help="At most one job:progress event per job per this many seconds."
    )
    user_mode = Enum(
        ["auto", "single", "multi"],
        "auto",
        config=True,
        help=(
            "single: every authenticated request is the server's owner; multi: the "
            "IdentityProvider's username owns jobs; auto: single with Jupyter's stock providers."
        ),
    )
    redis_url = Unicode(
        "", config=True, help="redis://... to fan events out across server instances. Empty: none."
    )
    store_class = Type(JobStore, klass=JobStore, config=True, help="The job store.")
    runner_class = Type(JobRunner, klass=JobRunner, config=True, help="The job runner.")

    @default("processes_per_job")
    def _default_processes_per_job(self) -> int:
        return len(os.sched_getaffinity(0))

    @default("data_dir")
    def _default_data_dir(self) -> str:
        return os.path.join(jupyter_data_dir(), "nbjobs")

    @default("database_url")
    def _default_database_url(self) -> str:
        return "sqlite:///" + os.path.join(self.data_dir, "jobs.db")

    @validate("chunk_size", "max_concurrent_jobs", "processes_per_job")
    def _positive(self, proposal: Any) -> int:
        if proposal.value < 1:
            raise ValueError(f"{proposal.trait.name} must be at least 1")
        return proposal.value

    @validate("cache_size")
    def _not_negative(self, proposal: Any) -> int:
        if proposal.value < 0:
            raise ValueError("cache_size must be 0 or more")
        return proposal.value

    def _client_manager(self) -> Any:
        if not self.redis_url:
            return None
        import socketio

        return socketio.AsyncRedisManager(self.redis_url, channel="nbjobs")

    def initialize_settings(self) -> None:
        data_dir = Path(self.data_dir)
        input_dir, output_dir = data_dir / "inputs", data_dir / "outputs"
        for folder in (input_dir, output_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.server_id = f"{socket.gethostname()}:{os.getpid()}"
        self.store = self.store_class(self.database_url, server_id=self.server_id)
        interrupted = self.store.reconcile_at_startup(server_is_alive)
        if interrupted:
            self.log.warning("nbjobs: marked interrupted jobs %s (server stopped)", interrupted)
        removed = remove_stale_temp_files(str(output_dir))
        for stale in input_dir.glob(".upload-*"):
            stale.unlink(missing_ok=True)
        if removed:
            self.log.info("nbjobs: removed %d partial output files", removed)
        self.realtime = Realtime(
            client_manager=self._client_manager(),
            cors_allowed_origins=list(self.cors_allowed_origins),
            progress_min_interval=self.progress_min_interval,
            user_mode=self.user_mode,
        )
        self.runner = self.runner_class(
            store=self.store,
            realtime=self.realtime,
            output_dir=str(output_dir),
            base_url=self.serverapp.base_url,
            max_concurrent_jobs=self.max_concurrent_jobs,
            chunk_size=self.chunk_size,
            chunk_delay=self.chunk_delay,
            processes_per_job=self.processes_per_job,
            cache_size=self.cache_size,
        )
        self.settings["nbjobs"] = Services(
            store=self.store,
            runner=self.runner,
            realtime=self.realtime,
            input_dir=str(input_dir),
            root_dir=self.serverapp.root_dir,
            max_upload_bytes=self.max_upload_bytes,
            user_mode=self.user_mode,
        )

    def initialize_handlers(self) -> None:
        from .handlers import route_table

        socketio_handler = make_socketio_handler(self.realtime.sio)
        self.handlers.extend(route_table("/", socketio_handler))
        # Clients built on yarl/aiohttp (python-socketio's AsyncClient among them) send an
        # escaped base_url such as "/a%40b/" unescaped ("/a@b/"); serve that spelling too.
        base_url = self.serverapp.base_url
        unescaped = urllib.parse.unquote(base_url)
        if unescaped != base_url:
            self.serverapp.web_app.add_handlers(
                ".*$", route_table(re.escape(unescaped), socketio_handler)
            )

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        # Start the worker forkserver now, off the event loop, so the first job does not
        # block Jupyter while pandas and the parsers are imported.
        await asyncio.get_running_loop().run_in_executor(None, _warm_worker_pool)
        # Jupyter's heap is large and long-lived; full collections of it took ~200 ms and made
        # the worst event latency (benchmarks/README.md). Objects alive at start-up (modules,
        # handlers, config) stay forever anyway, so take them out of the collector's scans.
        gc.freeze()
        self.log.info(
            "nbjobs: ready at %snbjobs/ (data in %s)", self.serverapp.base_url, self.data_dir
        )

    def current_activity(self) -> bool:
        # Keeps an idle-culling server alive while jobs run or wait.
        return self.runner.busy

    async def stop_extension(self) -> None:
        await self.runner.stop()
        self.store.close()


def _warm_worker_pool() -> None:
    from .runner import worker_context

    worker_context()
    multiprocessing.forkserver.ensure_running()
