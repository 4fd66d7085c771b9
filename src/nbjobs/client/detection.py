"""``Detected``: the server's answer to ``POST nbjobs/api/detect``, as a notebook object.

found = nbjobs.detect(df)
found.types                     # {"First": "name", "Phone": "phone", ...}
found.suggestions               # [{"name": "Name", "type": "name", "from": [...], ...}]
nbjobs.normalize(df, columns=found.spec())   # detected types, suggestions accepted
"""

from __future__ import annotations

import html
from collections.abc import Collection, Mapping
from typing import Any

__all__ = ["Detected"]


class Detected:
    """Detected column types and suggested combinations of one input (its first rows).

    ``columns``: per input column, in input order, ``{name, type, confidence, reason, partOf}``;
    ``suggestions``: ``{name, type, from, confidence, preview}`` each; ``fields``: the field types.
    """

    def __init__(self, info: Mapping[str, Any]) -> None:
        self.info = dict(info)
        self.input_name: str = info.get("inputName") or ""
        self.columns: list[dict[str, Any]] = list(info.get("columns") or [])
        self.suggestions: list[dict[str, Any]] = list(info.get("suggestions") or [])
        self.fields: list[str] = list(info.get("fields") or [])

    @property
    def types(self) -> dict[str, str]:
        """``{column: detected type}`` for every input column (``"text"``: none fits)."""
        return {column["name"]: column["type"] for column in self.columns}

    def spec(self, accept: bool | Collection[str] = True) -> dict[str, Any]:
        """A ``columns`` spec: every detected non-text type, and the accepted suggestions.

        ``accept``: True (every suggestion), False (none), or the names of those to accept.
        An accepted suggestion takes the place of its first source column, and its sources lose
        their standalone types (one output per value, not two).
        """
        chosen = [
            s
            for s in self.suggestions
            if accept is True or (not isinstance(accept, bool) and s["name"] in accept)
        ]
        by_first_source = {s["from"][0]: s for s in chosen}
        consumed = {source for s in chosen for source in s["from"]}
        spec: dict[str, Any] = {}
        for column in self.columns:
            name = column["name"]
            if name in by_first_source:
                suggestion = by_first_source[name]
                spec[suggestion["name"]] = {"type": suggestion["type"], "from": suggestion["from"]}
            elif name not in consumed and column["type"] != "text":
                spec[name] = column["type"]
        return spec

    def _suggestion_lines(self) -> list[str]:
        lines = []
        for s in self.suggestions:
            lines.append(
                f"  {s['name']} ({s['type']}) = {' + '.join(s['from'])}"
                f"  confidence {s['confidence']:.2f}"
            )
            for row in s["preview"]:
                mark = "valid" if row["valid"] else "invalid"
                lines.append(f"      {row['combined']!r} -> {row['normalized']!r} ({mark})")
        return lines

    def __repr__(self) -> str:
        width = max((len(str(c["name"])) for c in self.columns), default=0)
        lines = [f"Detected columns of {self.input_name or 'the input'}:"]
        for c in self.columns:
            part = f"  [part of {c['partOf']}]" if c.get("partOf") else ""
            lines.append(
                f"  {c['name']!s:<{width}}  {c['type']:<8} {c['confidence']:.2f}  "
                f"{c['reason']}{part}"
            )
        if self.suggestions:
            lines.append("Suggested combinations (applied by spec(accept=True)):")
            lines += self._suggestion_lines()
        else:
            lines.append("No columns to combine.")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><td>{esc(str(c['name']))}</td><td>{esc(c['type'])}</td>"
            f"<td>{c['confidence']:.2f}</td><td>{esc(c['reason'])}</td>"
            f"<td>{esc(c.get('partOf') or '')}</td></tr>"
            for c in self.columns
        )
        parts = [
            f"<b>Detected columns of {esc(self.input_name or 'the input')}</b>",
            "<table><tr><th>column</th><th>type</th><th>confidence</th><th>why</th>"
            f"<th>part of</th></tr>{rows}</table>",
        ]
        if self.suggestions:
            items = []
            for s in self.suggestions:
                preview = "".join(
                    f"<li><code>{esc(r['combined'])}</code> → <code>{esc(r['normalized'])}</code>"
                    f" ({'valid' if r['valid'] else 'invalid'})</li>"
                    for r in s["preview"]
                )
                items.append(
                    f"<li><b>{esc(s['name'])}</b> ({esc(s['type'])}) = "
                    f"{esc(' + '.join(s['from']))}, confidence {s['confidence']:.2f}"
                    f"<ul>{preview}</ul></li>"
                )
            parts.append(
                "<b>Suggested combinations</b> (applied by <code>spec(accept=True)</code>)"
                f"<ul>{''.join(items)}</ul>"
            )
        return "".join(parts)
