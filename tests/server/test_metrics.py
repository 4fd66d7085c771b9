"""nbjobs' metrics on Jupyter's own Prometheus endpoint (``<base_url>metrics``): every metric of
``docs/metrics.md`` is there (and nothing undocumented), and the ones a job moves, move."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from tests.conftest import contacts_csv

DOCS = Path(__file__).parents[2] / "docs" / "metrics.md"


async def scrape(jp_fetch) -> tuple[set[str], dict[str, float]]:
    """The nbjobs metrics described (HELP lines), and every nbjobs sample with its value."""
    text = (await jp_fetch("metrics")).body.decode()
    described = set(re.findall(r"^# HELP (nbjobs_\w+)", text, re.M))
    described = {name for name in described if not name.endswith("_created")}
    samples = {}
    for line in text.splitlines():
        if line.startswith("nbjobs_"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return described, samples


def total(samples: dict[str, float], prefix: str) -> float:
    return sum(value for name, value in samples.items() if name.startswith(prefix))


async def test_metrics_are_served_and_move_with_a_job(
    jp_fetch, submit, connect_client, server_token
):
    await connect_client(token=server_token)
    described, before = await scrape(jp_fetch)
    documented = {
        name.removesuffix("_total") for name in re.findall(r"`(nbjobs_\w+)", DOCS.read_text())
    }
    assert {name.removesuffix("_total") for name in described} == documented
    assert before["nbjobs_connected_clients"] >= 1

    job_id = json.loads((await submit(contacts_csv(300))).body)["jobId"]
    for _ in range(200):
        job = json.loads((await jp_fetch("nbjobs", "api", "jobs", str(job_id))).body)
        if job["status"] == "completed":
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    _, after = await scrape(jp_fetch)

    rows = "nbjobs_rows_processed_total"
    assert total(after, rows) - total(before, rows) == 300
    emitted = 'nbjobs_events_emitted_total{event="job:completed"}'
    assert after[emitted] - before.get(emitted, 0) == 1
    deliveries = "nbjobs_event_deliveries_total"
    assert total(after, deliveries) > total(before, deliveries)
    count = 'nbjobs_job_duration_seconds_count{status="completed"}'
    assert after[count] - before.get(count, 0) == 1
    emits = "nbjobs_emit_duration_seconds_count"
    assert after[emits] > before.get(emits, 0)
    for gauge in ("progress_interval_seconds", "event_loop_lag_seconds", "queue_length"):
        assert f"nbjobs_{gauge}" in after
