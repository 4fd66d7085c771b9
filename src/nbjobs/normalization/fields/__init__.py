"""Field types: one module per type, each normalizing single string values.

A field module defines:

- ``NAME``: the type name users put in a column spec (``"phone"``);
- ``COMPONENTS``: the parts it splits a value into, one output column each;
- ``REASONS``: every reason code it can emit, with a message a person can read;
- ``REPAIRS``: every repair note it can attach to a valid value (what it fixed or changed, such
  as ``title_removed``), with a message; a note is set only when that change happened;
- ``OPTIONS``: the job options it reads (``{}`` if none), as :class:`Option` objects;
- ``normalize_values(values, options) -> list[FieldResult]``, one result per value.

The registry guarantees that ``normalize_values`` only sees stripped, non-empty strings of at most
:data:`MAX_VALUE_LENGTH` characters, and that an exception it lets escape costs only the value
that caused it (``unexpected_error``), so a module can stay a thin layer over its library.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

# Repair codes several types emit, worded once so that a code means the same in every type.
SHARED_REPAIRS = {
    "recased": "Casing repaired (words capitalized as names are written).",
    "reformatted": "Written in the standard form of its type (e.g. CA, 12345-6789, 2024-03-05).",
    "idna_decoded": "Domain written in IDNA form (xn--...) shown in Unicode.",
    "mojibake_repaired": 'Mis-decoded text repaired ("JosÃ©" -> "José").',
}

# Long enough for any real name, phone or address; short enough that no parser gets slow.
MAX_VALUE_LENGTH = 1000


class FieldResult(NamedTuple):
    """The outcome for one value: ``value`` is None exactly when ``reason`` says why;
    ``notes``: the repair codes (``REPAIRS``) of what was fixed on the way, in order."""

    value: str | None
    components: tuple[str, ...]
    reason: str | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Option:
    """A job option a field type reads: its default, and ``parse`` (raises ValueError when bad)."""

    default: Any
    parse: Callable[[Any], Any]
    help: str


OptionsMap = Mapping[str, Any]
NormalizeOne = Callable[[str, OptionsMap], FieldResult]
NormalizeMany = Callable[[Sequence[str], OptionsMap], list[FieldResult]]


def map_values(normalize_one: NormalizeOne) -> NormalizeMany:
    """``normalize_values`` for a type whose library works one value at a time."""

    def normalize_values(values: Sequence[str], options: OptionsMap) -> list[FieldResult]:
        return [normalize_one(value, options) for value in values]

    return normalize_values


def invalid(components: tuple[str, ...], reason: str) -> FieldResult:
    return FieldResult(None, ("",) * len(components), reason)
