#!/usr/bin/env bash
# Everything a fresh machine needs before docflow runs: system packages (tesseract's English
# data, when root), a virtualenv with docflow and its dev extra, and the Neo4j jars from Maven.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
export DEBIAN_FRONTEND=noninteractive

need_apt=()
[ -f /usr/share/tesseract-ocr/5/tessdata/eng.traineddata ] || need_apt+=(tesseract-ocr tesseract-ocr-eng)
command -v pdftoppm >/dev/null 2>&1 || need_apt+=(poppler-utils)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: apt-get install ${need_apt[*]}"
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "bootstrap: please install ${need_apt[*]} (tesseract's English data is needed for OCR)" >&2
    exit 1
  fi
fi
command -v java >/dev/null && command -v mvn >/dev/null || { echo "bootstrap: Java 17 and Maven are needed for Neo4j" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.docflow-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "bootstrap: pip install -e .[dev]"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
  touch "$stamp"
fi
echo "bootstrap: ready (.venv/bin/docflow)"
