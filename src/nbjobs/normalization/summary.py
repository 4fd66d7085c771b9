"""Per-column statistics of a job: how many values were empty, invalid, changed or unchanged,
and which reasons and repairs occurred how often.

The engine counts each chunk (:class:`ColumnStats` per typed column, in a :class:`Summary`);
summaries of chunks add up with ``+``, which is commutative and associative, so chunks may be
counted in any process and merged in any order. ``Summary.to_json`` is the public form served
by ``GET jobs/{id}/summary`` and kept with the job:

    [{"column": "Phone", "type": "phone", "rows": 1000, "null": 3, "invalid": 12,
      "changed": 800, "unchanged": 185,
      "topReasons": [{"code": "phone_invalid", "message": "...", "count": 12}],
      "topRepairs": [{"code": "extension_kept", "message": "...", "count": 4}]}]

Every row of a column is counted exactly once: ``rows == null + invalid + changed + unchanged``.
``changed`` means valid with a canonical value other than the stripped input.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .fields import FieldResult
from .registry import REASONS, REPAIRS

TOP = 5  # reasons and repairs listed per column


@dataclass
class ColumnStats:
    """Counts for one typed column."""

    column: str
    type: str
    null: int = 0
    invalid: int = 0
    changed: int = 0
    unchanged: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    repairs: Counter[str] = field(default_factory=Counter)

    @property
    def rows(self) -> int:
        return self.null + self.invalid + self.changed + self.unchanged

    @classmethod
    def count(
        cls,
        column: str,
        kind: str,
        values: Sequence[str],
        results: Sequence[FieldResult],
        rows_per_value: Sequence[int],
    ) -> ColumnStats:
        """Stats of a column from its distinct stripped ``values``, their ``results`` and how
        many rows hold each: the work is per distinct value, not per row."""
        # Plain locals and one dict update per value: this runs for every distinct value.
        null = changed = unchanged = 0
        reasons: dict[str, int] = {}
        notes: dict[tuple[str, ...], int] = {}
        for value, result, rows in zip(values, results, rows_per_value, strict=True):
            if not value:
                null += rows
            elif result.reason:
                reasons[result.reason] = reasons.get(result.reason, 0) + rows
            else:
                if result.value == value:
                    unchanged += rows
                else:
                    changed += rows
                if result.notes:
                    notes[result.notes] = notes.get(result.notes, 0) + rows
        repairs: Counter[str] = Counter()
        for codes, rows in notes.items():
            for code in codes:
                repairs[code] += rows
        invalid = sum(reasons.values())
        return cls(column, kind, null, invalid, changed, unchanged, +Counter(reasons), +repairs)

    def __add__(self, other: ColumnStats) -> ColumnStats:
        if (self.column, self.type) != (other.column, other.type):
            raise ValueError(f"cannot add stats of {other.column!r} to those of {self.column!r}")
        return ColumnStats(
            self.column,
            self.type,
            self.null + other.null,
            self.invalid + other.invalid,
            self.changed + other.changed,
            self.unchanged + other.unchanged,
            self.reasons + other.reasons,
            self.repairs + other.repairs,
        )

    def to_json(self, top: int = TOP) -> dict[str, Any]:
        return {
            "column": self.column,
            "type": self.type,
            "rows": self.rows,
            "null": self.null,
            "invalid": self.invalid,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "topReasons": _top(self.reasons, REASONS, top),
            "topRepairs": _top(self.repairs, REPAIRS, top),
        }


def _top(counts: Counter[str], messages: Mapping[str, str], top: int) -> list[dict[str, Any]]:
    # Ties by code, so the list does not depend on the order chunks were merged in.
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
    return [
        {"code": code, "message": messages.get(code, code), "count": count}
        for code, count in ranked
    ]


@dataclass
class Summary:
    """Stats per typed column, in spec order. ``Summary()`` is the empty summary."""

    columns: dict[str, ColumnStats] = field(default_factory=dict)

    @classmethod
    def of(cls, stats: Iterable[ColumnStats]) -> Summary:
        return cls({column.column: column for column in stats})

    def __add__(self, other: Summary) -> Summary:
        merged = dict(self.columns)
        for name, stats in other.columns.items():
            merged[name] = merged[name] + stats if name in merged else stats
        return Summary(merged)

    def to_json(self, top: int = TOP) -> list[dict[str, Any]]:
        return [stats.to_json(top) for stats in self.columns.values()]
