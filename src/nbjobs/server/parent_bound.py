"""``python -m nbjobs.server.parent_bound [options]``: jupyter-server that stops when the process
that started it ends, however it ends.

The embedded server (``nbjobs.client.embedded``) runs in its own session so that a kernel
interrupt does not reach it, and its owner stops it from an ``atexit`` handler. A kernel killed
outright (nbval and "shut down now" use SIGKILL, so does the OOM killer) runs no handler and
would leave the server running for good, found by every later discovery. So the owner holds
the write end of a pipe on our stdin: the OS closes it when the owner ends, and the EOF stops
the server as a SIGTERM does (running jobs marked interrupted, the runtime file removed).
"""

from __future__ import annotations

import os
import signal
import sys
import threading

__all__ = ["main"]


def _stop_at_eof() -> None:
    while sys.stdin.buffer.read(1 << 16):  # the owner never writes; b"" means it is gone
        pass
    os.kill(os.getpid(), signal.SIGTERM)


def main() -> None:
    threading.Thread(target=_stop_at_eof, name="nbjobs-owner-watch", daemon=True).start()
    from jupyter_server.serverapp import launch_new_instance

    launch_new_instance()


if __name__ == "__main__":
    main()
