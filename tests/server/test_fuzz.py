"""schemathesis over ``docs/openapi.yaml`` against a real server: every check (no 5xx, every
status, content type, header and body as documented, schema-invalid requests refused, unknown
methods answered with 405 and ``Allow``, ...), in all four phases (examples, coverage, fuzzing,
and stateful: submit -> get, cancel, download, summary through the spec's links). Bounded here;
``benchmarks/fuzz_rest.py`` runs it longer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.jupyter_process import running_server

pytestmark = pytest.mark.slow

REPO = Path(__file__).parents[2]


def schemathesis(
    url: str, token: str, *extra: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(REPO / "tests" / "server" / "schemathesis.toml"),
        "run",
        str(REPO / "docs" / "openapi.yaml"),
        "--url",
        url,
        "--header",
        f"Authorization: token {token}",
        "--workers",
        "1",
        *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def test_the_rest_api_holds_its_spec_under_fuzzing(tmp_path):
    with running_server(tmp_path, base_url="/") as server:
        result = schemathesis(
            f"{server.url}/nbjobs/api", server.token, "--max-examples", "20", "--seed", "42"
        )
        log = server.log_path.read_text()
    assert result.returncode == 0, result.stdout[-6000:]
    assert " passed" in result.stdout and "failures" not in result.stdout.splitlines()[-1]
    assert "Traceback" not in log
