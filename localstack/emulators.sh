#!/usr/bin/env bash
# DynamoDB Local and LocalStack (SQS only) on the host, on free 127.0.0.1 ports, fully offline.
#   localstack/emulators.sh start  <state-dir>  start both (stopping any earlier pair recorded in <state-dir>),
#                                                wait until healthy, write <state-dir>/emulators.env
#   localstack/emulators.sh stop   <state-dir>  stop exactly the processes recorded in <state-dir>
#   localstack/emulators.sh status <state-dir>  exit 0 when both recorded processes run and answer
#   localstack/emulators.sh check  <state-dir>  smoke test: FIFO queue send/receive, table create/list
# Logs: <state-dir>/dynamodb.log, <state-dir>/localstack.log. Needs localstack/install.sh first.
# Env: EMULATORS_START_TIMEOUT (seconds, default 90), DYNAMODB_JAVA_OPTS.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DDB_DIR="$ROOT/.local/dynamodb"
LS_VENV="$ROOT/.local/localstack-venv"
TIMEOUT="${EMULATORS_START_TIMEOUT:-90}"
# C1 only and serial GC: starts in ~1.5 s instead of ~2.5 s on 2 cores; plenty for test loads.
DYNAMODB_JAVA_OPTS="${DYNAMODB_JAVA_OPTS:--XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx512m}"

# What identifies each process in /proc/<pid>/cmdline, so a recycled pid is never signalled.
DDB_MARK="LoopbackDynamoDBLocal"
LS_MARK="localstack.runtime.main"

die() {
    echo "emulators: $*" >&2
    exit 1
}

usage() {
    echo "usage: $0 start|stop|status|check <state-dir>" >&2
    exit 2
}

[ $# -eq 2 ] || usage
CMD="$1"
mkdir -p "$2"
STATE="$(cd "$2" && pwd)"
ENV_FILE="$STATE/emulators.env"

now() { date +%s%N; }
secs_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

# alive PID: the process exists and is not a zombie.
alive() {
    local state
    state="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# ours PID MARK: alive and its command line carries MARK.
ours() {
    alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# stop_one NAME MARK: TERM the recorded process group, wait, then KILL what is left of it.
stop_one() {
    local name="$1" mark="$2" pidfile="$STATE/$1.pid" pid i
    [ -f "$pidfile" ] || return 0
    pid="$(cat "$pidfile")"
    if [[ "$pid" =~ ^[0-9]+$ ]] && ours "$pid" "$mark"; then
        # Started with setsid: pid is its process group id.
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            alive "$pid" || break
            sleep 0.1
        done
        if alive "$pid"; then
            echo "emulators: $name (pid $pid) still running 10 s after SIGTERM; killing it" >&2
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
            for ((i = 0; i < 50; i++)); do
                alive "$pid" || break
                sleep 0.1
            done
        fi
        # Anything its group left behind (none expected).
        pkill -KILL -g "$pid" 2>/dev/null || true
        alive "$pid" && die "$name (pid $pid) did not exit"
    fi
    rm -f "$pidfile"
}

stop_all() {
    stop_one localstack "$LS_MARK"
    stop_one dynamodb "$DDB_MARK"
    rm -f "$ENV_FILE"
}

# Two distinct free TCP ports on 127.0.0.1.
free_ports() {
    python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
'
}

# launch NAME CMD...: run CMD in a new session (own process group), cwd STATE, output to NAME.log;
# the process records its own pid (setsid may fork), so NAME.pid is exactly the emulator's pid.
launch() {
    local name="$1" i
    shift
    rm -f "$STATE/$name.pid"
    : >"$STATE/$name.log"
    (cd "$STATE" && exec setsid bash -c 'echo $$ >"$0.pid.tmp" && mv "$0.pid.tmp" "$0.pid" && exec "$@"' \
        "$STATE/$name" "$@" >>"$STATE/$name.log" 2>&1 </dev/null) &
    for ((i = 0; i < 100; i++)); do
        [ -s "$STATE/$name.pid" ] && return 0
        sleep 0.05
    done
    die "$name did not start (no pid file); see $STATE/$name.log"
}

ddb_healthy() {
    # DynamoDB Local wants an Authorization header naming an access key; it does not check signatures.
    local code
    code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' -X POST \
        -H 'Content-Type: application/x-amz-json-1.0' \
        -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
        -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
        -d '{}' "http://127.0.0.1:$1/" 2>/dev/null)" || return 1
    [ "$code" = 200 ]
}

ls_healthy() {
    curl -s -m 2 "http://127.0.0.1:$1/_localstack/health" 2>/dev/null |
        grep -qE '"sqs": ?"(available|running)"'
}

# The health endpoint answers a little before LocalStack's own ready monitor finishes; a SIGTERM in that
# window can hang its shutdown, so start also waits for the "Ready." line it prints after that.
ls_ready() {
    ls_healthy "$1" && grep -q '^Ready\.' "$STATE/localstack.log"
}

fail_start() {
    local name="$1" why="$2"
    echo "emulators: $name $why; last lines of $STATE/$name.log:" >&2
    tail -n 40 "$STATE/$name.log" >&2 || true
    stop_all
    exit 1
}

start() {
    [ -f "$DDB_DIR/DynamoDBLocal.jar" ] && [ -f "$DDB_DIR/launcher/LoopbackDynamoDBLocal.class" ] ||
        die "DynamoDB Local is not installed; run localstack/install.sh"
    [ -x "$LS_VENV/bin/python" ] || die "LocalStack is not installed; run localstack/install.sh"
    command -v java >/dev/null || die "java not found"

    stop_all # a second start with the same state dir replaces the first pair, never leaks it

    local ddb_port ls_port
    read -r ddb_port ls_port < <(free_ports)

    local t0
    t0="$(now)"
    # shellcheck disable=SC2086
    launch dynamodb java $DYNAMODB_JAVA_OPTS -Djava.library.path="$DDB_DIR/DynamoDBLocal_lib" \
        -cp "$DDB_DIR/DynamoDBLocal.jar:$DDB_DIR/launcher" LoopbackDynamoDBLocal \
        -inMemory -sharedDb -disableTelemetry -port "$ddb_port"

    # LocalStack, offline: no analytics (DISABLE_EVENTS), no TLS-cert download (SKIP_SSL_CERT_DOWNLOAD),
    # no DNS server (DNS_ADDRESS=0), host-mode directories under the state dir (OVERRIDE_IN_DOCKER=0,
    # FILESYSTEM_ROOT; in "docker" mode it would also ping 172.17.0.1/172.18.0.1 at import), only SQS.
    # hypercorn because LocalStack's default twisted server ignores the host in GATEWAY_LISTEN.
    mkdir -p "$STATE/localstack-fs"
    launch localstack env -u LOCALSTACK_AUTH_TOKEN -u LOCALSTACK_API_KEY -u AWS_ENDPOINT_URL \
        GATEWAY_LISTEN="127.0.0.1:$ls_port" \
        LOCALSTACK_HOST="127.0.0.1:$ls_port" \
        GATEWAY_SERVER=hypercorn \
        SERVICES=sqs \
        EAGER_SERVICE_LOADING=1 \
        SQS_ENDPOINT_STRATEGY=path \
        SQS_DISABLE_CLOUDWATCH_METRICS=1 \
        DISABLE_EVENTS=1 \
        SKIP_SSL_CERT_DOWNLOAD=1 \
        DNS_ADDRESS=0 \
        OVERRIDE_IN_DOCKER=0 \
        DOCKER_BRIDGE_IP=127.0.0.1 \
        FILESYSTEM_ROOT="$STATE/localstack-fs" \
        PERSISTENCE=0 \
        "$LS_VENV/bin/python" -m localstack.runtime.main

    local ddb_pid ls_pid ddb_up="" ls_up="" deadline
    ddb_pid="$(cat "$STATE/dynamodb.pid")"
    ls_pid="$(cat "$STATE/localstack.pid")"
    deadline=$(($(date +%s) + TIMEOUT))
    while [ -z "$ddb_up" ] || [ -z "$ls_up" ]; do
        if [ -z "$ddb_up" ]; then
            alive "$ddb_pid" || fail_start dynamodb "exited during start"
            ddb_healthy "$ddb_port" && ddb_up="$(secs_since "$t0")"
        fi
        if [ -z "$ls_up" ]; then
            alive "$ls_pid" || fail_start localstack "exited during start"
            ls_ready "$ls_port" && ls_up="$(secs_since "$t0")"
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            [ -n "$ddb_up" ] || fail_start dynamodb "not healthy after ${TIMEOUT}s"
            fail_start localstack "not healthy (sqs) after ${TIMEOUT}s"
        fi
        [ -n "$ddb_up" ] && [ -n "$ls_up" ] || sleep 0.1
    done

    cat >"$ENV_FILE.tmp" <<EOF
# Written by localstack/emulators.sh start; source it. Stop with: localstack/emulators.sh stop $STATE
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$ddb_port
export AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$ls_port
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_EC2_METADATA_DISABLED=true
export EMULATORS_STATE_DIR=$STATE
export EMULATORS_DYNAMODB_PID=$ddb_pid
export EMULATORS_DYNAMODB_PIDFILE=$STATE/dynamodb.pid
export EMULATORS_LOCALSTACK_PID=$ls_pid
export EMULATORS_LOCALSTACK_PIDFILE=$STATE/localstack.pid
EOF
    mv "$ENV_FILE.tmp" "$ENV_FILE"
    echo "dynamodb-local: http://127.0.0.1:$ddb_port pid $ddb_pid, ready in ${ddb_up}s"
    echo "localstack: http://127.0.0.1:$ls_port (sqs) pid $ls_pid, ready in ${ls_up}s"
    echo "env: $ENV_FILE"
}

status() {
    [ -f "$ENV_FILE" ] || die "not started (no $ENV_FILE)"
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    local ok=0
    if ours "$EMULATORS_DYNAMODB_PID" "$DDB_MARK" && ddb_healthy "${AWS_ENDPOINT_URL_DYNAMODB##*:}"; then
        echo "dynamodb-local: up ($AWS_ENDPOINT_URL_DYNAMODB, pid $EMULATORS_DYNAMODB_PID)"
    else
        echo "dynamodb-local: DOWN"
        ok=1
    fi
    if ours "$EMULATORS_LOCALSTACK_PID" "$LS_MARK" && ls_healthy "${AWS_ENDPOINT_URL_SQS##*:}"; then
        echo "localstack: up ($AWS_ENDPOINT_URL_SQS, pid $EMULATORS_LOCALSTACK_PID)"
    else
        echo "localstack: DOWN"
        ok=1
    fi
    return $ok
}

check() {
    [ -f "$ENV_FILE" ] || die "not started (no $ENV_FILE)"
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    # boto3 from the LocalStack venv; it reads AWS_ENDPOINT_URL_<SERVICE> like the Rust SDK.
    # (Not the venv's AWS CLI v1: it overrides AWS_ENDPOINT_URL_SQS with queue.amazonaws.com.)
    "$LS_VENV/bin/python" - <<'PY'
import time
import uuid

import boto3

suffix = uuid.uuid4().hex[:8]
sqs = boto3.client("sqs")
queue = sqs.create_queue(
    QueueName=f"emulators-check-{suffix}.fifo",
    Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
)["QueueUrl"]
sqs.send_message(QueueUrl=queue, MessageBody="ping", MessageGroupId="station-1")
messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, WaitTimeSeconds=2).get("Messages", [])
assert [m["Body"] for m in messages] == ["ping"], messages
sqs.delete_message(QueueUrl=queue, ReceiptHandle=messages[0]["ReceiptHandle"])
sqs.delete_queue(QueueUrl=queue)
print(f"check: sqs ok ({queue})")

ddb = boto3.client("dynamodb")
table = f"emulators-check-{suffix}"
ddb.create_table(
    TableName=table,
    AttributeDefinitions=[{"AttributeName": "stationId", "AttributeType": "S"}],
    KeySchema=[{"AttributeName": "stationId", "KeyType": "HASH"}],
    BillingMode="PAY_PER_REQUEST",
)
ddb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
assert table in ddb.list_tables()["TableNames"]
ddb.put_item(TableName=table, Item={"stationId": {"S": "CP-1"}, "at": {"N": str(int(time.time()))}})
assert ddb.get_item(TableName=table, Key={"stationId": {"S": "CP-1"}}, ConsistentRead=True)["Item"]["stationId"]["S"] == "CP-1"
ddb.delete_table(TableName=table)
print(f"check: dynamodb ok ({table})")
PY
}

case "$CMD" in
start) start ;;
stop) stop_all ;;
status) status ;;
check) check ;;
*) usage ;;
esac
