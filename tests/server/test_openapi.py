"""docs/openapi.yaml describes exactly the routes and methods the server has."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from tornado.web import RequestHandler

from nbjobs.server.handlers import route_table
from nbjobs.server.records import JobRecord, public_job, utcnow

SPEC = yaml.safe_load((Path(__file__).parents[2] / "docs" / "openapi.yaml").read_text())
METHODS = ("get", "post", "put", "patch", "delete")


def served_operations() -> set[tuple[str, str]]:
    operations = set()
    for pattern, handler in route_table("/", object):
        if "socket.io" in pattern:
            continue
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: "{jobId}", pattern)
        path = path.removeprefix("/nbjobs/api")
        for method in METHODS:
            if getattr(handler, method) is not getattr(RequestHandler, method):
                operations.add((path, method))
    return operations


def documented_operations() -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in SPEC["paths"].items()
        for method in item
        if method in METHODS
    }


def test_openapi_matches_routes():
    assert documented_operations() == served_operations()


def test_job_schema_matches_public_job():
    record = JobRecord(
        id=1,
        owner="o",
        status="queued",
        input_name="x.csv",
        input_path="/x",
        input_format="csv",
        columns={},
        options={},
        created_at=utcnow(),
    )
    documented = set(SPEC["components"]["schemas"]["Job"]["properties"])
    assert documented == set(public_job(record, "/"))
