#!/usr/bin/env bash
# Installs what is needed, then generates a demo capture and runs the whole pipeline on it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node --no-node-snapshot dist/bin/damselfly.js demo "$@"
