"""The demo notebooks are what ``scripts/make_notebooks.py`` writes: nobody edited the JSON by
hand (or forgot to regenerate), and only the cells nbval checks keep outputs."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location(
        "make_notebooks", REPO / "scripts" / "make_notebooks.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_notebooks_match_their_generator(capsys):
    assert _generator().main(["--check"]) == 0, capsys.readouterr().err


def test_only_checked_cells_keep_outputs():
    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    assert {p.stem for p in notebooks} >= {"quickstart", "large_job", "jobs_table", "cli_and_rest"}
    for path in notebooks:
        cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
        checked = [c for c in cells if "".join(c["source"]).startswith("# NBVAL_CHECK_OUTPUT")]
        assert checked, f"{path.name}: no cell checked by nbval"
        for cell in cells:
            assert bool(cell["outputs"]) == (cell in checked), (path.name, cell["source"][:2])
