"""Job state as text, the one formatter behind the notebook widgets, the jobs table, the text
reprs and the CLI's progress bar (as tqdm's ``format_meter`` is behind its bars). No widgets
here: the CLI imports this module without ipywidgets.

Every function takes a public job dict (camelCase, ``protocol.PublicJob``) or any part of one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..protocol import FINAL_STATUSES, percent

__all__ = [
    "NUMERIC_CELLS",
    "SUMMARY_COUNTS",
    "SUMMARY_HEADER",
    "Meter",
    "bar_text",
    "codes_text",
    "counts_text",
    "describe",
    "duration",
    "number",
    "progress_of",
    "quality_text",
    "speed_text",
    "summary_rows",
    "summary_text",
]


def number(value: Any) -> str:
    """``12,345``, or ``?`` when unknown."""
    return f"{value:,}" if isinstance(value, int) else "?"


def progress_of(info: Mapping[str, Any]) -> int:
    if info.get("status") == "completed":
        return 100
    if isinstance(info.get("progress"), int):
        return int(info["progress"])
    return percent(info.get("processedRows") or 0, info.get("totalRows"))


@dataclasses.dataclass(frozen=True)
class Meter:
    """The counts of a job, formatted once: ``rows(" / ")`` is ``1,000 / 3,000 rows``."""

    processed: str
    total: str | None
    valid: str
    invalid: str
    percent: int

    @classmethod
    def of(cls, info: Mapping[str, Any]) -> Meter:
        total = info.get("totalRows")
        return cls(
            processed=number(info.get("processedRows") or 0),
            total=None if total is None else number(total),
            valid=number(info.get("validRows") or 0),
            invalid=number(info.get("invalidRows") or 0),
            percent=progress_of(info),
        )

    def rows(self, separator: str) -> str:
        if self.total is None:
            return f"{self.processed} rows"
        return f"{self.processed}{separator}{self.total} rows"


def duration(seconds: int) -> str:
    """``42s``, ``3m 05s``, ``1h 02m``."""
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def speed_text(info: Mapping[str, Any]) -> str:
    """``12,345 rows/s · 42s left`` while a job runs and the server said its throughput
    (``job:progress``'s ``rowsPerSecond`` and ``eta``); empty otherwise."""
    rate = info.get("rowsPerSecond")
    if info.get("status") in FINAL_STATUSES or not isinstance(rate, int) or rate <= 0:
        return ""
    eta = info.get("eta")
    left = f" · {duration(eta)} left" if isinstance(eta, int) else ""
    return f"{rate:,} rows/s{left}"


def quality_text(info: Mapping[str, Any]) -> str:
    """``Phone 91.0% valid · Email 99.5% valid`` from a running job's latest ``columnCounts``
    (of the non-empty values); empty once it has ended or before the first view."""
    if info.get("status") in FINAL_STATUSES:
        return ""
    parts = []
    for column in info.get("columnCounts") or ():
        filled = column.get("valid", 0) + column.get("invalid", 0)
        if filled:
            parts.append(f"{column.get('column')} {100 * column['valid'] / filled:.1f}% valid")
    return " · ".join(parts)


def counts_text(info: Mapping[str, Any]) -> str:
    """``1,000 / 3,000 rows · 990 valid · 10 invalid · 33%`` (the widget's line), then
    ``· 12,345 rows/s · 42s left`` while the job runs."""
    meter = Meter.of(info)
    text = f"{meter.rows(' / ')} · {meter.valid} valid · {meter.invalid} invalid · {meter.percent}%"
    speed = speed_text(info)
    return f"{text} · {speed}" if speed else text


def bar_text(info: Mapping[str, Any], width: int) -> str:
    """``[#########.....................]  33% 1,000/3,000 rows · 990 valid · 10 invalid``"""
    meter = Meter.of(info)
    filled = width * meter.percent // 100
    speed = speed_text(info)
    return (
        f"[{'#' * filled}{'.' * (width - filled)}] {meter.percent:3d}% {meter.rows('/')} · "
        f"{meter.valid} valid · {meter.invalid} invalid" + (f" · {speed}" if speed else "")
    )


def describe(info: Mapping[str, Any]) -> str:
    """One line for terminals and notebooks without a widget frontend, e.g.
    ``Job #12 completed: 3,000/3,000 rows, 2,990 valid, 10 invalid``."""
    meter = Meter.of(info)
    status = info.get("status", "unknown")
    text = (
        f"Job #{info.get('jobId', '?')} {status}: {meter.rows('/')}, "
        f"{meter.valid} valid, {meter.invalid} invalid"
    )
    if status not in FINAL_STATUSES:
        text += f" ({meter.percent}%)"
    if info.get("errorMessage"):
        text += f" - {info['errorMessage']}"
    return text


# The per-column summary of a completed job (``summary`` of the public job).
SUMMARY_COUNTS = ("rows", "null", "invalid", "changed", "unchanged")
SUMMARY_HEADER = ("column", "type", *SUMMARY_COUNTS, "top reasons", "top repairs")
NUMERIC_CELLS = range(2, 2 + len(SUMMARY_COUNTS))  # right-aligned


def codes_text(entries: Iterable[Mapping[str, Any]]) -> str:
    """``phone_invalid 12, phone_fake 3`` from ``topReasons`` or ``topRepairs``."""
    return ", ".join(f"{entry['code']} {number(entry['count'])}" for entry in entries)


def summary_rows(columns: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """One row of cells per typed column, in ``SUMMARY_HEADER`` order."""
    return [
        [
            str(column.get("column", "")),
            str(column.get("type", "")),
            *(number(column.get(key)) for key in SUMMARY_COUNTS),
            codes_text(column.get("topReasons") or ()),
            codes_text(column.get("topRepairs") or ()),
        ]
        for column in columns
    ]


def summary_text(columns: Sequence[Mapping[str, Any]]) -> str:
    """The summary as a plain-text table, for terminals and text reprs."""
    rows = [list(SUMMARY_HEADER), *summary_rows(columns)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(SUMMARY_HEADER))]
    lines = [
        "  ".join(
            cell.rjust(width) if i in NUMERIC_CELLS else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    return "\n".join(lines)
