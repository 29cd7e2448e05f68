#!/usr/bin/env bash
# Registers the fixtures' actors (fixtures/actors.tsv) in a store, and the OS user running this
# as the `import-job` interface account that imports on their behalf. Run by the store's admin
# (the OS user who ran `kstore init`).
#
#   tools/register-actors.sh STORE [KSTORE_BINARY]
set -euo pipefail
store=$1
k=${2:-.build/release/kstore}
here=$(cd "$(dirname "$0")/.." && pwd)
"$k" actor add --store "$store" --id import-job --role interface --os-user "$(id -un)" >/dev/null
grep -v '^#' "$here/fixtures/actors.tsv" | while IFS=$'\t' read -r id role os; do
  [ -n "$id" ] && "$k" actor add --store "$store" --id "$id" --role "$role" --os-user "$os" >/dev/null
done
echo "registered import-job (interface, OS user $(id -un)) and $(grep -vc '^#' "$here/fixtures/actors.tsv") fixture actors"
