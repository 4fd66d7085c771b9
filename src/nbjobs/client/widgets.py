"""Widgets that render job state they are given: ``JobProgress`` (one job) and ``JobsTable``.

They know nothing about Socket.IO or REST; the connection feeds them public job dicts
(camelCase, ``protocol.PublicJob``) from whatever thread the events arrive on; their text comes
from ``formatting``.
Every piece of text that came from a user (input names, error messages) is HTML-escaped.
"""

from __future__ import annotations

import contextlib
import contextvars
import html
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import ipywidgets as widgets

from ..protocol import FINAL_STATUSES
from .formatting import (
    NUMERIC_CELLS,
    SUMMARY_HEADER,
    counts_text,
    describe,
    number,
    progress_of,
    quality_text,
    summary_rows,
    summary_text,
)

__all__ = [
    "CellContext",
    "JobProgress",
    "JobsTable",
    "badge_html",
    "live_view_html",
    "summary_html",
]

GREY = "#9e9e9e"
GREEN = "#2e7d32"
RED = "#c62828"


# -- text ----------------------------------------------------------------------------------------


def summary_html(columns: Sequence[Mapping[str, Any]]) -> str:
    """The summary as a small HTML table; column names and codes are escaped."""

    def row(tag: str, cells: Sequence[str]) -> str:
        return (
            "<tr>"
            + "".join(
                f'<{tag} style="padding:1px 8px;text-align:'
                f'{"right" if i in NUMERIC_CELLS else "left"}">{html.escape(cell)}</{tag}>'
                for i, cell in enumerate(cells)
            )
            + "</tr>"
        )

    body = "".join(row("td", cells) for cells in summary_rows(columns))
    return f"<table><thead>{row('th', SUMMARY_HEADER)}</thead><tbody>{body}</tbody></table>"


def badge_html(live: bool) -> str:
    color, text = (GREEN, "Live") if live else (GREY, "Offline")
    title = "receiving live updates" if live else "not connected: updates resume on reconnect"
    return (
        f'<span title="{title}" style="background:{color};color:white;border-radius:8px;'
        f'padding:0 8px;font-size:0.85em">{text}</span>'
    )


def _time(value: str | None) -> str:
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return html.escape(value)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


# -- the cell a widget belongs to ---------------------------------------------------------------


def _kernel() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return getattr(shell, "kernel", None)


class CellContext:
    """The parent header of the cell that created a widget, re-applied around later updates.

    ipykernel (7.x) reads the parent header from a ContextVar; a thread that never set it falls
    back to the *latest* cell, so an update arriving from the Socket.IO thread while another
    cell runs would be attributed to that cell. Setting the ContextVar in the updating thread
    sends our messages with the header of the cell that owns the widget.
    """

    def __init__(self) -> None:
        kernel = _kernel()
        self._var: contextvars.ContextVar[Any] | None = None
        self._parent: dict[str, Any] | None = None
        var = getattr(kernel, "_shell_parent", None)
        if isinstance(var, contextvars.ContextVar):  # ipykernel >= 7; 6.x keeps one global
            self._var, self._parent = var, kernel.get_parent("shell") or None

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        if self._var is None or self._parent is None:
            yield
            return
        token = self._var.set(self._parent)
        try:
            yield
        finally:
            self._var.reset(token)


class _Rendered(widgets.VBox):
    """Base: a lock around updates (they come from several threads), the owning cell, and a
    text repr for frontends without widgets."""

    def __init__(self, children: Iterable[widgets.Widget], **kwargs: Any) -> None:
        super().__init__(list(children), **kwargs)
        self._update_lock = threading.RLock()
        self._cell = CellContext()

    @contextlib.contextmanager
    def _updating(self) -> Iterator[None]:
        with self._update_lock, self._cell.active():
            yield

    def text(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text())

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = self.text()  # the base class truncates repr() at 110 chars
        return bundle


# -- one job ------------------------------------------------------------------------------------


def live_view_html(info: Mapping[str, Any]) -> str:
    """A running job's quality line and preview rows (``LiveView``), escaped; "" otherwise."""
    quality = quality_text(info)
    preview = info.get("preview") or []
    if not quality or info.get("status") in FINAL_STATUSES:
        return ""
    parts = [f"<div>{html.escape(quality)}</div>"]
    if preview:
        header = "".join(f"<th>{html.escape(str(name))}</th>" for name in preview[0])
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row.values()) + "</tr>"
            for row in preview
        )
        parts.append(
            '<table style="font-size: 90%"><thead><tr>'
            f"{header}</tr></thead><tbody>{rows}</tbody></table>"
        )
    return "".join(parts)


class JobProgress(_Rendered):
    """Progress of one job: ``Job #12 · input · status``, a bar, the counts, a Live/Offline
    badge, and the error message of a failed job.

    Green bar on completion, then the per-column summary as a table once it is known (the
    ``summary`` key); red and kept where it stopped on failure; grey when cancelled or
    interrupted.
    """

    def __init__(self, info: Mapping[str, Any], *, live: bool = False) -> None:
        self.title = widgets.HTML()
        self.badge = widgets.HTML()
        self.bar = widgets.IntProgress(value=0, min=0, max=100, layout={"width": "40%"})
        self.counts = widgets.HTML()
        # While it runs: each typed column's share of valid values and a few rows as
        # normalized (the live view of job:progress, every few seconds).
        self.live_view = widgets.HTML(layout={"display": "none"})
        self.error = widgets.HTML(layout={"display": "none"})
        self.summary = widgets.HTML(layout={"display": "none"})
        super().__init__(
            [
                widgets.HBox([self.title, self.badge]),
                widgets.HBox([self.bar, self.counts]),
                self.live_view,
                self.error,
                self.summary,
            ]
        )
        self.info: dict[str, Any] = {}
        self.live = live
        self.update(info)
        self.set_live(live)

    def update(self, info: Mapping[str, Any]) -> None:
        with self._updating():
            self.info = dict(info)
            status = self.info.get("status", "queued")
            name = html.escape(str(self.info.get("inputName") or ""))
            self.title.value = (
                f"<b>Job #{self.info.get('jobId', '?')}</b>"
                + (f" · {name}" if name else "")
                + f" · {html.escape(status)}"
            )
            self.counts.value = html.escape(counts_text(self.info))
            with self.bar.hold_sync():
                # A failed job's counts are those of its last progress: the bar stays there.
                self.bar.value = progress_of(self.info)
                self.bar.bar_style = {"completed": "success", "failed": "danger"}.get(status, "")
            grey = status in ("cancelled", "interrupted")
            self.bar.style.bar_color = GREY if grey else None
            view = live_view_html(self.info)
            self.live_view.value = view
            self.live_view.layout.display = None if view else "none"
            message = self.info.get("errorMessage")
            if message and status in FINAL_STATUSES:
                self.error.value = f'<span style="color:{RED}">{html.escape(str(message))}</span>'
                self.error.layout.display = None
            else:
                self.error.value = ""
                self.error.layout.display = "none"
            columns = self._summary()
            self.summary.value = summary_html(columns) if columns else ""
            self.summary.layout.display = None if columns else "none"

    def _summary(self) -> list[Mapping[str, Any]]:
        if self.info.get("status") != "completed":
            return []
        return list(self.info.get("summary") or [])

    def set_live(self, live: bool) -> None:
        with self._updating():
            self.live = live
            self.badge.value = badge_html(live)

    def text(self) -> str:
        columns = self._summary()
        return describe(self.info) + (f"\n{summary_text(columns)}" if columns else "")


# -- many jobs ----------------------------------------------------------------------------------

STATUS_COLORS = {
    "queued": GREY,
    "running": "#1565c0",
    "completed": GREEN,
    "failed": RED,
    "cancelled": GREY,
    "interrupted": GREY,
}


class JobsTable(_Rendered):
    """The latest jobs, newest first: id, input, status, processed/valid/invalid, created."""

    def __init__(
        self, jobs: Iterable[Mapping[str, Any]] = (), *, limit: int = 50, live: bool = False
    ) -> None:
        self.limit = limit  # how many jobs the table shows (its source reads that many)
        self.heading = widgets.HTML()
        self.badge = widgets.HTML()
        self.table = widgets.HTML()
        super().__init__([widgets.HBox([self.heading, self.badge]), self.table])
        self.rows: dict[int, dict[str, Any]] = {}
        self.live = live
        self.set_jobs(jobs)
        self.set_live(live)

    def knows(self, job_id: int) -> bool:
        return job_id in self.rows

    def get(self, job_id: int) -> dict[str, Any] | None:
        row = self.rows.get(job_id)
        return dict(row) if row is not None else None

    def set_jobs(self, jobs: Iterable[Mapping[str, Any]]) -> None:
        with self._updating():
            self.rows = {job["jobId"]: dict(job) for job in jobs}
            self._render()

    def update_job(self, info: Mapping[str, Any]) -> None:
        with self._updating():
            self.rows[info["jobId"]] = dict(info)
            for stale in sorted(self.rows)[: max(0, len(self.rows) - self.limit)]:
                del self.rows[stale]
            self._render()

    def set_live(self, live: bool) -> None:
        with self._updating():
            self.live = live
            self.badge.value = badge_html(live)

    def _ordered(self) -> list[dict[str, Any]]:
        return [self.rows[key] for key in sorted(self.rows, reverse=True)]

    def _render(self) -> None:
        self.heading.value = f"<b>nbjobs</b> · {len(self.rows)} recent jobs"
        cells = "padding:2px 10px;text-align:left"
        head = "".join(
            f'<th style="{cells}">{label}</th>'
            for label in ("Job", "Input", "Status", "Processed", "Valid", "Invalid", "Created")
        )
        body = []
        for job in self._ordered():
            status = str(job.get("status", ""))
            color = STATUS_COLORS.get(status, GREY)
            total = job.get("totalRows")
            processed = number(job.get("processedRows") or 0)
            if total is not None:
                processed += f" / {number(total)}"
            reason = html.escape(str(job.get("errorMessage") or ""))
            values = [
                f"#{job['jobId']}",
                html.escape(str(job.get("inputName") or "")),
                f'<span style="color:{color}" title="{reason}">{html.escape(status)}</span>',
                processed,
                number(job.get("validRows") or 0),
                number(job.get("invalidRows") or 0),
                _time(job.get("createdAt")),
            ]
            body.append("<tr>" + "".join(f'<td style="{cells}">{v}</td>' for v in values) + "</tr>")
        self.table.value = (
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            if body
            else "<i>No jobs yet.</i>"
        )

    def text(self) -> str:
        lines = [describe(job) for job in self._ordered()]
        return "\n".join(lines) if lines else "No nbjobs jobs yet."
