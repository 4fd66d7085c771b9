"""A real ``jupyter lab`` in a subprocess and Debian's Chromium driven by Playwright, for the
browser tests. The server can be stopped and started again on the same port, data and root,
as a user's server restarting under an open page."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from tests.jupyter_process import free_port

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BASE_URL = "/a%40b/"  # an escaped base URL catches paths built by hand


def screenshots_dir() -> Path:
    """``$NBJOBS_ARTIFACTS/screenshots`` (default ``artifacts/screenshots`` in the repository)."""
    root = Path(os.environ.get("NBJOBS_ARTIFACTS") or REPO / "artifacts")
    path = root / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


class LabServer:
    """``jupyter lab`` with nbjobs on a fixed loopback port; ``nbjobs_options`` are
    ``--NbJobs.<name>=<value>`` arguments."""

    def __init__(self, workdir: Path, **nbjobs_options: object) -> None:
        self.workdir = workdir
        self.root_dir = workdir / "root"
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.log_path = workdir / "lab.log"
        self.nbjobs_options = {"data_dir": workdir / "nbjobs-data", **nbjobs_options}
        self.proc: subprocess.Popen[bytes] | None = None
        self.root_dir.mkdir(parents=True, exist_ok=True)
        # No "get notified about Jupyter news?" toast over the page.
        settings = workdir / "lab-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{BASE_URL}"

    @property
    def api(self) -> str:
        return f"{self.url}nbjobs/api"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def start(self) -> LabServer:
        args = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.base_url={BASE_URL}",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            '--ServerApp.jpserver_extensions={"nbjobs": True}',
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            *(f"--NbJobs.{name}={value}" for name, value in self.nbjobs_options.items()),
        ]
        env = {
            **os.environ,
            # The kernel inherits these: it finds this server (and no other) in the runtime dir,
            # and no settings or workspace of the machine's user leak into the page.
            "JUPYTER_RUNTIME_DIR": str(self.workdir / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(self.workdir / "lab-settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(self.workdir / "lab-workspaces"),
        }
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        self._wait_until_serving()
        return self

    def _wait_until_serving(self, timeout: float = 60) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited:\n{self.log_tail()}")
            with contextlib.suppress(requests.RequestException):
                # /lab answers once JupyterLab is loaded, the nbjobs API once our extension is.
                lab = requests.get(f"{self.url}lab", headers=self.headers, timeout=2)
                jobs = requests.get(f"{self.api}/jobs", headers=self.headers, timeout=2)
                if lab.ok and jobs.ok:
                    return
            time.sleep(0.3)
        raise RuntimeError(f"jupyter lab did not start:\n{self.log_tail()}")

    def stop(self) -> None:
        """A clean stop (SIGTERM), as a user's Ctrl+C or a culler."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def submit(self, path: str, columns: dict[str, object]) -> dict:
        """A job on a file under the server root, over REST as any client would."""
        response = requests.post(
            f"{self.api}/jobs", json={"path": path, "columns": columns}, headers=self.headers
        )
        response.raise_for_status()
        return response.json()

    def job(self, job_id: int) -> dict:
        response = requests.get(f"{self.api}/jobs/{job_id}", headers=self.headers)
        response.raise_for_status()
        return response.json()


@contextlib.contextmanager
def chromium(profile_dir: Path, playwright) -> Iterator[object]:
    """A Chromium context on a fresh profile (Playwright's way to pass ``--user-data-dir``)."""
    context = playwright.chromium.launch_persistent_context(
        profile_dir,
        executable_path=CHROMIUM,
        args=CHROMIUM_FLAGS,
        viewport={"width": 1400, "height": 900},
        accept_downloads=True,
    )
    try:
        yield context
    finally:
        context.close()
