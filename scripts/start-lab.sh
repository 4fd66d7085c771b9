#!/usr/bin/env bash
# Set up nbjobs and open the demo notebook in JupyterLab (prints the URL with its token).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh lab
port="${PORT:-8888}"
exec .venv/bin/jupyter lab --LabApp.default_url=/lab/tree/notebooks/quickstart.ipynb \
  --no-browser --allow-root --ServerApp.ip="${IP:-127.0.0.1}" --ServerApp.port="$port"
