#!/usr/bin/env bash
# Points functions back at the version they ran before, without building an old commit:
#
#   infra/ops/rollback.sh --stack csms-prod [--function MessageFunction]... [--to <version>] [--dry-run] [--yes]
#   infra/ops/rollback.sh --template infra/cdk.out/Csms.template.json --dry-run
#
# Every deploy publishes a version of each function that changed and moves the function's `live`
# alias to it (CodeDeploy, gradually; lib/releases.ts). Earlier versions stay published. This moves
# `live` back to the version below the one it points at (or to --to), for every function of the
# stack or the ones named. While a deployment is still shifting traffic it does nothing and shows
# how to stop that deployment instead (CodeDeploy then rolls it back itself).
#
# The alias stays where this puts it until a deploy publishes a newer version of that function:
# deploy the fix (or the previous commit) to make the rollback permanent.
set -euo pipefail
OPS_NAME=rollback
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

only=()
to=""
assume_yes=false
while [ $# -gt 0 ]; do
    case "$1" in
    --stack) OPS_STACK="${2:?--stack needs a name}"; shift 2 ;;
    --template) OPS_TEMPLATE_FILE="${2:?--template needs a file}"; shift 2 ;;
    --function) only+=("${2:?--function needs a construct id, e.g. MessageFunction}"); shift 2 ;;
    --to) to="${2:?--to needs a version number}"; shift 2 ;;
    --dry-run) OPS_DRY_RUN=true; shift ;;
    --yes) assume_yes=true; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done
[ -z "$to" ] || [[ "$to" =~ ^[0-9]+$ ]] || die "--to must be a version number"
[ -z "$to" ] || [ "${#only[@]}" -eq 1 ] || die "--to needs exactly one --function (versions are per function)"
load_stack
$OPS_TEMPLATE_ONLY && ! $OPS_DRY_RUN && die "with a template alone there is nothing to roll back: add --dry-run, or --stack <name>"
application="$(jq -r '[.Resources[] | select(.Type == "AWS::CodeDeploy::Application") | .Properties.ApplicationName][0] // "<application>"' <<<"$OPS_TEMPLATE_JSON")"

# The functions behind a `live` alias: "<logical id>\t<construct id>".
mapfile -t functions < <(jq -r '
    [.Resources[] | select(.Type == "AWS::Lambda::Alias" and .Properties.Name == "live") | .Properties.FunctionName.Ref] as $aliased
    | .Resources | to_entries[] | select(.key as $k | $aliased | index($k))
    | [.key, ((.value.Metadata["aws:cdk:path"] // ("x/" + .key)) | split("/") | .[1])] | @tsv' <<<"$OPS_TEMPLATE_JSON")
[ "${#functions[@]}" -gt 0 ] || die "the stack has no function behind a live alias"
for wanted in "${only[@]}"; do
    printf '%s\n' "${functions[@]}" | cut -f2 | grep -qx "$wanted" ||
        die "the stack has no function $wanted behind a live alias (it has: $(printf '%s\n' "${functions[@]}" | cut -f2 | paste -sd, -))"
done

plan=()
for entry in "${functions[@]}"; do
    logical="${entry%%$'\t'*}"
    construct="${entry#*$'\t'}"
    if [ "${#only[@]}" -gt 0 ] && ! printf '%s\n' "${only[@]}" | grep -qx "$construct"; then continue; fi
    name="$(physical "$logical" "$construct" AWS::Lambda::Function)"
    echo "== $construct ($name)"
    if $OPS_TEMPLATE_ONLY; then
        show aws lambda get-alias --function-name "$name" --name live
        show aws lambda list-versions-by-function --function-name "$name" --query 'Versions[].Version'
        show aws lambda update-alias --function-name "$name" --name live --function-version "<the-version-below-live>"
        continue
    fi
    show aws lambda get-alias --function-name "$name" --name live
    alias_json="$(aws lambda get-alias --function-name "$name" --name live --output json)"
    current="$(jq -r .FunctionVersion <<<"$alias_json")"
    shifting="$(jq -r '(.RoutingConfig.AdditionalVersionWeights // {}) | to_entries | map("\(.key) (\(.value * 100 | floor) %)") | join(", ")' <<<"$alias_json")"
    if [ -n "$shifting" ]; then
        echo "   a deployment is shifting traffic: live is $current, and $shifting. Stop it and CodeDeploy rolls back:"
        echo "   aws deploy list-deployments --application-name $application --deployment-group-name $construct --include-only-statuses InProgress"
        echo "   aws deploy stop-deployment --deployment-id <id> --auto-rollback-enabled"
        continue
    fi
    if [ -n "$to" ]; then
        previous="$to"
    else
        show aws lambda list-versions-by-function --function-name "$name" --query 'Versions[].Version'
        previous="$(aws lambda list-versions-by-function --function-name "$name" --query 'Versions[].Version' --output json |
            jq -r --argjson current "$current" '[.[] | select(test("^[0-9]+$")) | tonumber | select(. < $current)] | max // empty')"
    fi
    if [ -z "$previous" ]; then
        echo "   live is version $current and no earlier version is published: nothing to go back to"
        continue
    fi
    [ "$previous" != "$current" ] || { echo "   live is version $current already"; continue; }
    echo "   live: version $current -> $previous"
    plan+=("$name"$'\t'"$previous")
done

$OPS_TEMPLATE_ONLY && { echo "done (dry run: nothing was changed)"; exit 0; }
[ "${#plan[@]}" -gt 0 ] || { echo "nothing to roll back"; exit 0; }
if ! $OPS_DRY_RUN && ! $assume_yes; then
    [ -t 0 ] || die "not confirmed: give --yes (no terminal to ask)"
    read -r -p "Move ${#plan[@]} alias(es) as shown? [y/N] " answer
    case "$answer" in [Yy]*) ;; *) die "not confirmed: nothing changed" ;; esac
fi
for entry in "${plan[@]}"; do
    act aws lambda update-alias --function-name "${entry%%$'\t'*}" --name live --function-version "${entry#*$'\t'}" \
        --query '[Name,FunctionVersion]' --output text
done
if $OPS_DRY_RUN; then echo "done (dry run: nothing was changed)"; else echo "done: deploy a fix to move on from here"; fi
