"""The job loop (``worker.job``): messages, outputs written atomically, cancel, failures, and a
real killed process."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import resource
import signal
import time
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from nbjobs.protocol import (
    Cancelled,
    Completed,
    Counts,
    Failed,
    Progress,
    Started,
    WorkerMessage,
)
from nbjobs.worker.job import run_in_subprocess, run_job
from nbjobs.worker.outputs import remove_stale_temp_files
from nbjobs.worker.settings import WorkerJob, WorkerSettings

COLUMNS = {"Phone": "phone", "Email": "email"}


def contacts_csv(rows: int) -> bytes:
    """Every 4th row has an invalid phone; zips keep their leading zeros."""
    lines = ["Phone,Email,Zip"]
    for i in range(rows):
        phone = "12" if i % 4 == 3 else f"(415) 555-{2000 + i:04d}"
        lines.append(f'{phone},Person.{i}@Example.COM,"0{i:04d}"')
    return ("\n".join(lines) + "\n").encode()


@dataclasses.dataclass(frozen=True)
class Case:
    """A job and the settings it runs with."""

    job: WorkerJob
    settings: WorkerSettings

    @property
    def output_dir(self) -> str:
        return self.settings.output_dir


@pytest.fixture
def make_job(tmp_path):
    def _make(
        data: bytes,
        *,
        job_id: int = 7,
        columns: dict[str, Any] = COLUMNS,
        **settings: Any,
    ) -> Case:
        path = tmp_path / f"{job_id}.csv"
        path.write_bytes(data)
        job = WorkerJob(job_id, str(path), "csv", dict(columns), {})
        settings = {"output_dir": str(tmp_path / "outputs"), "chunk_size": 10, **settings}
        return Case(job, WorkerSettings(**settings))

    return _make


def listing(directory: str) -> list[str]:
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


def temps(directory: str) -> list[str]:
    return [name for name in listing(directory) if name.startswith(".")]


class Recorder:
    """A ``report`` callable that records messages and can check the output dir on each."""

    def __init__(self, case: Case, *, cancel_after: int | None = None) -> None:
        self.case = case
        self.messages: list[WorkerMessage] = []
        self.listings: list[list[str]] = []
        self.cancel_after = cancel_after

    def __call__(self, message: WorkerMessage) -> None:
        self.messages.append(message)
        self.listings.append(listing(self.case.output_dir))

    def cancelled(self) -> bool:
        progress = sum(1 for message in self.messages if isinstance(message, Progress))
        return self.cancel_after is not None and progress >= self.cancel_after

    @property
    def kinds(self) -> list[str]:
        return [kind_of(message) for message in self.messages]

    @property
    def last(self) -> Any:
        return self.messages[-1]


def kind_of(message: WorkerMessage) -> str:
    return type(message).__name__.lower()


def run(case: Case, **kw: Any) -> Recorder:
    recorder = Recorder(case, **kw)
    run_job(case.job, case.settings, recorder, recorder.cancelled)
    return recorder


def test_messages_counts_and_outputs(make_job):
    job = make_job(contacts_csv(25), chunk_size=10)
    recorder = run(job)

    assert recorder.kinds == ["started", "progress", "progress", "progress", "completed"]
    assert recorder.messages[0] == Started(total_rows=25)
    progress = [message for message in recorder.messages if isinstance(message, Progress)]
    assert [p.counts.processed for p in progress] == [10, 20, 25]
    assert [p.counts.invalid for p in progress] == [2, 5, 6]
    assert all(p.counts.valid + p.counts.invalid == p.counts.processed for p in progress)
    assert all(p.total_rows == 25 for p in progress)

    done = recorder.last
    assert isinstance(done, Completed)
    assert done.counts == Counts(25, 19, 6)
    assert done.total_rows == 25
    out = job.output_dir
    assert done.output_path == os.path.join(out, "7.csv")
    assert done.invalid_path == os.path.join(out, "7.invalid.csv")
    assert done.parquet_path == os.path.join(out, "7.parquet")
    assert listing(out) == ["7.csv", "7.invalid.csv", "7.parquet"]  # no temps left

    # Until "completed", only dot-temp files: nobody can open a half-written output.
    for seen in recorder.listings[:-1]:
        assert all(name.startswith(".7.") and ".tmp-" in name for name in seen)

    output = pd.read_csv(done.output_path, dtype=str, keep_default_na=False)
    assert len(output) == 25
    assert output["Zip"].tolist() == [f"0{i:04d}" for i in range(25)]  # input order, as text
    assert output.columns[:3].tolist() == ["Phone", "Email", "Zip"]
    assert {"Phone_normalized", "Email_normalized", "_valid", "_errors"} <= set(output.columns)
    assert output["Phone_normalized"][0] == "+14155552000"

    invalid = pd.read_csv(done.invalid_path, dtype=str, keep_default_na=False)
    assert invalid.columns.tolist() == output.columns.tolist()
    assert invalid["Zip"].tolist() == [f"0{i:04d}" for i in range(3, 25, 4)]
    assert set(invalid["_valid"]) == {"False"}
    assert all(reason.startswith("Phone:") for reason in invalid["_errors"])

    table = pq.read_table(done.parquet_path)
    assert pq.ParquetFile(done.parquet_path).metadata.num_row_groups == 1  # chunks gathered
    assert table.column_names == output.columns.tolist()
    assert table.num_rows == 25
    assert str(table.schema.field("_valid").type) == "bool"
    assert table.column("Zip").to_pylist() == output["Zip"].tolist()


def test_cancel_after_two_chunks_leaves_nothing(make_job):
    job = make_job(contacts_csv(50), chunk_size=10)
    recorder = run(job, cancel_after=2)
    assert recorder.kinds == ["started", "progress", "progress", "cancelled"]
    assert recorder.last == Cancelled(counts=Counts(20, 15, 5))
    assert len(recorder.listings[1]) == 3  # the three temps existed while it ran...
    assert listing(job.output_dir) == []  # ...and are gone, with no output published


def test_malformed_csv_fails_with_the_row(make_job):
    job = make_job(contacts_csv(5) + b"1,2,3,4\n")
    recorder = run(job)
    assert recorder.kinds == ["failed"]  # found by the counting pass, before any output
    assert recorder.messages[0] == Failed(
        error_message="Malformed CSV at row 6 (line 7): expected 3 fields, found 4.",
        counts=Counts(0, 0, 0),
    )
    assert listing(job.output_dir) == []


def test_bytes_not_utf8_mid_stream_make_invalid_values_not_a_failed_job(make_job):
    # Rows of 1 MiB: the bad bytes sit past the first 16 MiB block, which is all that the
    # submission reads; one in a typed column, one in an untyped one.
    filler = "x" * (1 << 20)
    rows = [f"(415) 555-{2000 + i},p{i}@example.com,{filler}" for i in range(20)]
    data = "\n".join(["Phone,Email,Zip", *rows, ""]).encode() + b"1,zo\xeb@b.com,Zo\xeb\n"
    job = make_job(data, chunk_size=5)
    recorder = run(job)
    assert recorder.kinds[-1] == "completed"
    done = recorder.last
    assert done.counts == Counts(21, 20, 1)
    output = pd.read_csv(done.output_path, dtype=str, keep_default_na=False)
    last = output.iloc[-1]
    assert (last["Email"], last["Zip"]) == ("zo\ufffd@b.com", "Zo\ufffd")
    assert last["_errors"] == "Phone:phone_unparseable; Email:not_utf8"
    assert output["Zip"][0] == filler  # the good rows as they were
    assert listing(job.output_dir) == ["7.csv", "7.invalid.csv", "7.parquet"]


def test_binary_junk_in_cells_makes_invalid_values_not_a_failed_job(make_job):
    junk = bytes(range(256)).replace(b'"', b'""')  # every byte, NUL and controls included
    control = b"\x00\x01\x1b[31m\x7f"  # UTF-8, but no phone or email
    data = contacts_csv(3) + b'"' + junk + b'","' + control + b'",1\n'
    recorder = run(make_job(data))
    assert recorder.kinds[-1] == "completed", recorder.last
    done = recorder.last
    assert (done.counts.processed, done.counts.invalid) == (4, 1)
    table = pq.read_table(done.parquet_path).to_pandas()
    assert table["_errors"].iloc[-1] == "Phone:not_utf8; Email:email_invalid"
    assert table["Email"].iloc[-1] == control.decode()  # kept as it was


def test_spec_naming_a_missing_column_fails_with_its_message(make_job):
    job = make_job(contacts_csv(3), columns={"Mobile": "phone"})
    recorder = run(job)
    assert recorder.kinds == ["started", "failed"]
    assert recorder.last.error_message.startswith('Column "Mobile" is not in the input.')


def test_unexpected_errors_are_internal_errors(make_job, tmp_path, capfd):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    job = make_job(contacts_csv(3), output_dir=str(blocker))
    recorder = run(job)
    assert recorder.kinds == ["started", "failed"]
    message = recorder.last.error_message
    assert message.startswith("Internal error while normalizing (FileExistsError: ")
    assert "Traceback" in capfd.readouterr().err  # the traceback goes to stderr only
    assert "Traceback" not in message


def test_a_failed_write_fails_the_job_and_removes_the_temps(make_job, capfd):
    # A file size limit makes the kernel refuse the writes past it (EFBIG), as a full disk
    # would; closing the temp CSV then fails too (its buffer cannot be flushed).
    job = make_job(contacts_csv(3000), chunk_size=100)
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills us
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, limits[1]))
    try:
        recorder = run(job)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, handler)
    assert recorder.kinds[0] == "started" and recorder.kinds[-1] == "failed"
    message = recorder.last.error_message
    assert "File too large" in message, message
    assert 0 < recorder.last.counts.processed < 3000
    assert listing(job.output_dir) == []
    assert "Traceback" in capfd.readouterr().err


def test_remove_stale_temp_files_spares_locked_ones(make_job):
    job = make_job(contacts_csv(30), chunk_size=10)
    seen: list[int] = []

    def report(message: WorkerMessage) -> None:
        if isinstance(message, Progress):  # the worker is alive and holds its temps' locks
            seen.append(remove_stale_temp_files(job.output_dir))

    run_job(job.job, job.settings, report, lambda: False)
    assert seen == [0, 0, 0]
    assert listing(job.output_dir) == ["7.csv", "7.invalid.csv", "7.parquet"]

    for name in (".8.csv.tmp-abc", ".8.parquet.tmp-x1", ".notes.txt", "8.csv"):
        with open(os.path.join(job.output_dir, name), "w") as file:
            file.write("left by a killed worker")
    assert remove_stale_temp_files(job.output_dir) == 2
    assert listing(job.output_dir) == [".notes.txt", "7.csv", "7.invalid.csv", "7.parquet", "8.csv"]
    assert remove_stale_temp_files(str(job.output_dir) + "-missing") == 0


# -- real worker processes -------------------------------------------------------------------


def start(case: Case) -> tuple[Any, Any, Any]:
    ctx = multiprocessing.get_context("forkserver")
    reader, writer = ctx.Pipe(duplex=False)
    cancel_event = ctx.Event()
    worker = ctx.Process(
        target=run_in_subprocess, args=(case.job, case.settings, writer, cancel_event), daemon=True
    )
    worker.start()
    writer.close()  # only the worker holds the write end: EOF when it exits
    return worker, reader, cancel_event


def receive(reader: Any, timeout: float = 30) -> WorkerMessage:
    assert reader.poll(timeout), "no message from the worker"
    return reader.recv()


def test_forkserver_worker_runs_and_cancels(make_job):
    job = make_job(contacts_csv(30), chunk_size=10)
    worker, reader, _ = start(job)
    messages = []
    while True:
        try:
            messages.append(receive(reader))
        except EOFError:
            break
    worker.join(10)
    assert worker.exitcode == 0
    assert [kind_of(message) for message in messages] == [
        "started",
        "progress",
        "progress",
        "progress",
        "completed",
    ]
    assert os.path.isfile(messages[-1].output_path)

    slow = make_job(contacts_csv(30), job_id=8, chunk_size=10, chunk_delay=30)
    worker, reader, cancel_event = start(slow)
    assert isinstance(receive(reader), Started)
    assert isinstance(receive(reader), Progress)
    cancel_event.set()  # interrupts the chunk delay
    assert receive(reader, timeout=5) == Cancelled(counts=Counts(10, 8, 2))
    worker.join(10)
    assert worker.exitcode == 0
    assert not [name for name in listing(slow.output_dir) if name.startswith(("8.", ".8."))]


def test_killed_worker_leaves_only_temps_which_are_removed(make_job):
    job = make_job(contacts_csv(30), job_id=9, chunk_size=10, chunk_delay=30)
    worker, reader, _ = start(job)
    assert isinstance(receive(reader), Started)
    assert isinstance(receive(reader), Progress)  # one chunk appended to the temps
    assert remove_stale_temp_files(job.output_dir) == 0  # alive: its temps are locked

    os.kill(worker.pid, signal.SIGKILL)
    worker.join(10)
    assert worker.exitcode == -signal.SIGKILL
    with pytest.raises(EOFError):
        receive(reader)
    left = listing(job.output_dir)
    assert "9.csv" not in left and "9.parquet" not in left
    assert sorted(name.split(".tmp-")[0] for name in left) == [
        ".9.csv",
        ".9.invalid.csv",
        ".9.parquet",
    ]

    assert remove_stale_temp_files(job.output_dir) == 3
    assert listing(job.output_dir) == []


def test_worker_whose_server_is_gone_exits_quietly(make_job):
    job = make_job(contacts_csv(30), job_id=10, chunk_size=10, chunk_delay=0.2)
    worker, reader, _ = start(job)
    assert isinstance(receive(reader), Started)
    reader.close()  # the server went away: the next send raises BrokenPipeError
    worker.join(20)
    assert worker.exitcode == 0
    assert listing(job.output_dir) == []


def test_sigterm_removes_the_temps(make_job):
    job = make_job(contacts_csv(30), job_id=11, chunk_size=10, chunk_delay=30)
    worker, reader, _ = start(job)
    assert isinstance(receive(reader), Started)
    assert isinstance(receive(reader), Progress)
    started = time.monotonic()
    worker.terminate()  # what the runner does at server shutdown
    worker.join(10)
    assert time.monotonic() - started < 5
    assert worker.exitcode == 128 + signal.SIGTERM
    assert listing(job.output_dir) == []
