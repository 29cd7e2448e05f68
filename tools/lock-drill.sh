#!/usr/bin/env bash
# The lock-file drill (issue 11, item 1): a clean-up script deletes lock.mdb while an import
# runs and other writers append. LMDB's writer mutex lives in that file; kstore also holds its
# own flock on data.mdb for every write transaction and refuses to write through a lock file
# that was deleted, replaced or created out of step with the log. Afterwards every write a
# process acknowledged (exit 0) is in the store, no sequence was reported twice, and
# `kstore audit verify` passes. Refusals are allowed (they name lock.mdb); losses are not.
#
#   tools/lock-drill.sh [ROUNDS] [KSTORE_BINARY]      (default 5 rounds, .build/release/kstore)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
k=${2:-.build/release/kstore}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 tools/generate-clinic.py --patients 120 --seed 11 --start 2024-11-01 --days 730 --out "$work/import.ndjson" >/dev/null
lines=$(grep -c . "$work/import.ndjson")
fail=0
for r in $(seq 1 "$rounds"); do
  s="$work/store-$r"
  "$k" init --store "$s" >/dev/null
  tools/register-actors.sh "$s" "$k" >/dev/null
  base=$("$k" audit verify --store "$s" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
  "$k" import --store "$s" --json "$work/import.ndjson" >"$work/import-$r.out" 2>"$work/import-$r.err" &
  importer=$!
  # Delete lock.mdb at a random moment of the import, then append from 8 processes at once.
  sleep "0.$((RANDOM % 9 + 1))"
  rm -f "$s/lock.mdb"
  pids=()
  for a in $(seq 1 8); do
    "$k" append --store "$s" --json --patient "LOCK-$r-$a" --type ScoreRecorded \
      --at "2026-01-05T09:$((10 + a)):00-05:00" --actor rn.kim --role nurse \
      --data '{"instrument":"MADRS","value":12}' >"$work/append-$r-$a.out" 2>"$work/append-$r-$a.err" &
    pids+=($!)
  done
  acked=0
  seqs=()
  for a in $(seq 1 8); do
    if wait "${pids[$((a - 1))]}"; then
      acked=$((acked + 1))
      seqs+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sequence"])' "$work/append-$r-$a.out")")
    elif ! grep -q "lock.mdb" "$work/append-$r-$a.err"; then
      echo "round $r: append $a failed without naming lock.mdb: $(cat "$work/append-$r-$a.err")" >&2
      fail=1
    fi
  done
  imported=0
  if wait "$importer"; then
    imported=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["imported"])' "$work/import-$r.out")
    [ "$imported" -eq "$lines" ] || { echo "round $r: the import reported $imported of $lines" >&2; fail=1; }
  elif ! grep -q "lock.mdb" "$work/import-$r.err"; then
    echo "round $r: the import failed without naming lock.mdb: $(cat "$work/import-$r.err")" >&2
    fail=1
  fi
  # Every acknowledged write is there, once: the count adds up and no sequence was reported twice.
  json=$("$k" audit verify --store "$s" --json) || { echo "round $r: verify failed: $json" >&2; fail=1; }
  events=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["events"])' "$json")
  expected=$((base + imported + acked))
  if [ "$events" -ne "$expected" ]; then
    echo "round $r: the store holds $events events; $base + $imported imported + $acked appended were acknowledged" >&2
    fail=1
  fi
  dups=$(printf '%s\n' "${seqs[@]}" | sort | uniq -d | wc -l)
  [ "$dups" -eq 0 ] || { echo "round $r: a sequence was acknowledged to two writers" >&2; fail=1; }
  for a in $(seq 1 8); do
    if [ -s "$work/append-$r-$a.out" ]; then
      n=$("$k" log --store "$s" --patient "LOCK-$r-$a" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
      [ "$n" -eq 1 ] || { echo "round $r: acknowledged append $a is not in the store" >&2; fail=1; }
    fi
  done
  echo "round $r: import $([ "$imported" -gt 0 ] && echo "kept ($imported)" || echo refused), $acked of 8 appends acknowledged, $events events, verify ok"
done
[ "$fail" -eq 0 ] && echo "lock drill: ok ($rounds rounds, nothing acknowledged was lost)" || { echo "lock drill: FAILED" >&2; exit 1; }
