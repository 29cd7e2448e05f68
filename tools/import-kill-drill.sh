#!/usr/bin/env bash
# Import-kill drill: `kstore import` of a large generated file is killed with SIGKILL K times,
# each time into a fresh copy of the same store, in turn: at a random moment from outside
# (0–110% of one whole import); from inside after a random number of lines appended in the
# transaction (KSTORE_DRILL_KILL_AFTER); and from outside the moment anything of the file is
# visible to a reader (`mdb_stat`, polled). After each kill `kstore audit verify` must
# pass and the store must hold either all of the file or none of it, never a part. (A binary
# that committed a file of more than 2^20 events in batches fails the third kind at once.)
#
#   tools/import-kill-drill.sh [KILLS] [BIN_DIR] [PATIENTS]
#       defaults: 20 kills, .build/release, 2200 patients (~1.07M events: more than 2^20)
set -euo pipefail
kills=${1:-20}
bin=${2:-.build/release}
patients=${3:-2200}
k="$bin/kstore"
[ -x "$k" ] || { echo "build first: swift build -c release" >&2; exit 70; }
command -v mdb_stat >/dev/null || { echo "needs mdb_stat (apt-get install lmdb-utils)" >&2; exit 70; }
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
file="$work/clinic.ndjson"
python3 "$here/tools/generate-clinic.py" --patients "$patients" --seed 1 --start 2024-11-01 --days 730 --out "$file"
events() { "$k" audit verify --store "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])'; }
"$k" init --store "$work/base" >/dev/null
"$here/tools/register-actors.sh" "$work/base" "$k" >/dev/null
none=$(events "$work/base")
# One whole import, timed: its count is "all", its time spreads the outside kills.
cp -a "$work/base" "$work/full"
t0=$(date +%s%N)
"$k" import --store "$work/full" "$file" >/dev/null
t1=$(date +%s%N)
all=$(events "$work/full")
rm -rf "$work/full"
span_ms=$(( (t1 - t0) / 1000000 ))
lines=$(( all - none ))
echo "file: $lines events; one import takes ${span_ms} ms; store before: $none events, after: $all"
nones=0
alls=0
for i in $(seq 1 "$kills"); do
  store="$work/store"
  rm -rf "$store"
  cp -a "$work/base" "$store"
  case $((i % 3)) in
  1)
    how="outside, at random"
    "$k" import --store "$store" "$file" >/dev/null 2>&1 &
    pid=$!
    ms=$(( (RANDOM * 32768 + RANDOM) % (span_ms * 11 / 10 + 1) ))
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    ;;
  2)
    after=$(( (RANDOM * 32768 + RANDOM) % lines + 1 ))
    how="inside, after $after lines"
    KSTORE_DRILL_KILL_AFTER=$after "$k" import --store "$store" "$file" >/dev/null 2>&1 &
    pid=$!
    wait "$pid" 2>/dev/null || true
    ;;
  0)
    # A reader that takes no lock (mdb_stat, lmdb-utils; `kstore log` would wait for the
    # writer to record its read in the access log), polled until the file's first event shows.
    how="outside, once anything is visible"
    "$k" import --store "$store" "$file" >/dev/null 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      seen=$(mdb_stat -s events "$store" 2>/dev/null | awk '/Entries:/ {print $2}')
      if [ -n "$seen" ] && [ "$seen" -gt "$none" ]; then kill -9 "$pid" 2>/dev/null || true; break; fi
      sleep 0.02
    done
    wait "$pid" 2>/dev/null || true
    ;;
  esac
  if ! "$k" audit verify --store "$store" >"$work/verify.out" 2>&1; then
    echo "kill $i ($how): audit verify FAILED"; cat "$work/verify.out"; exit 1
  fi
  got=$(events "$store")
  if [ "$got" = "$none" ]; then
    nones=$((nones + 1)); state="none of the file"
  elif [ "$got" = "$all" ]; then
    alls=$((alls + 1)); state="all of the file"
  else
    echo "kill $i ($how): the store holds $got events: $((got - none)) of the file's $lines"; exit 1
  fi
  echo "kill $i ($how): ok, $state ($got events)"
done
echo "import-kill drill: $kills kills ($nones left none of the file, $alls all of it), store verified after each: passed"
