"""Combined columns: one value per row built from several source columns.

A column spec entry is either a field type (``"Email": "email"``) or a *combination*::

    {"Name": {"type": "name", "from": ["First", "Middle", "Last"]}}

which makes a column ``Name`` that the input lacks: per row, the non-empty source values joined
the way the type needs (:func:`join_parts`), then normalized like any typed column. Combinations
are applied only when a spec names them; :mod:`.mapping` merely suggests them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

SpecEntry = str | Mapping[str, Any]
COMBINATION_KEYS = ("type", "from")
# A phone's digits so far make a (local) number from 7 on: what follows is the extension.
PHONE_NUMBER_DIGITS = 7
EXTENSION_PREFIX = " ext. "


def entry_type(entry: SpecEntry) -> str:
    """The field type of a spec entry, plain or combination."""
    return entry if isinstance(entry, str) else entry["type"]


def spec_types(spec: Mapping[str, SpecEntry]) -> dict[str, str]:
    """``{column: field type}`` for every entry of a (validated) spec."""
    return {column: entry_type(entry) for column, entry in spec.items()}


def combinations(spec: Mapping[str, SpecEntry]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """``{output column: (field type, source columns)}`` for the combination entries, in order."""
    return {
        column: (entry["type"], tuple(entry["from"]))
        for column, entry in spec.items()
        if not isinstance(entry, str)
    }


def join_parts(kind: str, parts: Sequence[str]) -> str:
    """One value from stripped ``parts``; empty parts are skipped.

    ``phone``: the parts (country code, area code, number) are joined by spaces until they hold
    7 or more digits; the remaining parts are the extension, as ``" ext. <extension>"``. So
    ``["415", "555 2671", "12"]`` and ``["415 555 2671", "12"]`` both give
    ``"415 555 2671 ext. 12"``, and an area code that is empty on a row leaves the local number
    (with its extension). Every other type: the parts joined by one space (``"Ann" "" "Lee"`` ->
    ``"Ann Lee"``).
    """
    present = [part for part in parts if part]
    if kind != "phone":
        return " ".join(present)
    number: list[str] = []
    extension = ""
    digits = 0
    for part in present:
        if digits >= PHONE_NUMBER_DIGITS:
            extension += part
        else:
            number.append(part)
            digits += sum(c.isdigit() for c in part)
    joined = " ".join(number)
    return f"{joined}{EXTENSION_PREFIX}{extension}" if extension else joined
