#!/usr/bin/env bash
# Measures `kstore serve` (BENCHMARKS.md, "The web server"): durable appends through
# POST /api/v1/events from 64 connections with group commit (the default) and without it
# (KSTORE_WEB_GROUP_MAX=1: one durable transaction a request), and reads of GET /api/v1/due
# (each recorded in the access log before it is answered), with wrk. Every figure is a run of
# DURATION seconds after a 2-second warm-up; the writer's group counts come from the server's
# own last line.
#
#   tools/web-bench.sh [KSTORE_BINARY] [DURATION]      (release build: swift build -c release)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
k=$(realpath "${1:-$here/.build/release/kstore}")
duration=${2:-10}
command -v wrk >/dev/null || { echo "web-bench: wrk is not installed (apt-get install wrk)" >&2; exit 69; }
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
store=$work/store
"$k" init --store "$store" >/dev/null
"$here/tools/register-actors.sh" "$store" "$k" >/dev/null
"$k" import --store "$store" "$here"/fixtures/case*.ndjson >/dev/null
export KSTORE_BENCH_TOKEN=$("$k" actor token --store "$store" --id dr.hale 2>/dev/null)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

serve() {
  "$k" serve --store "$store" --listen "127.0.0.1:$port" 2>"$work/serve.log" &
  pid=$!
  for _ in $(seq 50); do grep -q listening "$work/serve.log" 2>/dev/null && return; sleep 0.1; done
  echo "web-bench: the server did not start: $(cat "$work/serve.log")" >&2
  exit 70
}
stop() {
  kill -TERM "$pid"
  wait "$pid" || true
  tail -1 "$work/serve.log"
}
load() { # NAME ARGS…
  local name=$1 file
  file=${1//[^A-Za-z0-9]/_}
  shift
  wrk -t2 -c64 -d2s "$@" >/dev/null 2>&1 || true
  wrk -t2 -c64 -d"${duration}s" --latency "$@" >"$work/$file.txt" 2>"$work/$file.err" || true
  local rps p50 p99 errs
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/$file.txt")
  p50=$(awk '$1=="50%" {print $2}' "$work/$file.txt")
  p99=$(awk '$1=="99%" {print $2}' "$work/$file.txt")
  errs=$(grep -c '^status' "$work/$file.err" || true)
  printf '%-34s %10s req/s   p50 %8s   p99 %8s   non-200: %s\n' "$name" "$rps" "$p50" "$p99" "$errs"
}

echo "kstore serve, 64 connections, wrk 2 threads, ${duration} s each ($(nproc) cores)"
serve
load "appends, group commit" -s "$here/tools/web-load.lua" "http://127.0.0.1:$port/"
load "reads GET /api/v1/due?patient=C1" -H "Authorization: Bearer $KSTORE_BENCH_TOKEN" "http://127.0.0.1:$port/api/v1/due?patient=C1"
stop
KSTORE_WEB_GROUP_MAX=1 serve
load "appends, one commit a request" -s "$here/tools/web-load.lua" "http://127.0.0.1:$port/"
stop
# The command line's durable append, one process each, for scale.
start=$(date +%s.%N)
for i in $(seq 50); do
  "$k" append --store "$store" --patient C1 --type ScoreRecorded --at "2026-11-30T09:$(printf %02d $((i % 60))):00-05:00" \
    --actor dr.hale --role clinician --data "{\"instrument\":\"PHQ2\",\"value\":$((i % 7))}" >/dev/null
done
end=$(date +%s.%N)
python3 -c "print(f'{\"kstore append (a process each)\":34s} {50/($end-$start):10.1f} appends/s')"
echo "events in the store: $("$k" log --store "$store" --json | grep -c '"sequence"') (fixtures: 1,410 + admin events)"
"$k" audit verify --store "$store" | head -1
