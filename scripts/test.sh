#!/usr/bin/env bash
# The whole test suite: installs what it needs (scripts/setup.sh), then runs every test file.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# One test file per process (node --test default); concurrency 1 keeps timing-sensitive
# native and sanitizer tests from starving each other on a 2-core machine.
export NODE_OPTIONS="--no-node-snapshot ${NODE_OPTIONS:-}"
# Analyzer bundles compiled by the tests are cached in a folder of this run, not the user's cache.
DAMSELFLY_CACHE_DIR="$(mktemp -d)"
export DAMSELFLY_CACHE_DIR
trap 'rm -rf "$DAMSELFLY_CACHE_DIR"' EXIT
mapfile -t files < <(find dist/test -name "*.test.js" | sort)
node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
