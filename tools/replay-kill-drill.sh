#!/usr/bin/env bash
# Replay drill: `kstore replay --rules FILE --apply` is killed with SIGKILL at random moments,
# alternating between two rule sets. After each kill the rule set in force and the stored
# projections must be either all old or all new: `query phase` must equal the answer computed
# beforehand for the rules `rules show` reports, never a mix.
#
#   tools/replay-kill-drill.sh [KILLS] [PATIENTS] [BIN_DIR]   (defaults: 20, 1500, .build/release)
set -euo pipefail
kills=${1:-20}
patients=${2:-1500}
bin=${3:-.build/release}
k="$bin/kstore"
[ -x "$k" ] || { echo "build first: swift build -c release" >&2; exit 70; }
kstore="$k"
. "$(cd "$(dirname "$0")" && pwd)/drill-store.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"; drill_cleanup_key' EXIT
python3 tools/generate-clinic.py --patients "$patients" --seed 7 --start 2024-11-01 --days 730 --out "$work/clinic.ndjson"
cat > "$work/a.json" <<'JSON'
{"version": "drill-a", "ladder": [{"intervalDays": 7, "treatments": 2}, {"intervalDays": 14, "treatments": 2}, {"intervalDays": 28, "treatments": null}]}
JSON
cat > "$work/b.json" <<'JSON'
{"version": "drill-b", "ladder": [{"intervalDays": 7, "treatments": 4}, {"intervalDays": 21, "treatments": 3}, {"intervalDays": 35, "treatments": null}]}
JSON
on=2026-11-20
answer() { "$k" query phase --store "$1" --on "$on" --json | sha256sum | cut -c1-16; }
# The expected answer under each rule set, computed on copies.
for r in a b; do
  drill_init "$work/$r" >/dev/null
  tools/register-actors.sh "$work/$r" "$k" >/dev/null
  "$k" import --store "$work/$r" "$work/clinic.ndjson" >/dev/null
  "$k" replay --store "$work/$r" --rules "$work/$r.json" --apply >/dev/null
  eval "expect_drill_$r=$(answer "$work/$r")"
done
store="$work/store"
drill_init "$store" >/dev/null
tools/register-actors.sh "$store" "$k" >/dev/null
"$k" import --store "$store" "$work/clinic.ndjson" >/dev/null
"$k" replay --store "$store" --rules "$work/a.json" --apply >/dev/null
events=$("$k" audit verify --store "$store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
# How long one replay --apply takes here: kills are spread over 0–110% of it, so most land mid-replay.
t0=$(date +%s%N); "$k" replay --store "$store" --rules "$work/b.json" --apply >/dev/null; t1=$(date +%s%N)
"$k" replay --store "$store" --rules "$work/a.json" --apply >/dev/null
span_ms=$(( (t1 - t0) / 1000000 ))
echo "store: $events events; one replay --apply takes ${span_ms} ms; answers: drill-a $expect_drill_a, drill-b $expect_drill_b"
adopted=0
previous=drill-a
for i in $(seq 1 "$kills"); do
  if [ $((i % 2)) -eq 1 ]; then target=b; else target=a; fi
  "$k" replay --store "$store" --rules "$work/$target.json" --apply >/dev/null 2>&1 &
  pid=$!
  ms=$(( RANDOM % (span_ms * 11 / 10 + 1) ))
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  # Before any query (a query would rebuild mismatched projections): the stored projections
  # must have been produced by the rules in force.
  read -r version same < <("$k" rules show --store "$store" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); p=d["projections"]; print(d["version"], int(p is not None and p["rulesHash"]==d["contentHash"]))')
  if [ "$same" != 1 ]; then echo "kill $i: stored projections were not produced by the rules in force ($version): a mix"; exit 1; fi
  got=$(answer "$store")
  var="expect_${version//-/_}"
  want=${!var:-none}
  if [ "$got" != "$want" ]; then
    echo "kill $i: rules in force $version but the projections answer $got (expected $want): a mix"; exit 1
  fi
  "$k" audit verify --store "$store" >/dev/null || { echo "kill $i: audit verify failed"; exit 1; }
  if [ "$version" != "$previous" ]; then adopted=$((adopted + 1)); fi
  previous=$version
  echo "kill $i at ${ms} ms: rules $version, projections consistent"
done
echo "replay drill: $kills kills ($adopted replays committed before their kill, $((kills - adopted)) killed mid-replay), never a mix: passed"
