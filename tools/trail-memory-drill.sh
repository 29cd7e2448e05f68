#!/usr/bin/env bash
# Trail memory drill (issue 11 item 11): peak memory of `kstore audit trail --json` and of the
# table on a store, then on the same store grown to four times the events. The trail streams its
# entries, so the memory it allocates (anonymous: heap and stacks, sampled every 5 ms by
# tools/peak-memory.py) must not grow with them: at most GROWTH_MB more. The mapped pages of
# data.mdb (page cache, shared, dropped by the kernel at will) are printed beside it but not
# judged: they stay near the 64 MB budget of `releaseResidentPagesIfOverBudget` except for a
# spike of ~40 ms to ~190 MB on a million events (noticed in issue 11, not yet explained).
#
#   tools/trail-memory-drill.sh [BIN_DIR] [PATIENTS] [GROWTH_MB]
#       defaults: .build/release, 500 patients (~250k events, then ~1M), 60 MB
set -euo pipefail
bin=${1:-.build/release}
patients=${2:-500}
growth=${3:-60}
k="$bin/kstore"
[ -x "$k" ] || { echo "build first: swift build -c release" >&2; exit 70; }
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/tools/generate-clinic.py" --patients $((patients * 4)) --seed 1 --start 2024-11-01 --days 730 --out "$work/all.ndjson"
# A quarter of the patients first, the other three quarters after (whole patients each).
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
ids = []
with open(f"{work}/all.ndjson") as f:
    lines = f.readlines()
for l in lines:
    p = json.loads(l)["patient"]
    if not ids or ids[-1] != p:
        if p not in ids: ids.append(p)
first = set(sorted(set(ids))[: len(set(ids)) // 4])
with open(f"{work}/a.ndjson", "w") as a, open(f"{work}/b.ndjson", "w") as b:
    for l in lines:
        (a if json.loads(l)["patient"] in first else b).write(l)
PY
store="$work/store"
"$k" init --store "$store" >/dev/null
"$here/tools/register-actors.sh" "$store" "$k" >/dev/null
# The trail's peak anonymous memory in KB; the whole line (with the mapped file) goes to stderr.
peak() {
  line=$(python3 "$here/tools/peak-memory.py" "$k" audit trail --store "$store" "$@")
  echo "  audit trail $*: $line" >&2
  python3 -c 'import re,sys; print(int(re.search(r"anonymous (\d+) MB", sys.argv[1]).group(1)) * 1024)' "$line"
}
"$k" import --store "$store" "$work/a.ndjson" >/dev/null
small=$("$k" audit verify --store "$store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
json_small=$(peak --json); table_small=$(peak)
"$k" import --store "$store" "$work/b.ndjson" >/dev/null
large=$("$k" audit verify --store "$store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
json_large=$(peak --json); table_large=$(peak)
echo "audit trail --json: $small events ${json_small} KB anonymous peak, $large events ${json_large} KB"
echo "audit trail (table): $small events ${table_small} KB anonymous peak, $large events ${table_large} KB"
for pair in "json $json_small $json_large" "table $table_small $table_large"; do
  set -- $pair
  if [ $(( ($3 - $2) / 1024 )) -gt "$growth" ]; then
    echo "trail memory drill: FAILED: the $1 trail's anonymous peak grew by $(( ($3 - $2) / 1024 )) MB (limit $growth MB)"; exit 1
  fi
done
echo "trail memory drill: peak anonymous memory grew by $(( (json_large - json_small) / 1024 )) MB (json) and $(( (table_large - table_small) / 1024 )) MB (table) for $((large - small)) more events: passed"
