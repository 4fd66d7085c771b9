"""A ``path`` submission reads only regular files under the server's root, as Jupyter's own
contents API would serve them: ``..``, absolute paths, links pointing out, hidden files (unless
the server shows them), directories, devices and pipes are refused with a 400 or 403, for jobs
and for detection alike; nothing hangs and nothing is staged."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.conftest import COLUMNS, contacts_csv

DETECT_AND_SUBMIT = ("jobs", "detect")


async def post_path(jp_fetch, endpoint: str, path: str):
    body = json.dumps({"path": path, "columns": COLUMNS}).encode()
    return await jp_fetch(
        "nbjobs",
        "api",
        endpoint,
        method="POST",
        body=body,
        headers={"Content-Type": "application/json"},
        raise_error=False,
    )


@pytest.fixture
def root(jp_root_dir, tmp_path):
    (jp_root_dir / "contacts.csv").write_bytes(contacts_csv(5))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_bytes(contacts_csv(5))
    (jp_root_dir / "link-out.csv").symlink_to(outside / "secret.csv")
    (jp_root_dir / "link-in.csv").symlink_to(jp_root_dir / "contacts.csv")
    (jp_root_dir / ".hidden.csv").write_bytes(contacts_csv(5))
    (jp_root_dir / ".config").mkdir()
    (jp_root_dir / ".config" / "data.csv").write_bytes(contacts_csv(5))
    (jp_root_dir / "folder.csv").mkdir()
    os.mkfifo(jp_root_dir / "pipe.csv")
    os.mknod(jp_root_dir / "zero.csv", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero
    (jp_root_dir / "dev-link.csv").symlink_to("/dev/zero")
    return jp_root_dir


REFUSED = [
    ("../outside/secret.csv", 400, "outside the server root"),
    ("../../../../etc/passwd", 400, "outside the server root"),
    ("/etc/passwd", 400, "outside the server root"),
    ("link-out.csv", 400, "outside the server root"),
    ("dev-link.csv", 400, "outside the server root"),
    (".hidden.csv", 403, "hidden"),
    (".config/data.csv", 403, "hidden"),
    ("folder.csv", 400, "not a regular file"),
    ("pipe.csv", 400, "not a regular file"),
    ("zero.csv", 400, "not a regular file"),
    ("missing.csv", 404, "No file"),
    ("nul\0.csv", 400, "must name a file"),
    ("", 400, ""),
]


@pytest.mark.parametrize("endpoint", DETECT_AND_SUBMIT)
@pytest.mark.parametrize(("path", "status", "message"), REFUSED)
async def test_refused(root, jp_fetch, jp_serverapp, endpoint, path, status, message):
    response = await post_path(jp_fetch, endpoint, path)
    answer = json.loads(response.body)
    assert response.code == status, answer
    assert message in answer["message"]
    input_dir = jp_serverapp.web_app.settings["nbjobs"].intake.input_dir
    assert os.listdir(input_dir) == []  # nothing staged, nothing left behind


@pytest.mark.parametrize("endpoint", DETECT_AND_SUBMIT)
@pytest.mark.parametrize("path", ["contacts.csv", "link-in.csv", "./contacts.csv"])
async def test_a_file_under_the_root_is_read(root, jp_fetch, endpoint, path):
    response = await post_path(jp_fetch, endpoint, path)
    assert response.code in (200, 201), response.body
