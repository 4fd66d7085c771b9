"""A Binder build, mimicked: what mybinder does with this repository, minus Docker.

From a copy of the repository (git-tracked and untracked, not ignored files of the working
tree): a fresh virtual environment with ``binder/requirements.txt`` alone, then
``binder/postBuild`` run from the copy's root with that environment first on PATH, then
``jupyter lab`` from it, as Binder starts it (the nbjobs extension enabled by the install, not
by the command line; a ``/user/<name>/`` base URL). The demo notebooks then run under nbval in
that environment, and must find that server by discovery rather than start their own.

Nothing comes from the dev ``.venv`` except this test's own process. pip uses the machine's
cache (only postBuild passes ``--no-cache-dir``, as on Binder). The Jupyter config, data and
runtime directories are private to the test, so no server or setting of the machine leaks in.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from nbjobs.client.embedded import free_port

REPO = Path(__file__).resolve().parents[2]
BASE_URL = "/user/binder-demo/"  # Binder serves each user under a prefix like this
NOTEBOOK_JOBS = {  # input names of the jobs the demo notebooks submit, by notebook
    "quickstart.ipynb": "contacts",
    "large_job.ipynb": "200k messy contacts",
    "jobs_table.ipynb": "small batch",
    "cli_and_rest.ipynb": "contacts via REST",
}
ANSI = re.compile(r"\x1b\[[0-9;]*m")

pytestmark = [pytest.mark.binder, pytest.mark.slow, pytest.mark.timeout(900)]


@dataclass
class BinderBuild:
    root: Path  # the repository copy, where postBuild ran
    venv: Path
    env: dict[str, str]  # the environment first on PATH, private Jupyter directories
    post_build: subprocess.CompletedProcess[str]

    def run(self, *args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def listing(self, *args: str) -> str:
        """``jupyter <args>`` in the environment, stdout and stderr, without colours."""
        done = self.run(self.venv / "bin" / "jupyter", *args, timeout=120)
        return ANSI.sub("", done.stdout + done.stderr)


def _repository_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    # Tracked files deleted in the working tree are listed but gone.
    return [name for name in listed.split("\0") if name and (REPO / name).is_file()]


def _copy_repository(destination: Path) -> None:
    for name in _repository_files():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)  # keeps postBuild executable


def _binder_env(venv: Path, home: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        # Nothing that points at another server, environment or interpreter setup.
        if not key.startswith(("NBJOBS_", "JUPYTER", "JPY_", "PYTHON", "VIRTUAL_ENV", "CONDA"))
    }
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        PYTHONUNBUFFERED="1",
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        # The server writes its jpserver-<pid>.json here; kernels started by nbval read it.
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "lab-workspaces"),
        IPYTHONDIR=str(home / "ipython"),
    )
    return env


@pytest.fixture(scope="module")
def binder(tmp_path_factory) -> BinderBuild:
    work = tmp_path_factory.mktemp("binder")
    root, venv = work / "repo", work / "venv"
    _copy_repository(root)
    env = _binder_env(venv, work / "jupyter")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env)
    python = venv / "bin" / "python"
    build = BinderBuild(root, venv, env, subprocess.CompletedProcess([], 0, "", ""))
    requirements = build.run(
        python, "-m", "pip", "install", "-r", root / "binder" / "requirements.txt"
    )
    assert requirements.returncode == 0, requirements.stdout[-3000:] + requirements.stderr
    build.post_build = build.run("bash", root / "binder" / "postBuild", timeout=600)
    # Test tools only, after the build: nbval runs the notebooks in this environment.
    tools = build.run(python, "-m", "pip", "install", "pytest", "nbval")
    assert tools.returncode == 0, tools.stdout[-3000:] + tools.stderr
    return build


@dataclass
class LabServer:
    url: str  # root URL, no path
    token: str

    @property
    def api(self) -> str:
        return f"{self.url}{BASE_URL}nbjobs/api/"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}


@pytest.fixture(scope="module")
def lab(binder: BinderBuild) -> Iterator[LabServer]:
    """``jupyter lab`` from the Binder environment, stopped whatever happens."""
    port, token = free_port(), secrets.token_hex(16)
    args = [
        binder.venv / "bin" / "jupyter",
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.base_url={BASE_URL}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={binder.root}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")
    server = LabServer(f"http://127.0.0.1:{port}", token)
    log_path = binder.root.parent / "lab.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(a) for a in args],
            cwd=binder.root,
            env=binder.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_serving(proc, server, log_path)
            yield server
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def _wait_until_serving(proc: subprocess.Popen[bytes], server: LabServer, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(requests.RequestException):
            # /lab answers once JupyterLab is loaded, the nbjobs API once our extension is.
            page = requests.get(f"{server.url}{BASE_URL}lab", headers=server.headers, timeout=5)
            jobs = requests.get(server.api + "jobs", headers=server.headers, timeout=5)
            if page.ok and jobs.ok:
                return
        time.sleep(0.3)
    raise RuntimeError(f"jupyter lab did not serve nbjobs in time:\n{log.read_text()[-3000:]}")


def test_post_build_succeeds(binder: BinderBuild) -> None:
    done = binder.post_build
    assert done.returncode == 0, f"postBuild failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def test_server_extension_is_enabled(binder: BinderBuild) -> None:
    listing = binder.listing("server", "extension", "list")
    assert re.search(r"^\s+nbjobs\s+enabled", listing, re.M), listing
    assert re.search(r"^\s+nbjobs\s+(\S+\s+)?OK", listing, re.M), listing


def test_lab_extension_is_enabled(binder: BinderBuild) -> None:
    listing = binder.listing("labextension", "list")
    assert re.search(r"^\s+\S*nbjobs\S*\s+v\S+\s+enabled\s+OK", listing, re.M), listing


def test_kernels_discover_the_binder_server(binder: BinderBuild, lab: LabServer) -> None:
    probe = "from nbjobs.client.discovery import discover; s = discover(); print(s and s.url)"
    done = binder.run(binder.venv / "bin" / "python", "-c", probe, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == lab.url


def test_notebooks_pass_against_the_binder_server(binder: BinderBuild, lab: LabServer) -> None:
    notebooks = sorted(p.name for p in (binder.root / "notebooks").glob("*.ipynb"))
    assert set(NOTEBOOK_JOBS) <= set(notebooks)
    done = binder.run(
        binder.venv / "bin" / "python",
        "-m",
        "pytest",
        "--nbval-lax",
        "notebooks",
        "-p",
        "no:cacheprovider",
        "-q",
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    # Their jobs ran on this server: no notebook fell back to a private one.
    listed = requests.get(
        lab.api + "jobs", params={"limit": 500}, headers=lab.headers, timeout=30
    ).json()["jobs"]
    names = {job["inputName"] for job in listed}
    missing = {nb: name for nb, name in NOTEBOOK_JOBS.items() if name not in names}
    assert not missing, f"jobs not on the Binder server: {missing}; it has {sorted(names)}"
