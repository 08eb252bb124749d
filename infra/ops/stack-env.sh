#!/usr/bin/env bash
# Prints `export NAME=value` lines that point csms-registry (and any tool of the repository) at a
# deployed stack: every environment variable its functions are given (table names, queue URLs,
# the @connections endpoint), read from the functions themselves, so nothing is missed or stale:
#
#   eval "$(infra/ops/stack-env.sh --stack csms-prod)"
#   target/debug/csms-registry list
#
# With --template <file> --dry-run it shows the commands it would run.
set -euo pipefail
OPS_NAME=stack-env
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

while [ $# -gt 0 ]; do
    case "$1" in
    --stack) OPS_STACK="${2:?--stack needs a name}"; shift 2 ;;
    --template) OPS_TEMPLATE_FILE="${2:?--template needs a file}"; shift 2 ;;
    --dry-run) OPS_DRY_RUN=true; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done
load_stack
$OPS_TEMPLATE_ONLY && ! $OPS_DRY_RUN && die "with a template alone there is nothing to read: add --dry-run, or --stack <name>"

declare -A values=()
while IFS=$'\t' read -r logical construct; do
    # The project's functions only (Rust, handler `bootstrap`), not CDK's custom resource handlers.
    jq -e --arg id "$logical" '.Resources[$id].Properties.Handler == "bootstrap"' <<<"$OPS_TEMPLATE_JSON" >/dev/null || continue
    name="$(physical "$logical" "$construct" AWS::Lambda::Function)"
    if $OPS_TEMPLATE_ONLY; then
        show aws lambda get-function-configuration --function-name "$name" --query Environment.Variables
        continue
    fi
    while IFS=$'\t' read -r key value; do
        values["$key"]="$value"
    done < <(aws lambda get-function-configuration --function-name "$name" --query Environment.Variables --output json |
        jq -r 'to_entries[] | [.key, .value] | @tsv')
done < <(resources AWS::Lambda::Function)
region="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
[ -n "$region" ] && echo "export AWS_REGION=$(printf '%q' "$region")"
for key in $(printf '%s\n' "${!values[@]}" | sort); do
    echo "export $key=$(printf '%q' "${values[$key]}")"
done
