#!/usr/bin/env bash
# Builds the native parts:
#   sensor/native/build/Release/damselfly_native.node  (the sensor core: N-API addon, node-gyp, -O3)
#   sensor/native/build/damselfly-replay               (standalone CLI, same core, no N-API)
#   sinks/parquet/native/build/Release/damselfly_parquet.node  (the Parquet writer; libzstd-dev)
#   streams/native/build/Release/damselfly_streams.node  (row gathers, Kafka LZ4/zstd; liblz4-dev, libzstd-dev)
# With --asan: only the replay tool, with AddressSanitizer + UBSan, into sensor/native/build-asan/.
# libpcap and libndpi are linked from the system (libpcap-dev, libndpi-dev via pkg-config); Node headers come from /usr/include/node.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NATIVE="$ROOT/sensor/native"
CXX="${CXX:-g++}"
CORE_SRCS=("$NATIVE"/src/core/*.cc "$NATIVE"/src/core/l7/*.cc)
# nDPI (libndpi-dev 4.2) through pkg-config
read -r -a NDPI_CFLAGS <<<"$(pkg-config --cflags libndpi)"
read -r -a NDPI_LIBS <<<"$(pkg-config --libs libndpi)"

if [[ "${1:-}" == "--asan" ]]; then
  mkdir -p "$NATIVE/build-asan"
  "$CXX" -std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
    -fno-sanitize-recover=undefined -Wall -Wextra \
    -o "$NATIVE/build-asan/damselfly-replay" "${NDPI_CFLAGS[@]}" "$NATIVE/tools/replay.cc" "${CORE_SRCS[@]}" -lpcap -lz -lzstd -lcrypto "${NDPI_LIBS[@]}"
  echo "built $NATIVE/build-asan/damselfly-replay"
  exit 0
fi

NODEDIR="${NODEDIR:-/usr}"
cd "$NATIVE"
"$ROOT/node_modules/.bin/node-gyp" rebuild --nodedir="$NODEDIR" --release --loglevel=warn -j 2 >/dev/null
"$CXX" -std=c++17 -O3 -Wall -Wextra -o "$NATIVE/build/damselfly-replay" \
  "${NDPI_CFLAGS[@]}" "$NATIVE/tools/replay.cc" "${CORE_SRCS[@]}" -lpcap -lz -lzstd -lcrypto "${NDPI_LIBS[@]}"
(cd "$ROOT/sinks/parquet/native" && "$ROOT/node_modules/.bin/node-gyp" rebuild --nodedir="$NODEDIR" --release --loglevel=warn -j 2 >/dev/null)
(cd "$ROOT/streams/native" && "$ROOT/node_modules/.bin/node-gyp" rebuild --nodedir="$NODEDIR" --release --loglevel=warn -j 2 >/dev/null)
echo "built $NATIVE/build/Release/damselfly_native.node, $NATIVE/build/damselfly-replay, $ROOT/sinks/parquet/native/build/Release/damselfly_parquet.node and $ROOT/streams/native/build/Release/damselfly_streams.node"
