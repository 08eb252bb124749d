#!/usr/bin/env bash
# Runs the whole CSMS on this machine: DynamoDB Local, LocalStack and csms-local, with the same
# handlers that run in Lambda. Registers a demo station and prints how to connect a pile.
# Ctrl-C stops everything this script started.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STATE="$ROOT/.local/run"
mkdir -p "$STATE"
prepare
trap 'stack_down; exit 0' INT TERM
trap 'stack_down' EXIT
# Vite's dev server (cd web && npm run dev) may call the API and sign in too.
export CSMS_DEV_ORIGIN="${CSMS_DEV_ORIGIN:-http://localhost:5173}"
stack_up "$STATE" csms

# The demo operator runs the demo station's organisation: the membership, not the token, says so.
"$CSMS_REGISTRY_BIN" org add --id demo-org --name "Demo organisation" >/dev/null
"$CSMS_REGISTRY_BIN" operator add --org demo-org --subject demo-operator >/dev/null

# The demo driver's card, issued by the demo organisation (its stations accept it), made the
# driver's the only way there is: the driver redeems its claim code in the app.
"$CSMS_REGISTRY_BIN" token add --token DEMO-CARD-1 --organisation demo-org >/dev/null
CLAIM_CODE="$("$CSMS_REGISTRY_BIN" --json token claim-code --token DEMO-CARD-1 --organisation demo-org |
    sed -E 's/.*"claimCode":"([^"]*)".*/\1/')"
DRIVER_TOKEN="$(curl -fsS -d grant_type=password -d username=demo-driver -d password=local-demo-password \
    "${CSMS_ISSUER_URL}/oauth2/token" | sed -E 's/.*"access_token":"([^"]*)".*/\1/')"
curl -fsS -o /dev/null -H "Authorization: Bearer $DRIVER_TOKEN" -H 'Content-Type: application/json' \
    -d "{\"claimCode\":\"$CLAIM_CODE\"}" "${CSMS_API_URL}/v1/me/tokens"

# DynamoDB Local keeps its tables in memory, so the demo station is new on every run, with a
# strong generated password (or CSMS_DEMO_PASSWORD, 16-40 characters, for a pile configured once).
DEMO_ID="${CSMS_DEMO_STATION:-CP-DEMO-1}"
DEMO_PASSWORD="$("$CSMS_REGISTRY_BIN" --json register --id "$DEMO_ID" --protocol ocpp1.6 --protocol ocpp2.0.1 \
    --site demo --organisation demo-org --latitude 52.3702 --longitude 4.8952 --connector 1:cType2:22000 \
    ${CSMS_DEMO_PASSWORD:+--password "$CSMS_DEMO_PASSWORD"} |
    sed -E 's/.*"password":"([^"]*)".*/\1/')"

cat <<TXT

The CSMS is running.
  OCPP URL:   ${CSMS_OCPP_URL}${DEMO_ID}
  subprotocol ocpp1.6 or ocpp2.0.1, Basic auth user ${DEMO_ID}, password ${DEMO_PASSWORD}

  a demo pile (the Python ocpp library):
    .local/venv/bin/python web/e2e/pile.py --url ${CSMS_OCPP_URL} --id ${DEMO_ID} --password '${DEMO_PASSWORD}'

  Driver app: ${CSMS_DRIVER_URL:-} (sign in as demo-driver)
  Console:    ${CSMS_CONSOLE_URL:-} (demo-operator of demo-org, or demo-admin)
  App API:    ${CSMS_API_URL} (OpenAPI: ${CSMS_API_URL}/openapi.json)
  a demo driver's token (local development issuer; also demo-operator of demo-org, demo-admin):
    curl -s -d grant_type=password -d username=demo-driver -d password=local-demo-password ${CSMS_ISSUER_URL}/oauth2/token

In another terminal:
  source ${STATE}/emulators.env; source ${STATE}/csms.env
  target/debug/csms-registry list
Logs: ${STATE}/csms-local.log. Ctrl-C stops everything.
TXT
wait "$CSMS_LOCAL_PID"
