"""The prebuilt JupyterLab extension is installed with the package (``pip install`` builds it
from ``labextension/``) and JupyterLab reports it enabled and compatible."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAME = json.loads((REPO / "labextension" / "package.json").read_text())["name"]


def test_jupyter_labextension_list_shows_it_enabled_ok():
    listing = subprocess.run(
        [sys.executable, "-m", "jupyterlab.labextensions", "list"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    # The listing goes to stderr; colours are ANSI escapes around "enabled" and "OK".
    text = re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout + listing.stderr)
    line = next((line for line in text.splitlines() if NAME in line), None)
    assert line is not None, text
    assert re.search(rf"{NAME} v\S+ enabled OK \(python, nbjobs\)", line), line


def test_the_installed_build_has_its_entry_point_and_install_json():
    from jupyter_core.paths import jupyter_path

    found = [Path(p) / NAME for p in jupyter_path("labextensions") if (Path(p) / NAME).is_dir()]
    assert found, f"{NAME} is in no labextensions directory"
    installed = found[0]
    metadata = json.loads((installed / "package.json").read_text())
    assert metadata["name"] == NAME
    # JupyterLab loads the extension from this entry; its static files must be there.
    assert (installed / "static" / Path(metadata["jupyterlab"]["_build"]["load"]).name).is_file()
    install = json.loads((installed / "install.json").read_text())
    assert install["packageName"] == "nbjobs"
