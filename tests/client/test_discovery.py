"""Finding a server (real ones, real runtime files) and the embedded default."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nbjobs.client.discovery import discover, explicit
from nbjobs.client.embedded import EmbeddedServer
from nbjobs.exceptions import ServerUnavailable
from tests.jupyter_process import JupyterProcess, free_port

HUB_AND_NBJOBS = (
    "NBJOBS_URL",
    "NBJOBS_TOKEN",
    "JUPYTERHUB_SERVICE_PREFIX",
    "JUPYTERHUB_API_TOKEN",
    "JUPYTERHUB_SERVICE_URL",
)


@pytest.fixture
def clean_env(monkeypatch, tmp_path) -> dict[str, str]:
    """No configured server and an empty runtime dir: nothing to find unless a test adds it."""
    for name in HUB_AND_NBJOBS:
        monkeypatch.delenv(name, raising=False)
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    return {"JUPYTER_RUNTIME_DIR": str(runtime)}


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory):
    """A Jupyter server without the nbjobs extension."""
    process = JupyterProcess(
        tmp_path_factory.mktemp("plain"),
        extra=['--ServerApp.jpserver_extensions={"nbjobs": False}'],
    )
    process.proc = subprocess.Popen(  # start() waits for the nbjobs API, which never comes
        [*_command(process)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(process.workdir / "runtime")},
    )
    _wait_for_runtime_file(process.workdir / "runtime")
    yield process
    process.stop()


def _command(process: JupyterProcess) -> list[str]:
    # Not nbjobs.client.embedded.server_command: that one always enables the extension.
    process.root_dir.mkdir(parents=True, exist_ok=True)
    return [
        sys.executable,
        "-m",
        "jupyter_server",
        "--no-browser",
        "--allow-root",
        f"--ServerApp.port={process.port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.base_url={process.base_url}",
        f"--IdentityProvider.token={process.token}",
        f"--ServerApp.root_dir={process.root_dir}",
        *process.extra,
    ]


def _wait_for_runtime_file(runtime: Path, timeout: float = 30) -> Path:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(runtime.glob("jpserver-*.json")) if runtime.exists() else []
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError("the server wrote no runtime file")


def test_finds_a_running_server_with_the_extension_only(server, plain_server, clean_env):
    runtime = Path(clean_env["JUPYTER_RUNTIME_DIR"])
    plain_file = _wait_for_runtime_file(plain_server.workdir / "runtime")
    shutil.copy(plain_file, runtime)
    assert discover() is None  # running, but without nbjobs
    shutil.copy(_wait_for_runtime_file(server.workdir / "runtime"), runtime)
    found = discover()
    assert found is not None and found.source == "running"
    assert (found.url, found.base_url, found.token) == (server.url, "/a%40b/", server.token)


def test_jupyterhub_environment(server, clean_env):
    env = {
        "JUPYTERHUB_SERVICE_PREFIX": server.base_url,
        "JUPYTERHUB_API_TOKEN": server.token,
        "JUPYTERHUB_SERVICE_URL": f"http://0.0.0.0:{server.port}/user/someone/",
    }
    found = discover(env=env)
    assert found is not None and found.source == "jupyterhub"
    assert (found.url, found.base_url) == (server.url, "/a%40b/")
    assert discover(env={**env, "JUPYTERHUB_API_TOKEN": "wrong"}) is None


def test_explicit_servers_are_verified(server, plain_server, clean_env):
    url = server.url + server.base_url
    found = discover(env={"NBJOBS_URL": url, "NBJOBS_TOKEN": server.token})
    assert found is not None and found.source == "env"
    assert explicit(f"{url}?token={server.token}").token == server.token
    with pytest.raises(ServerUnavailable, match="refused the token"):
        explicit(url, "wrong")
    with pytest.raises(ServerUnavailable, match="does not have the nbjobs extension"):
        explicit(plain_server.url + plain_server.base_url, plain_server.token)
    with pytest.raises(ServerUnavailable, match="Cannot reach"):
        explicit(f"http://127.0.0.1:{free_port()}/", "t")


EMBEDDED_SCRIPT = textwrap.dedent(
    """
    import json, pandas as pd, nbjobs
    from nbjobs.client import connection
    frame = pd.DataFrame({"Phone": ["(415) 555-2671", "12", "+44 20 7946 0958"]})
    job = nbjobs.normalize(frame, {"Phone": "phone"}, display=False).wait(60)
    conn = connection.current()
    print(json.dumps({
        "source": conn.server.source, "port": int(conn.server.url.rsplit(":", 1)[1]),
        "pid": connection._embedded.process.pid, "status": job.status,
        "valid": job.info["validRows"], "log": connection._embedded.log_path,
    }))
    """
)


def test_embedded_server_starts_when_none_is_found_and_stops_at_exit(clean_env, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in HUB_AND_NBJOBS}
    env.update(clean_env, JUPYTER_DATA_DIR=str(tmp_path / "data"))
    done = subprocess.run(
        [sys.executable, "-c", EMBEDDED_SCRIPT],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "starting a private one" in done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["source"] == "embedded" and report["status"] == "completed"
    assert report["valid"] == 2
    assert (tmp_path / "data" / "nbjobs").is_dir()  # the default data dir of that server
    # Stopped at exit: the process is gone, the port is closed, the log removed.
    assert not Path(f"/proc/{report['pid']}").exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", report["port"]), timeout=1).close()
    assert not Path(report["log"]).exists()


def test_embedded_server_that_cannot_start_says_why(tmp_path):
    missing = tmp_path / "missing"
    with pytest.raises(ServerUnavailable, match="exited with code") as caught:
        EmbeddedServer(root_dir=str(missing)).start()
    assert str(missing) in caught.value.message  # the log tail explains the failure


def test_embedded_server_without_the_api_times_out_and_is_stopped(tmp_path):
    embedded = EmbeddedServer(
        root_dir=str(tmp_path),
        startup_timeout=8,  # long enough for it to start and log, on a busy machine too
        # The extension cannot create its data dir, so the server runs without the API.
        extra_args=["--NbJobs.data_dir=/proc/nbjobs-cannot-be-here"],
    )
    with pytest.raises(ServerUnavailable, match="did not answer within 8 s") as caught:
        embedded.start()
    assert "ServerApp]" in caught.value.message  # its log tail
    assert not embedded.running
