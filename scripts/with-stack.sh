#!/usr/bin/env bash
# Runs one command against a fresh local stack and stops the stack after it, e.g.
#   scripts/with-stack.sh cargo nextest run -p api
#   scripts/with-stack.sh .local/venv/bin/python -m pytest -q tests/e2e/test_api.py
# Assumes scripts/run.sh or scripts/test.sh has installed and built once (it does not build).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
STATE="$(mktemp -d)"
trap 'stack_down; rm -rf "$STATE"' EXIT
stack_up "$STATE" "dev$(date +%s)" >/dev/null
export OCPP_VALIDATE_BIN="$ROOT/target/debug/ocpp-validate"
"$@"
