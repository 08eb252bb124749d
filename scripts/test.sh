#!/usr/bin/env bash
# Runs every test: format and lints, the Markdown links, the CDK template tests and offline synth,
# Rust unit, handler, integration (DynamoDB Local, LocalStack SQS) and end-to-end tests (the Python
# `ocpp` library as the pile, through csms-local), and the protocol conformance test against the
# OCA schemas.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

prepare
step "cargo fmt --check"
cargo fmt --all --check
step "Markdown links"
python3 scripts/check-links.py
step "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
step "infra: CDK template tests, the docs against the templates, infra/ops dry runs"
(cd infra && npm test --silent)
step "infra: cfn-lint and checkov"
bash infra/lint.sh

STATE="$(mktemp -d)"
trap 'stack_down; rm -rf "$STATE"' EXIT
stack_up "$STATE" "test$(date +%s)"

step "Rust tests (unit, handler, integration)"
cargo nextest run --workspace --no-fail-fast
step "end-to-end and conformance tests (pytest)"
OCPP_VALIDATE_BIN="$ROOT/target/debug/ocpp-validate" "$ROOT/.local/venv/bin/python" -m pytest -q tests/e2e tests/conformance tests/contract
