"""A few rounds of ``tests/crash_loop.py``: SIGKILL a real server at random moments of random
jobs, restart it, and find every job whole (completed with full outputs, or stopped with none),
the database intact and no temporary file left. ``benchmarks/crash_loop.py`` runs 60 rounds."""

from __future__ import annotations

import pytest

from tests.crash_loop import Loop

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_at_random_moments_loses_and_corrupts_nothing(tmp_path, seed):
    loop = Loop(tmp_path, seed=seed)
    for _ in range(3):
        loop.one_round()
    report = loop.report()
    assert report["rounds"] == 3 and report["jobs"] >= 3
