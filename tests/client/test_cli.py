"""The ``nbjobs`` command in a real subprocess against a real server."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import requests

from nbjobs.client.cli import ProgressBar
from nbjobs.client.formatting import bar_text, duration
from nbjobs.normalization import FIELD_TYPES
from tests.conftest import contacts_csv

from .conftest import eventually


def nbjobs_cli(
    *args: str, server=None, cwd: Path, env_extra: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBJOBS_", "JUPYTERHUB_"))}
    env.update(env_extra or {})
    if server is not None:
        env.update(NBJOBS_URL=server.url + server.base_url, NBJOBS_TOKEN=server.token)
    return subprocess.Popen(
        [sys.executable, "-m", "nbjobs", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=90)
    return process.returncode, out, err


def test_normalize_writes_the_output_and_the_invalid_rows(server, tmp_path):
    (tmp_path / "contacts.csv").write_bytes(contacts_csv(500))
    code, out, err = finish(
        nbjobs_cli(
            "--url", server.url + server.base_url, "--token", server.token,
            "normalize", "contacts.csv", "-c", "Phone=phone", "-c", "Email=email",
            "--region", "US", "-o", "out.csv", "--invalid", "bad.parquet",
            cwd=tmp_path,
        )
    )  # fmt: skip
    assert code == 0, err
    output = pd.read_csv(tmp_path / "out.csv", dtype=str)
    assert len(output) == 500 and output["Phone_normalized"].iloc[0] == "+14155552000"
    assert len(pd.read_parquet(tmp_path / "bad.parquet")) == 50
    first, *table = out.strip().splitlines()
    assert first.endswith("500/500 rows, 450 valid, 50 invalid -> out.csv, bad.parquet")
    assert first.startswith("Job #") and "completed" in first
    # Then the per-column summary: every 10th phone is invalid, every valid one reformatted.
    assert table[0].split()[:7] == [
        "column",
        "type",
        "rows",
        "null",
        "invalid",
        "changed",
        "unchanged",
    ]
    phone = next(line.split() for line in table if line.startswith("Phone "))
    assert phone == ["Phone", "phone", "500", "0", "50", "450", "0", "phone_invalid", "50"]
    assert any(line.startswith("Email ") and "domain_lowercased 450" in line for line in table)


def test_parquet_output_through_the_environment(server, tmp_path):
    (tmp_path / "contacts.csv").write_bytes(contacts_csv(120))
    code, _, err = finish(
        nbjobs_cli(
            "normalize", "contacts.csv", "-c", "Full Name=name", "-o", "out.parquet",
            server=server, cwd=tmp_path,
        )
    )  # fmt: skip
    assert code == 0, err
    assert len(pd.read_parquet(tmp_path / "out.parquet")) == 120


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-c", "Phone=bogus"], 'nbjobs: Unknown field type "bogus" for column "Phone"'),
        (["-c", "Nope=phone"], 'nbjobs: Column "Nope" is not in the input'),
    ],
)
def test_refused_input_exits_1_with_the_message(server, tmp_path, args, message):
    (tmp_path / "contacts.csv").write_bytes(contacts_csv(10))
    code, out, err = finish(
        nbjobs_cli("normalize", "contacts.csv", *args, server=server, cwd=tmp_path)
    )
    assert code == 1 and out == ""
    assert err.startswith(message) and "Traceback" not in err
    assert not (tmp_path / "contacts-normalized.csv").exists()


def test_missing_input_exits_1(server, tmp_path):
    code, _, err = finish(
        nbjobs_cli("normalize", "nope.csv", "-c", "Phone=phone", server=server, cwd=tmp_path)
    )
    assert code == 1 and err.startswith("nbjobs: No such file") and "Traceback" not in err


def test_ctrl_c_cancels_the_job_and_exits_130(server, tmp_path):
    # Long enough (several seconds) that Ctrl+C lands while it runs, however fast the parsers.
    (tmp_path / "big.csv").write_bytes(contacts_csv(300_000))
    api = f"{server.url}{server.base_url}nbjobs/api/jobs"

    def newest() -> dict:
        response = requests.get(api, params={"limit": 1}, headers=server.headers, timeout=5)
        jobs = response.json()["jobs"]
        return jobs[0] if jobs else {"jobId": 0, "processedRows": 0}

    before = newest()["jobId"]
    process = nbjobs_cli("normalize", "big.csv", "-c", "Phone=phone", server=server, cwd=tmp_path)
    eventually(
        lambda: newest()["jobId"] > before and newest()["processedRows"] > 0,
        timeout=30,
        what="the job to run",
    )
    job_id = newest()["jobId"]
    process.send_signal(signal.SIGINT)
    code, _, err = finish(process)
    assert code == 130, err
    assert f"job #{job_id} cancelled" in err and "Traceback" not in err
    eventually(lambda: newest()["status"] == "cancelled", what="cancelled")


@pytest.mark.parametrize("after", [0.3, 0.8, 1.5])
def test_ctrl_c_at_any_moment_leaves_no_job_running(server, tmp_path, after):
    """Ctrl+C while the CLI starts, uploads or waits: it exits 130 and no job it created runs
    on (one created meanwhile is cancelled, never left with nobody to cancel it)."""
    (tmp_path / "big.csv").write_bytes(contacts_csv(300_000))
    api = f"{server.url}{server.base_url}nbjobs/api/jobs"

    def jobs() -> list[dict]:
        response = requests.get(api, params={"limit": 20}, headers=server.headers, timeout=5)
        return response.json()["jobs"]

    before = max((job["jobId"] for job in jobs()), default=0)
    process = nbjobs_cli("normalize", "big.csv", "-c", "Phone=phone", server=server, cwd=tmp_path)
    time.sleep(after)
    process.send_signal(signal.SIGINT)
    code, _, err = finish(process)
    assert code == 130, err
    assert "Traceback" not in err
    created = [job for job in jobs() if job["jobId"] > before]
    assert len(created) <= 1, created
    for job in created:
        assert f"job #{job['jobId']} cancelled" in err
        eventually(
            lambda job=job: (
                requests.get(f"{api}/{job['jobId']}", headers=server.headers).json()["status"]
                == "cancelled"
            ),
            what="cancelled",
        )


def test_fields(server, tmp_path):
    code, out, _ = finish(nbjobs_cli("fields", server=server, cwd=tmp_path))
    assert code == 0 and out.split() == list(FIELD_TYPES)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_a_terminal_only():
    terminal, pipe = Terminal(), io.StringIO()
    info = {"processedRows": 1000, "totalRows": 4000, "validRows": 990, "invalidRows": 10}
    for stream in (terminal, pipe):
        bar = ProgressBar(stream)
        bar.update({**info, "progress": 25})
        bar.close()
    assert terminal.getvalue() == (
        "\r[#######.......................]  25% 1,000/4,000 rows · 990 valid · 10 invalid \n"
    )
    assert pipe.getvalue() == ""


def test_the_bar_shows_the_speed_while_the_job_runs():
    info = {"processedRows": 1000, "totalRows": 4000, "validRows": 990, "invalidRows": 10}
    running = {**info, "status": "running", "rowsPerSecond": 12345, "eta": 185}
    assert bar_text(running, 10).endswith("· 12,345 rows/s · 3m 05s left")
    assert bar_text({**running, "eta": None}, 10).endswith("· 12,345 rows/s")
    assert "rows/s" not in bar_text({**running, "status": "completed"}, 10)
    assert duration(42) == "42s" and duration(3720) == "1h 02m"


@pytest.mark.parametrize("found", ["running", "embedded"])
def test_without_a_url_it_finds_a_server_or_starts_one(server, tmp_path, found):
    runtime = server.workdir / "runtime" if found == "running" else tmp_path / "empty-runtime"
    (tmp_path / "contacts.csv").write_bytes(contacts_csv(50))
    process = nbjobs_cli(
        "normalize", "contacts.csv", "-c", "Phone=phone", "-o", "out.csv",
        cwd=tmp_path,
        env_extra={"JUPYTER_RUNTIME_DIR": str(runtime), "JUPYTER_DATA_DIR": str(tmp_path)},
    )  # fmt: skip
    code, out, err = finish(process)
    assert code == 0, err
    assert ("starting a private one" in err) == (found == "embedded")
    assert "completed: 50/50 rows" in out
    assert len(pd.read_csv(tmp_path / "out.csv")) == 50
