"""The runner reads a worker's messages in bursts: superseded progress is skipped."""

from __future__ import annotations

import asyncio
from typing import Any

from nbjobs.runner import _drain


def progress(rows: int) -> tuple[str, dict[str, Any]]:
    return ("progress", {"processedRows": rows})


def queued(*messages: Any) -> asyncio.Queue[Any]:
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for message in messages:
        queue.put_nowait(message)
    return queue


def test_a_burst_of_progress_keeps_its_last_message():
    queue = queued(progress(2), progress(3), ("completed", {"processedRows": 3}), None)
    assert _drain(progress(1), queue) == [
        progress(3),
        ("completed", {"processedRows": 3}),
        None,
    ]
    assert queue.empty()


def test_other_messages_keep_their_place_between_runs_of_progress():
    started = ("started", {"totalRows": 9})
    queue = queued(progress(1), progress(2), ("cancelled", {}), progress(9))
    assert _drain(started, queue) == [started, progress(2), ("cancelled", {}), progress(9)]


def test_a_lone_message_is_kept():
    assert _drain(progress(1), queued()) == [progress(1)]
    assert _drain(None, queued()) == [None]
