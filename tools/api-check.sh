#!/usr/bin/env bash
# Checks a running `kstore serve` against docs/openapi.json with schemathesis
# (pip install schemathesis; 4.x): every response conforms to the document (status code,
# content type, body schema) and none is a server error. Exit 0 when all pass, 1 on any failure,
# 64 for bad usage, 69 when schemathesis is not installed.
#
#   tools/api-check.sh BASE_URL TOKEN
#
# BASE_URL e.g. http://127.0.0.1:8480; TOKEN a bearer token (`kstore actor token --id ID`),
# sent as `Authorization: Bearer TOKEN`. Which routes answer 200 rather than 403 depends on the
# token's role (a compliance actor reaches the audit routes and POST /api/v1/reviews).
# POST/DELETE /api/v1/session are not fuzzed (signing out or locking the actor out would spoil
# the run). POST /api/v1/reviews is fuzzed with wrong passwords: they count as failed sign-ins,
# so the actor may end in 429, which the document allows. Nothing generated can be written: the
# generated events name an unregistered actor and no review carries the real password.
#
# Environment: API_CHECK_MAX_EXAMPLES (default 50 per operation), API_CHECK_SEED (default 1;
# "random" for a new seed each run), API_CHECK_REPORT_DIR (a JUnit report is written there when set).
# Schemathesis keeps the failures it found in ./.schemathesis (git-ignored) for `st replay ID`.
set -euo pipefail
usage() {
  echo "usage: tools/api-check.sh BASE_URL TOKEN   (e.g. tools/api-check.sh http://127.0.0.1:8480 \"\$TOKEN\")" >&2
  exit 64
}
[ $# -eq 2 ] || usage
base=${1%/}
token=$2
case "$base" in
  http://?* | https://?*) ;;
  *) echo "api-check: BASE_URL must start with http:// or https://, not '$1'" >&2; usage ;;
esac
if [ -z "$token" ] || [[ "$token" =~ [[:space:]] ]]; then
  echo "api-check: TOKEN must be one non-empty word" >&2
  usage
fi
examples=${API_CHECK_MAX_EXAMPLES:-50}
[[ "$examples" =~ ^[1-9][0-9]*$ ]] || { echo "api-check: API_CHECK_MAX_EXAMPLES must be a positive integer" >&2; exit 64; }
seed=${API_CHECK_SEED:-1}
seed_args=()
if [ "$seed" != random ]; then
  [[ "$seed" =~ ^[0-9]+$ ]] || { echo "api-check: API_CHECK_SEED must be an integer or 'random'" >&2; exit 64; }
  seed_args=(--seed "$seed")
fi
report_args=()
if [ -n "${API_CHECK_REPORT_DIR:-}" ]; then report_args=(--report junit --report-dir "$API_CHECK_REPORT_DIR"); fi
command -v schemathesis >/dev/null || { echo "api-check: schemathesis is not installed (pip install schemathesis)" >&2; exit 69; }

here=$(cd "$(dirname "$0")/.." && pwd)
# The token goes through the environment into a config file's header, not onto a command line
# that any local user can read in ps.
config=$(mktemp)
trap 'rm -f "$config"' EXIT
cat >"$config" <<'TOML'
headers = { Authorization = "Bearer ${KSTORE_API_CHECK_TOKEN}" }
TOML
export KSTORE_API_CHECK_TOKEN=$token
export SCHEMATHESIS_HOOKS="$here/tools/api-check-hooks.py"

set +e
schemathesis --config-file "$config" run "$here/docs/openapi.json" \
  --url "$base" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --exclude-path /api/v1/session \
  --phases examples,coverage,fuzzing \
  --mode all \
  --max-examples "$examples" \
  "${seed_args[@]}" \
  --generation-with-security-parameters false \
  --generation-database none \
  --workers 1 \
  --request-timeout 10 \
  --max-failures 50 \
  --no-color \
  "${report_args[@]}"
rc=$?
set -e
[ $rc -eq 0 ] || echo "api-check: schemathesis found failures (exit $rc)" >&2
[ $rc -eq 0 ] && exit 0 || exit 1
