#!/usr/bin/env bash
# An Orchestron worker in bash, with kcat and jq, written from docs/asyncapi.yaml alone ("A worker's duties").
# Usage: kcat-worker.sh <worker-name>     (see examples/workers/README.md)
#
# It consumes <prefix>orchestron.commands.<worker> in the group <prefix>orchestron-worker-<worker> (a new group
# from the earliest offset) and, for each command:
#   1. dedupes by idempotencyKey: a directory per key, claimed with mkdir (atomic, shared by the instances that
#      share the state directory); a key already done reports its stored outcome again, one still running is left
#      alone;
#   2. past its deadline, does not run it: step.failed STEP.DEADLINE_EXCEEDED, retryable;
#   3. runs the action, sending step.started once it has run 200 ms, and step.heartbeat every heartbeatIntervalMs;
#      an action still running at the deadline is stopped and reported as STEP.DEADLINE_EXCEEDED;
#   4. reports exactly one step.completed or step.failed, keyed by runId, partitioned with murmur2, with the
#      command's traceparent, acknowledged by all in-sync replicas;
#   5. only then marks the command's offset done.
# kcat cannot commit a group offset after our report, so the worker never lets it commit at all
# (enable.auto.offset.store=false) and keeps its done offsets in the state directory instead: a restart reads
# the topic from its start and skips, without a word, what this state directory has already handled.
set -uo pipefail

WORKER=${1:-}
if [[ -z $WORKER || $WORKER == -h || $WORKER == --help ]]; then
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  echo "Environment: ORCHESTRON_KAFKA_BROKERS (default 127.0.0.1:9092), ORCHESTRON_TOPIC_PREFIX (default none),"
  echo "KCAT_WORKER_STATE (default \${TMPDIR:-/tmp}/orchestron-kcat-worker/<prefix><worker>)."
  [[ -n $WORKER ]] && exit 0 || exit 2
fi
if [[ ! $WORKER =~ ^[A-Za-z0-9._-]+$ ]]; then
  echo "kcat-worker: the worker name must be letters, digits, '.', '_' or '-' (it names a topic), not '$WORKER'" >&2
  exit 2
fi
for tool in kcat jq sha256sum; do
  if ! command -v "$tool" >/dev/null; then
    echo "kcat-worker: $tool is not installed (Debian/Ubuntu: apt-get install -y kcat jq)" >&2
    exit 2
  fi
done

BROKERS=${ORCHESTRON_KAFKA_BROKERS:-127.0.0.1:9092}
PREFIX=${ORCHESTRON_TOPIC_PREFIX:-}
TOPIC="${PREFIX}orchestron.commands.${WORKER}"
EVENTS="${PREFIX}orchestron.step.events"
DLQ="${PREFIX}orchestron.dlq"
GROUP="${PREFIX}orchestron-worker-${WORKER}"
STATE=${KCAT_WORKER_STATE:-${TMPDIR:-/tmp}/orchestron-kcat-worker/${PREFIX}${WORKER}}
# For the tests of worker-check only: a worker that breaks the contract on purpose (comma-separated).
#   run-duplicates: no idempotency ledger, every delivery runs;  ignore-deadline: runs commands past their deadline.
FAULT=${KCAT_WORKER_FAULT:-}
fault() { [[ ,$FAULT, == *,$1,* ]]; }
STARTED_AFTER_MS=200
mkdir -p "$STATE/keys" "$STATE/offsets"

log() { printf 'kcat-worker %s: %s\n' "$WORKER" "$*" >&2; }

# Epoch ms into NOW, without a process (bash 5's EPOCHREALTIME).
now_ms() {
  local t=${EPOCHREALTIME/[.,]/}
  NOW=$((t / 1000))
}

# publish <topic> <key> <traceparent or empty> <one-line JSON>: returns once all in-sync replicas have it.
publish() {
  local headers=()
  [[ -n $3 ]] && headers=(-H "traceparent=$3")
  printf '%s\n' "$4" | kcat -P -b "$BROKERS" -t "$1" -k "$2" "${headers[@]}" \
    -X acks=all -X partitioner=murmur2_random -X enable.idempotence=true -X message.timeout.ms=30000
}

# report <type> [jq expression for extra fields]: a StepEvent about the current command.
report() {
  local message
  message=$(jq -cn --arg type "$1" --arg runId "$RUN_ID" --arg stepId "$STEP_ID" --argjson attempt "$ATTEMPT" \
    --arg phase "$PHASE" --argjson extra "${2:-"{}"}" '{type: $type, runId: $runId, stepId: $stepId,
    attempt: $attempt, phase: $phase} + $extra')
  publish "$EVENTS" "$RUN_ID" "$TRACEPARENT" "$message"
}

# --- actions: each reads the command's input (JSON) as $1, prints its output (JSON) on stdout and exits 0; exit 1
# --- is a retryable failure, 2 a terminal one, with the message on stderr's last line.
action_worker_check() {
  # The action `orchestron worker-check` sends: wait input.sleepMs, return the nonce and an id new to this execution.
  local sleep_ms
  sleep_ms=$(jq -r '(.sleepMs? // 0) | if type == "number" and . >= 0 and . <= 60000 then floor else 0 end' <<<"$1")
  sleep "$((sleep_ms / 1000)).$(printf '%03d' $((sleep_ms % 1000)))"
  jq -cn --argjson input "$1" --arg execution "$(cat /proc/sys/kernel/random/uuid)" \
    '{nonce: ($input.nonce? // null), execution: $execution}'
}

action_echo() { jq -c '{echo: .}' <<<"$1"; }

run_action() {
  case "$1" in
    worker-check) action_worker_check "$2" ;;
    echo) action_echo "$2" ;;
    *)
      echo "worker \"$WORKER\" has no handler for $1" >&2
      return 3
      ;;
  esac
}

# The outcome (a full report message) of running the action with step.started and heartbeats around it.
execute() {
  local out err started=0 deadline_hit=0 rc message
  out=$(mktemp "$STATE/run.XXXXXX.out")
  err=$(mktemp "$STATE/run.XXXXXX.err")
  run_action "$ACTION" "$INPUT" >"$out" 2>"$err" &
  local pid=$! next_beat=0 began
  now_ms
  began=$NOW
  [[ $HEARTBEAT_MS != null ]] && next_beat=$((began + HEARTBEAT_MS))
  while kill -0 "$pid" 2>/dev/null; do
    sleep 0.05
    now_ms
    if ((started == 0 && NOW - began >= STARTED_AFTER_MS)) && kill -0 "$pid" 2>/dev/null; then
      report step.started
      started=1
    fi
    if [[ $HEARTBEAT_MS != null ]] && ((NOW >= next_beat)) && kill -0 "$pid" 2>/dev/null; then
      report step.heartbeat
      next_beat=$((next_beat + HEARTBEAT_MS))
    fi
    if [[ $DEADLINE != null ]] && ((NOW >= DEADLINE)) && ! fault ignore-deadline; then
      pkill -TERM -P "$pid" 2>/dev/null
      kill -TERM "$pid" 2>/dev/null
      deadline_hit=1
      break
    fi
  done
  wait "$pid"
  rc=$?
  message=$(tail -n 1 "$err" | cut -c1-500)
  if ((deadline_hit)); then
    failed STEP.DEADLINE_EXCEEDED "attempt $ATTEMPT of \"$STEP_ID\" passed its deadline" true
  elif ((rc == 0)); then
    if jq empty "$out" >/dev/null 2>&1; then
      OUTCOME=$(jq -cn --slurpfile output "$out" '{type: "step.completed", output: ($output[0] // null)}')
    else
      failed WORKER.OUTPUT_NOT_JSON "action $ACTION printed output that is not JSON" false
    fi
  elif ((rc == 3)); then
    failed WORKER.NO_HANDLER "${message:-no handler}" false
  else
    failed STEP.FAILED "${message:-action $ACTION exited $rc}" "$([[ $rc == 2 ]] && echo false || echo true)"
  fi
  rm -f "$out" "$err"
}

failed() {
  OUTCOME=$(jq -cn --arg code "$1" --arg message "$2" --argjson retryable "$3" \
    '{type: "step.failed", error: {code: $code, message: $message, retryable: $retryable}}')
}

# One command, already validated: dedupe, deadline, run, store, report.
handle_command() {
  local key_dir
  key_dir="$STATE/keys/$(printf '%s' "$IDEMPOTENCY_KEY" | sha256sum | cut -c1-64)"
  if ! fault run-duplicates && ! mkdir "$key_dir" 2>/dev/null; then
    if [[ -f $key_dir/outcome.json ]]; then
      log "key $IDEMPOTENCY_KEY already done: reporting its stored outcome again"
      report "$(jq -r .type "$key_dir/outcome.json")" "$(cat "$key_dir/outcome.json")"
    else
      log "key $IDEMPOTENCY_KEY is claimed and still running: delivery ignored"
    fi
    return
  fi
  mkdir -p "$key_dir"
  now_ms
  if [[ $DEADLINE != null ]] && ((NOW >= DEADLINE)) && ! fault ignore-deadline; then
    failed STEP.DEADLINE_EXCEEDED "attempt $ATTEMPT of \"$STEP_ID\" arrived after its deadline" true
  else
    execute
  fi
  printf '%s\n' "$OUTCOME" >"$key_dir/outcome.tmp" && mv "$key_dir/outcome.tmp" "$key_dir/outcome.json"
  report "$(jq -r .type <<<"$OUTCOME")" "$OUTCOME"
  log "$PHASE $ACTION attempt $ATTEMPT of $RUN_ID/$STEP_ID: $(jq -r .type <<<"$OUTCOME")"
}

# The command's fields as shell variables, or REASON naming what is wrong with it (the schema of StepCommand).
read -r -d '' PARSE <<'JQ'
def int: type == "number" and . == floor;
def text: type == "string" and length > 0;
# Bash arithmetic takes integers up to 2^63: a far deadline stays far, a huge interval stays huge, null stays null.
def clamp($lo; $hi): if . == null then "null" elif . < $lo then $lo elif . > $hi then $hi else . end;
(.headers // []) as $h
| ([range(0; $h | length; 2) | select($h[.] == "traceparent") | $h[. + 1]] | first // "") as $tp
| (.payload | try fromjson catch "\u0000not json") as $c
| (if $c == "\u0000not json" or .payload == null then ["the value is not JSON"]
   elif ($c | type) != "object" then ["/ must be object"]
   else [
     (if ($c.type | IN("step.execute", "step.compensate")) then empty else "/type must be step.execute or step.compensate" end),
     (if ($c.runId | text) then empty else "/runId must be a non-empty string" end),
     (if ($c.stepId | text) then empty else "/stepId must be a non-empty string" end),
     (if ($c.attempt | int) and $c.attempt >= 1 then empty else "/attempt must be an integer >= 1" end),
     (if ($c.worker | text) then empty else "/worker must be a non-empty string" end),
     (if $c | has("action") and ((.action | type) == "string" or .action == null) then empty else "/action must be a string or null" end),
     (if ($c.idempotencyKey | text) then empty else "/idempotencyKey must be a non-empty string" end),
     (if $c | has("deadline") and (.deadline == null or (.deadline | int)) then empty else "/deadline must be an integer or null" end),
     (if $c | has("heartbeatIntervalMs") and (.heartbeatIntervalMs == null or ((.heartbeatIntervalMs | int) and .heartbeatIntervalMs >= 1)) then empty else "/heartbeatIntervalMs must be an integer >= 1 or null" end),
     (if ($c.definitionId | text) then empty else "/definitionId must be a non-empty string" end)
   ] end) as $problems
| @sh "PARTITION=\(.partition) OFFSET=\(.offset) KEY=\(.key // "") TRACEPARENT=\($tp) PAYLOAD=\(.payload // "")",
  (if ($problems | length) > 0 then @sh "REASON=\($problems | join("; "))"
   else @sh "REASON='' RUN_ID=\($c.runId) STEP_ID=\($c.stepId) ATTEMPT=\($c.attempt) PHASE=\(if $c.type == "step.compensate" then "compensate" else "execute" end) ACTION=\($c.action // (if $c.type == "step.compensate" then "compensate" else "execute" end)) INPUT=\($c | if has("input") then .input else null end | tojson) IDEMPOTENCY_KEY=\($c.idempotencyKey) DEADLINE=\($c.deadline | clamp(0; 9007199254740991)) HEARTBEAT_MS=\($c.heartbeatIntervalMs | clamp(1; 2147483647))"
   end)
JQ

dead_letter() {
  local letter
  letter=$(jq -cn --arg reason "WireFormatError: worker \"$WORKER\" got an invalid step command: $REASON" \
    --arg topic "$TOPIC" --argjson partition "$PARTITION" --argjson offset "$OFFSET" --arg group "$GROUP" \
    --arg key "$KEY" --arg tp "$TRACEPARENT" --arg original "$PAYLOAD" '{reason: $reason, topic: $topic,
    partition: $partition, offset: $offset, group: $group, key: $key,
    headers: (if $tp == "" then {} else {traceparent: $tp} end), original: ($original | @base64),
    originalEncoding: "base64"}')
  publish "$DLQ" "$KEY" "$TRACEPARENT" "$letter" && log "dead-lettered $TOPIC/$PARTITION@$OFFSET: $REASON"
}

handle_record() {
  local fields done_offset=-1
  fields=$(jq -r "$PARSE" <<<"$1") || {
    log "kcat printed a record jq cannot read; skipped: ${1:0:200}"
    return
  }
  eval "$fields"
  [[ -f $STATE/offsets/$PARTITION ]] && read -r done_offset <"$STATE/offsets/$PARTITION"
  ((OFFSET <= done_offset)) && return
  if [[ -n $REASON ]]; then dead_letter; else handle_command; fi
  # The "commit": only after the outcome report (or the dead letter) was acknowledged.
  printf '%s\n' "$OFFSET" >"$STATE/offsets/$PARTITION"
}

# Orchestron creates the command topic when a definition naming this worker is registered: wait for it, never
# create it (the broker's auto-creation would give it the wrong partition count).
until kcat -L -b "$BROKERS" -J 2>/dev/null | jq -e --arg t "$TOPIC" 'any(.topics[]; .topic == $t)' >/dev/null; do
  log "waiting for $TOPIC (Orchestron creates it when a definition naming \"$WORKER\" is registered)"
  sleep 2
done

exec {CONSUMER}< <(exec kcat -b "$BROKERS" -G "$GROUP" -X auto.offset.reset=earliest \
  -X enable.auto.offset.store=false -X topic.metadata.refresh.interval.ms=10000 -q -u -J "$TOPIC")
KCAT_PID=$!
trap 'log "stopping: no new commands"; kill -TERM "$KCAT_PID" 2>/dev/null' TERM INT
log "consuming $TOPIC in group $GROUP (brokers $BROKERS, state $STATE${FAULT:+, FAULT $FAULT})"
while IFS= read -r record <&"$CONSUMER"; do
  handle_record "$record"
done
wait "$KCAT_PID"
status=$?
log "consumer ended (kcat exit $status)"
# 143: kcat stopped by our own SIGTERM.
((status == 0 || status == 143)) && exit 0 || exit 1
