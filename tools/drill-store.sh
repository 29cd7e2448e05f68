#!/usr/bin/env bash
# Sourced by the drills (crash, concurrency, replay kill, tamper, backup) to run them on an
# encrypted store when KSTORE_DRILL_ENCRYPT=1:
#
#   KSTORE_DRILL_ENCRYPT=1 tools/crash-drill.sh
#
# Needs $kstore (the kstore binary). With encryption on it makes a master key in a 0700
# directory of its own (outside every store the drill makes), exports KSTORE_KEY_FILE so every
# `kstore` and `kstore-drill` the drill starts opens the store with it, and sets
# `drill_init_flags` to `--encrypt` (empty otherwise). `drill_init STORE` runs `kstore init` with
# them. `drill_cleanup_key` removes the key directory (the drills call it from their EXIT trap).
drill_init_flags=()
drill_key_dir=""
if [ "${KSTORE_DRILL_ENCRYPT:-0}" = 1 ]; then
  drill_key_dir=$(mktemp -d)
  chmod 700 "$drill_key_dir"
  "$kstore" key generate --out "$drill_key_dir/master.key" >/dev/null
  export KSTORE_KEY_FILE="$drill_key_dir/master.key"
  drill_init_flags=(--encrypt --key-file "$KSTORE_KEY_FILE")
  echo "encrypted stores: master key $KSTORE_KEY_FILE (KSTORE_DRILL_ENCRYPT=1)"
else
  unset KSTORE_KEY_FILE
fi
drill_init() { "$kstore" init --store "$1" "${drill_init_flags[@]}"; }
drill_cleanup_key() { if [ -n "$drill_key_dir" ]; then rm -rf "$drill_key_dir"; fi; }
