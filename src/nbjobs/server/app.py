"""The nbjobs server extension: app-level options, and the wiring of its parts.

Each part owns its options (``JobStore.database_url``, ``Executor.chunk_size``,
``JobRunner.max_concurrent_jobs``, ``Realtime.redis_url``, ``JobIntake.max_upload_bytes``, ...)
and is built here with ``config=self.config``. ``c.NbJobs.<option>`` stays the user's entry
point for every one of them: each is also an alias trait of ``NbJobs`` (``ALIASES``), copied
from its owner with its default, and set in the owner's section of the config when the user set
it (the owner's own section, when also set, wins).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import gc
import logging
import os
import re
import socket
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from jupyter_server.extension.application import ExtensionApp
from jupyter_server.serverapp import ServerApp
from tornado.ioloop import IOLoop
from traitlets import Enum, Int, List, TraitType, Type, Unicode, default
from traitlets.config import Config, Configurable

from ..normalization import backends
from ..worker.outputs import remove_stale_temp_files
from .dask_executor import DaskExecutor
from .events import EventSink
from .executor import Executor
from .handlers import Services, route_table
from .jobs import JobIntake
from .load import LoopLag
from .local_executor import LocalExecutor
from .realtime import Realtime, make_socketio_handler
from .runner import JobRunner
from .sql_store import SqlJobStore
from .store import JobStore

__all__ = ["ALIASES", "EXECUTORS", "NbJobs"]

# c.NbJobs.<alias> -> the class whose option it is (the config section it is set in).
ALIASES: dict[str, type[Configurable]] = {
    "chunk_size": Executor,
    "chunk_delay": Executor,
    "cache_size": Executor,
    "cache_bytes": Executor,
    "csv_escape_formulas": Executor,
    "parser_backend": Executor,
    "processes_per_job": LocalExecutor,
    "scheduler_address": DaskExecutor,
    "part_rows": DaskExecutor,
    "local_workers": DaskExecutor,
    "max_concurrent_jobs": JobRunner,
    "progress_min_interval": JobRunner,
    "adaptive_progress": JobRunner,
    "database_url": JobStore,
    "lease_seconds": JobStore,
    "cors_allowed_origins": Realtime,
    "redis_url": Realtime,
    "ping_interval": Realtime,
    "ping_timeout": Realtime,
    "auth_timeout": Realtime,
    "max_pending_sessions": Realtime,
    "max_message_bytes": Realtime,
    "max_connections_per_user": Realtime,
    "websocket_compression": Realtime,
    "max_upload_bytes": JobIntake,
    "max_queued_jobs_per_user": JobIntake,
    "max_output_bytes_per_user": JobIntake,
    "retention_days": JobRunner,
}

# c.NbJobs.executor -> the executor it names.
EXECUTORS: dict[str, type[Executor]] = {"local": LocalExecutor, "dask": DaskExecutor}


def _alias(name: str) -> TraitType[Any, Any]:
    """``ALIASES[name]``'s trait, of its type, documented as an alias; unset (None) unless the
    user sets it, so the owner's default (written there, once) applies."""
    owner = ALIASES[name]
    trait = copy.copy(owner.class_traits()[name])
    trait.default_value = None
    trait.allow_none = True
    trait.help = f"Same as {owner.__name__}.{name}: {trait.help}"
    trait.metadata = {**trait.metadata, "help": trait.help, "config": True}
    return trait


class NbJobs(ExtensionApp):
    name = "nbjobs"
    description = "Live, background DataFrame normalization jobs for Jupyter."
    load_other_extensions = True

    data_dir = Unicode(
        config=True,
        help="Where inputs, outputs and the job database live. Default: <jupyter data dir>/nbjobs.",
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
    gc_thresholds = List(
        Int(),
        default_value=[20000, 50, 100],
        maxlen=3,
        config=True,
        help=(
            "gc.set_threshold() for the server process once nbjobs has started: a young "
            "generation of 20,000 objects instead of 700 makes the collector run ~30 times less "
            "often while events fan out to many connections (benchmarks/README.md). "
            "Three numbers; [] leaves Python's own."
        ),
    )
    store_class = Type(SqlJobStore, klass=JobStore, config=True, help="The job store (a JobStore).")
    executor = Enum(
        ["local", "dask"],
        "local",
        config=True,
        help=(
            'Where jobs run: "local", worker processes of this machine (LocalExecutor); '
            '"dask", a Dask distributed cluster (DaskExecutor: scheduler_address, part_rows; '
            "pip install 'nbjobs[dask]')."
        ),
    )
    executor_class = Type(
        None,
        klass=Executor,
        allow_none=True,
        config=True,
        help="What runs jobs (an Executor); when set, it wins over executor.",
    )
    runner_class = Type(JobRunner, klass=JobRunner, config=True, help="The job scheduler.")
    realtime_class = Type(
        Realtime, klass=Realtime, config=True, help="The Socket.IO server and event sink."
    )

    chunk_size = _alias("chunk_size")
    chunk_delay = _alias("chunk_delay")
    cache_size = _alias("cache_size")
    cache_bytes = _alias("cache_bytes")
    csv_escape_formulas = _alias("csv_escape_formulas")
    parser_backend = _alias("parser_backend")
    processes_per_job = _alias("processes_per_job")
    scheduler_address = _alias("scheduler_address")
    part_rows = _alias("part_rows")
    local_workers = _alias("local_workers")
    max_concurrent_jobs = _alias("max_concurrent_jobs")
    progress_min_interval = _alias("progress_min_interval")
    adaptive_progress = _alias("adaptive_progress")
    database_url = _alias("database_url")
    lease_seconds = _alias("lease_seconds")
    cors_allowed_origins = _alias("cors_allowed_origins")
    redis_url = _alias("redis_url")
    ping_interval = _alias("ping_interval")
    ping_timeout = _alias("ping_timeout")
    auth_timeout = _alias("auth_timeout")
    max_pending_sessions = _alias("max_pending_sessions")
    max_message_bytes = _alias("max_message_bytes")
    max_connections_per_user = _alias("max_connections_per_user")
    websocket_compression = _alias("websocket_compression")
    max_upload_bytes = _alias("max_upload_bytes")
    max_queued_jobs_per_user = _alias("max_queued_jobs_per_user")
    max_output_bytes_per_user = _alias("max_output_bytes_per_user")
    retention_days = _alias("retention_days")

    @property
    def server(self) -> ServerApp:
        """The Jupyter server this extension is loaded in (set before any of our hooks)."""
        if self.serverapp is None:
            raise RuntimeError("the nbjobs extension is not loaded in a Jupyter server")
        return self.serverapp

    @default("data_dir")
    def _default_data_dir(self) -> str:
        return os.path.join(jupyter_data_dir(), "nbjobs")

    def parts_config(self) -> Config:
        """The config the parts are built with: the aliases the user set, in their owners'
        sections, under everything the user wrote for those sections."""
        config = Config()
        ours = self.config.get(type(self).__name__, {})
        for name, owner in ALIASES.items():
            if name in ours:
                config[owner.__name__][name] = ours[name]
        config.merge(self.config)
        return config

    def initialize_settings(self) -> None:
        # Our modules log to logging.getLogger(__name__), "nbjobs.…": under the extension's own
        # logger, they reach Jupyter's log at the extension's level (--NbJobs.log_level).
        logging.getLogger("nbjobs").parent = self.log
        data_dir = Path(self.data_dir)
        input_dir, output_dir = data_dir / "inputs", data_dir / "outputs"
        for folder in (input_dir, output_dir):
            folder.mkdir(parents=True, exist_ok=True)
        config = self.parts_config()
        # host:pid finds a crashed server of this host at once; the nonce tells this process
        # from an earlier one with the same pid (a restarted container).
        self.server_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.store = self.store_class(
            config=config, data_dir=str(data_dir), server_id=self.server_id
        )
        self.realtime = self.realtime_class(config=config, user_mode=self.user_mode)
        executor_class = self.executor_class or EXECUTORS[self.executor]
        self.jobs_executor = executor_class(config=config, output_dir=str(output_dir))
        events: EventSink = self.realtime
        self.runner = self.runner_class(
            config=config,
            store=self.store,
            executor=self.jobs_executor,
            events=events,
            base_url=self.server.base_url,
        )
        self.intake = JobIntake(
            config=config,
            store=self.store,
            runner=self.runner,
            input_dir=str(input_dir),
            root_dir=self.server.root_dir,
            allow_hidden=bool(getattr(self.server.contents_manager, "allow_hidden", False)),
        )
        self.realtime.catch_up = self.runner.catch_up
        self.loop_lag = LoopLag()
        self.loop_lag.listeners.append(self.runner.observe_loop_lag)
        self.settings["nbjobs"] = Services(
            store=self.store,
            runner=self.runner,
            intake=self.intake,
            realtime=self.realtime,
            user_mode=self.user_mode,
        )
        removed = remove_stale_temp_files(str(output_dir)) + self.intake.remove_stale_uploads()
        if removed:
            self.log.info("nbjobs: removed %d partial files left by a crash", removed)
        self._startup: asyncio.Future[None] | None = None
        IOLoop.current().add_callback(self._start)

    def initialize_handlers(self) -> None:
        socketio_handler = make_socketio_handler(self.realtime.sio)
        self.handlers.extend(route_table("/", socketio_handler))
        # Clients built on yarl/aiohttp (python-socketio's AsyncClient among them) send an
        # escaped base_url such as "/a%40b/" unescaped ("/a@b/"); serve that spelling too.
        base_url = self.server.base_url
        unescaped = urllib.parse.unquote(base_url)
        if unescaped != base_url:
            # tornado's Application.add_handlers carries no annotations.
            self.server.web_app.add_handlers(  # type: ignore[no-untyped-call]
                ".*$", route_table(re.escape(unescaped), socketio_handler)
            )

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        await self._start()

    def _start(self) -> asyncio.Future[None]:
        """Open the store, reconcile crashed jobs, warm the executor: once, on the event loop.

        Scheduled from ``initialize_settings`` too, because Jupyter listens before it starts
        its extensions (and pytest-jupyter's servers never start them); requests wait for it
        (``Services.wait_started``)."""
        if self._startup is None:
            self._startup = asyncio.ensure_future(self._start_parts())
        return self._startup

    async def _start_parts(self) -> None:
        services: Services = self.settings["nbjobs"]
        try:
            await self.store.open()
            await self.jobs_executor.start()
            await self.runner.start()
            self.loop_lag.start()
            self.realtime.start()
        except Exception as exc:
            self.log.exception("nbjobs: could not start")
            services.startup_error = f"{type(exc).__name__}: {exc}"
            return
        finally:
            services.started.set()
        # Jupyter's heap is large and long-lived; full collections of it took ~200 ms and made
        # the worst event latency (benchmarks/README.md). Objects alive at start-up (modules,
        # handlers, config) stay forever anyway, so take them out of the collector's scans.
        gc.freeze()
        if len(self.gc_thresholds) == 3:
            gc.set_threshold(*self.gc_thresholds)
        self.log.info(
            "nbjobs: ready at %snbjobs/ (data in %s)", self.server.base_url, self.data_dir
        )
        # What parses, said once here (a fallback's reason is logged above it); the workers
        # choose the same way from the same option. Column detection runs here, on them too.
        chosen = backends.use(self.jobs_executor.parser_backend)
        self.log.info(
            "nbjobs: parser_backend %s: %s",
            self.jobs_executor.parser_backend,
            ", ".join(str(backend) for backend in chosen.values()),
        )

    def current_activity(self) -> bool:
        # Keeps an idle-culling server alive while jobs run or wait.
        return self.runner.busy

    async def stop_extension(self) -> None:
        if self._startup is not None:
            with contextlib.suppress(Exception):  # a failed start was logged already
                await self._startup
        await self.loop_lag.stop()
        await self.realtime.stop()
        await self.runner.stop()
        await self.jobs_executor.stop()
        await self.store.close()
