#!/usr/bin/env bash
# Static checks, run before the tests (scripts/test.sh) and so by CI: lint, formatting, types and the
# layer contracts. Each prints what it found; the first failure stops the run.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "check: ruff (lint)";        .venv/bin/ruff check .
echo "check: ruff (format)";      .venv/bin/ruff format --check .
echo "check: mypy";               .venv/bin/mypy
echo "check: import layers";      .venv/bin/lint-imports --no-cache
