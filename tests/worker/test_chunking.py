"""A job's outputs do not depend on how it is cut: any chunk size, any number of processes.

Runs ``nbjobs.worker.job.run_job`` on real CSV files (the chunk pool's processes are real too), and
kills a real worker that runs a pool to check that it leaves no process behind.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbjobs.normalization import ChunkResult, Normalizer, results
from nbjobs.protocol import Cancelled, Completed, Failed, Progress, Started, WorkerMessage
from nbjobs.worker import chunk_pool
from nbjobs.worker.chunk_pool import (
    ChunkPool,
    InProcess,
    Rendering,
    _arrow_csv,
    _csv_table,
    _neutralize_column,
    _pandas_csv,
    neutralize,
)
from nbjobs.worker.job import run_job
from nbjobs.worker.outputs import remove_stale_temp_files
from nbjobs.worker.settings import WorkerJob, WorkerSettings

from .test_job import Case, listing, receive, start

COLUMNS = {"Name": "name", "Phone": "phone", "Email": "email", "Born": "date", "Land": "country"}

# Messy values, valid and not, so chunks differ in what their caches hold and what they reject.
NAMES = [
    "Dr. Jane  O'BRIEN, MD",
    "SMITH, JOHN",
    'Bob "Bobby" Lee',
    "JosÃ© Núñez",
    "John & Jane",
    "",
]
PHONES = ["(415) 555-2671", "+44 20 7946 0958", "415-555-O1O1 x12", "12", "n/a", ""]
EMAILS = ["Jane.Doe@Example.COM", " a@b ", "x@@y.com", "bob@bücher.de", ""]
DATES = ["2024-03-05", "3/5/24", "5 March 2024", "March 2024", "5pm", ""]
COUNTRIES = ["UK", "Deutschland", "usa", "Atlantis", ""]

cell = st.one_of(st.text(max_size=12), st.sampled_from(NAMES + PHONES + EMAILS))
row = st.tuples(
    st.sampled_from(NAMES) | cell,
    st.sampled_from(PHONES) | cell,
    st.sampled_from(EMAILS),
    st.sampled_from(DATES),
    st.sampled_from(COUNTRIES),
)


def write_csv(path: Path, rows: list[tuple[str, ...]]) -> None:
    buffer = io.StringIO()
    # QUOTE_ALL: a lone "\r" in a value must be quoted too, which QUOTE_MINIMAL does not do.
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def run(
    directory: Path, chunk_size: int, processes: int, cache_size: int = 100_000
) -> tuple[list[WorkerMessage], dict[str, Any]]:
    job = WorkerJob(1, str(directory / "input.csv"), "csv", dict(COLUMNS), {})
    settings = WorkerSettings(
        output_dir=str(directory / f"out-{chunk_size}-{processes}-{cache_size}"),
        chunk_size=chunk_size,
        processes=processes,
        pool_min_rows=0,
        cache_size=cache_size,
    )
    messages: list[WorkerMessage] = []
    run_job(job, settings, messages.append, lambda: False)
    done = messages[-1]
    assert isinstance(done, Completed), done
    outputs = {
        "csv": Path(done.output_path).read_bytes(),
        "invalid": Path(done.invalid_path).read_bytes(),
        "parquet": pq.read_table(done.parquet_path),
    }
    return messages, outputs


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(row, min_size=1, max_size=40),
    chunk_size=st.integers(min_value=1, max_value=15),
    processes=st.integers(min_value=1, max_value=3),
    cache_size=st.sampled_from([0, 1, 3, 100_000]),  # small ones evict between chunks
)
def test_outputs_are_the_same_for_any_chunk_size_and_processes(
    rows, chunk_size, processes, cache_size
):
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        write_csv(directory / "input.csv", rows)
        whole_messages, whole = run(directory, chunk_size=len(rows), processes=1)
        messages, outputs = run(directory, chunk_size, processes, cache_size)

    assert outputs["csv"] == whole["csv"]
    assert outputs["invalid"] == whole["invalid"]
    assert outputs["parquet"].equals(whole["parquet"])
    assert outputs["csv"].count(b"\n") >= len(rows) + 1  # header and every row are there

    done, whole_done = messages[-1], whole_messages[-1]
    assert isinstance(done, Completed) and isinstance(whole_done, Completed)
    assert done.counts == whole_done.counts
    assert done.summary == whole_done.summary
    progress = [m.counts.processed for m in messages if isinstance(m, Progress)]
    expected = [
        min(end, len(rows)) for end in range(chunk_size, len(rows) + chunk_size, chunk_size)
    ]
    assert progress == expected


class _RecordingPool(ChunkPool):
    """A real pool that also records every (field type, value) it queues for parsing."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.queued: list[tuple[str, str]] = []

    def _enqueue(self, task: Any) -> None:
        self.queued += [(task.kind, value) for value in task.values]
        super()._enqueue(task)


def test_the_pool_parses_each_distinct_value_once():
    # Few distinct values over many small batches: most batches share values with the batches
    # still in flight before them, where a naive pool would parse them again.
    frame = sample_contacts(seed=7, rows=600)
    batches = [[frame.iloc[start : start + 20]] for start in range(0, len(frame), 20)]
    pool = _RecordingPool(Normalizer(COLUMNS), Rendering("_valid"), 2)
    pooled = run_pool(pool, batches)
    alone = list(InProcess(Normalizer(COLUMNS), Rendering("_valid")).map(iter(batches)))

    assert len(pool.queued) == len(set(pool.queued))  # nothing parsed twice
    # Every distinct stripped value, and "" (a missing cell) once per type.
    wanted = {(kind, "") for kind in COLUMNS.values()} | {
        (kind, value.strip()) for column, kind in COLUMNS.items() for value in frame[column]
    }
    assert set(pool.queued) == wanted
    assert [b.csv for b in pooled] == [b.csv for b in alone]
    assert [b.invalid_csv for b in pooled] == [b.invalid_csv for b in alone]
    assert [b.chunks for b in pooled] == [b.chunks for b in alone]


class _SilentPool(ChunkPool):
    """A real pool whose pool processes are never sent a task: the job's process parses."""

    def _send(self, *args: Any) -> None:
        pass


def test_the_jobs_process_parses_the_tasks_the_pool_processes_do_not_take():
    frame = sample_contacts(seed=5, rows=90)
    batches = [[frame.iloc[start : start + 30]] for start in range(0, len(frame), 30)]
    pool = _SilentPool(Normalizer(COLUMNS), Rendering("_valid"), 3)
    assert len(pool.processes) == 2  # the job's process is the third
    pooled = run_pool(pool, batches)
    alone = list(InProcess(Normalizer(COLUMNS), Rendering("_valid")).map(iter(batches)))
    assert [b.csv for b in pooled] == [b.csv for b in alone]
    assert [b.result.summary for b in pooled] == [b.result.summary for b in alone]


def sample_contacts(seed: int, rows: int) -> pd.DataFrame:
    """``rows`` rows of ``COLUMNS``, drawn from the few values of each."""
    rng = np.random.default_rng(seed)
    pools = (NAMES, PHONES, EMAILS, DATES, COUNTRIES)
    return pd.DataFrame(
        {
            column: rng.choice(values, size=rows)
            for column, values in zip(COLUMNS, pools, strict=True)
        }
    ).astype(str)


def run_pool(pool: ChunkPool, batches: list[list[pd.DataFrame]]) -> list[Any]:
    """Every batch through ``pool``, which is closed after."""
    try:
        return list(pool.map(iter(batches)))
    finally:
        pool.close()


@pytest.mark.parametrize("cache_size", [0, 3, 40])
def test_the_pool_gives_the_rows_of_one_process_while_rows_are_dropped(monkeypatch, cache_size):
    # Compaction at every chance: rows of values that left the cache are dropped while later
    # batches, planned ahead, still wait for theirs (renumbered, not lost).
    monkeypatch.setattr(results, "COMPACT_MIN_ROWS", 0)
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(
        {
            "Name": rng.choice(NAMES, size=400),
            "Email": [f"user{i % 97}@example.com" for i in rng.integers(0, 10_000, size=400)],
            "Land": rng.choice(COUNTRIES, size=400),
        }
    )
    columns = {"Name": "name", "Email": "email", "Land": "country"}
    batches = [[frame.iloc[start : start + 10]] for start in range(0, len(frame), 10)]
    pool = ChunkPool(Normalizer(columns, cache_size=cache_size), Rendering("_valid"), 2)
    pooled = run_pool(pool, batches)
    alone = list(
        InProcess(Normalizer(columns, cache_size=100_000), Rendering("_valid")).map(iter(batches))
    )
    assert [b.csv for b in pooled] == [b.csv for b in alone]
    assert [b.invalid_csv for b in pooled] == [b.invalid_csv for b in alone]
    assert [b.result.summary for b in pooled] == [b.result.summary for b in alone]
    assert pool.normalizer._stores["email"].size <= 2 * 97 + 10 * 4  # rows were dropped


def children(pid: int) -> set[int]:
    """The processes ``pid`` started, from any of its threads (a pool's sender thread starts
    the pool's forkserver)."""
    found: set[int] = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(FileNotFoundError):
            found.update(map(int, Path(f"/proc/{pid}/task/{task}/children").read_text().split()))
    return found


def descendants(pid: int) -> set[int]:
    """Every living process under ``pid`` (its pool's forkserver and pool processes)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                children = Path(f"/proc/{parent}/task/{task}/children").read_text().split()
            except FileNotFoundError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            continue
        if state != "Z":
            living.add(pid)
    return living


def wait_gone(pids: set[int], timeout: float = 15) -> set[int]:
    deadline = time.monotonic() + timeout
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive(pids)


def started_pool(worker_pid: int, processes: int, timeout: float = 30) -> tuple[set[int], set[int]]:
    """The forkserver of ``worker_pid``'s pool and its ``processes`` pool processes, once they
    all run (the job's process parses its first batches while they start)."""
    deadline = time.monotonic() + timeout
    while True:
        forkserver = children(worker_pid)
        pool = descendants(worker_pid) - forkserver
        if len(pool) >= processes or time.monotonic() > deadline:
            return forkserver, pool
        time.sleep(0.05)


def pool_job(tmp_path: Path, job_id: int, **changes: Any) -> Case:
    # A new email per row, so every chunk gives the pool processes work.
    rows = [
        (NAMES[i % 6], PHONES[i % 6], f"user{i}@example.com", DATES[i % 6], COUNTRIES[i % 5])
        for i in range(60)
    ]
    write_csv(tmp_path / "input.csv", rows)
    job = WorkerJob(job_id, str(tmp_path / "input.csv"), "csv", dict(COLUMNS), {})
    settings = {
        "output_dir": str(tmp_path / "outputs"),
        "chunk_size": 10,
        "chunk_delay": 30,
        "processes": 3,  # two pool processes and the job's
        "pool_min_rows": 0,
        **changes,
    }
    return Case(job, WorkerSettings(**settings))


def test_killed_worker_leaves_no_pool_process(tmp_path):
    job = pool_job(tmp_path, job_id=21)
    worker, reader, _ = start(job)
    assert isinstance(receive(reader), Started)
    assert isinstance(receive(reader), Progress)
    forkserver, pool_processes = started_pool(worker.pid, 2)
    assert len(pool_processes) == 2
    pool = forkserver | pool_processes

    os.kill(worker.pid, signal.SIGKILL)
    worker.join(10)
    assert wait_gone(pool) == set()  # they saw their pipe close and exited
    assert remove_stale_temp_files(job.output_dir) == 3
    assert listing(job.output_dir) == []


def test_sigterm_stops_the_pool_and_removes_the_temps(tmp_path):
    job = pool_job(tmp_path, job_id=22)
    worker, reader, _ = start(job)
    assert isinstance(receive(reader), Started)
    assert isinstance(receive(reader), Progress)
    forkserver, pool_processes = started_pool(worker.pid, 2)
    assert len(pool_processes) == 2
    pool = forkserver | pool_processes

    worker.terminate()  # what the runner does at server shutdown
    worker.join(10)
    assert worker.exitcode == 128 + signal.SIGTERM
    assert wait_gone(pool) == set()
    assert listing(job.output_dir) == []


def test_a_small_job_runs_without_a_pool(tmp_path):
    job = pool_job(tmp_path, job_id=24, pool_min_rows=60)
    worker, reader, cancel_event = start(job)
    assert isinstance(receive(reader), Started)
    assert isinstance(receive(reader), Progress)
    assert descendants(worker.pid) == set()
    cancel_event.set()
    assert isinstance(receive(reader), Cancelled)
    worker.join(10)


@pytest.mark.parametrize("processes", [2, 3])
def test_a_killed_pool_process_fails_the_job_cleanly(tmp_path, processes):
    job = pool_job(tmp_path, job_id=23, chunk_delay=0.5, processes=processes)
    worker, reader, _ = start(job)
    assert isinstance(receive(reader), Started)
    assert isinstance(receive(reader), Progress)
    pool_forkserver, pool = started_pool(worker.pid, processes - 1)
    assert len(pool) == processes - 1  # the job's process parses too
    os.kill(min(pool), signal.SIGKILL)

    while isinstance(message := receive(reader), Progress):
        pass
    assert isinstance(message, Failed)
    assert message.error_message.startswith(
        "Internal error while normalizing (RuntimeError: a normalization process stopped "
        "unexpectedly (exit code -9))"
    )
    worker.join(10)
    assert worker.exitcode == 0
    assert wait_gone(pool | pool_forkserver) == set()
    assert listing(job.output_dir) == []


# -- rendering -------------------------------------------------------------------------------


def render(frame: pd.DataFrame) -> bytes:
    """A batch's CSV rows as ``prepare`` renders them, after the header a job writes."""
    return frame.iloc[:0].to_csv(index=False, lineterminator="\n").encode() + _csv(frame)


def _csv(frame: pd.DataFrame, *, escape: bool = False) -> bytes:
    """``frame``'s rows as ``render`` writes them."""
    written = _csv_table(pa.Table.from_pandas(frame, preserve_index=False), escape=escape)
    return _pandas_csv(frame, escape=escape) if written is None else _arrow_csv(written)


def test_csv_rendering_quotes_every_text_value():
    frame = pd.DataFrame(
        {
            "t": pd.Series(['a,"b"\nc', "", "x\ry", " naïve "], dtype="str"),
            "ok": [True, False, True, False],
            "n": [1, -2, 3, 40],
            "gap": pd.Series(["x", None, "", None], dtype="str"),
        }
    )
    rows = [
        '"a,""b""\nc","True",1,"x"\n',  # every text quoted, even "x"; booleans as pandas writes
        '"","False",-2,\n',  # "" is empty text, nothing a missing value
        '"x\ry","True",3,""\n',  # a lone "\r" quoted too (the csv module leaves it bare)
        '" naïve ","False",40,\n',
    ]
    assert _csv(frame) == "".join(rows).encode()


# Any text a UTF-8 file can hold (no lone surrogates).
text_values = st.lists(
    st.text(st.characters(exclude_categories=["Cs"])),
    min_size=1,
    max_size=20,
)


@settings(max_examples=50, deadline=None)
@given(left=text_values, flags=st.lists(st.booleans(), min_size=1, max_size=20))
def test_csv_rendering_reads_back_as_the_same_values(left, flags):
    rows = min(len(left), len(flags))
    frame = pd.DataFrame(
        {
            "t": pd.Series(left[:rows], dtype="str"),
            "ok": flags[:rows],
            "n": range(rows),
            "t2": pd.Series(left[:rows][::-1], dtype="str"),
        }
    )
    data = render(frame)

    by_pandas = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    assert by_pandas.to_dict("list") == frame.astype(str).to_dict("list")
    assert pd.read_csv(io.BytesIO(data))["ok"].tolist() == frame["ok"].tolist()  # still booleans

    by_arrow = pa_csv.read_csv(
        io.BytesIO(data),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(column_types={"t": pa.string(), "t2": pa.string()}),
    )
    assert by_arrow.to_pydict() == frame.to_dict("list")  # types inferred: bool, int64


def test_csv_rendering_of_other_types_is_pandas_to_csv_byte_for_byte():
    text = pd.Series(['a,"b"\nc', "", "x\ry", " lead ", '"', "naïve"], dtype="str")
    frames = [
        pd.DataFrame({"n": [1.5, np.nan, 3, 4, 5, 6], "t": text, "ok": [True, False] * 3}),
        pd.DataFrame({"day": pd.to_datetime(["2024-03-05"] * 6), "t": text}),
    ]
    for frame in frames:
        expected = frame.to_csv(header=False, index=False, lineterminator="\n").encode()
        assert _csv(frame) == expected


# Texts that start, or not, with what a spreadsheet reads as a formula, numbers among them.
formula_texts = st.lists(
    st.none()
    | st.text(st.sampled_from("=+-@\t\r0123456789.,aé 'ü"), max_size=6)
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=4),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(
    texts=formula_texts,
    large=st.booleans(),
    cut=st.integers(0, 5),
    parts=st.integers(1, 3),
)
def test_formulas_are_neutralized_by_arrow_as_neutralize_does_one_by_one(texts, large, cut, parts):
    # A sliced array (an offset into shared buffers) in a column of several chunks, as tables
    # taken, filtered or concatenated hold them.
    kind = pa.large_string() if large else pa.string()
    whole = pa.array(["=x"] * cut + texts, type=kind).slice(cut)
    size = -(-len(texts) // parts) or 1
    column = pa.chunked_array(
        [whole.slice(start, size) for start in range(0, len(texts), size)], type=kind
    )
    expected = [None if text is None else neutralize(text) for text in texts]
    neutralized = _neutralize_column(column)
    assert neutralized.to_pylist() == expected
    assert neutralized.type == kind


def test_formulas_are_escaped_in_both_csv_outputs_and_kept_in_parquet():
    frame = pd.DataFrame(
        {
            "Note": pd.Series(["=1+1", "-5", "+1 415", "plain", None, "@x"], dtype="str"),
            "_valid": [True, False, True, False, False, True],
        }
    )
    result = ChunkResult(frame=frame, valid=3, invalid=3)
    prepared = chunk_pool.render(result, [frame], Rendering("_valid"))
    assert prepared.csv.decode().splitlines() == [
        '"\'=1+1","True"',
        '"-5","False"',
        '"\'+1 415","True"',
        '"plain","False"',
        ',"False"',
        '"\'@x","True"',
    ]
    assert prepared.invalid_csv.decode().splitlines() == [
        '"-5","False"',
        '"plain","False"',
        ',"False"',
    ]
    kept = prepared.table.column("Note").to_pylist()
    assert kept == ["=1+1", "-5", "+1 415", "plain", None, "@x"]
