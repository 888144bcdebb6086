#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft: broker + controller in one JVM) on loopback, for
# development, tests and benchmarks. The jars come from Maven Central (deploy/kafka/pom.xml) and are
# cached in .cache/kafka/libs; nothing else is downloaded.
#
#   deploy/kafka/kafka.sh fetch                       fetch the jars (no-op when cached)
#   deploy/kafka/kafka.sh start [--dir D] [--port P] [--sasl]
#        starts (or restarts, keeping its data) the broker whose state lives in D
#        (default .cache/kafka/dev), on P (default: the port D used before, else a free one);
#        waits until it serves requests; prints its bootstrap address host:port as the LAST line.
#        --sasl: the client listener is SASL_PLAINTEXT (PLAIN and SCRAM-SHA-256; users
#        damselfly/damselfly-secret and admin/admin-secret) instead of PLAINTEXT.
#   deploy/kafka/kafka.sh stop [--dir D]              stops it (SIGTERM, then SIGKILL after 30 s)
#   deploy/kafka/kafka.sh classpath                   prints the classpath (benchmarks use it)
#
# Environment: KAFKA_HEAP (default 512m), KAFKA_START_TIMEOUT_S (default 90).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LIBS="$ROOT/.cache/kafka/libs"
POM="$ROOT/deploy/kafka/pom.xml"

log() { echo "kafka: $*" >&2; }
die() { echo "kafka: error: $*" >&2; exit 1; }

fetch() {
  if [ -f "$LIBS/.complete" ] && [ "$LIBS/.complete" -nt "$POM" ]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
  command -v java >/dev/null || die "java not found (apt-get install openjdk-17-jre-headless)"
  log "fetching Apache Kafka jars from Maven Central into $LIBS"
  rm -rf "$LIBS"; mkdir -p "$LIBS"
  mvn -q -B -f "$POM" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIBS" >&2 \
    || die "maven could not fetch the Kafka jars (see above)"
  touch "$LIBS/.complete"
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

DIR="$ROOT/.cache/kafka/dev"; PORT=""; SASL=0
parse() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir) DIR="$2"; shift 2 ;;
      --port) PORT="$2"; shift 2 ;;
      --sasl) SASL=1; shift ;;
      *) die "unknown option $1" ;;
    esac
  done
  mkdir -p "$DIR"; DIR="$(cd "$DIR" && pwd)"
}

running_pid() {
  [ -f "$DIR/kafka.pid" ] || return 1
  local pid; pid="$(cat "$DIR/kafka.pid")"
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

write_config() {
  local cport="$1" proto="PLAINTEXT" extra=""
  if [ "$SASL" = 1 ]; then
    proto="SASL_PLAINTEXT"
    extra='sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256
sasl.mechanism.inter.broker.protocol=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_damselfly="damselfly-secret";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;'
  fi
  cat > "$DIR/server.properties" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=$proto://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$cport
advertised.listeners=$proto://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=$proto
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
log.dirs=$DIR/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.hours=24
log.flush.interval.messages=9223372036854775807
$extra
CONF
  cat > "$DIR/log4j.properties" <<CONF
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
CONF
}

start() {
  parse "$@"
  fetch
  if pid="$(running_pid)"; then
    log "already running (pid $pid)"; cat "$DIR/bootstrap"; return 0
  fi
  [ -n "$PORT" ] || { [ -f "$DIR/port" ] && PORT="$(cat "$DIR/port")"; } || true
  [ -n "$PORT" ] || PORT="$(free_port)"
  local cport; cport="$( [ -f "$DIR/cport" ] && cat "$DIR/cport" || free_port)"
  echo "$PORT" > "$DIR/port"; echo "$cport" > "$DIR/cport"
  write_config "$cport"
  local cp="$LIBS/*"
  local jvm=(java -Xms128m "-Xmx${KAFKA_HEAP:-512m}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
             -Djava.awt.headless=true "-Dlog4j.configuration=file:$DIR/log4j.properties" -cp "$cp")
  if [ ! -f "$DIR/data/meta.properties" ]; then
    local cid; cid="$(head -c16 /dev/urandom | base64 | tr '+/' 'xy' | tr -d '=')"
    local scram=()
    [ "$SASL" = 1 ] && scram=(--add-scram 'SCRAM-SHA-256=[name=damselfly,password=damselfly-secret]' --add-scram 'SCRAM-SHA-256=[name=admin,password=admin-secret]')
    "${jvm[@]}" kafka.tools.StorageTool format -t "$cid" -c "$DIR/server.properties" "${scram[@]}" \
      > "$DIR/format.log" 2>&1 || { cat "$DIR/format.log" >&2; die "storage format failed"; }
  fi
  : > "$DIR/kafka.out"
  nohup "${jvm[@]}" kafka.Kafka "$DIR/server.properties" >> "$DIR/kafka.out" 2>&1 < /dev/null &
  local pid=$!
  echo "$pid" > "$DIR/kafka.pid"
  local deadline=$(( $(date +%s) + ${KAFKA_START_TIMEOUT_S:-90} ))
  until grep -q "Kafka Server started" "$DIR/kafka.out" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$DIR/kafka.out" >&2; die "broker exited during startup (log: $DIR/kafka.out)"; }
    [ "$(date +%s)" -lt "$deadline" ] || { tail -n 30 "$DIR/kafka.out" >&2; kill "$pid" 2>/dev/null || true; die "broker not ready after ${KAFKA_START_TIMEOUT_S:-90} s"; }
    sleep 0.2
  done
  echo "127.0.0.1:$PORT" > "$DIR/bootstrap"
  log "broker ready (pid $pid, dir $DIR, log $DIR/kafka.out)"
  echo "127.0.0.1:$PORT"
}

stop() {
  parse "$@"
  local pid
  if ! pid="$(running_pid)"; then log "not running ($DIR)"; rm -f "$DIR/kafka.pid"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then log "did not stop in 30 s, killing"; kill -KILL "$pid" 2>/dev/null || true; fi
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$DIR/kafka.pid"
  log "stopped (pid $pid)"
}

case "${1:-}" in
  fetch) fetch; log "jars in $LIBS" ;;
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  classpath) fetch; echo "$LIBS/*" ;;
  *) die "usage: deploy/kafka/kafka.sh fetch|start|stop|classpath [--dir D] [--port P] [--sasl]" ;;
esac
