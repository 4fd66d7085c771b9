"""``Job``: the kernel's handle on one server-side job, kept current by events and REST."""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from ..exceptions import Conflict, JobFailed
from ..protocol import ACTIVE_STATUSES, COMPLETED, FINAL_STATUSES, PROGRESS, job_url
from .discovery import ServerInfo
from .formatting import SUMMARY_COUNTS, codes_text, describe

if TYPE_CHECKING:
    import pandas as pd

    from .widgets import JobProgress

__all__ = ["Job", "JobBackend", "merged"]

log = logging.getLogger(__name__)

# Seconds between REST re-checks while waiting: events do the work, the re-check only covers
# an event lost to a network hiccup. Offline there are no events, so it polls sooner.
RECHECK_LIVE = 10.0
RECHECK_OFFLINE = 2.0

Listener = Callable[["Job"], None]


class JobBackend(Protocol):
    """What a Job needs of its connection (``connection.Connection`` is one)."""

    server: ServerInfo

    @property
    def live(self) -> bool: ...

    def ensure_live(self) -> bool: ...

    def get_json(self, *parts: str | int, **params: Any) -> Any: ...

    def post_json(self, *parts: str | int, **kwargs: Any) -> Any: ...

    def get_bytes(self, path: str, **kwargs: Any) -> bytes: ...

    def job_finished(self, job: Job) -> None: ...


def merged(
    current: Mapping[str, Any] | None, update: Mapping[str, Any], event: str | None = None
) -> dict[str, Any] | None:
    """``current`` updated with an event payload or a REST job, or None if ``update`` is older.

    Events and REST answers race (a REST read can return after a newer event was applied), so
    state only moves forward: never from a final status back to an active one, never from
    running back to queued, never to fewer processed rows.
    """
    new = dict(update)
    if event == PROGRESS:
        new.setdefault("status", "running")
    elif event == COMPLETED:
        new["progress"] = 100
    if current is None:
        return new
    old_status = current.get("status", "queued")
    new_status = new.get("status", old_status)
    if old_status in FINAL_STATUSES and new_status not in FINAL_STATUSES:
        return None
    if new_status in ACTIVE_STATUSES:
        if ACTIVE_STATUSES.index(new_status) < ACTIVE_STATUSES.index(old_status):
            return None
        if (new.get("processedRows") or 0) < (current.get("processedRows") or 0):
            return None
    return {**current, **new}


class Job:
    """One normalization job. Returned by ``nbjobs.normalize``; updated in the background.

    ``info`` is the last public job dict (REST shape, camelCase). ``wait``, ``result``,
    ``invalid_rows`` and ``summary`` block; everything else returns at once. Once the job has
    completed, its per-column summary is fetched once, in the background (the ``job:completed``
    event does not carry it), so the widget can show it.
    """

    def __init__(self, info: Mapping[str, Any], connection: JobBackend) -> None:
        self._info: dict[str, Any] = dict(info)
        self._connection = connection
        self._changed = threading.Condition()
        self._listeners: list[Listener] = []
        self._widget: JobProgress | None = None
        # Re-entrant: _load_summary applies the summary, and apply may come back here.
        self._summary_lock = threading.RLock()
        self._summary_thread: threading.Thread | None = None
        self.last_event_at = 0.0  # time.monotonic() of the last event applied

    # -- state -------------------------------------------------------------------------------

    @property
    def id(self) -> int:
        return int(self._info["jobId"])

    @property
    def status(self) -> str:
        return str(self._info.get("status", "queued"))

    @property
    def info(self) -> dict[str, Any]:
        return dict(self._info)

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def live(self) -> bool:
        return self._connection.live

    def apply(self, update: Mapping[str, Any], event: str | None = None) -> bool:
        """Merge an event payload or a REST job; False if it was older than what we have."""
        if event is not None:
            self.last_event_at = time.monotonic()
        with self._changed:
            new = merged(self._info, update, event)
            if new is None:
                return False
            self._info = new
            self._changed.notify_all()
        if self.done:
            self._connection.job_finished(self)
            self._fetch_summary_in_background()
        self._notify()
        return True

    def connection_changed(self) -> None:
        """Called by the connection when it goes live or offline."""
        with self._changed:
            self._changed.notify_all()
        self._notify()

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(job)`` after every change of state or of the connection."""
        self._listeners.append(listener)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:  # one broken listener must not stop event delivery
                log.exception("nbjobs: a listener of job %s failed", self.id)

    # -- display -----------------------------------------------------------------------------

    @property
    def widget(self) -> JobProgress:
        """The job's progress widget, created (and kept current) on first use."""
        if self._widget is None:
            from .widgets import JobProgress  # ipywidgets: only for a notebook that shows one

            widget = JobProgress(self.info, live=self.live)

            def render(job: Job) -> None:
                widget.update(job.info)
                widget.set_live(job.live)

            self._widget = widget
            self.subscribe(render)
        return self._widget

    def display(self) -> JobProgress:
        from IPython.display import display

        display(self.widget)
        return self.widget

    def __repr__(self) -> str:
        return describe(self._info)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    # -- REST --------------------------------------------------------------------------------

    def refresh(self) -> Job:
        """Re-read the job from the server."""
        self.apply(self._connection.get_json("jobs", self.id))
        return self

    def cancel(self) -> Job:
        """Ask the server to stop the job; raises Conflict if it has already finished."""
        try:
            self.apply(self._connection.post_json("jobs", self.id, "cancel"))
        except Conflict:
            self.refresh()
            raise
        return self

    def wait(self, timeout: float | None = None) -> Job:
        """Block until the job finishes (any final status); TimeoutError after ``timeout`` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self._connection.ensure_live()
        while not self.done:
            recheck = RECHECK_LIVE if self.live else RECHECK_OFFLINE
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"Job #{self.id} is still {self.status} after {timeout:g} s."
                    )
                recheck = min(recheck, remaining)
            with self._changed:
                if self.done:
                    break
                notified = self._changed.wait(recheck)
            if not self.done and (not notified or not self.live):
                self.refresh()
                self._connection.ensure_live()
        self._load_summary_quietly()  # so a widget shown after wait() has it too
        return self

    def _raise_unless_completed(self) -> None:
        if self.status == "completed":
            return
        reason = self._info.get("errorMessage") or {
            "cancelled": "the job was cancelled",
            "interrupted": "the server stopped while the job ran",
        }.get(self.status, "no reason given")
        raise JobFailed(
            f"Job #{self.id} {self.status}: {reason}", job_id=self.id, status=self.status
        )

    def download(self, kind: str = "output", *, fmt: str = "parquet") -> bytes:
        """The bytes of the ``output`` or ``invalid`` file, as ``csv`` or ``parquet``."""
        self.wait()
        self._raise_unless_completed()
        path = job_url(self._connection.server.base_url, self.id, kind)
        return self._connection.get_bytes(path, params={"format": fmt})

    def result(self, timeout: float | None = None) -> pd.DataFrame:
        """Wait, then the normalized table; raises JobFailed unless the job completed."""
        import pandas as pd

        self.wait(timeout)
        return pd.read_parquet(io.BytesIO(self.download("output")))

    def summary(self, timeout: float | None = None) -> pd.DataFrame:
        """Wait, then one row per typed column: ``column``, ``type``, ``rows``, ``null`` (empty),
        ``invalid``, ``changed`` (valid, normalized value differs from the input),
        ``unchanged``, and the most frequent reason and repair codes as ``top_reasons`` and
        ``top_repairs`` ("phone_invalid 12, phone_fake 3"). Raises JobFailed unless the job
        completed."""
        import pandas as pd

        self.wait(timeout)
        self._raise_unless_completed()
        rows = [
            {
                "column": column["column"],
                "type": column["type"],
                **{key: column[key] for key in SUMMARY_COUNTS},
                "top_reasons": codes_text(column["topReasons"]),
                "top_repairs": codes_text(column["topRepairs"]),
            }
            for column in self._load_summary()
        ]
        names = ["column", "type", *SUMMARY_COUNTS, "top_reasons", "top_repairs"]
        return pd.DataFrame(rows, columns=names)

    def _load_summary(self) -> list[dict[str, Any]]:
        """The summary of the completed job: from ``info``, else from REST (then kept)."""
        with self._summary_lock:
            columns = self._info.get("summary")
            if columns is None:
                columns = self._connection.get_json("jobs", self.id, "summary")["columns"]
                self.apply({"summary": columns})
        return list(columns)

    def _load_summary_quietly(self) -> None:
        if self.status != "completed":
            return
        try:
            self._load_summary()
        except Exception:  # the summary is extra: its failure must not fail the job's user
            log.warning("nbjobs: could not fetch the summary of job %s", self.id, exc_info=True)

    def _fetch_summary_in_background(self) -> None:
        # Never wait here (this runs on the event thread): a holder of the lock is loading it.
        if not self._summary_lock.acquire(blocking=False):
            return
        try:
            if self.status != "completed" or self._summary_thread is not None:
                return
            if self._info.get("summary") is not None:
                return
            self._summary_thread = threading.Thread(
                target=self._load_summary_quietly, name=f"nbjobs-summary-{self.id}", daemon=True
            )
        finally:
            self._summary_lock.release()
        self._summary_thread.start()

    def invalid_rows(self, timeout: float | None = None) -> pd.DataFrame:
        """Wait, then the rows that failed validation, with the reasons."""
        import pandas as pd

        self.wait(timeout)
        return pd.read_parquet(io.BytesIO(self.download("invalid")))
