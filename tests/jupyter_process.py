"""A real jupyter-server in a subprocess, for tests that kill, restart or share servers."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from nbjobs.client.embedded import free_port

__all__ = ["JupyterProcess", "free_port", "running_server"]


class JupyterProcess:
    def __init__(
        self,
        workdir: Path,
        *,
        base_url: str = "/a%40b/",
        token: str | None = None,
        port: int | None = None,
        extra: list[str] | None = None,
        data_dir: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir or workdir / "data"
        self.workdir = workdir
        self.base_url = base_url
        self.token = token or secrets.token_hex(16)
        self.port = port or free_port()
        self.extra = list(extra or [])
        self.env = dict(env or {})
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"server-{self.port}.log"
        self.root_dir = workdir / "root"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.url}{self.base_url}nbjobs/api"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def start(self, timeout: float = 60) -> JupyterProcess:
        self.root_dir.mkdir(parents=True, exist_ok=True)
        args = [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--allow-root",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.base_url={self.base_url}",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            '--ServerApp.jpserver_extensions={"nbjobs": True}',
            f"--NbJobs.data_dir={self.data_dir}",
            *self.extra,
        ]
        env = {**os.environ, **self.env, "JUPYTER_RUNTIME_DIR": str(self.workdir / "runtime")}
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter-server exited:\n{self.log_path.read_text()[-3000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.api}/jobs", headers=self.headers, timeout=2).ok:
                    return self
            time.sleep(0.2)
        raise RuntimeError(f"jupyter-server did not start:\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as in a crash or an OOM kill."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@contextlib.contextmanager
def running_server(workdir: Path, **kwargs) -> Iterator[JupyterProcess]:
    server = JupyterProcess(workdir, **kwargs).start()
    try:
        yield server
    finally:
        server.stop()
