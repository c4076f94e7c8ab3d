#!/usr/bin/env bash
# The main job on the bundled samples: set up a fresh machine if needed, start PostgreSQL, Redis,
# the S3 store and Neo4j, start the workers, process every sample document and print a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export OMP_THREAD_LIMIT=1 DO_NOT_TRACK=1 HF_HUB_OFFLINE=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
exec .venv/bin/docflow demo "$@"
