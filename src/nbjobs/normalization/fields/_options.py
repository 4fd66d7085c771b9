"""Option builders shared by field modules."""

from __future__ import annotations

from typing import Any

from . import Option


def flag(key: str, help: str) -> Option:
    """An on/off option, off by default. Only JSON booleans are accepted: "false" as a string
    would be truthy, and silently turning a feature on is worse than a 400."""

    def parse(raw: Any) -> bool:
        if not isinstance(raw, bool):
            raise ValueError(f"{key} must be true or false, got {raw!r}.")
        return raw

    return Option(default=False, parse=parse, help=help)
