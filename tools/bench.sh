#!/usr/bin/env bash
# The benchmark, from nothing, in one command:
#
#   tools/bench.sh [kstore-bench options]
#
# installs what is missing (tools/setup.sh), builds Benchmarks' kstore-bench in release, then runs
# it with the defaults: a 1M-event generated clinic (≈ 2,050 patients) for the main table — kstore
# beside the SQLite baseline, a PostgreSQL peer and the raw LMDB scan, medians of 3 runs — and the
# scaling table at 100k, 1M and 4M events. The PostgreSQL peer runs against a scratch cluster
# (tools/pg-scratch.sh: Debian's server, loopback only) started here and destroyed on exit; its
# URL reaches kstore-bench in KSTORE_BENCH_PG_URL (not on the command line, which `ps` shows).
# With KSTORE_BENCH_PG_URL already set, that database is used instead (its schema kstore_bench
# is dropped and created again); with BENCH_POSTGRES=0 there is no PostgreSQL peer. The table goes to stdout and bench-results/bench-<UTC time>.md, every
# figure to bench-results/bench-<UTC time>.json. Options (see `kstore-bench --help`) are passed
# on, e.g. `tools/bench.sh --events 200k --scaling none --runs 1` for a quick look.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
tools/setup.sh
swift build -c release --package-path Benchmarks --scratch-path Benchmarks/.build --product kstore-bench >&2
built=$(date +%s)
out=bench-results
mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
work=$(mktemp -d "${TMPDIR:-/tmp}/kstore-bench.XXXXXX")
pgdir=""
cleanup() {
  if [ -n "$pgdir" ]; then tools/pg-scratch.sh destroy "$pgdir" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
if [ "${BENCH_POSTGRES:-1}" != 0 ] && [ -z "${KSTORE_BENCH_PG_URL:-}" ]; then
  pgdir="$work/pg"
  KSTORE_BENCH_PG_URL=$(tools/pg-scratch.sh start "$pgdir")
  export KSTORE_BENCH_PG_URL
  echo "tools/bench.sh: PostgreSQL peer on a scratch cluster ($(tools/pg-scratch.sh psql "$pgdir" -Atc 'SHOW server_version'))" >&2
elif [ "${BENCH_POSTGRES:-1}" = 0 ]; then
  unset KSTORE_BENCH_PG_URL
fi
Benchmarks/.build/release/kstore-bench --workdir "$work" --json "$out/bench-$stamp.json" "$@" | tee "$out/bench-$stamp.md"
end=$(date +%s)
echo "tools/bench.sh: $((end - start)) s in all (setup and build $((built - start)) s); results in $out/bench-$stamp.md and .json" >&2
