"""nbjobs: live, background DataFrame normalization for Jupyter.

In a notebook::

    import nbjobs
    job = nbjobs.normalize(df, columns={"Full Name": "name", "Phone": "phone"})
    job.result()

The job runs inside the Jupyter server (the ``nbjobs`` server extension); progress arrives
over Socket.IO and fills a widget in the cell.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__

__all__ = ["Detected", "Job", "__version__", "connect", "detect", "jobs", "normalize"]

# The kernel-side API pulls in requests, socketio and ipywidgets; the server imports this
# package too (for the extension points), and the kernel must not import the server: each side
# loads only when first used.
_LAZY = {
    "normalize": ("nbjobs.client.notebook", "normalize"),
    "jobs": ("nbjobs.client.notebook", "jobs"),
    "connect": ("nbjobs.client.notebook", "connect"),
    "detect": ("nbjobs.client.notebook", "detect"),
    "Detected": ("nbjobs.client.detection", "Detected"),
    "Job": ("nbjobs.client.job", "Job"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'nbjobs' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .server.app import NbJobs

    return [{"module": "nbjobs.server.app", "app": NbJobs}]
