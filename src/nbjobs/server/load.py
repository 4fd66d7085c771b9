"""How busy Jupyter's event loop is, and how often progress may be sent because of it.

``LoopLag`` wakes every ``TICK`` seconds and measures how late it woke: a loop busy with event
delivery (or anything else) wakes it late. The worst lateness of each second is the
``nbjobs_event_loop_lag_seconds`` metric and drives ``AdaptiveInterval``: while the loop lags,
each job's progress events are spaced further apart (the latest counts win, so nothing is lost
but intermediate counts), and the spacing comes back down once the loop keeps up. Final events
and the final 100% progress never wait for it (``runner``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from . import metrics

__all__ = ["AdaptiveInterval", "LoopLag"]

TICK = 0.05  # seconds between two wake-ups of the lag probe


class LoopLag:
    """The event loop's lateness: ``worst`` over the last full second, in seconds. ``listeners``
    are called with it once a second."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.listeners: list[Callable[[float], None]] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._probe())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _probe(self) -> None:
        loop = asyncio.get_running_loop()
        window_end, worst = loop.time() + 1.0, 0.0
        while True:
            asked = loop.time()
            await asyncio.sleep(TICK)
            now = loop.time()
            worst = max(worst, now - asked - TICK)
            if now >= window_end:
                self.worst, worst, window_end = worst, 0.0, now + 1.0
                metrics.EVENT_LOOP_LAG_SECONDS.set(self.worst)
                for listener in self.listeners:
                    listener(self.worst)


class AdaptiveInterval:
    """The least time between two progress events of one job: ``minimum`` while the loop keeps
    up, doubled each second it lags more than ``high`` (up to ``maximum``), halved back each
    second it lags less than ``low``."""

    def __init__(
        self, minimum: float, *, maximum: float = 5.0, high: float = 0.05, low: float = 0.01
    ) -> None:
        self.minimum = minimum
        self.maximum = max(maximum, minimum)
        self.high, self.low = high, low
        self.current = minimum
        metrics.PROGRESS_INTERVAL_SECONDS.set(self.current)

    def observe(self, lag: float) -> None:
        if lag > self.high:
            self.current = min(self.maximum, max(self.current, 0.05) * 2)
        elif lag < self.low:
            self.current = max(self.minimum, self.current / 2)
        metrics.PROGRESS_INTERVAL_SECONDS.set(self.current)
