#!/usr/bin/env bash
# The README's test command: installs what is missing, lints the formatting, builds everything (the tests drive the
# built kstore and kstore-drill executables), runs the benchmark package at CI size, then runs
# every test.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
# Formatting and the lint rules of .swift-format (the toolchain's swift-format): exit 1 on any finding.
swift format lint --strict -r Sources Tests Benchmarks/Sources Package.swift Benchmarks/Package.swift
echo "swift format lint: ok"
swift build --build-tests
# Benchmarks/ (its own package) at CI size, so that it cannot rot: 10k generated events, one run,
# no scaling. Debug build (as fast to build as release here, and overflow-checked). Exit 1 when
# SQLite's projected states differ from kstore's for any patient, so this is a test of the
# baseline and of the projection code, not only a build.
swift build --package-path Benchmarks --scratch-path Benchmarks/.build --product kstore-bench
bench_tmp=$(mktemp -d)
trap 'rm -rf "$bench_tmp"' EXIT
Benchmarks/.build/debug/kstore-bench --events 10k --runs 1 --appends 200 --scaling none \
  --workdir "$bench_tmp/work" --json "$bench_tmp/bench.json" >"$bench_tmp/bench.md"
grep -E '^\| (full replay|import NDJSON|SQLite.s states equal)' "$bench_tmp/bench.md"
echo "kstore-bench at CI size: ok"
swift test --skip-build
