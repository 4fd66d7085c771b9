"""Kernel-side client: find a server (``discovery``), or start one (``embedded``), keep one
connection per kernel (``connection``), and follow jobs (``job``)."""

from __future__ import annotations

from .connection import Connection, Reconnection, current, reset
from .discovery import ServerInfo, discover
from .embedded import EmbeddedServer
from .job import Job

__all__ = [
    "Connection",
    "EmbeddedServer",
    "Job",
    "Reconnection",
    "ServerInfo",
    "current",
    "discover",
    "reset",
]
