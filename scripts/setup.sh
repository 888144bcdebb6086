#!/usr/bin/env bash
# Installs everything Damselfly needs on a fresh Debian 12 machine: apt packages, npm
# dependencies, the native build and the TypeScript build. Idempotent: re-running skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build: libpcap, nDPI, clang (fuzzing, sanitizers). Peers and oracles for tests and benchmarks:
# argus, tshark, tcpdump, ndpiReader. Kafka broker: Java + Maven. Network-namespace tests: iproute2,
# util-linux (nsenter, setpriv), openssl, python3. SHA-256 in the Parquet writer: libssl-dev (libcrypto).
# GeoIP test databases: libmaxmind-db-writer-perl.
APT_PACKAGES=(libpcap-dev libzstd-dev liblz4-dev zlib1g-dev tcpreplay argus-server argus-client tshark tcpdump clang libclang-rt-14-dev libndpi-dev libndpi-bin
  maven openjdk-17-jre-headless iproute2 util-linux openssl python3 python3-venv lz4 pkg-config
  libssl-dev libmaxmind-db-writer-perl)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing apt packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# node-gyp (isolated-vm, our addon) builds against the installed Node headers, never downloads them.
if [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi
if [ ! -d node_modules ] || [ package.json -nt node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies"
  # `npm install` honours package-lock.json; `npm ci` refuses it because npm omits the other
  # platforms' optional @duckdb bindings from the lock. Install scripts run only for the packages
  # listed in package.json "allowScripts" (isolated-vm compiles here, about two minutes).
  npm install --no-audit --no-fund --loglevel=error
fi
if [ ! -f node_modules/isolated-vm/out/isolated_vm.node ]; then
  echo "setup: building isolated-vm"
  npm rebuild isolated-vm --loglevel=error
fi

# The duckdb CLI the README's examples use (PyPI duckdb-cli, pinned with the lake's DuckDB), in a
# venv under .cache/tools; put on the PATH as /usr/local/bin/duckdb when that is free (as root).
DUCKDB_CLI_VERSION=1.5.5
TOOLS=.cache/tools
if [ ! -x "$TOOLS/venv/bin/duckdb" ] || ! "$TOOLS/venv/bin/duckdb" --version 2>/dev/null | grep -q "v$DUCKDB_CLI_VERSION"; then
  echo "setup: installing the duckdb CLI $DUCKDB_CLI_VERSION (PyPI duckdb-cli)"
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check "duckdb-cli==$DUCKDB_CLI_VERSION"
fi
if [ "$(id -u)" -eq 0 ] && { [ ! -e /usr/local/bin/duckdb ] || [ -L /usr/local/bin/duckdb ]; }; then
  ln -sfn "$PWD/$TOOLS/venv/bin/duckdb" /usr/local/bin/duckdb
fi

# MinIO, the S3 server of the S3 tests and `npm run s3:start`: built from source with Go (the Go
# module proxy) into .cache/tools/minio by deploy/minio/minio.sh (silent when cached). Without Go
# (>= 1.24) or when the build fails, the S3 tests skip and say why; the rest does not need it.
if [ -x .cache/tools/minio/bin/minio ] || command -v go >/dev/null; then
  bash deploy/minio/minio.sh build || echo "setup: the MinIO build failed (above); the S3 tests will skip"
else
  echo "setup: go not found: MinIO (the S3 test server) is not built and the S3 tests will skip (install Go >= 1.24)"
fi

npm run --silent build
