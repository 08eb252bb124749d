#!/usr/bin/env bash
# Regenerates docs/screenshots/: every main screen of the driver app and the operator console at
# phone (390 px) and desktop (1440 px) width, against a fresh local stack with a small demo fleet
# (web/e2e/screenshots.ts). Installs and builds like scripts/test.sh; takes about two minutes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
prepare
bash "$ROOT/localstack/install.sh" chromium
STATE="$(mktemp -d)"
trap 'stack_down; rm -rf "$STATE"' EXIT
export CSMS_TILE_URL='https://tiles.test/{z}/{x}/{y}.png'
stack_up "$STATE" "shots$(date +%s)"
mkdir -p docs/screenshots
step "screenshots (Playwright, Chromium)"
(cd web && npx playwright test --project=screenshots)
ls -l docs/screenshots
