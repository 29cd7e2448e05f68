#!/usr/bin/env bash
# Tamper drill: four ways to falsify a store's log, and what `kstore audit verify` says.
#
#   byte     one payload byte of record SEQ changed (still a valid event), its hash left as stored
#   delete   record SEQ removed
#   swap     records SEQ and SEQ+1 exchanged
#   rewrite  as byte, then every hash from SEQ on recomputed and the stored projections rebuilt
#            from the forged log: the chain is consistent again
#
# Each runs on a fresh store of the four case fixtures (projections stored by a query, a
# checkpoint signed by a reviewer's key, as in use). Passes when plain `audit verify` exits 1
# naming SEQ as the first bad sequence for byte, delete and swap and passes for rewrite, and
# `audit verify --checkpoint` (the checkpoint taken before the tamper, every hash pinned with
# --stride 1) exits 1 naming SEQ for all four. With KSTORE_DRILL_ENCRYPT=1 the stores are
# encrypted, a fifth case (flip: a ciphertext byte changed without the key) runs, and
# `audit verify` without the key must name SEQ too (and pass the rewrite). For rewrite it also shows what a checkpoint with
# the default stride says (the range SEQ lies in).
#
#   tools/tamper-drill.sh [SEQ] [BIN_DIR]     (defaults: 700, .build/release)
set -euo pipefail
at=${1:-700}
bin=${2:-.build/release}
kstore="$bin/kstore"
drill="$bin/kstore-drill"
[ -x "$kstore" ] && [ -x "$drill" ] || { echo "build first: swift build -c release" >&2; exit 70; }
here=$(cd "$(dirname "$0")/.." && pwd)
. "$(cd "$(dirname "$0")" && pwd)/drill-store.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"; drill_cleanup_key' EXIT

"$kstore" audit keygen --out "$work/reviewer" >/dev/null
# first problem of a --json report: "SEQ KIND" (or "none")
first() { python3 -c 'import json,sys; p=json.load(sys.stdin)["problems"]; print("%d %s" % (p[0]["sequence"], p[0]["kind"]) if p else "none")' <"$1"; }
detail() { python3 -c 'import json,sys; d=json.load(sys.stdin); p=d["problems"]; print(p[0]["detail"] if p else "")' <"$1"; }
failed=0
modes="byte delete swap rewrite"
# An encrypted store (KSTORE_DRILL_ENCRYPT=1): byte and rewrite re-seal with the key (a forger
# who holds it); flip changes one byte of the sealed ciphertext without the key.
if [ -n "$drill_key_dir" ]; then modes="$modes flip"; fi
for mode in $modes; do
  store="$work/$mode"
  drill_init "$store" >/dev/null
  if [ -x "$here/tools/register-actors.sh" ]; then "$here/tools/register-actors.sh" "$store" "$kstore" >/dev/null; fi
  for f in "$here"/fixtures/case*.ndjson; do "$kstore" import --store "$store" "$f" >/dev/null; done
  "$kstore" query phase --store "$store" >/dev/null
  "$kstore" audit checkpoint --store "$store" --key "$work/reviewer" --stride 1 >"$work/$mode.cp"
  "$kstore" audit checkpoint --store "$store" --key "$work/reviewer" >"$work/$mode.default.cp"
  events=$("$kstore" audit verify --store "$store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"])')
  echo "== $mode (store of $events events; checkpoint signed at $events)"
  echo "   tamper: $("$drill" tamper --store "$store" --mode "$mode" --at "$at")"

  set +e
  "$kstore" audit verify --store "$store" --json >"$work/plain.json"; plain=$?
  "$kstore" audit verify --store "$store" --json --checkpoint "$work/$mode.cp" --public-key "$work/reviewer.pub" >"$work/cp.json"; withcp=$?
  set -e
  echo "   audit verify:                     exit $plain, first problem: $(first "$work/plain.json")"
  echo "   audit verify --checkpoint:        exit $withcp, first problem: $(first "$work/cp.json")"
  echo "      $(detail "$work/cp.json")"
  if [ "$mode" = rewrite ]; then
    [ "$plain" -eq 0 ] || { echo "   FAIL: plain verify should pass a consistent rewrite"; failed=1; }
    set +e
    "$kstore" audit verify --store "$store" --json --checkpoint "$work/$mode.default.cp" --public-key "$work/reviewer.pub" >"$work/dcp.json"; dflt=$?
    set -e
    stride=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["checkpoint"]["stride"])' <"$work/dcp.json")
    echo "   … with a default checkpoint:      exit $dflt, first problem: $(first "$work/dcp.json") (stride $stride)"
    echo "      $(detail "$work/dcp.json")"
  else
    [ "$plain" -eq 1 ] && [ "$(first "$work/plain.json" | cut -d' ' -f1)" = "$at" ] \
      || { echo "   FAIL: plain verify should exit 1 naming $at"; failed=1; }
  fi
  if [ -n "$drill_key_dir" ]; then
    # Without the key (what a compliance officer runs): the chain still names the sequence.
    set +e
    env -u KSTORE_KEY_FILE "$kstore" audit verify --store "$store" --json >"$work/keyless.json"; keyless=$?
    set -e
    echo "   audit verify without the key:     exit $keyless, first problem: $(first "$work/keyless.json")"
    if [ "$mode" = rewrite ]; then
      [ "$keyless" -eq 0 ] || { echo "   FAIL: keyless verify should pass a consistent rewrite"; failed=1; }
    else
      [ "$keyless" -eq 1 ] && [ "$(first "$work/keyless.json" | cut -d' ' -f1)" = "$at" ] \
        || { echo "   FAIL: keyless verify should exit 1 naming $at"; failed=1; }
    fi
    if [ "$mode" = flip ]; then
      kinds=$(python3 -c 'import json,sys; print(" ".join(sorted({p["kind"] for p in json.load(sys.stdin)["problems"] if p["sequence"]==int(sys.argv[1])})))' "$at" <"$work/plain.json")
      echo "      kinds at $at with the key: $kinds"
      case " $kinds " in *" hash-mismatch "*|*" tampered "*) ;; *) echo "   FAIL: flip should be named hash-mismatch or tampered at $at"; failed=1 ;; esac
    fi
  fi
  [ "$withcp" -eq 1 ] && [ "$(first "$work/cp.json" | cut -d' ' -f1)" = "$at" ] \
    || { echo "   FAIL: verify with the checkpoint should exit 1 naming $at"; failed=1; }
done
if [ "$failed" -ne 0 ]; then echo "tamper drill: FAILED"; exit 1; fi
[ -n "$drill_key_dir" ] && echo "tamper drill (encrypted): flip named at $at with and without the key"
echo "tamper drill: byte, delete and swap named at $at by audit verify alone; rewrite named at $at with the checkpoint: passed"
