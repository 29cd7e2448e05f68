#!/usr/bin/env bash
# Crash drill: a writer importing batches in a loop is killed with SIGKILL at random moments.
# After each kill the store must open, `kstore audit verify` must pass, and every batch the
# writer reported done (printed only after its commit returned) must be in the store.
#
#   tools/crash-drill.sh [KILLS] [BIN_DIR]     (defaults: 50 kills, .build/release)
set -euo pipefail
kills=${1:-50}
bin=${2:-.build/release}
kstore="$bin/kstore"
drill="$bin/kstore-drill"
[ -x "$kstore" ] && [ -x "$drill" ] || { echo "build first: swift build -c release" >&2; exit 70; }
. "$(cd "$(dirname "$0")" && pwd)/drill-store.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"; drill_cleanup_key' EXIT
store="$work/store"
drill_init "$store" >/dev/null
tools/register-actors.sh "$store" "$kstore" >/dev/null
for i in $(seq 1 "$kills"); do
  out="$work/writer-$i.out"
  "$drill" write-loop --store "$store" --batch "$(( (RANDOM % 200) + 1 ))" >"$out" 2>"$work/writer.err" &
  pid=$!
  # a random moment: 20–400 ms
  sleep "0.$(printf '%03d' $(( (RANDOM % 380) + 20 )))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if ! "$kstore" audit verify --store "$store" >"$work/verify.out"; then
    echo "kill $i: audit verify FAILED"; cat "$work/verify.out"; exit 1
  fi
  count=$("$kstore" audit verify --store "$store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
  # every reported batch: its last sequence is present and holds the reported event id
  last=$(grep '^done ' "$out" | tail -1 || true)
  if [ -n "$last" ]; then
    seq=$(echo "$last" | awk '{print $3}')
    id=$(echo "$last" | awk '{print $4}')
    if [ "$seq" -gt "$count" ]; then echo "kill $i: reported sequence $seq but the store holds $count"; exit 1; fi
    got=$("$kstore" log --store "$store" --from "$seq" --limit 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["eventId"])')
    if [ "$got" != "$id" ]; then echo "kill $i: sequence $seq holds $got, the writer reported $id"; exit 1; fi
  fi
  echo "kill $i: ok ($count events, $(grep -c '^done ' "$out" || true) batches acknowledged by this writer)"
done
echo "crash drill: $kills kills, store verified after each: passed"
