#!/usr/bin/env bash
# libFuzzer targets of the native core (sensor/native/fuzz/fuzz_*.cc: one per L7 parser, one
# for packet decode and one for the capture file reader), built with clang++ -fsanitize=fuzzer,address,undefined into .cache/fuzz/bin.
# Each target runs for SECONDS on a seed corpus cut from a small generated capture
# (sensor/native/fuzz/make-corpus.mjs -> .cache/fuzz/corpus, not committed); new inputs go to
# .cache/fuzz/work/<target>, crashes to .cache/fuzz/artifacts/. Exit status: 0 when every target
# ran clean, 1 otherwise (libFuzzer prints the sanitizer report and the crashing input).
# Usage: scripts/fuzz.sh [--build-only] [SECONDS (default 60)] [target ...]   targets: dns tls quic dtls http decode pcapfile
# FUZZ_SEED=N fixes libFuzzer's random seed (the test suite does, for reproducible runs).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NATIVE="$ROOT/sensor/native"
CACHE="${FUZZ_CACHE:-$ROOT/.cache/fuzz}"  # FUZZ_CACHE: another place (a worktree sharing .cache)
CXX="${FUZZ_CXX:-clang++}"
BUILD_ONLY=0
[[ "${1:-}" == "--build-only" ]] && { BUILD_ONLY=1; shift; }
SECS="${1:-60}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(dns tls quic dtls http decode pcapfile)

read -r -a NDPI_CFLAGS <<<"$(pkg-config --cflags libndpi)"
read -r -a NDPI_LIBS <<<"$(pkg-config --libs libndpi)"
CXXFLAGS=(-std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined
          -fno-sanitize-recover=undefined -Wall -Wno-unused-parameter "${NDPI_CFLAGS[@]}")

# Core objects: instrumented for coverage (fuzzer-no-link); rebuilt when any core source or
# header changed since the last build.
mkdir -p "$CACHE/obj" "$CACHE/bin" "$CACHE/artifacts"
SRCS=("$NATIVE"/src/core/*.cc "$NATIVE"/src/core/l7/*.cc)
STAMP="$CACHE/obj/.stamp"
if [ ! -f "$STAMP" ] || [ -n "$(find "$NATIVE/src/core" "$NATIVE/fuzz" -newer "$STAMP" -name '*.[ch]*' | head -1)" ]; then
  echo "fuzz: compiling the core with sanitizers (${#SRCS[@]} files)"
  rm -f "$CACHE"/obj/*.o
  printf '%s\n' "${SRCS[@]}" | xargs -P 2 -I{} sh -c \
    'f="$1"; shift; o="$(echo "$f" | sed "s|.*/src/core/||; s|/|_|g; s|\.cc$|.o|")"; exec "$@" -c "$f" -o "'"$CACHE"'/obj/$o"' _ {} \
    "$CXX" "${CXXFLAGS[@]}" -fsanitize=fuzzer-no-link
  rm -f "$CACHE"/bin/fuzz_*
  touch "$STAMP"
fi
for t in "${TARGETS[@]}"; do
  bin="$CACHE/bin/fuzz_$t"
  if [ ! -x "$bin" ]; then
    echo "fuzz: linking fuzz_$t"
    "$CXX" "${CXXFLAGS[@]}" -fsanitize=fuzzer -o "$bin" "$NATIVE/fuzz/fuzz_$t.cc" "$CACHE"/obj/*.o \
      -lpcap -lz -lzstd -lcrypto "${NDPI_LIBS[@]}"
  fi
done
[ "$BUILD_ONLY" -eq 1 ] && exit 0

if [ ! -d "$CACHE/corpus/quic" ]; then  # (re)made when a target without seeds was added
  if [ -f "$ROOT/dist/synth/index.js" ]; then
    node "$NATIVE/fuzz/make-corpus.mjs" "$CACHE/corpus"
  else
    echo "fuzz: dist/ not built: starting from empty corpora"
  fi
fi

status=0
for t in "${TARGETS[@]}"; do
  mkdir -p "$CACHE/work/$t" "$CACHE/corpus/$t"
  echo "fuzz: $t for ${SECS}s"
  # -rss_limit_mb: the decode target keeps up to 4096 flows; anything near this is a leak
  if ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
     "$CACHE/bin/fuzz_$t" ${FUZZ_SEED:+-seed="$FUZZ_SEED"} -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
       -print_final_stats=1 -artifact_prefix="$CACHE/artifacts/$t-" \
       "$CACHE/work/$t" "$CACHE/corpus/$t" >"$CACHE/$t.log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$CACHE/$t.log" | tr '\n' ' ' | sed "s/^/fuzz: $t ok: /"; echo
  else
    status=1
    echo "fuzz: $t FAILED (log: $CACHE/$t.log)"
    grep -E "ERROR: |runtime error|SUMMARY|Test unit written" "$CACHE/$t.log" | head -20
  fi
done
exit $status
