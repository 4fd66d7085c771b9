"""``job.summary()`` against a real server, and the summary in the widget and its text."""

from __future__ import annotations

import pandas as pd
import pytest

import nbjobs
from nbjobs.client.formatting import summary_text
from nbjobs.client.widgets import JobProgress
from nbjobs.exceptions import JobFailed

from .conftest import contacts, eventually

COLUMNS = {"Full Name": "name", "Phone": "phone"}

SUMMARY = [
    {
        "column": "<b>Phone</b>",
        "type": "phone",
        "rows": 1000,
        "null": 3,
        "invalid": 12,
        "changed": 800,
        "unchanged": 185,
        "topReasons": [{"code": "phone_invalid", "message": "Not valid.", "count": 12}],
        "topRepairs": [{"code": "extension_kept", "message": "Kept.", "count": 4}],
    }
]


def test_summary_waits_and_gives_one_row_per_typed_column(conn):
    job = nbjobs.normalize(contacts(300), COLUMNS, display=False)
    frame = job.summary(timeout=60)
    assert job.status == "completed"
    assert frame.columns.tolist() == [
        "column",
        "type",
        "rows",
        "null",
        "invalid",
        "changed",
        "unchanged",
        "top_reasons",
        "top_repairs",
    ]
    assert frame["column"].tolist() == ["Full Name", "Phone"]
    phone = frame.set_index("column").loc["Phone"]
    assert (phone["rows"], phone["null"], phone["invalid"], phone["changed"]) == (300, 0, 30, 270)
    assert phone["top_reasons"] == "phone_invalid 30"
    names = frame.set_index("column").loc["Full Name"]
    assert names["invalid"] == 0 and "title_removed" in names["top_repairs"]
    # The same counts as the job's own record.
    assert job.info["summary"][1]["invalid"] == 30
    pd.testing.assert_frame_equal(job.summary(), frame)  # kept: no second wait


def test_summary_of_a_cancelled_job_raises(conn):
    job = nbjobs.normalize(contacts(20_000), COLUMNS, display=False)
    eventually(lambda: job.info["processedRows"] >= 100, what="progress")
    job.cancel()
    with pytest.raises(JobFailed, match="cancelled"):
        job.summary(timeout=30)


def test_widget_shows_the_summary_only_once_completed():
    running = {"jobId": 3, "status": "running", "processedRows": 10, "totalRows": 40}
    widget = JobProgress({**running, "summary": SUMMARY})
    assert widget.summary.layout.display == "none" and widget.summary.value == ""
    assert repr(widget) == "Job #3 running: 10/40 rows, 0 valid, 0 invalid (25%)"

    done = {**running, "status": "completed", "processedRows": 40, "validRows": 28}
    widget.update(done)  # completed, summary not yet fetched: the line alone
    assert repr(widget) == "Job #3 completed: 40/40 rows, 28 valid, 0 invalid"
    widget.update({**done, "summary": SUMMARY})
    assert widget.summary.layout.display is None
    assert "&lt;b&gt;Phone&lt;/b&gt;" in widget.summary.value  # a column name is user data
    assert "<b>Phone" not in widget.summary.value
    lines = widget._repr_mimebundle_()["text/plain"].splitlines()
    assert lines == [
        "Job #3 completed: 40/40 rows, 28 valid, 0 invalid",
        *summary_text(SUMMARY).splitlines(),
    ]
    assert lines[2].split() == [
        "<b>Phone</b>",
        "phone",
        "1,000",
        "3",
        "12",
        "800",
        "185",
        "phone_invalid",
        "12",
        "extension_kept",
        "4",
    ]
