"""With ``ContentsManager.allow_hidden`` (Jupyter shows hidden files), a hidden file under the
root can be submitted by path like any other."""

from __future__ import annotations

import pytest

from tests.conftest import contacts_csv

from .test_paths import post_path


@pytest.fixture
def jp_server_config(nbjobs_config):
    return {
        "ServerApp": {"jpserver_extensions": {"nbjobs": True}},
        "ContentsManager": {"allow_hidden": True},
        "NbJobs": nbjobs_config,
    }


@pytest.mark.parametrize("path", [".hidden.csv", ".config/data.csv"])
async def test_hidden_files_are_read_when_jupyter_shows_them(jp_root_dir, jp_fetch, path):
    (jp_root_dir / ".config").mkdir()
    (jp_root_dir / path).write_bytes(contacts_csv(5))
    response = await post_path(jp_fetch, "jobs", path)
    assert response.code == 201, response.body
