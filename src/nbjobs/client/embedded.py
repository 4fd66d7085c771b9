"""A private Jupyter server with nbjobs, for kernels and the CLI that find none running.

It listens on 127.0.0.1 only, on a free port, with a random token, and is stopped when this
interpreter exits (terminate, then kill after a grace period).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

from ..exceptions import ServerUnavailable
from .discovery import ServerInfo, has_extension

__all__ = ["EmbeddedServer", "free_port", "server_command"]

LOG_TAIL_LINES = 20


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(
    *,
    port: int,
    token: str,
    root_dir: str,
    base_url: str = "/",
    extra_args: Sequence[str] = (),
    module: str = "jupyter_server",
) -> list[str]:
    """The command line of a loopback-only jupyter-server with the nbjobs extension.

    ``module`` is what ``python -m`` runs: ``nbjobs.server.parent_bound`` for a server that
    stops when its stdin closes."""
    args = [
        sys.executable,
        "-m",
        module,
        '--ServerApp.jpserver_extensions={"nbjobs": True}',
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        # A taken port must fail, not silently move to another one nobody is polling.
        "--ServerApp.port_retries=0",
        f"--ServerApp.base_url={base_url}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--no-browser",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")
    return args + list(extra_args)


class EmbeddedServer:
    """``sys.executable -m jupyter_server`` with the nbjobs extension, owned by this process.

    Options:
        ``root_dir``: the server's root directory. Default: the current directory.
        ``startup_timeout``: seconds to wait for the REST API to answer. Default 60.
        ``stop_grace``: seconds between terminate and kill at stop. Default 5.
        ``extra_args``: more command-line options, e.g. ``["--NbJobs.chunk_size=500"]``.
    """

    def __init__(
        self,
        *,
        root_dir: str | None = None,
        startup_timeout: float = 60.0,
        stop_grace: float = 5.0,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.root_dir = root_dir or os.getcwd()
        self.startup_timeout = startup_timeout
        self.stop_grace = stop_grace
        self.extra_args = list(extra_args)
        self.process: subprocess.Popen[bytes] | None = None
        self.server: ServerInfo | None = None
        self.log_path = ""

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def command(self, port: int, token: str) -> list[str]:
        return server_command(
            port=port,
            token=token,
            root_dir=self.root_dir,
            extra_args=self.extra_args,
            module="nbjobs.server.parent_bound",
        )

    def start(self) -> ServerInfo:
        if self.running and self.server is not None:
            return self.server
        token = secrets.token_hex(24)
        port = free_port()
        log_fd, self.log_path = tempfile.mkstemp(prefix="nbjobs-server-", suffix=".log")
        self.process = subprocess.Popen(
            self.command(port, token),
            # We hold the write end: when this process ends, even by SIGKILL where no atexit
            # handler runs, the server sees EOF and stops (nbjobs.server.parent_bound).
            stdin=subprocess.PIPE,
            stdout=log_fd,
            stderr=subprocess.STDOUT,
            # Its own process group: a Ctrl-C in the terminal or a kernel interrupt is ours to
            # handle (cancel the job), not a reason for the server to die mid-job.
            start_new_session=True,
        )
        os.close(log_fd)  # the child has its own copy
        atexit.register(self.stop)
        server = ServerInfo(f"http://127.0.0.1:{port}", "/", token, "embedded")
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                message = (
                    f"The embedded Jupyter server exited with code {self.process.returncode} "
                    f"before it was ready. Its log ({self.log_path}) ends with:\n{self.log_tail()}"
                )
                self.stop(keep_log=True)
                raise ServerUnavailable(message)
            if has_extension(server):
                self.server = server
                return server
            time.sleep(0.2)
        message = (
            f"The embedded Jupyter server did not answer within {self.startup_timeout:.0f} s. "
            f"Its log ({self.log_path}) ends with:\n{self.log_tail()}"
        )
        self.stop(keep_log=True)
        raise ServerUnavailable(message)

    def stop(self, *, keep_log: bool = False) -> None:
        process, self.process = self.process, None
        self.server = None
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(self.stop_grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None and process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        if not keep_log and self.log_path:
            with contextlib.suppress(OSError):
                os.unlink(self.log_path)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as handle:
                return "".join(handle.readlines()[-lines:]).rstrip()
        except OSError:
            return "(no log)"
