"""The layout's rules, checked on the source: which runtime may import which, no import cycles
(counting imports made only for type checking), every module's ``__all__`` complete, and the
kernel side loading no server code in a fresh interpreter."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import nbjobs
from tests.jupyter_process import running_server

SOURCE = Path(nbjobs.__file__).parent

# Which packages each package may import (besides itself and the shared modules).
SHARED = {"nbjobs", "nbjobs.protocol", "nbjobs.exceptions", "nbjobs._version"}
ALLOWED = {
    "nbjobs.normalization": set(),
    "nbjobs.worker": {"nbjobs.normalization"},
    "nbjobs.server": {"nbjobs.normalization", "nbjobs.worker"},
    "nbjobs.client": set(),
}


def modules() -> dict[str, Path]:
    found = {}
    for path in SOURCE.rglob("*.py"):
        parts = path.relative_to(SOURCE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports_of(name: str, path: Path) -> set[str]:
    """The nbjobs modules ``name`` imports, anywhere in it (type-checking blocks and function
    bodies too), resolved to modules that exist."""
    known = modules()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target.startswith("nbjobs") and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    return {name: imports_of(name, path) for name, path in modules().items()}


def runtime_of(module: str) -> str | None:
    return next((package for package in ALLOWED if module.startswith(package)), None)


def test_each_runtime_imports_only_what_it_may():
    wrong = []
    for module, targets in graph().items():
        runtime = runtime_of(module)
        if runtime is None:
            continue
        for target in targets:
            other = runtime_of(target)
            if other not in (None, runtime) and other not in ALLOWED[runtime]:
                wrong.append(f"{module} imports {target}")
            if other is None and target not in SHARED:
                wrong.append(f"{module} imports {target}, which belongs to no runtime")
    assert wrong == []


def cycles_in(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle a depth-first walk of ``edges`` meets, as the path around it."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    return cycles


def test_there_is_no_import_cycle():
    # A package's __init__ does not import its children by being their parent: only the
    # edges it writes count, and those to its own children cannot close a cycle through it.
    edges = {
        module: {t for t in targets if not t.startswith(module + ".")}
        for module, targets in graph().items()
    }
    assert cycles_in(edges) == []


def test_the_checks_see_type_checking_imports_and_cycles():
    # client/notebook.py imports widgets only for type checking: still an edge.
    assert "nbjobs.client.widgets" in imports_of(
        "nbjobs.client.notebook", modules()["nbjobs.client.notebook"]
    )
    assert cycles_in({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


PUBLIC_MODULES = sorted(
    name
    for name in modules()
    if not any(part.startswith("_") for part in name.split("."))
    and (name.startswith(("nbjobs.server", "nbjobs.worker", "nbjobs.client")) or name in SHARED)
    and name not in ("nbjobs", "nbjobs.server", "nbjobs.worker", "nbjobs.client")
    # Scripts Alembic runs in its own context, not modules to import.
    and not name.startswith("nbjobs.server.migrations")
)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_lists_every_public_name_the_module_defines(name):
    module = importlib.import_module(name)
    if name.endswith("__main__"):
        return
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    for entry in exported:
        assert hasattr(module, entry), f"{name}.__all__ names {entry!r}, which does not exist"
    defined = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", None) == name
    }
    assert defined <= set(exported), f"{name}: not in __all__: {sorted(defined - set(exported))}"


def fresh(code: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


LOADED = """
import json, sys
prefixes = ("nbjobs", "ipywidgets", "jupyter_server")
print(json.dumps({"modules": sorted(m for m in sys.modules if m.startswith(prefixes))}))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("layout")) as process:
        yield process


def test_the_kernel_side_loads_no_server_or_worker_code(server):
    url, token = server.url + server.base_url, server.token
    code = f"""
import pandas as pd, nbjobs
nbjobs.connect({url!r}, {token!r})
frame = pd.DataFrame({{"Phone": ["(415) 555-2671"]}})
job = nbjobs.normalize(frame, {{"Phone": "phone"}}, display=False)
job.wait(60)
assert job.status == "completed", job.info
job.result()
{LOADED}"""
    loaded = fresh(code)["modules"]
    assert "nbjobs.client.notebook" in loaded  # the API ran
    assert not [m for m in loaded if m.startswith(("nbjobs.server", "nbjobs.worker"))], loaded


def test_the_cli_does_not_import_ipywidgets():
    loaded = fresh(f"import nbjobs.client.cli, nbjobs.client.notebook\n{LOADED}")["modules"]
    assert "nbjobs.client.cli" in loaded
    assert not [m for m in loaded if m.startswith("ipywidgets")], loaded
