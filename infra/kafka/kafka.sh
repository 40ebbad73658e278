#!/usr/bin/env bash
# Orchestron's test broker: a real Apache Kafka broker in KRaft mode, one node (combined
# broker + controller), without Docker. The broker's jars come from Maven Central through
# Maven (infra/kafka/pom.xml) into the local Maven cache. Run with --help for the details;
# docs/adr/0006-kafka-broker-version.md says why this version and how long it takes.
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd)
POM="$SCRIPT_DIR/pom.xml"
CLI_SRC="$SCRIPT_DIR/KafkaCli.java"

HOST=127.0.0.1
KHOME=${ORCHESTRON_KAFKA_HOME:-"$REPO_ROOT/.orchestron/kafka"}
PORT=${ORCHESTRON_KAFKA_PORT:-9092}
CONTROLLER_PORT=${ORCHESTRON_KAFKA_CONTROLLER_PORT:-9093}
START_TIMEOUT=${ORCHESTRON_KAFKA_START_TIMEOUT:-90}
STOP_TIMEOUT=${ORCHESTRON_KAFKA_STOP_TIMEOUT:-30}
HEAP_OPTS=${ORCHESTRON_KAFKA_HEAP_OPTS:-"-Xmx512m -Xms256m"}
GROUP_MIN_SESSION_TIMEOUT_MS=${ORCHESTRON_KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS:-6000}
PINNED_VERSION=$(sed -n 's:.*<kafka\.version>\([^<]*\)</kafka\.version>.*:\1:p' "$POM" | head -n 1)
VERSION=${ORCHESTRON_KAFKA_VERSION:-$PINNED_VERSION}

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  JAVA="$JAVA_HOME/bin/java"
  JAVAC="$JAVA_HOME/bin/javac"
else
  JAVA=java
  JAVAC=javac
fi

BOOTSTRAP="$HOST:$PORT"
DATA_DIR="$KHOME/data"
LOG_DIR="$KHOME/logs"
CONF_DIR="$KHOME/config"
CACHE_DIR="$KHOME/cache"
PID_FILE="$KHOME/kafka.pid"
SERVER_LOG="$LOG_DIR/server.log"
JVM_OUT="$LOG_DIR/kafka.out"
CLUSTER_ID_FILE="$KHOME/cluster.id"
FORMATTED_VERSION_FILE="$DATA_DIR/.orchestron-formatted-by"
ME="infra/kafka/kafka.sh"

usage() {
  cat <<EOF
usage: $ME start|stop|status|logs [-f]|cli <command>|classpath|--help

A real Apache Kafka $VERSION broker for Orchestron's tests, without Docker: KRaft mode,
one node that is both broker and controller, PLAINTEXT on $HOST:$PORT (controller on
$HOST:$CONTROLLER_PORT), its data and logs under $KHOME.

  start      Resolve the broker from Maven Central with Maven (first run only: about
             70 MB into the local Maven cache, ~/.m2 unless MAVEN_OPTS sets
             -Dmaven.repo.local), format the storage once, start the JVM in the
             background and wait (up to ORCHESTRON_KAFKA_START_TIMEOUT s) until the broker
             answers a Kafka API call (describeCluster + listTopics) on $HOST:$PORT.
             Exits 0 when it answers, also when it was already running (or when some other
             Kafka already answers on that port). On failure prints the end of the log and
             exits 1. Concurrent starts are serialised with a lock; only one broker starts.
  stop       SIGTERM (controlled shutdown), wait up to ORCHESTRON_KAFKA_STOP_TIMEOUT s,
             then SIGKILL. Exits 0 also when it was not running. Data is kept.
  status     Prints running (pid, port, whether it answers) or stopped.
             Exit status 0 when running, 3 when stopped.
  logs [-f]  The broker's log ($SERVER_LOG): the last 100 lines, following
             it when the output is a terminal or -f is given.
  cli ...    A small Kafka client on the broker's classpath (KafkaCli.java):
               cli ready | cli topics | cli create-topic <topic> [partitions] [rf]
               cli delete-topic <topic> | cli produce <topic> <key> <value>
               cli consume <topic> <count> [timeoutMs]
  classpath  Print the broker's classpath (resolving it if needed).

Environment:
  ORCHESTRON_KAFKA_HOME             data, logs, config, pid file (default <repo>/.orchestron/kafka)
  ORCHESTRON_KAFKA_PORT             broker port (default 9092)
  ORCHESTRON_KAFKA_CONTROLLER_PORT  KRaft controller port (default 9093)
  ORCHESTRON_KAFKA_START_TIMEOUT    seconds start waits for the broker (default 90)
  ORCHESTRON_KAFKA_STOP_TIMEOUT     seconds stop waits before SIGKILL (default 30)
  ORCHESTRON_KAFKA_HEAP_OPTS        JVM heap (default "-Xmx512m -Xms256m")
  ORCHESTRON_KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS
                                    the shortest session timeout a consumer may ask for (default 6000,
                                    Kafka's; the failover bench lowers it, ADR 22)
  ORCHESTRON_KAFKA_VERSION          override the pinned version ($PINNED_VERSION, infra/kafka/pom.xml);
                                    a version other than the pinned one is not supported
  MAVEN_OPTS                        passed to mvn, e.g. -Dmaven.repo.local=/path for another cache

To start afresh (new cluster, no topics): $ME stop && rm -rf "$KHOME"
Needs: Java 17+ (a JDK: java and javac, from JAVA_HOME or PATH), mvn 3.6.3+, flock and
setsid (util-linux), and Maven Central reachable on the first run.
EOF
}

say() { printf '%s\n' "kafka: $*"; }
die() { printf '%s\n' "kafka: error: $*" >&2; exit 1; }

# ---------------------------------------------------------------- process and port checks

# The pid in the pid file, if that process is alive and is our broker.
broker_pid() {
  local pid
  [[ -f "$PID_FILE" ]] || return 1
  pid=$(<"$PID_FILE")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # guard against pid reuse: the process must be a kafka.Kafka started with our config
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $CONF_DIR/server.properties" || return 1
  printf '%s\n' "$pid"
}

port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

# ---------------------------------------------------------------- classpath

require_java() {
  command -v "$JAVA" >/dev/null 2>&1 || die "java not found: the broker needs Java 17 or later (PATH or JAVA_HOME)"
  local v
  v=$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')
  [[ "${v%%.*}" =~ ^[0-9]+$ ]] || die "cannot tell the Java version (java.specification.version='$v')"
  if (( ${v%%.*} < 17 )); then
    die "Java $v found; Kafka $VERSION needs Java 17 or later (set PATH or JAVA_HOME)"
  fi
}

classpath_file() {
  local key
  key=$( { cat "$POM"; printf '%s\n' "$VERSION" "${MAVEN_OPTS:-}"; } | sha256sum | cut -c1-16)
  printf '%s\n' "$CACHE_DIR/classpath-$VERSION-$key.txt"
}

# Every entry of a cached classpath still exists (the Maven cache may have been cleared).
classpath_valid() {
  local file=$1 jar
  [[ -s "$file" ]] || return 1
  local -a jars
  IFS=: read -r -a jars <"$file"
  (( ${#jars[@]} > 0 )) || return 1
  for jar in "${jars[@]}"; do
    [[ -f "$jar" ]] || return 1
  done
}

# Sets CP to the broker's runtime classpath, resolving it with Maven when not cached.
resolve_classpath() {
  local file tmp started
  file=$(classpath_file)
  if ! classpath_valid "$file"; then
    command -v mvn >/dev/null 2>&1 || die "mvn not found: it resolves the broker from Maven Central (apt-get install -y maven)"
    mkdir -p "$CACHE_DIR" "$LOG_DIR"
    say "resolving Kafka $VERSION from Maven Central (first run only)…"
    started=$SECONDS
    tmp="$file.tmp.$$"
    if ! mvn -q -B -Dstyle.color=never -f "$POM" \
        -Dkafka.version="$VERSION" \
        dependency:build-classpath \
        -Dmdep.includeScope=runtime -Dmdep.outputFile="$tmp" >"$LOG_DIR/mvn.log" 2>&1; then
      tail -n 40 "$LOG_DIR/mvn.log" >&2 || true
      rm -f "$tmp"
      die "Maven could not resolve org.apache.kafka:kafka_2.13:$VERSION (full output: $LOG_DIR/mvn.log)"
    fi
    classpath_valid "$tmp" || { rm -f "$tmp"; die "Maven produced an empty or broken classpath (see $LOG_DIR/mvn.log)"; }
    mv -f "$tmp" "$file"
    say "resolved in $((SECONDS - started)) s ($(tr ':' '\n' <"$file" | wc -l) jars)"
  fi
  CP=$(<"$file")
}

# ---------------------------------------------------------------- the CLI helper

write_tools_log4j() {
  mkdir -p "$CONF_DIR"
  cat >"$CONF_DIR/tools-log4j2.properties" <<'EOF'
# Log4j 2 for KafkaCli and the storage tool: errors only, to stderr.
status = error
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = error
rootLogger.appenderRef.err.ref = STDERR
EOF
}

# Compiles KafkaCli.java once per source change (a compiled class starts ~1 s faster than
# java's source-file mode, and start polls with it).
ensure_cli() {
  local out="$CACHE_DIR/cli"
  if [[ ! -f "$out/KafkaCli.class" || "$CLI_SRC" -nt "$out/KafkaCli.class" ]]; then
    command -v "$JAVAC" >/dev/null 2>&1 || die "javac not found: a JDK (not only a JRE) is needed for the readiness check"
    mkdir -p "$out"
    "$JAVAC" -nowarn -d "$out" -cp "$CP" "$CLI_SRC" || die "could not compile $CLI_SRC"
  fi
  [[ -f "$CONF_DIR/tools-log4j2.properties" ]] || write_tools_log4j
}

cli() {
  "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dlog4j2.configurationFile="$CONF_DIR/tools-log4j2.properties" \
    -cp "$CACHE_DIR/cli:$CP" KafkaCli "$BOOTSTRAP" "$@"
}

api_ready() {
  cli ready 3000 >/dev/null 2>&1
}

# ---------------------------------------------------------------- config and storage

write_config() {
  mkdir -p "$CONF_DIR" "$DATA_DIR" "$LOG_DIR"
  cat >"$CONF_DIR/server.properties" <<EOF
# Generated by $ME on every start; edit the script, not this file.
# A single-node KRaft test broker: broker and controller in one process.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT

log.dirs=$DATA_DIR
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
# Topics are created explicitly by Orchestron; auto-creation stays at Kafka's default (on).
auto.create.topics.enable=true

# One broker: every internal topic with one replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Tests: consumer groups start without waiting for more members.
group.initial.rebalance.delay.ms=0
# How soon a dead member may be noticed, at the quickest (ADR 22).
group.min.session.timeout.ms=$GROUP_MIN_SESSION_TIMEOUT_MS
EOF

  cat >"$CONF_DIR/log4j2.properties" <<'EOF'
# Log4j 2 for the broker: everything to ${kafka.logs.dir}/server.log, rolled at 50 MB.
status = warn
name = orchestron-kafka
# Kafka shuts itself down on SIGTERM; Log4j's own hook would only race it. Lines are flushed as written.
shutdownHook = disable
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.filePattern = ${sys:kafka.logs.dir}/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = info
rootLogger.appenderRef.file.ref = FILE
# as in Kafka's own config: quiet the per-request and state-change chatter
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.state.name = state.change.logger
logger.state.level = warn
EOF
  write_tools_log4j
}

format_storage_once() {
  if [[ -f "$DATA_DIR/meta.properties" ]]; then
    if [[ -f "$FORMATTED_VERSION_FILE" ]] && [[ "$(<"$FORMATTED_VERSION_FILE")" != "$VERSION" ]]; then
      say "note: $DATA_DIR was formatted by Kafka $(<"$FORMATTED_VERSION_FILE"), starting $VERSION on it" \
        "(if it fails: $ME stop && rm -rf \"$KHOME\")"
    fi
    return 0
  fi
  local cluster_id
  if [[ -s "$CLUSTER_ID_FILE" ]]; then
    cluster_id=$(<"$CLUSTER_ID_FILE")
  else
    cluster_id=$("$JAVA" -cp "$CP" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    [[ "$cluster_id" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "kafka.tools.StorageTool random-uuid gave '$cluster_id'"
    printf '%s\n' "$cluster_id" >"$CLUSTER_ID_FILE"
  fi
  say "formatting storage in $DATA_DIR (cluster id $cluster_id)"
  if ! "$JAVA" -Dlog4j2.configurationFile="$CONF_DIR/tools-log4j2.properties" -cp "$CP" \
      kafka.tools.StorageTool format --ignore-formatted \
      -t "$cluster_id" -c "$CONF_DIR/server.properties" >"$LOG_DIR/format.log" 2>&1; then
    cat "$LOG_DIR/format.log" >&2
    die "formatting the storage failed (output above, also in $LOG_DIR/format.log)"
  fi
  printf '%s\n' "$VERSION" >"$FORMATTED_VERSION_FILE"
}

# ---------------------------------------------------------------- commands

# Sizes of the logs when this start launched the JVM, so a failure shows only its own lines.
LOG_MARK=0
OUT_MARK=0

file_size() { stat -c %s "$1" 2>/dev/null || printf '0\n'; }

# The last 40 lines a file got since byte offset $2 (all of it if it was rotated since).
tail_since() {
  local file=$1 mark=$2
  [[ -f "$file" ]] || return 0
  if (( $(file_size "$file") < mark )); then mark=0; fi
  tail -c +"$((mark + 1))" "$file" | tail -n 40
}

show_failure() {
  local why=$1 out log
  printf '\n' >&2
  out=$(tail_since "$JVM_OUT" "$OUT_MARK")
  log=$(tail_since "$SERVER_LOG" "$LOG_MARK")
  if [[ -n "$out" ]]; then
    printf '%s\n%s\n' "---- $JVM_OUT (JVM stdout/stderr), last 40 lines of this start ----" "$out" >&2
  fi
  if [[ -n "$log" ]]; then
    printf '%s\n%s\n' "---- $SERVER_LOG, last 40 lines of this start ----" "$log" >&2
  else
    printf '%s\n' "---- $SERVER_LOG: no lines from this start ----" >&2
  fi
  cat >&2 <<EOF
----
kafka: error: $why
To investigate: read $SERVER_LOG (ERROR/FATAL lines) and $JVM_OUT;
check that nothing else holds ports $PORT/$CONTROLLER_PORT (ss -ltnp | grep -E ':($PORT|$CONTROLLER_PORT) ');
the generated config is $CONF_DIR/server.properties. To start from scratch:
  $ME stop && rm -rf "$KHOME" && $ME start
EOF
}

wait_until_ready() {
  local pid=$1 started=$SECONDS
  printf 'kafka: waiting for the broker on %s ' "$BOOTSTRAP"
  while (( SECONDS - started < START_TIMEOUT )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PID_FILE"
      show_failure "the broker (pid $pid) exited during start-up"
      return 1
    fi
    if port_open "$PORT" && api_ready; then
      printf ' ready\n'
      say "Kafka $VERSION running on $BOOTSTRAP (pid $pid), up in $((SECONDS - started)) s; log: $SERVER_LOG"
      return 0
    fi
    printf '.'
    sleep 1
  done
  show_failure "the broker (pid $pid) did not answer on $BOOTSTRAP within $START_TIMEOUT s; stopping it"
  stop_pid "$pid" >/dev/null 2>&1 || true
  return 1
}

lock() {
  mkdir -p "$KHOME"
  exec 9>"$KHOME/.lock"
  if ! flock -w 300 9; then
    die "another $ME is still running after 300 s (lock $KHOME/.lock)"
  fi
}

cmd_start() {
  lock
  local pid
  if pid=$(broker_pid); then
    resolve_classpath
    ensure_cli
    if port_open "$PORT" && api_ready; then
      say "already running on $BOOTSTRAP (pid $pid); log: $SERVER_LOG"
      return 0
    fi
    say "already started (pid $pid) but not answering yet"
    wait_until_ready "$pid"
    return
  fi
  rm -f "$PID_FILE"

  require_java
  resolve_classpath
  ensure_cli

  if port_open "$PORT"; then
    if api_ready; then
      say "a Kafka broker not started by $ME already answers on $BOOTSTRAP; using it"
      return 0
    fi
    die "port $PORT on $HOST is in use by something that is not Kafka (ss -ltnp | grep ':$PORT ')"
  fi
  if port_open "$CONTROLLER_PORT"; then
    die "controller port $CONTROLLER_PORT on $HOST is in use (ss -ltnp | grep ':$CONTROLLER_PORT '); set ORCHESTRON_KAFKA_CONTROLLER_PORT"
  fi

  write_config
  format_storage_once

  say "starting Kafka $VERSION (KRaft, single node) on $BOOTSTRAP, data in $DATA_DIR"
  local -a heap
  read -r -a heap <<<"$HEAP_OPTS"
  LOG_MARK=$(file_size "$SERVER_LOG")
  OUT_MARK=$(file_size "$JVM_OUT")
  printf '==== %s starting Kafka %s ====\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$VERSION" >>"$JVM_OUT"
  # setsid: its own session, so the broker outlives the shell or test runner that started it
  # and a Ctrl-C there does not reach it. nohup and setsid both exec, so $! is the JVM's pid.
  # 9>&-: the JVM must not inherit the lock, or every later start/stop would wait on it.
  nohup setsid "$JAVA" "${heap[@]}" -server \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dkafka.logs.dir="$LOG_DIR" \
    -Dlog4j2.configurationFile="$CONF_DIR/log4j2.properties" \
    -cp "$CP" kafka.Kafka "$CONF_DIR/server.properties" \
    </dev/null >>"$JVM_OUT" 2>&1 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$PID_FILE"
  wait_until_ready "$pid"
}

stop_pid() {
  local pid=$1 waited=0
  kill -TERM "$pid" 2>/dev/null || return 0
  printf 'kafka: stopping pid %s ' "$pid"
  while kill -0 "$pid" 2>/dev/null && (( waited < STOP_TIMEOUT * 2 )); do
    printf '.'
    sleep 0.5
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    printf ' still alive after %s s, SIGKILL' "$STOP_TIMEOUT"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  printf ' stopped\n'
}

cmd_stop() {
  lock
  local pid
  if ! pid=$(broker_pid); then
    rm -f "$PID_FILE"
    say "not running"
    return 0
  fi
  stop_pid "$pid"
  rm -f "$PID_FILE"
}

cmd_status() {
  local pid port_state="port not open yet"
  if pid=$(broker_pid); then
    if port_open "$PORT"; then port_state="port open"; fi
    say "running: pid $pid, Kafka $VERSION on $BOOTSTRAP ($port_state), home $KHOME"
    return 0
  fi
  if port_open "$PORT"; then
    say "stopped (no broker of ours; but something listens on $BOOTSTRAP), home $KHOME"
  else
    say "stopped (port $PORT free), home $KHOME"
  fi
  return 3
}

cmd_logs() {
  [[ -f "$SERVER_LOG" ]] || die "no log yet at $SERVER_LOG (has the broker been started?)"
  if [[ "${1:-}" == "-f" || "${1:-}" == "--follow" || -t 1 ]]; then
    exec tail -n 100 -F "$SERVER_LOG"
  fi
  tail -n 100 "$SERVER_LOG"
}

main() {
  [[ -n "$PINNED_VERSION" ]] || die "no <kafka.version> in $POM"
  local cmd=${1:-}
  (( $# > 0 )) && shift
  case "$cmd" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    logs) cmd_logs "$@" ;;
    cli)
      (( $# > 0 )) || { usage >&2; exit 2; }
      require_java
      resolve_classpath
      ensure_cli
      cli "$@"
      ;;
    classpath)
      resolve_classpath
      printf '%s\n' "$CP"
      ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
