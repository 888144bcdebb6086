#!/usr/bin/env bash
# A single-node MinIO S3 server on loopback, for development and tests. The binary is built from
# source with Go (the Go module proxy) into .cache/tools/minio/bin; GOPATH, the module cache and
# the build cache live under .cache/tools/minio too, so nothing lands outside the repository's
# ignored cache. Needs Go >= 1.24 on the PATH the first time only.
#
#   deploy/minio/minio.sh build                    build the binary (no-op, silent, when cached)
#   deploy/minio/minio.sh start [--dir D] [--port P] [--bucket B]
#        starts (or restarts, keeping its data) the server whose state lives in D (default
#        .cache/minio/dev): data in D/data, root credentials generated once into D/credentials
#        (mode 600, shell syntax: AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=…), on P (default: the
#        port D used before, else a free one); waits until it serves requests; --bucket creates
#        that bucket when missing; prints the endpoint http://127.0.0.1:P as the LAST line.
#   deploy/minio/minio.sh stop [--dir D]            stops it (SIGTERM, then SIGKILL after 20 s)
#   deploy/minio/minio.sh status [--dir D]          "running pid N endpoint URL" or "stopped"; exit 0/3
#   deploy/minio/minio.sh env [--dir D]             the credentials and endpoint as shell exports
#
# Environment: MINIO_START_TIMEOUT_S (default 60).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="$ROOT/.cache/tools/minio"
BIN="$TOOLS/bin/minio"
# Pinned so a cached build is recognised and every machine runs the same server: the module
# version `go install github.com/minio/minio@latest` resolved to on 2026-11-28.
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"

log() { echo "minio: $*" >&2; }
die() { echo "minio: error: $*" >&2; exit 1; }

build() {
  if [ -x "$BIN" ] && [ "$(cat "$TOOLS/.version" 2>/dev/null)" = "$MINIO_VERSION" ]; then return 0; fi
  command -v go >/dev/null || die "go not found: install Go >= 1.24 (https://go.dev/dl/) to build the MinIO test server"
  log "building MinIO $MINIO_VERSION from source into $TOOLS (first time only: ~2 min of downloads, 1.2 GB of Go modules, then ~20 min of compiling on 2 cores)"
  mkdir -p "$TOOLS/tmp"
  GOPATH="$TOOLS/gopath" GOMODCACHE="$TOOLS/gopath/pkg/mod" GOCACHE="$TOOLS/gocache" GOBIN="$TOOLS/bin" \
    GOTMPDIR="$TOOLS/tmp" GOFLAGS="-buildvcs=false -modcacherw" GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" \
    go install "github.com/minio/minio@$MINIO_VERSION" >"$TOOLS/build.log" 2>&1 \
    || { tail -n 20 "$TOOLS/build.log" >&2; die "go install github.com/minio/minio@$MINIO_VERSION failed (log: $TOOLS/build.log)"; }
  echo "$MINIO_VERSION" > "$TOOLS/.version"
  # The build cache (~1 GB) only speeds up a rebuild of the same code; the module cache stays.
  rm -rf "$TOOLS/gocache" "$TOOLS/tmp"
  log "built $BIN"
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

DIR="$ROOT/.cache/minio/dev"; PORT=""; BUCKET=""
parse() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir) DIR="$2"; shift 2 ;;
      --port) PORT="$2"; shift 2 ;;
      --bucket) BUCKET="$2"; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  mkdir -p "$DIR"; DIR="$(cd "$DIR" && pwd)"
}

running_pid() {
  [ -f "$DIR/minio.pid" ] || return 1
  local pid; pid="$(cat "$DIR/minio.pid")"
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

credentials() {
  if [ ! -f "$DIR/credentials" ]; then
    local user secret
    user="dfly$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    secret="$(head -c 30 /dev/urandom | base64 | tr '+/' 'xy' | tr -d '=\n')"
    (umask 077; printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' "$user" "$secret" > "$DIR/credentials.tmp")
    mv "$DIR/credentials.tmp" "$DIR/credentials"
  fi
  # shellcheck disable=SC1091
  . "$DIR/credentials"
}

make_bucket() {
  local endpoint="$1" code deadline=$(( $(date +%s) + 30 ))
  # "ready" can come before the object layer takes requests on a loaded machine (503
  # XMinioServerNotInitialized): retry those for a while.
  while :; do
    code="$(curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" \
      --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -X PUT "$endpoint/$BUCKET")"
    case "$code" in
      200|409) return 0 ;;  # created, or already there
      503|000) [ "$(date +%s)" -lt "$deadline" ] || die "creating bucket $BUCKET failed (HTTP $code for 30 s)"; sleep 0.2 ;;
      *) die "creating bucket $BUCKET failed (HTTP $code)" ;;
    esac
  done
}

start() {
  parse "$@"
  build
  credentials
  if pid="$(running_pid)"; then
    log "already running (pid $pid)"
    [ -z "$BUCKET" ] || make_bucket "$(cat "$DIR/endpoint")"
    cat "$DIR/endpoint"; return 0
  fi
  [ -n "$PORT" ] || { [ -f "$DIR/port" ] && PORT="$(cat "$DIR/port")"; } || true
  [ -n "$PORT" ] || PORT="$(free_port)"
  local cport; cport="$( [ -f "$DIR/cport" ] && cat "$DIR/cport" || free_port)"
  echo "$PORT" > "$DIR/port"; echo "$cport" > "$DIR/cport"
  mkdir -p "$DIR/data"
  : > "$DIR/minio.out"
  # Loopback only; no update checks, no telemetry, no console browser; the root credentials
  # travel in the environment, never on the command line (ps would show them).
  MINIO_ROOT_USER="$AWS_ACCESS_KEY_ID" MINIO_ROOT_PASSWORD="$AWS_SECRET_ACCESS_KEY" \
    MINIO_BROWSER=off MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off \
    nohup "$BIN" server --quiet --address "127.0.0.1:$PORT" --console-address "127.0.0.1:$cport" \
    "$DIR/data" >> "$DIR/minio.out" 2>&1 < /dev/null &
  local pid=$!
  echo "$pid" > "$DIR/minio.pid"
  local endpoint="http://127.0.0.1:$PORT"
  local deadline=$(( $(date +%s) + ${MINIO_START_TIMEOUT_S:-60} ))
  until curl -sf -o /dev/null "$endpoint/minio/health/ready"; do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$DIR/minio.out" >&2; rm -f "$DIR/minio.pid"; die "server exited during startup (log: $DIR/minio.out)"; }
    [ "$(date +%s)" -lt "$deadline" ] || { tail -n 30 "$DIR/minio.out" >&2; kill "$pid" 2>/dev/null || true; die "server not ready after ${MINIO_START_TIMEOUT_S:-60} s"; }
    sleep 0.1
  done
  echo "$endpoint" > "$DIR/endpoint"
  [ -z "$BUCKET" ] || make_bucket "$endpoint"
  log "ready (pid $pid, dir $DIR, log $DIR/minio.out; credentials: $DIR/credentials)"
  echo "$endpoint"
}

stop() {
  parse "$@"
  local pid
  if ! pid="$(running_pid)"; then log "not running ($DIR)"; rm -f "$DIR/minio.pid"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then log "did not stop in 20 s, killing"; kill -KILL "$pid" 2>/dev/null || true; fi
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -f "$DIR/minio.pid"
  log "stopped (pid $pid)"
}

status() {
  parse "$@"
  local pid
  if pid="$(running_pid)"; then echo "running pid $pid endpoint $(cat "$DIR/endpoint" 2>/dev/null)"; else echo "stopped"; return 3; fi
}

env_exports() {
  parse "$@"
  [ -f "$DIR/credentials" ] || die "no credentials in $DIR (start it first)"
  credentials
  echo "export AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID"
  echo "export AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY"
  [ -f "$DIR/endpoint" ] && echo "export DAMSELFLY_S3_ENDPOINT=$(cat "$DIR/endpoint")"
  return 0
}

case "${1:-}" in
  build) build ;;
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  status) shift; status "$@" ;;
  env) shift; env_exports "$@" ;;
  *) die "usage: deploy/minio/minio.sh build|start|stop|status|env [--dir D] [--port P] [--bucket B]" ;;
esac
