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
[ -s "$data" ] || python3 tools/generate-clinic.py --patients "$patients" --seed 1 --out "$data"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -m), $(date -u +%Y-%m-%d)"
.build/release/kstore-drill measure --ndjson "$data" --runs "$runs" --appends 2000
