#!/usr/bin/env bash
# Installs everything Damselfly needs on a fresh Debian 12 machine: apt packages, npm
# dependencies, the native build and the TypeScript build. Idempotent: re-running skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libpcap-dev argus-server argus-client tshark tcpdump clang libclang-rt-14-dev libndpi-dev libndpi-bin)

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

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

npm run --silent build
