#!/usr/bin/env bash
# The test command: set up a fresh machine if needed, then run the whole suite. The suite starts
# the real services it needs itself (tests/conftest.py), so nothing is skipped for want of one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export OMP_THREAD_LIMIT=1 DO_NOT_TRACK=1 HF_HUB_OFFLINE=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
exec .venv/bin/python -m pytest "$@"
