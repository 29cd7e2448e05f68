#!/usr/bin/env bash
# The README's demo: installs what is missing, builds kstore (release), creates a store from
# fixtures/ and shows what it holds. The store is left in ./demo-store to explore.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
echo "== building kstore (release)" >&2
swift build -c release --product kstore 2>&1 | grep -E "error|warning|Compiling kstore|Build complete" >&2 || true
k=.build/release/kstore
[ -x "$k" ] || { echo "build failed" >&2; exit 70; }
store=./demo-store
rm -rf "$store"
export KSTORE_PATH="$store"
echo "== kstore init (the OS user running it becomes the store's first admin)"
$k init
echo
echo "== kstore actor add: the fixtures' clinicians and nurses, and this OS user as the import-job interface"
tools/register-actors.sh "$store" "$k"
$k actor list
echo
echo "== kstore import (the guide's three cases, a poorly documented chart, the spec's worked examples)"
$k import fixtures/case*.ndjson fixtures/examples/w*.ndjson
echo
echo "== kstore import again: every event is a duplicate, nothing is written twice"
$k import fixtures/examples/w1.ndjson
echo
echo "== kstore log --patient C3 --type DrugHolidayStarted (the log, filtered)"
$k log --patient C3 --type DrugHolidayStarted
echo
echo "== a bad line is refused with its file, line and field, and nothing is written (exit 65)"
printf '%s\n' '{"type":"ScoreRecorded","patient":"C1","occurredAt":"2026-11-20T09:00:00-05:00","actor":{"id":"rn.kim","role":"nurse"},"data":{"instrument":"MADRS","value":72}}' > /tmp/kstore-demo-bad.ndjson
$k import /tmp/kstore-demo-bad.ndjson || echo "(exit $?)"
echo
echo "== kstore query phase --on 2026-11-20 (every patient's protocol phase and schedule)"
$k query phase --on 2026-11-20
echo
echo "== kstore query phase --patient C3 --on 2026-11-20 --explain (why this interval and due date)"
$k query phase --patient C3 --on 2026-11-20 --explain
echo
echo "== kstore query due --on 2026-11-20 --status due,overdue,missing (monitoring that needs doing)"
$k query due --on 2026-11-20 --status due,overdue,missing
echo
echo "== kstore query audit --on 2026-11-20 (documentation findings; case 4 is the badly documented chart)"
$k query audit --on 2026-11-20
echo
echo "== kstore query alerts --on 2026-11-20 (open safety and protocol alerts)"
$k query alerts --on 2026-11-20
echo
echo "== kstore replay --rules rules/examples/urinalysis-2-4.json --on 2026-11-20 (urinalysis every 2–4 months: who is affected)"
$k replay --rules rules/examples/urinalysis-2-4.json --on 2026-11-20
echo
echo "== kstore replay --rules rules/examples/weekly-x2.json --on 2026-02-01 (what a shorter first rung would change; nothing is written)"
$k replay --rules rules/examples/weekly-x2.json --on 2026-02-01
echo
echo "== kstore report patient --patient C3 and report today, --on 2026-11-20 (pages to open in a browser or print)"
mkdir -p demo-reports
$k report patient --patient C3 --on 2026-11-20 --out demo-reports/patient-C3.html
$k report today --on 2026-11-20 --out demo-reports/today.html
ls -l demo-reports
echo
echo "== kstore audit verify"
$k audit verify
echo
echo "== the web interface: demo passwords for a nurse, a clinician, a compliance officer and the admin"
for actor in rn.kim dr.hale "$(id -un)"; do printf 'demo password 1\n' | $k actor passwd --id "$actor"; done
$k actor add --id cm.ruiz --role compliance --os-user ruiz --name "Dana Ruiz" >/dev/null 2>&1 || true
printf 'demo password 1\n' | $k actor passwd --id cm.ruiz
echo
echo "== encryption at rest: a copy of the demo store, encrypted (kstore key generate, kstore encrypt)"
enc="$store-encrypted"
rm -rf "$enc" "$enc.key-dir"
mkdir -m 700 "$enc.key-dir"
$k key generate --out "$enc.key-dir/master.key"
$k backup "$enc"
$k encrypt --store "$enc" --key-file "$enc.key-dir/master.key"
if grep -a -q -F "dr.hale" "$enc/data.mdb"; then echo "(an actor id is readable in $enc/data.mdb)"; else echo "no actor id readable in $enc/data.mdb"; fi
$k query phase --store "$enc" --patient C1 || echo "(exit $?: without the key)"
$k query phase --store "$enc" --patient C1 --on 2026-11-20 --key-file "$enc.key-dir/master.key"
$k audit verify --store "$enc"
echo
echo "The store is in $store and the reports in demo-reports/; try: KSTORE_PATH=$store $k log --patient C1 --limit 20"
echo "The web interface: KSTORE_PATH=$store $k serve   then open http://127.0.0.1:8480 and sign in as rn.kim,"
echo "dr.hale, cm.ruiz or $(id -un) with the password 'demo password 1' (a demo store only: set real ones with kstore actor passwd)."
