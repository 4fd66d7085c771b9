"""The package's public names: complete ``__all__``, and ``nbjobs.normalize`` stays the
function even after the server side (which imports the engine) is loaded."""

from __future__ import annotations

import importlib

import nbjobs


def test_all_names_resolve():
    for name in nbjobs.__all__:
        assert getattr(nbjobs, name) is not None, name


def test_normalize_is_the_function_after_server_modules_load():
    importlib.import_module("nbjobs.server.app")
    importlib.import_module("nbjobs.worker.job")
    assert callable(nbjobs.normalize)
    assert nbjobs.normalize.__module__ == "nbjobs.client.notebook"


def test_extension_point():
    (point,) = nbjobs._jupyter_server_extension_points()
    assert point["module"] == "nbjobs.server.app" and point["app"].name == "nbjobs"
