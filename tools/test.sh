#!/usr/bin/env bash
# The README's test command: installs what is missing, builds everything (the tests drive the
# built kstore and kstore-drill executables), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
swift build --build-tests
swift test --skip-build
