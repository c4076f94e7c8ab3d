#!/usr/bin/env bash
# The test command: set up a fresh machine if needed, run the static checks (scripts/check.sh), then
# the whole suite. The suite starts the real services it needs itself (tests/conftest.py), so
# nothing is skipped for want of one. Under CI the services the run started are stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/check.sh
export OMP_THREAD_LIMIT=1 DO_NOT_TRACK=1 HF_HUB_OFFLINE=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
if [ -n "${CI:-}" ]; then
  trap '.venv/bin/docflow workers stop --timeout 10 >/dev/null 2>&1 || true; .venv/bin/docflow down >/dev/null 2>&1 || true' EXIT
fi
.venv/bin/python -m pytest "$@"
