#!/usr/bin/env bash
# Ship drill (ship.md, issue 15): a generated clinic shipped into a scratch PostgreSQL while
# `kstore ship` is SIGKILLed KILLS times at random moments (every other run with --follow), then
# a `--follow` run during which the rest of the clinic is imported in chunks and PostgreSQL is
# restarted RESTARTS times, stopped by SIGTERM (must exit 0). Passes when afterwards:
#   - `kstore ship --verify` exits 0 (every event once, in order, hashes equal, the copy's chain);
#   - count(*) of the site's events = the store's events = max(sequence);
#   - kstore.phase's documents = `kstore query phase --json` and kstore.due's = `query due --json`,
#     for every patient.
#
#   tools/ship-drill.sh [PATIENTS] [KILLS] [RESTARTS] [BIN_DIR]
#       defaults: 2050 patients (~1.0M events), 20 kills, 2 restarts, .build/release
#   The tests run it short: tools/ship-drill.sh 41 3 1 .build/debug (~20k events).
set -euo pipefail
patients=${1:-2050}
kills=${2:-20}
restarts=${3:-2}
bin=${4:-.build/release}
k="$bin/kstore"
[ -x "$k" ] || { echo "build first: swift build -c release" >&2; exit 70; }
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pg="$work/pg"
cleanup() {
  [ -n "${follow_pid:-}" ] && kill -9 "$follow_pid" 2>/dev/null || true
  "$here/tools/pg-scratch.sh" destroy "$pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

url=$("$here/tools/pg-scratch.sh" start "$pg")
psql_q() { "$here/tools/pg-scratch.sh" psql "$pg" -tAq -c "$1"; }
site=drill
store="$work/store"

python3 "$here/tools/generate-clinic.py" --patients "$patients" --seed 3 --start 2024-11-01 --days 730 --out "$work/clinic.ndjson" >/dev/null
total_lines=$(wc -l <"$work/clinic.ndjson")
first=$(( total_lines * 9 / 10 ))
head -n "$first" "$work/clinic.ndjson" >"$work/first.ndjson"
tail -n +"$(( first + 1 ))" "$work/clinic.ndjson" >"$work/rest.ndjson"
"$k" init --store "$store" >/dev/null
"$here/tools/register-actors.sh" "$store" "$k" >/dev/null
"$k" import --store "$store" "$work/first.ndjson" >/dev/null
local_events() { "$k" audit verify --store "$store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])'; }
shipped() { psql_q "SELECT coalesce((SELECT shipped_through FROM kstore.sites WHERE site = '$site'), 0)" 2>/dev/null || echo 0; }
n=$(local_events)
echo "store: $n events ($patients patients); $(( total_lines - first )) more lines to import during --follow"

# 1. SIGKILL at random moments (0.2-2.5 s into a run, batches of 500-5000; odd runs --follow).
for i in $(seq 1 "$kills"); do
  extra=(--batch "$(python3 -c 'import random; print(random.randint(500, 5000))')")
  if [ $(( i % 2 )) -eq 1 ]; then extra+=(--follow); fi
  "$k" ship --store "$store" --to "$url" --site "$site" "${extra[@]}" >/dev/null 2>"$work/kill.err" &
  pid=$!
  sleep "$(python3 -c 'import random; print(round(random.uniform(0.2, 2.5), 3))')"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "kill $i (${extra[*]}): shipped through $(shipped) of $n"
done

# 2. --follow while the rest is imported and PostgreSQL restarts.
"$k" ship --store "$store" --to "$url" --site "$site" --follow >"$work/follow.out" 2>"$work/follow.err" &
follow_pid=$!
split -l 2000 "$work/rest.ndjson" "$work/chunk."
chunks=("$work"/chunk.*)
restart_every=$(( ${#chunks[@]} / (restarts + 1) + 1 ))
c=0
r=0
for f in "${chunks[@]}"; do
  "$k" import --store "$store" "$f" >/dev/null
  c=$(( c + 1 ))
  if [ "$r" -lt "$restarts" ] && [ $(( c % restart_every )) -eq 0 ]; then
    "$here/tools/pg-scratch.sh" restart "$pg"
    r=$(( r + 1 ))
    echo "restarted PostgreSQL during --follow ($r)"
  fi
  sleep 0.2
done
while [ "$r" -lt "$restarts" ]; do
  "$here/tools/pg-scratch.sh" restart "$pg"
  r=$(( r + 1 ))
  echo "restarted PostgreSQL during --follow ($r)"
done
n=$(local_events)
deadline=$(( $(date +%s) + 600 ))
until [ "$(shipped)" -eq "$n" ]; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "--follow did not reach $n (at $(shipped)); stderr: $(cat "$work/follow.err")"
  sleep 0.5
done
# Give the refresh after the last batch its moment, then stop it as systemd would.
sleep 2
kill -TERM "$follow_pid"
set +e
wait "$follow_pid"
rc=$?
set -e
follow_pid=
[ "$rc" -eq 0 ] || fail "--follow exited $rc on SIGTERM; stderr: $(cat "$work/follow.err")"
echo "--follow: $(cat "$work/follow.out"); said on stderr: $(grep -c 'retrying' "$work/follow.err") retry line(s)"

# 3. The checks.
set +e
"$k" ship --store "$store" --to "$url" --site "$site" --verify --json >"$work/verify.json"
vrc=$?
set -e
[ "$vrc" -eq 0 ] || fail "ship --verify exited $vrc: $(cat "$work/verify.json")"
count=$(psql_q "SELECT count(*) FROM kstore.events WHERE site = '$site'")
maxseq=$(psql_q "SELECT max(sequence) FROM kstore.events WHERE site = '$site'")
[ "$count" -eq "$n" ] && [ "$maxseq" -eq "$n" ] || fail "the copy holds $count events (max sequence $maxseq); the store $n"
echo "verify: ok; copy: $count events = store's $n"

"$k" query phase --store "$store" --json >"$work/phase.local.json"
"$k" query due --store "$store" --json >"$work/due.local.json"
psql_q "SELECT coalesce(jsonb_agg(document), '[]') FROM kstore.phase WHERE site = '$site'" >"$work/phase.db.json"
psql_q "SELECT coalesce(jsonb_agg(document), '[]') FROM kstore.due WHERE site = '$site'" >"$work/due.db.json"
python3 - "$work" <<'EOF'
import json, sys
w = sys.argv[1]
def load(name):
    with open(f"{w}/{name}") as f:
        return json.load(f)
def key(d):
    return json.dumps(d, sort_keys=True)
bad = 0
for kind in ("phase", "due"):
    local = sorted(map(key, load(f"{kind}.local.json")))
    db = sorted(map(key, load(f"{kind}.db.json")))
    if local != db:
        bad += 1
        only_l = set(local) - set(db)
        only_d = set(db) - set(local)
        print(f"FAIL: {kind}: {len(local)} local rows, {len(db)} in the database; {len(only_l)} only local, {len(only_d)} only in the database")
        for x in list(only_l)[:3]:
            print("  local:", x)
        for x in list(only_d)[:3]:
            print("  db:   ", x)
    else:
        print(f"{kind}: the database's {len(db)} rows equal `kstore query {kind} --json`")
sys.exit(1 if bad else 0)
EOF
echo "PASS: ship drill ($kills kills, $restarts restarts, $n events)"
