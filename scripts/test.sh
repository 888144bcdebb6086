#!/usr/bin/env bash
# The whole test suite: installs what it needs (scripts/setup.sh), then runs every test file.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# One test file per process (node --test default); concurrency 1 keeps timing-sensitive
# native and sanitizer tests from starving each other on a 2-core machine.
export NODE_OPTIONS="--no-node-snapshot ${NODE_OPTIONS:-}"
mapfile -t files < <(find dist/test -name "*.test.js" | sort)
exec node --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
