#!/usr/bin/env bash
# Runs every test: format and lints, the Markdown links, the CDK template tests and offline synth,
# Rust unit, handler, integration (DynamoDB Local, LocalStack SQS) and end-to-end tests (the Python
# `ocpp` library as the pile, through csms-local), the protocol conformance test against the OCA
# schemas, and the web apps: unit tests, the API client's freshness, and Playwright in Chromium
# against the stack.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

prepare
bash "$ROOT/localstack/install.sh" chromium
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
# The browser tests' map tiles are generated in the test (no tile provider is reachable).
export CSMS_TILE_URL='https://tiles.test/{z}/{x}/{y}.png'
stack_up "$STATE" "test$(date +%s)"

step "Rust tests (unit, handler, integration)"
cargo nextest run --workspace --no-fail-fast
step "end-to-end and conformance tests (pytest)"
OCPP_VALIDATE_BIN="$ROOT/target/debug/ocpp-validate" "$ROOT/.local/venv/bin/python" -m pytest -q tests/e2e tests/conformance tests/contract
step "web apps: unit tests, API client up to date, browser tests (Playwright, Chromium)"
(cd web && npm test --silent && npm run --silent api:check && npx playwright test --project=e2e)
