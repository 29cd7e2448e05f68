#!/usr/bin/env bash
# Concurrency drill: PROCS processes × COUNT durable single-event appends into one store at once.
# The total must be exact, the sequence gapless and every stream's versions contiguous
# (`kstore audit verify` checks both).
#
#   tools/concurrency-drill.sh [PROCS] [COUNT] [BIN_DIR]    (defaults: 4, 2000, .build/release)
set -euo pipefail
procs=${1:-4}
count=${2:-2000}
bin=${3:-.build/release}
kstore="$bin/kstore"
drill="$bin/kstore-drill"
[ -x "$kstore" ] && [ -x "$drill" ] || { echo "build first: swift build -c release" >&2; exit 70; }
. "$(cd "$(dirname "$0")" && pwd)/drill-store.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"; drill_cleanup_key' EXIT
store="$work/store"
drill_init "$store" >/dev/null
tools/register-actors.sh "$store" "$kstore" >/dev/null
base=$("$kstore" audit verify --store "$store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
start=$(date +%s.%N)
pids=()
for p in $(seq 1 "$procs"); do
  "$drill" append --store "$store" --count "$count" --tag "$p" >"$work/p$p.out" 2>&1 &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
end=$(date +%s.%N)
"$kstore" audit verify --store "$store"
total=$("$kstore" audit verify --store "$store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
expected=$(( base + procs * count ))
if [ "$total" -ne "$expected" ]; then echo "expected $expected events, found $total"; exit 1; fi
python3 - "$start" "$end" "$(( total - base ))" <<'PY'
import sys
s, e, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
print(f"concurrency drill: {n} appends from the processes in {e-s:.2f} s ({n/(e-s):.0f} durable appends/s overall): passed")
PY
