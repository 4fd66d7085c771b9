"""Fixtures shared by the field tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nbjobs.normalization import backends


@pytest.fixture
def reference_parser() -> Iterator[None]:
    """The field's reference library parses (not a compiled port): for tests that hold nbjobs'
    own shortcuts equal to that library itself. The compiled ports are held equal to it by
    test_backend_parity.py, vectors included."""
    backends.use("reference")
    yield
    backends.use("auto")
