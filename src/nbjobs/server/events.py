"""The event sink contract: where job events leave the server.

The runner announces every job event through an ``EventSink`` (``Realtime``, python-socketio
in Jupyter's server, is the one nbjobs ships). Event names and payloads are ``protocol``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from traitlets.config import LoggingConfigurable

__all__ = ["EventSink"]


class EventSink(LoggingConfigurable):
    """Delivers events to the connected clients of one user, on this server and (where the
    sink fans out, as ``Realtime`` with ``redis_url`` does) on every server sharing the jobs."""

    async def emit(self, event: str, payload: Mapping[str, Any], *, owner: str) -> None:
        """Send ``event`` with ``payload`` to every connection of ``owner``, in the order of
        the calls; returns once it is handed to the transport (never waits for clients)."""
        raise NotImplementedError
