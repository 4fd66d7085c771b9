"""A part's own config section works next to ``c.NbJobs``, and wins over its alias."""

from __future__ import annotations

import pytest
from traitlets.config import Config


@pytest.fixture
def jp_server_config(nbjobs_config):
    # The owners' own sections, next to an alias: the owner's section wins.
    return Config(
        {
            "ServerApp": {"jpserver_extensions": {"nbjobs": True}},
            "NbJobs": {**nbjobs_config, "chunk_size": 10},
            "Executor": {"chunk_size": 20},
            "JobRunner": {"max_concurrent_jobs": 4},
        }
    )


def test_an_owners_own_section_works_and_wins(jp_serverapp):
    services = jp_serverapp.web_app.settings["nbjobs"]
    assert services.runner.executor.chunk_size == 20
    assert services.runner.max_concurrent_jobs == 4
