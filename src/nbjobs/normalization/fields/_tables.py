"""Shared by the field modules that look words up in tables: data-file loading and lookup keys.

Word lists and alias tables live in ``normalization/data/`` (they ship in the wheel), so that
extending them is a data change, not a code change.
"""

from __future__ import annotations

import json
import re
import unicodedata
from importlib.resources import files
from typing import Any

_PUNCTUATION = re.compile(r"[^\w&#]+")
_DROPPED = str.maketrans("", "", ".'\u2018\u2019\u02bc`")  # dots and every apostrophe


def load_json(name: str) -> Any:
    """A data file's content, minus its ``_comment`` key when it is an object."""
    data = json.loads((files("nbjobs.normalization") / "data" / name).read_text("utf-8"))
    if isinstance(data, dict):
        data.pop("_comment", None)
    return data


def load_lines(name: str) -> list[str]:
    """A plain-text data file's lines, without blanks and ``#`` comments."""
    text = (files("nbjobs.normalization") / "data" / name).read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def lookup_key(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form: "Côte d'Ivoire" -> "cote d ivoire".

    Dots and apostrophes are dropped rather than spaced, so "U.S.A." and "USA" meet, and so do
    "Hawai'i" and "Hawaii".
    """
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_DROPPED))
    ascii_ish = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(_PUNCTUATION.sub(" ", ascii_ish).replace("_", " ").split())
