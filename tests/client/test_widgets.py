"""Widget states driven by real job events from a real server."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

import nbjobs
from nbjobs.client.widgets import GREY, JobProgress, JobsTable
from nbjobs.exceptions import JobFailed

from .conftest import contacts, eventually

COLUMNS = {"Phone": "phone", "Email": "email"}  # every 10th contact has both wrong


def bar_values(widget: JobProgress) -> list[int]:
    seen: list[int] = []
    widget.bar.observe(lambda change: seen.append(change["new"]), names="value")
    return seen


def test_progress_moves_then_turns_green(conn):
    job = nbjobs.normalize(contacts(2000), COLUMNS, name="<b>leads</b> & co", display=False)
    widget = job.widget
    seen = bar_values(widget)
    lines: list[str] = []
    widget.counts.observe(lambda change: lines.append(change["new"]), names="value")
    views: list[str] = []
    widget.live_view.observe(lambda change: views.append(change["new"]), names="value")
    assert "Live" in widget.badge.value
    job.wait(60)
    # While it ran, the line said how fast it went and how long was left (job:progress extras).
    assert any(" rows/s · " in line and line.endswith(" left") for line in lines), lines
    # ... and, every few seconds, each column's share of valid values and a preview.
    shown = [view for view in views if view]
    assert shown, views
    assert "Phone 90.0% valid" in shown[0] and "<table" in shown[0]
    assert widget.live_view.value == "" and widget.live_view.layout.display == "none"
    steps = [value for value in seen if 0 < value < 100]
    assert len(set(steps)) >= 3, seen  # it moved while the job ran, not only at the end
    assert seen == sorted(seen)
    assert widget.bar.value == 100 and widget.bar.bar_style == "success"
    assert widget.bar.style.bar_color is None
    assert widget.counts.value == "2,000 / 2,000 rows · 1,800 valid · 200 invalid · 100%"
    # The input name is user data: escaped, never markup.
    assert "&lt;b&gt;leads&lt;/b&gt; &amp; co" in widget.title.value
    assert "<b>leads" not in widget.title.value
    assert f"Job #{job.id}</b>" in widget.title.value
    text = f"Job #{job.id} completed: 2,000/2,000 rows, 1,800 valid, 200 invalid"
    assert repr(job) == text
    # The per-column summary, fetched by wait(): in the text repr and as a table.
    first, header, *columns = repr(widget).splitlines()
    assert first == text and header.split()[:2] == ["column", "type"]
    assert [line.split()[:7] for line in columns] == [
        ["Phone", "phone", "2,000", "0", "200", "1,800", "0"],
        ["Email", "email", "2,000", "0", "200", "1,800", "0"],
    ]
    assert widget._repr_mimebundle_()["text/plain"] == repr(widget)
    assert widget.summary.layout.display is None and "<td" in widget.summary.value
    assert widget.error.layout.display == "none"


def _worker_pids(server_pid: int) -> list[int]:
    """Job workers: children of the server's multiprocessing forkserver."""

    def children(pid: int) -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
        return found

    pids = []
    for child in children(server_pid):
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        if b"forkserver" in cmdline:
            pids.extend(children(child))
    return pids


def test_failure_turns_red_keeps_the_bar_and_shows_the_error(conn, server):
    job = nbjobs.normalize(contacts(20_000), COLUMNS, display=False)
    widget = job.widget
    eventually(lambda: job.info["processedRows"] >= 500, what="progress")
    workers = _worker_pids(server.proc.pid)
    assert workers, "no worker process found"
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    job.wait(30)
    assert job.status == "failed"
    assert widget.bar.bar_style == "danger"
    assert 0 < widget.bar.value < 100  # where it stopped
    assert widget.bar.value == job.info["progress"]
    assert "stopped unexpectedly" in widget.error.value
    assert widget.error.layout.display is None
    assert repr(widget).startswith(f"Job #{job.id} failed: ")
    with pytest.raises(JobFailed, match="stopped unexpectedly") as caught:
        job.result()
    assert caught.value.job_id == job.id and caught.value.job_status == "failed"


def test_cancelled_is_grey(conn):
    job = nbjobs.normalize(contacts(20_000), COLUMNS, display=False)
    widget = job.widget
    eventually(lambda: job.info["processedRows"] >= 300, what="progress")
    job.cancel()
    job.wait(30)
    assert job.status == "cancelled"
    assert widget.bar.bar_style == "" and widget.bar.style.bar_color == GREY
    assert 0 < widget.bar.value < 100
    assert repr(widget).startswith(f"Job #{job.id} cancelled: ")
    with pytest.raises(JobFailed, match="cancelled"):
        job.result()


def test_error_text_is_escaped():
    evil = '<img src=x onerror="alert(1)">'
    widget = JobProgress(
        {
            "jobId": 3,
            "status": "failed",
            "processedRows": 10,
            "totalRows": 40,
            "progress": 25,
            "inputName": evil,
            "errorMessage": evil,
        }
    )
    for html_text in (widget.title.value, widget.error.value):
        assert (
            "<img" not in html_text
            and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html_text
        )
    assert widget.bar.value == 25 and widget.bar.bar_style == "danger"
    table = JobsTable([{"jobId": 3, "status": "failed", "inputName": evil, "errorMessage": evil}])
    assert "<img" not in table.table.value
    assert repr(widget) == f"Job #3 failed: 10/40 rows, 0 valid, 0 invalid - {evil}"


def test_jobs_table_updates_in_place_and_rereads_only_for_new_jobs(conn):
    nbjobs.normalize(contacts(100), COLUMNS, display=False).wait(30)
    listed: list[str] = []
    conn.session.hooks["response"].append(
        lambda response, **_: listed.append(response.url) if "/jobs?" in response.url else None
    )
    table = nbjobs.jobs()
    assert len(listed) == 1 and table.rows and "Live" in table.badge.value
    job = nbjobs.normalize(contacts(1500), COLUMNS, name="new & <fresh>", display=False)
    job.wait(60)
    eventually(lambda: (table.get(job.id) or {}).get("status") == "completed", what="row")
    # One re-read for the job it did not know; its many progress events updated in place.
    assert len(listed) == 2, listed
    row = table.get(job.id)
    assert row["processedRows"] == 1500 and row["validRows"] == 1350
    assert "new &amp; &lt;fresh&gt;" in table.table.value
    assert repr(table).splitlines()[0] == repr(job)
    second = nbjobs.normalize(contacts(100), COLUMNS, display=False).wait(30)
    eventually(lambda: table.knows(second.id), what="second job")
    assert len(listed) == 3
