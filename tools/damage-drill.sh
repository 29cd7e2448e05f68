#!/usr/bin/env bash
# Damage drill: random bytes written over random pages of a copy of a store's data.mdb, N times;
# each time `kstore audit verify --json` and `kstore backup` run on the damaged copy.
#
# Passes when neither ever dies of a signal (exit > 128) or hangs, verify exits 1 (its --json
# output valid, ok false) or 0 (the damage hit only free or unused bytes), backup exits 1 or 0,
# and when verify says 0 the backup succeeds too (and its copy verifies). Prints one line a
# damage and a summary: how many damages made verify or backup crash (die of a signal).
#
#   tools/damage-drill.sh [N] [KSTORE] [STORE]   (defaults: 30, .build/release/kstore, a store of
#                                                 the case fixtures made here; DRILL_SEED=S)
set -euo pipefail
n=${1:-30}
kstore=${2:-.build/release/kstore}
source=${3:-}
seed=${DRILL_SEED:-$RANDOM}
[ -x "$kstore" ] || { echo "build first: swift build -c release" >&2; exit 70; }
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$source" ]; then
  source="$work/source"
  "$kstore" init --store "$source" >/dev/null
  "$here/tools/register-actors.sh" "$source" "$kstore" >/dev/null
  for f in "$here"/fixtures/case*.ndjson; do "$kstore" import --store "$source" "$f" >/dev/null; done
  "$kstore" query phase --store "$source" >/dev/null
fi
"$kstore" audit verify --store "$source" >/dev/null || { echo "FAILED: the source store does not verify" >&2; exit 1; }
crashed=0 failed=0 ok=0 found=0
for i in $(seq 1 "$n"); do
  copy="$work/copy"
  rm -rf "$copy" "$work/backup"
  mkdir -m 700 "$copy"
  cp "$source/data.mdb" "$copy/data.mdb"
  what=$(python3 - "$copy/data.mdb" "$seed" "$i" <<'PY'
import os, random, sys
path, seed, i = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed * 1000003 + i)
size = os.path.getsize(path)
psize = 4096
pages = size // psize
with open(path, "r+b") as f:
    picked = sorted(rng.sample(range(pages), min(pages, rng.choice([1, 1, 2, 3]))))
    told = []
    for page in picked:
        mode = rng.choice(["bytes", "bytes", "run", "page"])
        if mode == "page":
            offset, length = 0, psize
        elif mode == "run":
            offset = rng.randrange(psize)
            length = min(psize - offset, rng.randint(8, 512))
        else:
            offset, length = rng.randrange(psize), 0
        if length:
            f.seek(page * psize + offset)
            f.write(bytes(rng.randrange(256) for _ in range(length)))
            told.append(f"page {page} bytes {offset}+{length}")
        else:
            spots = [rng.randrange(psize) for _ in range(rng.randint(1, 16))]
            for s in spots:
                f.seek(page * psize + s)
                f.write(bytes([rng.randrange(256)]))
            told.append(f"page {page} {len(spots)} byte(s)")
print(", ".join(told) + f" of {pages}")
PY
)
  set +e
  timeout 120 "$kstore" audit verify --store "$copy" --json >"$work/verify.json" 2>"$work/verify.err"
  v=$?
  timeout 120 "$kstore" backup --store "$copy" "$work/backup" >"$work/backup.out" 2>"$work/backup.err"
  b=$?
  set -e
  verdict="verify $v, backup $b"
  bad=""
  if [ "$v" -gt 128 ] || [ "$b" -gt 128 ]; then
    crashed=$((crashed + 1))
    bad="died of a signal or hung"
  elif [ "$v" -ne 0 ] && [ "$v" -ne 1 ]; then
    bad="verify exited $v: $(head -c 300 "$work/verify.err")"
  elif ! python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["ok"] == (sys.argv[2] == "0") else 1)' "$work/verify.json" "$v" 2>/dev/null; then
    bad="verify's --json output is not valid or its ok disagrees with exit $v"
  elif [ "$b" -ne 0 ] && [ "$b" -ne 1 ]; then
    bad="backup exited $b: $(head -c 300 "$work/backup.err")"
  elif [ "$v" -eq 0 ] && [ "$b" -ne 0 ]; then
    bad="verify passed but the backup failed: $(head -c 300 "$work/backup.err")"
  elif [ "$v" -eq 1 ] && ! grep -q . "$work/verify.err" && ! python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["problems"] else 1)' "$work/verify.json"; then
    bad="verify exited 1 naming nothing"
  fi
  if [ "$v" -eq 0 ] && [ "$b" -eq 0 ]; then ok=$((ok + 1)); fi
  if [ "$v" -eq 1 ]; then found=$((found + 1)); fi
  if [ -n "$bad" ]; then
    [ "$v" -gt 128 ] || [ "$b" -gt 128 ] || failed=$((failed + 1))
    echo "damage $i ($what): $verdict: FAILED: $bad"
  else
    echo "damage $i ($what): $verdict"
  fi
done
echo "damage drill (seed $seed): $n damages: $found found by verify (exit 1), $ok harmless (verify and backup ok), $crashed crashed (verify or backup died of a signal), $failed other failures"
[ "$crashed" -eq 0 ] && [ "$failed" -eq 0 ] || { echo "damage drill: FAILED"; exit 1; }
echo "damage drill: passed"
