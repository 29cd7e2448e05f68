#!/usr/bin/env bash
# Measures, in release mode: import events/s, durable single-event appends/s (p50/p99), a full
# log scan with decoding, and a raw LMDB cursor scan of the same store. Medians of RUNS runs.
#
#   tools/measure.sh [PATIENTS] [RUNS]      (defaults: 400 patients ≈ 200k events, 3 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
patients=${1:-400}
runs=${2:-3}
tools/setup.sh
swift build -c release --product kstore-drill >/dev/null
data=".build/measure-$patients.ndjson"
[ -s "$data" ] || python3 tools/generate-clinic.py --patients "$patients" --seed 1 --start 2024-11-01 --days 730 --out "$data"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -m), $(date -u +%Y-%m-%d)"
.build/release/kstore-drill measure --ndjson "$data" --runs "$runs" --appends 2000

# Peak memory of a full `kstore replay` (the whole command, process start included).
swift build -c release --product kstore >/dev/null
k=.build/release/kstore
store=$(mktemp -d)/store
trap 'rm -rf "$(dirname "$store")"' EXIT
$k init --store "$store" >/dev/null
tools/register-actors.sh "$store" "$k" >/dev/null
$k import --store "$store" "$data" >/dev/null
$k query phase --store "$store" --patient P-00001 >/dev/null
echo "kstore replay (whole command): $(python3 tools/peak-memory.py $k replay --store "$store")"
for q in "phase --patient P-00001" "phase --json" "due --status overdue --json" "audit --json" "alerts --json"; do
  best=999999
  for i in 1 2 3 4 5; do
    start=$(date +%s%N); $k query $q --store "$store" >/dev/null; end=$(date +%s%N)
    ms=$(( (end - start) / 1000000 )); [ $ms -lt $best ] && best=$ms
  done
  echo "kstore query $q (2,000 patients, process start included, best of 5): $best ms"
done
