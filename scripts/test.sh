#!/usr/bin/env bash
# Set up nbjobs with its test dependencies, lint, and run the whole test suite
# (unit, server, kernel client, restart, notebooks under nbval), after ruff and mypy. Extra
# args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy  # files and strictness: [tool.mypy] in pyproject.toml
# The JupyterLab extension's formatting (its node_modules exist once pip has built it).
if [ -d labextension/node_modules ]; then (cd labextension && ../.venv/bin/jlpm lint); fi
.venv/bin/python -m pytest tests --nbval-lax notebooks -p no:cacheprovider "$@"
