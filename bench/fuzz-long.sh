#!/usr/bin/env bash
# Longer fuzzing session than the test suite's (test/sensor/fuzz.test.ts runs ~15 s per target):
# every libFuzzer target for SECONDS (default 600) each, corpora kept in .cache/fuzz between runs.
# Usage: bench/fuzz-long.sh [SECONDS] [target ...]
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/../scripts/fuzz.sh" "${1:-600}" "${@:2}"
