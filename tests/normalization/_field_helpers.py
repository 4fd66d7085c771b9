"""Shared by the per-type field tests: calls through the registry and the two properties.

Vectors go through the registry, as the engine calls a type. The properties call the module's
``normalize_values`` directly: the registry turns an exception into ``unexpected_error``, which
would hide exactly the crash the no-raise property is there to catch.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from hypothesis import strategies as st

from nbjobs.normalization import MAX_VALUE_LENGTH, FieldResult, validate_options
from nbjobs.normalization.registry import REGISTRY


def normalize(module: ModuleType, value: str, **options: Any) -> FieldResult:
    """The result without its repair notes (``notes_of`` has those)."""
    return notes_and_result(module, value, **options)[1]


def notes_of(module: ModuleType, value: str, **options: Any) -> tuple[str, ...]:
    return notes_and_result(module, value, **options)[0]


def notes_and_result(
    module: ModuleType, value: str, **options: Any
) -> tuple[tuple[str, ...], FieldResult]:
    result = REGISTRY[module.NAME].normalize([value], validate_options(options))[0]
    assert set(result.notes) <= set(REGISTRY[module.NAME].repairs), result.notes
    assert not (result.notes and result.value is None), "notes on an invalid value"
    return result.notes, result._replace(notes=())


def invalid(module: ModuleType, reason: str) -> FieldResult:
    return FieldResult(None, ("",) * len(module.COMPONENTS), reason)


def direct(module: ModuleType, value: str, **options: Any) -> FieldResult:
    """The module's own answer for a value the registry would pass on; asserts its shape."""
    value = value.strip()
    if not value or len(value) > MAX_VALUE_LENGTH:
        return FieldResult("", ("",) * len(module.COMPONENTS), None)  # never reaches a module
    results = module.normalize_values([value], validate_options(options))
    assert len(results) == 1
    result = results[0]
    assert isinstance(result, FieldResult)
    assert len(result.components) == len(module.COMPONENTS)
    assert all(isinstance(part, str) for part in result.components)
    assert (result.value is None) == (result.reason is not None)
    assert result.reason is None or result.reason in module.REASONS
    assert set(result.notes) <= set(module.REPAIRS), result.notes  # every code declared
    assert len(set(result.notes)) == len(result.notes), result.notes
    return result


def assert_idempotent(module: ModuleType, value: str, **options: Any) -> None:
    """A valid value's normalized form normalizes to itself."""
    first = direct(module, value, **options)
    if first.value:
        assert direct(module, first.value, **options).value == first.value, value


def texts(alphabet: str, max_size: int = 40) -> st.SearchStrategy[str]:
    """Any text, plus text drawn mostly from ``alphabet`` so that the parsing paths get hit."""
    return st.one_of(st.text(max_size=max_size), st.text(alphabet, max_size=max_size))
