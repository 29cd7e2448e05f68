#!/usr/bin/env bash
# What operators do to a store's files (issue 11, items 2, 3, 12, 15), driven through the
# command: a data.mdb cut short by a page, an empty data.mdb, a copy this OS user may only read,
# a directory it may not enter, a store on read-only media, a full disk. Each case prints
# "ok" or what went wrong; exit 1 when any case failed. Cases that need root (another OS user,
# mounting a tmpfs) say "skipped" when they cannot run. The Swift tests (StoreFileTests) check
# the same cases in `swift test`.
#
#   tools/store-files-drill.sh [KSTORE_BINARY]        (default .build/release/kstore)
set -uo pipefail
cd "$(dirname "$0")/.."
k=$(realpath "${1:-.build/release/kstore}")
work=$(mktemp -d)
mounts=()
cleanup() {
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAILED: $1" >&2; fail=1; }
# status_of CMD…: runs it, prints its exit status (a death by signal shows as 128+N).
status_of() { "$@" >"$work/out" 2>"$work/err"; echo $?; }
append_args=(--patient P-1 --type ScoreRecorded --at 2026-01-05T09:30:00-05:00 --actor rn.kim --role nurse
  --data '{"instrument":"MADRS","value":12}')

fresh() {
  rm -rf "$1"
  "$k" init --store "$1" >/dev/null
  tools/register-actors.sh "$1" "$k" >/dev/null
  for f in w1 w2 w3; do "$k" import --store "$1" "fixtures/examples/$f.ndjson" >/dev/null; done
}

# A data.mdb short by a page: every command refuses (66) naming the damage; verify fails (1).
s="$work/trunc"
fresh "$s"
used=$(python3 - "$s/data.mdb" <<'EOF'
import struct, sys
# The newer of LMDB's two meta pages (page 0, page 1) holds the last page number in use.
data = open(sys.argv[1], "rb").read(8192)
best = None
for page in (0, 1):
    base = page * 4096 + 16  # after the page header
    magic, version = struct.unpack_from("<II", data, base)
    # magic, version, address, mapsize, two 48-byte database records, then last page and txnid
    last_pg, txnid = struct.unpack_from("<QQ", data, base + 8 + 8 + 8 + 48 * 2)
    if best is None or txnid > best[1]:
        best = (last_pg, txnid)
print((best[0] + 1) * 4096)
EOF
)
truncate -s $((used - 4096)) "$s/data.mdb"
st=$(status_of "$k" log --store "$s")
[ "$st" = 66 ] && grep -q "is damaged" "$work/err" && ok "truncated data.mdb: log exits 66 naming the damage" \
  || bad "truncated data.mdb: log exited $st: $(head -c 300 "$work/err")"
st=$(status_of "$k" audit verify --store "$s")
[ "$st" = 1 ] && grep -q "cut short" "$work/out" && ok "truncated data.mdb: verify exits 1 naming the damage" \
  || bad "truncated data.mdb: verify exited $st: $(head -c 300 "$work/out")"

# An empty data.mdb is not a store; nothing is written into it.
s="$work/empty"
fresh "$s"
: >"$s/data.mdb"
st=$(status_of "$k" audit verify --store "$s")
[ "$st" = 1 ] && grep -q "is damaged or is not a kstore store" "$work/out" && ok "empty data.mdb: verify exits 1" \
  || bad "empty data.mdb: verify exited $st: $(head -c 300 "$work/out")"
st=$(status_of "$k" append --store "$s" "${append_args[@]}")
[ "$st" = 66 ] && [ ! -s "$s/data.mdb" ] && ok "empty data.mdb: append exits 66 and writes nothing" \
  || bad "empty data.mdb: append exited $st, data.mdb now $(stat -c %s "$s/data.mdb") bytes"

if [ "$(id -u)" = 0 ] && command -v runuser >/dev/null; then
  # A copy of the binary that the other user can reach (the checkout may be owner-only).
  cp "$k" "$work/kstore-for-nobody"
  chmod 755 "$work/kstore-for-nobody"
  k_orig=$k
  k="$work/kstore-for-nobody"
  # A copy this OS user may only read verifies; a write says "permission denied".
  s="$work/readable"
  fresh "$s"
  chmod 755 "$s"
  chmod 644 "$s"/*
  st=$(status_of runuser -u nobody -- "$k" audit verify --store "$s")
  [ "$st" = 0 ] && ok "another user's copy: verify reads it (exit 0)" \
    || bad "another user's copy: verify exited $st: $(head -c 300 "$work/err")"
  st=$(status_of runuser -u nobody -- "$k" append --store "$s" "${append_args[@]}")
  [ "$st" = 66 ] && grep -q "permission denied for this OS user (nobody)" "$work/err" \
    && ok "another user's copy: append says permission denied" \
    || bad "another user's copy: append exited $st: $(head -c 300 "$work/err")"
  # A store this user may not enter: a permission error, not "no store".
  s="$work/private"
  fresh "$s"
  st=$(status_of runuser -u nobody -- "$k" log --store "$s")
  [ "$st" = 66 ] && grep -q "permission denied for this OS user" "$work/err" \
    && ok "a store nobody may not enter: log says permission denied" \
    || bad "a store nobody may not enter: log exited $st: $(head -c 300 "$work/err")"
  k=$k_orig
else
  echo "skipped: other OS user cases (need root and runuser)"
fi

m="$work/ro"
mkdir "$m"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=8m tmpfs "$m" 2>/dev/null; then
  mounts+=("$m")
  # A backup on read-only media verifies.
  fresh "$work/src"
  mkdir "$m/store" && cp "$work/src/data.mdb" "$m/store/"
  mount -o remount,ro "$m"
  st=$(status_of "$k" audit verify --store "$m/store")
  [ "$st" = 0 ] && ok "read-only media: verify exits 0" || bad "read-only media: verify exited $st: $(head -c 300 "$work/err")"
else
  echo "skipped: read-only media (needs root to mount a tmpfs)"
fi

m="$work/full"
mkdir "$m"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=1m tmpfs "$m" 2>/dev/null; then
  mounts+=("$m")
  s="$m/store"
  "$k" init --store "$s" >/dev/null
  tools/register-actors.sh "$s" "$k" >/dev/null
  python3 tools/generate-clinic.py --patients 20 --seed 3 --start 2024-11-01 --days 730 --out "$work/full.ndjson" >/dev/null
  st=$(status_of "$k" import --store "$s" "$work/full.ndjson")
  [ "$st" != 0 ] && grep -q "the disk is full" "$work/err" && ! grep -q "Input/output error" "$work/err" \
    && ok "full disk: the import says the disk is full" || bad "full disk: import exited $st: $(head -c 300 "$work/err")"
  st=$(status_of "$k" audit verify --store "$s")
  [ "$st" = 0 ] && ok "full disk: nothing of the file was written, verify passes" || bad "full disk: verify exited $st"
else
  echo "skipped: full disk (needs root to mount a tmpfs)"
fi

[ "$fail" = 0 ] && echo "store files drill: ok" || { echo "store files drill: FAILED" >&2; exit 1; }
