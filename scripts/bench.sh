#!/usr/bin/env bash
# Benchmarks the CSMS on this machine (a measurement, not a test): starts the local stack
# (DynamoDB Local, LocalStack, csms-local) on a throw-away state directory, then runs
# csms-bench (release build), which prints a report to stdout:
#   1. AWS calls per message (DynamoDB, SQS, Lambda invocations), counted by SDK interceptors:
#      BootNotification / Heartbeat / StatusNotification, the charging messages (1.6 Authorize,
#      StartTransaction, MeterValues, StopTransaction, retries; 2.0.1 TransactionEvent), and the
#      status and sessions consumers
#   2. warm handler time per message, in-process, against the local emulators
#   3. round trips through csms-local with a few hundred concurrent piles over WebSockets
#   4. charging sessions through csms-local: piles boot, start, send MeterValues, stop; MeterValues/s
#      and how long after the last stop csms-local's sessions consumer has completed every session
#   5. AWS calls per remote command: the commands consumer, the pile's answer and the deadline check
# Arguments go to csms-bench: --piles P (300), --messages M (20), --iterations N (300),
# --warmup, --repeats, --mv-piles (100), --mv-messages (30); skip a section with --no-calls,
# --no-handler-time, --no-round-trip, --no-meter-values, --no-commands. Exits non-zero if any CALL was not
# answered with a CALLRESULT or any session was not completed as sent. Setup output goes to
# stderr; the report alone goes to stdout.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

{
    prepare
    step "building csms-bench and csms-local (release)"
    cargo build --release --quiet -p bench -p standin
} >&2

STATE="$(mktemp -d)"
export CSMS_LOCAL_BIN="$ROOT/target/release/csms-local"
trap 'stack_down >&2; rm -rf "$STATE"' EXIT
stack_up "$STATE" "bench$(date +%s)" >&2

export CSMS_LOCAL_BUILD="release build (target/release/csms-local), log level ${RUST_LOG:-info}"
# Whose CPU time the report accounts for (the emulators lead their own process groups).
export BENCH_WATCH="csms-local=$CSMS_LOCAL_PID dynamodb-local=$(cat "$EMULATORS_DYNAMODB_PIDFILE") localstack=$(cat "$EMULATORS_LOCALSTACK_PIDFILE")"
# The in-process handlers log nothing unless asked; their logging is not what is measured.
"$ROOT/target/release/csms-bench" "$@"
