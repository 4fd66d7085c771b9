"""The kernel's one connection to nbjobs: REST (``rest``), and events through one Socket.IO
client, dispatched by job id to Jobs and to JobsTables.

One per kernel: ``current()`` returns the same object however often a cell runs, so there is
never a second Socket.IO client or a duplicate handler. The store on the server is the truth
and events are notifications: at every (re)connect the server sends the current state of the
user's active jobs and the end of each job this kernel follows that ended meanwhile (its
catch-up), and a job it said nothing of is re-read over REST, so a missed event never leaves
a widget wrong.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import logging
import sys
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import socketio

from ..exceptions import NbJobsError
from ..protocol import ALL_EVENTS
from .discovery import ServerInfo, discover
from .embedded import EmbeddedServer
from .job import Job, merged
from .rest import RestClient

if TYPE_CHECKING:
    from .widgets import JobsTable

__all__ = ["Connection", "Reconnection", "connect", "current", "reset"]

log = logging.getLogger(__name__)

CONNECT_WAIT = 5.0  # seconds for the Socket.IO handshake and namespace connect
CATCH_UP_WAIT = 2.0  # seconds the catch-up events have after a connect before REST is asked
MAX_FOLLOWED = 200  # job ids sent to follow (the server reads no more)
PENDING_EVENTS = 256  # latest state kept for jobs that are not registered yet


@dataclasses.dataclass(frozen=True)
class Reconnection:
    """When python-socketio retries after a lost connection.

    The client waits ``delay`` seconds, doubling after each failed attempt up to ``delay_max``,
    and gives up after ``attempts``; with the defaults the gaps are 1, 2, 4, 8, 16 s (attempts
    at 1, 3, 7, 15, 31 s after the drop). ``randomization`` is socketio's jitter factor.
    """

    attempts: int = 5
    delay: float = 1.0
    delay_max: float = 16.0
    randomization: float = 0.0

    def gaps(self) -> list[float]:
        """The waits before each attempt, as ``socketio.Client._handle_reconnect`` computes them
        (without jitter)."""
        return [min(self.delay * 2**n, self.delay_max) for n in range(self.attempts)]

    def client_options(self) -> dict[str, Any]:
        return {
            "reconnection": True,
            "reconnection_attempts": self.attempts,
            "reconnection_delay": self.delay,
            "reconnection_delay_max": self.delay_max,
            "randomization_factor": self.randomization,
        }


class Connection(RestClient):
    """REST + Socket.IO to one server. Use ``current()`` rather than constructing one.

    Options:
        ``reconnection``: a ``Reconnection`` schedule. Default: 5 attempts, gaps 1-16 s.
        ``transports``: tried in order for the first connect; websocket, then long-polling
        for proxies that refuse websockets.
    """

    def __init__(
        self,
        server: ServerInfo,
        *,
        reconnection: Reconnection = Reconnection(),
        transports: Sequence[str] = ("websocket", "polling"),
    ) -> None:
        super().__init__(server)
        self.reconnection = reconnection
        self.transports = tuple(transports)
        self.state = "offline"  # offline | live | reconnecting
        self.transport: str | None = None
        self.sio: socketio.Client | None = None
        self._lock = threading.RLock()
        self._connect_lock = threading.Lock()
        self._jobs: weakref.WeakValueDictionary[int, Job] = weakref.WeakValueDictionary()
        # Unfinished jobs are held strongly: a cell that never keeps the returned Job still
        # shows its widget, which must keep updating until the job ends.
        self._active: dict[int, Job] = {}
        self._tables: weakref.WeakSet[JobsTable] = weakref.WeakSet()
        # Per table, events for jobs it does not show yet, kept while its list is re-read.
        self._table_pending: weakref.WeakKeyDictionary[JobsTable, dict[int, dict[str, Any]]] = (
            weakref.WeakKeyDictionary()
        )
        self._pending: collections.OrderedDict[int, dict[str, Any]] = collections.OrderedDict()
        self._background = concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="nbjobs-resync"
        )
        self._connected_at = 0.0
        self.closed = False

    def __repr__(self) -> str:
        how = f"live over {self.transport}" if self.live else self.state
        return f"<nbjobs connection to {self.server.url}{self.server.base_url} ({how})>"

    # -- Socket.IO ---------------------------------------------------------------------------

    @property
    def live(self) -> bool:
        return self.state == "live"

    def _new_client(self) -> socketio.Client:
        # handle_sigint=False: by default engine.io disconnects every client on SIGINT, and a
        # kernel interrupt (or Ctrl-C in the CLI, which cancels the job) is SIGINT.
        sio = socketio.Client(handle_sigint=False, **self.reconnection.client_options())
        sio.on("connect", self._on_connect)
        sio.on("disconnect", self._on_disconnect)
        sio.on("__disconnect_final", self._on_gave_up)
        for name in ALL_EVENTS:
            sio.on(name, self._event_handler(name))
        return sio

    def _event_handler(self, name: str) -> Any:
        def handle(payload: Any) -> None:
            self.dispatch(name, payload)

        return handle

    def ensure_live(self) -> bool:
        """Connect Socket.IO unless connected or reconnecting; False if the server refuses.

        A client whose automatic reconnection gave up is replaced by a fresh one: python-socketio
        does not restart its reconnect task on a client that once gave up.
        """
        with self._connect_lock:
            if self.closed:
                return False
            if self.state in ("live", "reconnecting"):
                return self.live
            for transport in self.transports:
                sio = self._new_client()
                self.sio = sio
                try:
                    sio.connect(
                        self.server.url,
                        headers=self.server.auth_headers,
                        # Called again on every reconnect: the server sends the state of the
                        # user's active jobs and the end of any followed job that ended.
                        auth=self._auth,
                        transports=[transport],
                        socketio_path=self.server.socketio_path,
                        wait_timeout=CONNECT_WAIT,
                    )
                except (socketio.exceptions.ConnectionError, ValueError) as exc:
                    log.info("nbjobs: Socket.IO over %s failed: %s", transport, exc)
                    continue
                self.transport = transport
                return True
            self._set_state("offline")
            return False

    def _auth(self) -> dict[str, Any]:
        with self._lock:
            follow = [job_id for job_id, job in self._jobs.items() if not job.done]
        return {"token": self.server.token, "follow": follow[-MAX_FOLLOWED:]}

    def _on_connect(self) -> None:
        self._set_state("live")
        if not self.closed:
            # The server catches our jobs up by events (Connection._auth); tables, which also
            # show jobs of other kernels, are re-read.
            self._connected_at = time.monotonic()
            self._background.submit(self._after_connect)

    def _after_connect(self) -> None:
        with self._lock:
            tables = list(self._tables)
            # Only jobs known at the connect were in the catch-up; a job submitted since has
            # its state from the POST's answer.
            known = list(self._jobs.values())
        for table in tables:
            self._reload_quietly(table)
        # A job the catch-up said nothing of (an older server, an error there) is re-read.
        time.sleep(CATCH_UP_WAIT)
        if not self.live:
            return  # gone again: the next connect does this
        with self._lock:
            silent = [
                job for job in known if not job.done and job.last_event_at < self._connected_at
            ]
        for job in silent:
            try:
                job.refresh()
            except NbJobsError as exc:
                log.warning("nbjobs: could not refresh job %s: %s", job.id, exc.message)

    def _on_disconnect(self, reason: Any = None) -> None:
        sio = self.sio
        client_side = reason == socketio.Client.reason.CLIENT_DISCONNECT
        reconnecting = sio is not None and sio.reconnection and not client_side
        self._set_state("reconnecting" if reconnecting and not self.closed else "offline")

    def _on_gave_up(self) -> None:
        self._set_state("offline")

    def _set_state(self, state: str) -> None:
        with self._lock:
            if state == self.state:
                return
            was_live, self.state = self.live, state
            jobs, tables = list(self._jobs.values()), list(self._tables)
        if was_live == self.live:
            return  # reconnecting <-> offline: both show Offline
        for job in jobs:
            job.connection_changed()
        for table in tables:
            table.set_live(self.live)

    # -- dispatch ----------------------------------------------------------------------------

    def dispatch(self, name: str, payload: Any) -> None:
        """Route one event to the job it is about and to every table."""
        if not isinstance(payload, Mapping) or not isinstance(payload.get("jobId"), int):
            return
        job_id = payload["jobId"]
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                # The POST's answer and the job's first events race: keep the latest state
                # until the Job registers.
                self._remember(self._pending, job_id, payload, name)
                if job_id in self._pending:
                    self._pending.move_to_end(job_id)
                while len(self._pending) > PENDING_EVENTS:
                    self._pending.popitem(last=False)
            for table in list(self._tables):
                self._update_table(table, job_id, payload, name)
        if job is not None:
            job.apply(payload, name)

    @staticmethod
    def _remember(
        pending: dict[int, dict[str, Any]], job_id: int, payload: Mapping[str, Any], name: str
    ) -> None:
        state = merged(pending.get(job_id), payload, name)
        if state is not None:
            pending[job_id] = state

    def job(self, info: Mapping[str, Any]) -> Job:
        """The Job for a public job dict: one object per job id, registered for events."""
        job_id = int(info["jobId"])
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                job = Job(info, self)
                self._jobs[job_id] = job
            pending = self._pending.pop(job_id, None)
            if not job.done:
                self._active[job_id] = job
        job.apply(info)
        if pending is not None:
            job.apply(pending)
        return job

    def job_finished(self, job: Job) -> None:
        with self._lock:
            self._active.pop(job.id, None)

    # -- tables: in-place updates, a REST re-read only for a job they do not show ------------

    def add_table(self, table: JobsTable) -> JobsTable:
        """Keep ``table`` current: filled now from REST, then updated from events."""
        with self._lock:
            self._tables.add(table)
        self.reload_table(table)
        table.set_live(self.live)
        return table

    def _update_table(
        self, table: JobsTable, job_id: int, payload: Mapping[str, Any], name: str
    ) -> None:
        # Called with self._lock held, so a reload cannot interleave with an update.
        row = table.get(job_id)
        if row is not None:
            state = merged(row, payload, name)
            if state is not None:
                table.update_job(state)
            return
        waiting = self._table_pending.get(table)
        if waiting is None:
            waiting = self._table_pending[table] = {}
            self._background.submit(self._reload_quietly, table)
        # Events that arrive while the list is being read are applied after it.
        self._remember(waiting, job_id, payload, name)

    def reload_table(self, table: JobsTable) -> None:
        """Re-read the table's jobs from REST, keeping any newer state we already have."""
        jobs = self.get_json("jobs", limit=table.limit)["jobs"]
        with self._lock:
            rows: list[dict[str, Any]] = []
            for fresh in jobs:
                known = table.get(fresh["jobId"])
                newer = merged(known, fresh)
                rows.append(newer if newer is not None else known or fresh)
            table.set_jobs(rows)
            for job_id, state in self._table_pending.pop(table, {}).items():
                current = table.get(job_id)
                newer = merged(current, state) if current is not None else state
                if newer is not None:
                    table.update_job(newer)

    def _reload_quietly(self, table: JobsTable) -> None:
        try:
            self.reload_table(table)
        except NbJobsError as exc:
            with self._lock:
                self._table_pending.pop(table, None)
            log.warning("nbjobs: could not reload the jobs table: %s", exc.message)

    def close(self) -> None:
        self.closed = True
        sio, self.sio = self.sio, None
        if sio is not None and sio.connected and sio.eio.current_transport == "polling":
            # python-engineio's server answers a client's CLOSE without ending the pending
            # long-poll, which then lasts its ping timeout (30 s): do not wait for it.
            sio.eio.disconnect(abort=True)
        elif sio is not None:
            sio.shutdown()
        self._set_state("offline")
        self._background.shutdown(wait=False)
        self.session.close()


# -- one per kernel -----------------------------------------------------------------------------

_lock = threading.Lock()
_current: Connection | None = None
_embedded: EmbeddedServer | None = None


def _usable(connection: Connection | None) -> bool:
    if connection is None or connection.closed:
        return False
    if connection.server.source == "embedded":
        return _embedded is not None and _embedded.running
    return True


def current() -> Connection:
    """The kernel's connection: found by discovery, else on a private embedded server."""
    global _embedded
    with _lock:
        if not _usable(_current):
            server = discover()
            if server is None:
                print(
                    "nbjobs: no Jupyter server with nbjobs found; starting a private one...",
                    file=sys.stderr,
                )
                if _embedded is not None:
                    _embedded.stop()  # it died; clean up after it
                _embedded = EmbeddedServer()
                server = _embedded.start()
            _replace(Connection(server))
        connection = _current
    assert connection is not None
    connection.ensure_live()
    return connection


def connect(url: str | None = None, token: str | None = None) -> Connection:
    """Use the server at ``url`` (verified) from now on, or rediscover when ``url`` is None."""
    with _lock:
        server = discover(url, token) if url else None
        if server is None:
            _replace(None)
    if server is None:
        return current()
    with _lock:
        if _current is None or _current.server != server or _current.closed:
            _replace(Connection(server))
        connection = _current
    assert connection is not None
    connection.ensure_live()
    return connection


def _replace(connection: Connection | None) -> None:
    global _current
    old, _current = _current, connection
    if old is not None and old is not connection:
        old.close()


def reset() -> None:
    """Close the connection and stop an embedded server (tests, or to start over)."""
    global _embedded
    with _lock:
        _replace(None)
        embedded, _embedded = _embedded, None
    if embedded is not None:
        embedded.stop()
