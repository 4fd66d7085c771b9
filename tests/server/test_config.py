"""``c.NbJobs.<option>`` reaches the part that owns the option, as before the parts owned them;
each part's own section works too, and wins."""

from __future__ import annotations

import os

import pytest
from traitlets import TraitError
from traitlets.config import Config

from nbjobs.server.app import ALIASES, NbJobs
from nbjobs.server.jobs import JobIntake
from nbjobs.server.local_executor import LocalExecutor
from nbjobs.server.realtime import Realtime
from nbjobs.server.runner import JobRunner
from nbjobs.server.sql_store import SqlJobStore

VALUES = {
    "chunk_size": 123,
    "chunk_delay": 0.25,
    "cache_size": 500,
    "cache_bytes": 10_000_000,
    "processes_per_job": 3,
    "max_concurrent_jobs": 5,
    "progress_min_interval": 0.5,
    "cors_allowed_origins": ["https://lab.example.org"],
    "max_upload_bytes": 1024,
}


def owner_of(services, name):
    owners = {
        LocalExecutor: services.runner.executor,
        JobRunner: services.runner,
        Realtime: services.realtime,
        SqlJobStore: services.store,
        JobIntake: services.intake,
    }
    return next(part for cls, part in owners.items() if issubclass(cls, ALIASES[name]))


def test_every_alias_is_an_option_of_the_extension_of_its_owners_type():
    for name, owner in ALIASES.items():
        ours, theirs = NbJobs.class_traits()[name], owner.class_traits()[name]
        assert ours.metadata.get("config") is True
        assert type(ours) is type(theirs)
        assert ours.default_value is None  # unset: the owner's default applies
        assert ours.help == f"Same as {owner.__name__}.{name}: {theirs.help}"


@pytest.mark.nbjobs_config(**VALUES)
def test_each_nbjobs_option_reaches_its_owner(jp_serverapp):
    services = jp_serverapp.web_app.settings["nbjobs"]
    for name, value in VALUES.items():
        assert getattr(owner_of(services, name), name) == value, name
    settings = services.runner.executor.settings()
    assert (settings.chunk_size, settings.chunk_delay, settings.cache_size) == (123, 0.25, 500)
    assert settings.cache_bytes == 10_000_000
    assert settings.processes == 3


def test_defaults(jp_serverapp):
    services = jp_serverapp.web_app.settings["nbjobs"]
    assert services.runner.executor.processes_per_job == len(os.sched_getaffinity(0))
    assert services.runner.max_concurrent_jobs == 2
    assert services.intake.max_upload_bytes == 512 * 1024 * 1024


@pytest.mark.parametrize(
    ("owner", "name", "value"),
    [
        (LocalExecutor, "chunk_size", 0),
        (LocalExecutor, "cache_size", -1),
        (LocalExecutor, "cache_bytes", -1),
        (LocalExecutor, "processes_per_job", 0),
        (JobRunner, "max_concurrent_jobs", 0),
    ],
)
def test_an_invalid_value_is_refused_by_its_owner(owner, name, value):
    refused = f"The value of the '{name}' trait of an? (NbJobs|{owner.__name__}) instance"
    parts = {"store": None, "executor": None, "events": None, "base_url": "/"}
    options = parts if owner is JobRunner else {}
    with pytest.raises(TraitError, match=refused):
        NbJobs(config=Config({"NbJobs": {name: value}}))
    with pytest.raises(TraitError, match=refused):
        owner(config=Config({owner.__name__: {name: value}}), **options)
