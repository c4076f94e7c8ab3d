#!/usr/bin/env bash
# Static checks, run before the tests (scripts/test.sh) and so by CI: lint, formatting, types and the
# layer contracts. Each prints what it found; the first failure stops the run.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "check: ruff (lint)";        .venv/bin/ruff check .
echo "check: ruff (format)";      .venv/bin/ruff format --check .
echo "check: mypy";               .venv/bin/mypy
echo "check: import layers";      .venv/bin/lint-imports --no-cache
# Code written twice in the product packages: any 6 lines alike, imports, docstrings, comments and
# signatures aside (the tests and benches are not held to it).
echo "check: duplicate code";     .venv/bin/pylint --disable=all --enable=duplicate-code --min-similarity-lines=6 \
  --ignore-imports=y --ignore-docstrings=y --ignore-comments=y --ignore-signatures=y --score=n \
  docflow tasks flows deployments
