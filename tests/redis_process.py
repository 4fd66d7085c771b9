"""A redis-server of a test's (or a benchmark's) own: a fresh process on a free port, nothing
kept on disk, so tests can stop and restart it (an outage) without touching the machine's."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from tests.jupyter_process import free_port

__all__ = ["RedisProcess"]


class RedisProcess:
    """``start()`` returns once it answers PING; ``stop()`` ends it; the port stays the same
    across a stop and a start, so clients can reconnect to ``url``."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server is not installed (.ci/run installs it)")
        self.binary, self.workdir, self.port = binary, workdir, free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> RedisProcess:
        # Nothing on disk: a restart is a fresh, empty Redis, as after a real outage.
        options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), *options, "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
