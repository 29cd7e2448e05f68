#!/usr/bin/env bash
# Installs what kstore needs on a fresh Debian machine that has the Swift toolchain:
# LMDB's library and headers (liblmdb-dev) and its tools (lmdb-utils: the import-kill drill
# watches with mdb_stat), SQLite's (libsqlite3-dev, for the benchmark's baseline in
# Benchmarks/), and headless Chromium with pdftoppm (chromium, poppler-utils) for the reports'
# browser check (tools/report-screenshots.py, run by `swift test`), chromium-driver and selenium
# for the web pages' (tools/web-browser-test.py). Idempotent; quiet when all is present.
set -euo pipefail
need=()
pkg-config --exists lmdb 2>/dev/null || need+=(liblmdb-dev)
pkg-config --exists sqlite3 2>/dev/null || need+=(libsqlite3-dev)
# mdb_stat: tools/import-kill-drill.sh watches an import's transaction from outside with it.
command -v mdb_stat >/dev/null 2>&1 || need+=(lmdb-utils)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
# The web server's security check (tools/web-security-check.py): a test certificate, HTTP/2.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
# chromedriver: tools/web-browser-test.py drives Chromium through Selenium against `kstore serve`.
# PostgreSQL's server: the tests of `kstore ship` start a scratch cluster (tools/pg-scratch.sh).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  echo "installing: ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null 2>&1 || { echo "the Swift toolchain (6.x) is required: swift not found on PATH" >&2; exit 69; }
# fhir.resources (R4B models) for tools/validate-fhir.py, which checks `kstore audit export --format fhir`;
# selenium for tools/web-browser-test.py (the pages of `kstore serve` in a real browser).
python3 -c 'import fhir.resources, selenium' 2>/dev/null || pip install -q "fhir.resources==7.1.0" "selenium==4.51.0"
# schemathesis checks the HTTP API against docs/openapi.json (tools/api-check.sh).
command -v schemathesis >/dev/null 2>&1 || pip install -q "schemathesis==4.32.5"
