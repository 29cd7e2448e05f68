#!/usr/bin/env bash
# Backup drill: `kstore backup` taken while 2 processes import concurrently. The copy must open,
# pass `kstore audit verify`, and be a prefix of the log (every record of the copy, hash
# included, byte-identical to the store's record at that sequence). Reports the copy's MB/s.
#
#   tools/backup-drill.sh [BIN_DIR] [SEED_NDJSON]
#
# KSTORE_DRILL_ENCRYPT=1 runs it on an encrypted store (tools/drill-store.sh) and checks the
# backup holds no canary in plain bytes and verifies with and without the key.
#
# BIN_DIR defaults to .build/release (swift build -c release). SEED_NDJSON, if given, is imported
# first so the copy has something to chew on, e.g. ~200k events:
#   python3 tools/generate-clinic.py --patients 400 --seed 1 --start 2024-11-01 --days 730 --out /tmp/x.ndjson
set -euo pipefail
bin=${1:-.build/release}
seed=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
kstore="$bin/kstore"
drill="$bin/kstore-drill"
[ -x "$kstore" ] && [ -x "$drill" ] || { echo "build first: swift build -c release" >&2; exit 70; }
. "$(cd "$(dirname "$0")" && pwd)/drill-store.sh"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$work"
  drill_cleanup_key
}
trap cleanup EXIT
store="$work/store"
dest="$work/backup"
drill_init "$store" >/dev/null
"$here/register-actors.sh" "$store" "$kstore" >/dev/null
if [ -n "$seed" ]; then
  t0=$(date +%s.%N)
  "$kstore" import --store "$store" "$seed"
  t1=$(date +%s.%N)
  echo "seeded from $seed in $(python3 -c "print(f'{$t1-$t0:.2f}')") s"
fi

events() { "$kstore" audit verify --store "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])'; }
before=$(events "$store")

for w in 1 2; do
  "$drill" write-loop --store "$store" --batch 50 >"$work/writer-$w.out" 2>"$work/writer-$w.err" &
  pids+=($!)
done
# Both writers committing, then ~150 ms more.
for _ in $(seq 1 400); do
  if grep -q '^done ' "$work/writer-1.out" 2>/dev/null && grep -q '^done ' "$work/writer-2.out" 2>/dev/null; then break; fi
  sleep 0.05
done
grep -q '^done ' "$work/writer-1.out" && grep -q '^done ' "$work/writer-2.out" \
  || { echo "the writers did not start committing:"; cat "$work"/writer-*.err; exit 1; }
sleep 0.15

"$kstore" backup --store "$store" "$dest" --json >"$work/backup.json"
sleep 0.2
for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
pids=()

copied=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["events"])' "$work/backup.json")
final=$(events "$store")
echo "store: $before events before the writers, $final after they were killed; the backup holds $copied"
[ "$copied" -gt "$before" ] || { echo "FAILED: the backup holds none of the concurrent writers' events"; exit 1; }
[ "$final" -gt "$copied" ] || { echo "FAILED: the writers wrote nothing after the backup (was it taken while they wrote?)"; exit 1; }

# The copy opens and verifies.
"$kstore" audit verify --store "$dest" >"$work/verify.out" || { echo "FAILED: the backup does not verify"; cat "$work/verify.out"; exit 1; }
[ "$(events "$dest")" -eq "$copied" ] || { echo "FAILED: the backup reports $copied events but verify counts $(events "$dest")"; exit 1; }
"$kstore" audit verify --store "$store" >/dev/null || { echo "FAILED: the store itself no longer verifies"; exit 1; }

# A prefix of the log: each record of the copy (its stored hash included) equals the store's.
if command -v mdb_dump >/dev/null 2>&1; then
  mdb_dump -s events "$dest" >"$work/copy.dump"
  mdb_dump -s events "$store" >"$work/store.dump"
  python3 - "$work/copy.dump" "$work/store.dump" "$copied" <<'PY'
import sys
def records(path):
    lines = open(path).read().split("\n")
    data = lines[lines.index("HEADER=END") + 1 : lines.index("DATA=END")]
    return list(zip(data[0::2], data[1::2]))   # (key, value) hex lines
copy, store, n = records(sys.argv[1]), records(sys.argv[2]), int(sys.argv[3])
assert len(copy) == n, f"copy holds {len(copy)} records, the backup reported {n}"
bad = [i + 1 for i, r in enumerate(copy) if i >= len(store) or store[i] != r]
if bad:
    print(f"FAILED: {len(bad)} records of the copy differ from the store's, first at sequence {bad[0]}")
    sys.exit(1)
print(f"prefix: all {n} records of the copy are byte-identical (hashes included) to the store's first {n} of {len(store)}")
PY
else
  # Without lmdb-utils: the envelopes of the copy equal the store's first ones (both chains verified above).
  "$kstore" log --store "$dest" --json >"$work/copy.log"
  "$kstore" log --store "$store" --limit "$copied" --json >"$work/store.log"
  cmp -s "$work/copy.log" "$work/store.log" || { echo "FAILED: the backup's events differ from the store's first $copied"; exit 1; }
  echo "prefix: the $copied envelopes of the copy equal the store's first $copied (install lmdb-utils to compare hashes)"
fi

# Encrypted store (KSTORE_DRILL_ENCRYPT=1): the backup is encrypted too. The writers' actor id
# (rn.drill) and a patient id of the seed, if any, must be in none of its files' bytes; in a
# plain store they must be found (so the check can fail). Its verify runs without the key too.
canaries=(rn.drill)
if [ -n "$seed" ]; then canaries+=("$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["patient"])' "$seed")"); fi
for c in "${canaries[@]}"; do
  if grep -a -r -q -F -- "$c" "$dest"; then found=yes; else found=no; fi
  if [ -n "$drill_key_dir" ] && [ "$found" = yes ]; then echo "FAILED: the encrypted store's backup holds the canary $c in plain bytes"; exit 1; fi
  if [ -z "$drill_key_dir" ] && [ "$found" = no ]; then echo "FAILED: the canary $c is not found in a plain backup (the check could not fail)"; exit 1; fi
  echo "canary $c in the backup's bytes: $found"
done
if [ -n "$drill_key_dir" ]; then
  env -u KSTORE_KEY_FILE "$kstore" audit verify --store "$dest" >"$work/keyless.out" \
    || { echo "FAILED: the backup does not verify without the key"; cat "$work/keyless.out"; exit 1; }
  echo "backup verify without the key: $(tail -1 "$work/keyless.out")"
  set +e
  env -u KSTORE_KEY_FILE "$kstore" log --store "$dest" --limit 1 >/dev/null 2>&1; nokey=$?
  set -e
  [ "$nokey" -eq 77 ] || { echo "FAILED: reading the backup without the key exited $nokey, expected 77"; exit 1; }
  echo "backup read without the key: refused (exit 77); verify with the key: passed"
fi

perm_dir=$(stat -c %a "$dest")
perm_file=$(stat -c %a "$dest/data.mdb")
[ "$perm_dir" = 700 ] && [ "$perm_file" = 600 ] || { echo "FAILED: permissions $perm_dir / $perm_file, expected 700 / 600"; exit 1; }

python3 - "$work/backup.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
mb = r["bytes"] / 1e6
print(f"backup: {r['events']} events, {mb:.1f} MB copied and synced in {r['copySeconds']:.3f} s "
      f"({r['megabytesPerSecond']:.1f} MB/s), verified in {r['verifySeconds']:.3f} s, {r['seconds']:.3f} s in all")
PY
echo "backup drill: a backup taken while 2 processes imported opens, verifies and is a prefix of the log: passed"
