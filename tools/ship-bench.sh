#!/usr/bin/env bash
# Measures `kstore ship` (BENCHMARKS.md, "Shipping to PostgreSQL") on a scratch PostgreSQL:
#   1. the initial ship of a generated clinic (default ~1M events), with COPY (the default) and
#      with the multi-row INSERT … SELECT FROM unnest(arrays) (`--insert unnest`), each into a
#      fresh database, RUNS times alternately; events/s from ship's own --json report;
#   2. `--follow` under RATE appends/s for SECONDS s (`kstore import` of 1/10 s worth of the
#      clinic's remaining lines every 100 ms): commit → visible latency per event, taken as
#      `shipped_at − recorded_at` (recorded_at is read inside the store's write transaction,
#      shipped_at when the row is written in the shipping transaction, which commits right after).
#
#   tools/ship-bench.sh [PATIENTS] [RUNS] [RATE] [SECONDS] [BIN_DIR]
#       defaults: 2050 patients (~1.0M events), 2 runs, 1000/s, 30 s, .build/release
set -euo pipefail
patients=${1:-2050}
runs=${2:-2}
rate=${3:-1000}
secs=${4:-30}
bin=${5:-.build/release}
k="$bin/kstore"
[ -x "$k" ] || { echo "build first: swift build -c release --product kstore" >&2; exit 70; }
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pg="$work/pg"
cleanup() {
  [ -n "${follow_pid:-}" ] && kill -9 "$follow_pid" 2>/dev/null || true
  "$here/tools/pg-scratch.sh" destroy "$pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
url=$("$here/tools/pg-scratch.sh" start "$pg")
q() { "$here/tools/pg-scratch.sh" psql "$pg" -d "$1" -tAq -c "$2"; }
dburl() { echo "$url" | sed "s#/kstore?#/$1?#"; }
python3 "$here/tools/generate-clinic.py" --patients "$patients" --seed 1 --start 2024-11-01 --days 730 --out "$work/clinic.ndjson" >/dev/null
total=$(wc -l <"$work/clinic.ndjson")
tail_lines=$(( rate * secs ))
head -n $(( total - tail_lines )) "$work/clinic.ndjson" >"$work/base.ndjson"
tail -n "$tail_lines" "$work/clinic.ndjson" >"$work/tail.ndjson"
"$k" init --store "$work/store" >/dev/null
"$here/tools/register-actors.sh" "$work/store" "$k" >/dev/null
"$k" import --store "$work/store" "$work/base.ndjson" >/dev/null
"$k" query phase --store "$work/store" >/dev/null   # stored projections caught up, as in use
n=$("$k" audit verify --store "$work/store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
echo "store: $n events ($patients patients); $(nproc) cores; $(date -u +%FT%TZ)"

for r in $(seq 1 "$runs"); do
  for m in copy unnest; do
    db="b_${m}_$r"
    q postgres "CREATE DATABASE $db OWNER kstore"
    out=$("$k" ship --store "$work/store" --to "$(dburl "$db")" --site bench --insert "$m" --json)
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print("initial ship %-6s run %s: %d events in %.2f s = %.0f events/s" % (sys.argv[2], sys.argv[3], d["shipped"], d["seconds"], d["shipped"]/d["seconds"]))' "$out" "$m" "$r"
    size=$(q "$db" "SELECT pg_size_pretty(pg_total_relation_size('kstore.events'))")
    echo "   kstore.events: $size"
    [ "$r" -eq "$runs" ] || q postgres "DROP DATABASE $db"
  done
done

db="b_copy_$runs"
"$k" ship --store "$work/store" --to "$(dburl "$db")" --site bench --follow >"$work/follow.out" 2>"$work/follow.err" &
follow_pid=$!
sleep 2
split -l $(( rate / 10 )) "$work/tail.ndjson" "$work/chunk."
python3 - "$k" "$work/store" "$work"/chunk.* <<'PY'
import subprocess, sys, time
k, store, chunks = sys.argv[1], sys.argv[2], sys.argv[3:]
start = time.monotonic()
for i, c in enumerate(chunks):
    subprocess.run([k, "import", "--store", store, c], check=True, stdout=subprocess.DEVNULL)
    wait = start + (i + 1) * 0.1 - time.monotonic()
    if wait > 0:
        time.sleep(wait)
el = time.monotonic() - start
print("appended %d chunks (%d events/s offered, %.1f s)" % (len(chunks), round(len(chunks) * (len(open(chunks[0]).readlines())) / el), el))
PY
n=$("$k" audit verify --store "$work/store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
until [ "$(q "$db" "SELECT shipped_through FROM kstore.sites")" -eq "$n" ]; do sleep 0.2; done
kill -TERM "$follow_pid"; wait "$follow_pid" || true; follow_pid=
q "$db" "SELECT format('--follow latency over %s events: p50 %s ms, p99 %s ms, max %s ms', count(*),
  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1), round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1),
  round(max(ms)::numeric, 1)) FROM (SELECT extract(epoch FROM shipped_at - recorded_at) * 1000 AS ms FROM kstore.events
  WHERE sequence > $(( n - tail_lines ))) t"
