"""The embedded server stops when its owner is killed outright (SIGKILL: no atexit handler).

nbval shuts its kernels down that way; before the server watched its stdin, each such kernel
left a private server running for good, which every later discovery then found and used.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

OWNER = textwrap.dedent(
    """
    import json, sys, time
    from nbjobs.client.embedded import EmbeddedServer
    embedded = EmbeddedServer()
    server = embedded.start()
    print(json.dumps({"pid": embedded.process.pid, "url": server.url}), flush=True)
    time.sleep(600)
    """
)

pytestmark = pytest.mark.slow


def _gone(pid: int) -> bool:
    """Exited: no such process, or a zombie nobody has reaped yet."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def _wait_until_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.2)
    return _gone(pid)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_embedded_server_stops_when_its_owner_is_killed(tmp_path):
    runtime = tmp_path / "runtime"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("NBJOBS_", "JUPYTERHUB_"))},
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
    }
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    server_pid = None
    try:
        assert owner.stdout is not None
        report = json.loads(owner.stdout.readline())
        server_pid = report["pid"]
        assert list(runtime.glob("jpserver-*.json"))  # it runs, and discovery can see it
        owner.send_signal(signal.SIGKILL)
        owner.wait(10)
        # Generous: a stop on a busy machine; this bounds the wait, it does not time the stop.
        assert _wait_until_gone(server_pid, 60), "the server outlived its killed owner"
        # A clean stop, not a crash: it removed its runtime file and closed its port.
        assert not list(runtime.glob("jpserver-*.json"))
        port = int(report["url"].rsplit(":", 1)[1])
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        if server_pid is not None and not _gone(server_pid):
            os.kill(server_pid, signal.SIGKILL)
