#!/usr/bin/env bash
# Tears down one CSMS environment, data included, without orphans or accidents:
#
#   infra/ops/teardown.sh --stack csms-prod [--backup | --no-backup] [--dry-run] [--yes]
#   infra/ops/teardown.sh --template infra/cdk.out/Csms.template.json --dry-run
#   infra/ops/teardown.sh --template infra/cdk.out/Csms.template.json --local <prefix> [...]
#
# In order:
#   1. reads the stack it is told (its template and resources; never an outputs file) and counts
#      what it holds;
#   2. refuses while a dead-letter queue holds messages (redrive or inspect them first);
#   3. backs up every table (an on-demand DynamoDB backup, kept after the table is gone) when
#      --backup is given or, asked at a terminal, accepted; --no-backup skips it;
#   4. deletes the edge stack (<stack>-edge, us-east-1) and then the stack, and waits;
#   5. deletes what the stack keeps on deletion (removalPolicy "retain"): tables, the user pool
#      and its domain, log groups, and the backup vault when it is empty;
#   6. says what it kept: backups, a vault with recovery points, API Gateway's account-wide role.
# --dry-run shows every command in that order and runs only the read-only checks (none with a
# template alone). --local runs against the local stack (DynamoDB Local, LocalStack): there is no
# CloudFormation there, so it deletes the stand-in's tables and queues itself.
set -euo pipefail
OPS_NAME=teardown
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

backup=""
assume_yes=false
while [ $# -gt 0 ]; do
    case "$1" in
    --stack) OPS_STACK="${2:?--stack needs a name}"; shift 2 ;;
    --template) OPS_TEMPLATE_FILE="${2:?--template needs a file}"; shift 2 ;;
    --local) OPS_LOCAL_PREFIX="${2:?--local needs the prefix csms-local was given}"; shift 2 ;;
    --dry-run) OPS_DRY_RUN=true; shift ;;
    --backup) backup=yes; shift ;;
    --no-backup) backup=no; shift ;;
    --yes) assume_yes=true; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done
[ -z "$OPS_STACK" ] || [ -z "${OPS_TEMPLATE_FILE:-}" ] || die "--stack and --template exclude each other"
[ -z "$OPS_LOCAL_PREFIX" ] || [ -n "${OPS_TEMPLATE_FILE:-}" ] || die "--local needs --template (the template csms-local provisioned from)"
template_only=false
[ -z "$OPS_STACK" ] && [ -z "$OPS_LOCAL_PREFIX" ] && template_only=true
load_stack
$template_only && ! $OPS_DRY_RUN && die "with a template alone there is nothing to delete: add --dry-run, or --local <prefix>"

count() { resources "$1" | grep -c . || true; }
retained() { jq -r --arg id "$1" '.Resources[$id].DeletionPolicy // "Delete"' <<<"$OPS_TEMPLATE_JSON" | grep -q '^Retain'; }

mapfile -t dlqs < <(dead_letter_queues)
if [ -n "$OPS_STACK" ]; then
    echo "== stack $OPS_STACK"
elif [ -n "$OPS_LOCAL_PREFIX" ]; then
    echo "== local stack $OPS_LOCAL_PREFIX (template $OPS_TEMPLATE_FILE)"
else
    echo "== template $OPS_TEMPLATE_FILE (dry run: physical names shown as <ConstructId>)"
fi
printf '   %s tables, %s queues (%s of them dead-letter queues), %s functions, %s alarms, %s log groups, %s user pool(s), %s backup vault(s)\n' \
    "$(count AWS::DynamoDB::Table)" "$(count AWS::SQS::Queue)" "${#dlqs[@]}" "$(count AWS::Lambda::Function)" \
    "$(count AWS::CloudWatch::Alarm)" "$(count AWS::Logs::LogGroup)" "$(count AWS::Cognito::UserPool)" "$(count AWS::Backup::BackupVault)"

# ---- 2. dead-letter queues must be empty ------------------------------------------------------
echo "== 1/5 dead-letter queues must be empty"
holding=()
for logical in "${dlqs[@]}"; do
    construct="$(jq -r --arg id "$logical" '(.Resources[$id].Metadata["aws:cdk:path"] // ("x/" + $id)) | split("/") | .[1]' <<<"$OPS_TEMPLATE_JSON")"
    url="$(physical "$logical" "$construct" AWS::SQS::Queue)"
    if $template_only; then
        show aws sqs get-queue-attributes --queue-url "$url" --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible ApproximateNumberOfMessagesDelayed
        continue
    fi
    [ -n "$url" ] || { echo "   $construct: not found (already gone)"; continue; }
    aws_cmd sqs get-queue-attributes --queue-url "$url" --output json \
        --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible ApproximateNumberOfMessagesDelayed
    show "${AWS_CMD[@]}"
    n="$("${AWS_CMD[@]}" | jq '[.Attributes[] | tonumber] | add // 0')"
    echo "   $construct: $n message(s)"
    [ "$n" -eq 0 ] || holding+=("$construct ($n, $url)")
done
if [ "${#holding[@]}" -gt 0 ]; then
    echo "$OPS_NAME: refusing: dead-letter queues hold messages that would be lost:" >&2
    printf '  %s\n' "${holding[@]}" >&2
    cat >&2 <<'MSG'
Read them (aws sqs receive-message --queue-url <url> --max-number-of-messages 10 --visibility-timeout 0),
move them back once the consumer is fixed (aws sqs start-message-move-task --source-arn <queue arn>), or
save them elsewhere and purge the queue (aws sqs purge-queue --queue-url <url>); then run this again.
MSG
    exit 1
fi

# ---- 3. backups --------------------------------------------------------------------------------
echo "== 2/5 backups of the tables"
if [ -z "$backup" ]; then
    if $OPS_DRY_RUN; then
        backup=yes
    elif [ -t 0 ]; then
        read -r -p "Back up every table first (an on-demand backup each, kept after the table is deleted)? [Y/n] " answer
        case "${answer:-y}" in [Nn]*) backup=no ;; *) backup=yes ;; esac
    else
        die "choose --backup or --no-backup (not asked: no terminal)"
    fi
fi
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
made=()
if [ "$backup" = yes ]; then
    while IFS=$'\t' read -r logical construct; do
        name="$(physical "$logical" "$construct" AWS::DynamoDB::Table)"
        [ -n "$name" ] || { echo "   $construct: not found (already gone)"; continue; }
        # Backup names: 3-255 of A-Z a-z 0-9 _ - .
        backup_name="$name-final-$stamp"
        $template_only || backup_name="$(echo "$backup_name" | tr -c 'A-Za-z0-9_.\n-' '-' | cut -c1-255)"
        aws_cmd dynamodb create-backup --table-name "$name" --backup-name "$backup_name" --query BackupDetails.BackupArn --output text
        show "${AWS_CMD[@]}"
        if ! $OPS_DRY_RUN; then
            arn="$("${AWS_CMD[@]}")" || die "could not back up $name: nothing was deleted"
            made+=("$arn")
        fi
    done < <(resources AWS::DynamoDB::Table)
else
    echo "   skipped (--no-backup): point-in-time recovery ends with each table"
fi

# ---- confirmation ------------------------------------------------------------------------------
if ! $OPS_DRY_RUN && ! $assume_yes; then
    target="${OPS_STACK:-$OPS_LOCAL_PREFIX}"
    [ -t 0 ] || die "not confirmed: give --yes (no terminal to ask)"
    read -r -p "Delete $target and all its data? Type its name to go on: " answer
    [ "$answer" = "$target" ] || die "not confirmed: nothing deleted"
fi

# ---- 4. the stacks -----------------------------------------------------------------------------
echo "== 3/5 the stacks"
if [ -n "$OPS_STACK" ] || $template_only; then
    stack="${OPS_STACK:-<stack>}"
    edge="$stack-edge"
    if $OPS_DRY_RUN || aws cloudformation describe-stacks --region us-east-1 --stack-name "$edge" >/dev/null 2>&1; then
        act aws cloudformation delete-stack --region us-east-1 --stack-name "$edge"
        act aws cloudformation wait stack-delete-complete --region us-east-1 --stack-name "$edge"
    fi
    act aws cloudformation delete-stack --stack-name "$stack"
    act aws cloudformation wait stack-delete-complete --stack-name "$stack"
else
    echo "   no CloudFormation locally: deleting the stand-in's queues instead"
    while IFS=$'\t' read -r logical construct; do
        url="$(physical "$logical" "$construct" AWS::SQS::Queue)"
        [ -n "$url" ] || continue
        act_aws sqs delete-queue --queue-url "$url"
    done < <(resources AWS::SQS::Queue)
fi

# ---- 5. what the stack kept --------------------------------------------------------------------
echo "== 4/5 what the stack keeps on deletion"
kept_vaults=()
while IFS=$'\t' read -r logical construct; do
    # Locally nothing deleted the tables; in AWS only retained ones are left.
    [ -n "$OPS_LOCAL_PREFIX" ] || retained "$logical" || continue
    name="$(physical "$logical" "$construct" AWS::DynamoDB::Table)"
    [ -n "$name" ] || continue
    if ! $OPS_DRY_RUN && ! aws_for dynamodb describe-table --table-name "$name" >/dev/null 2>&1; then
        echo "   $construct: already gone"
        continue
    fi
    [ -n "$OPS_LOCAL_PREFIX" ] || act aws dynamodb update-table --table-name "$name" --no-deletion-protection-enabled --query TableDescription.TableName --output text
    act_aws dynamodb delete-table --table-name "$name" --query TableDescription.TableName --output text
done < <(resources AWS::DynamoDB::Table)

if [ -z "$OPS_LOCAL_PREFIX" ]; then
    while IFS=$'\t' read -r logical construct; do
        retained "$logical" || continue
        pool="$(physical "$logical" "$construct" AWS::Cognito::UserPool)"
        [ -n "$pool" ] || continue
        if $OPS_DRY_RUN; then
            domain="<its domain prefix>"
        else
            domain="$(aws cognito-idp describe-user-pool --user-pool-id "$pool" --query UserPool.Domain --output text 2>/dev/null)" ||
                { echo "   $construct: already gone"; continue; }
        fi
        # update-user-pool resets what it is not given: harmless right before the pool goes.
        act aws cognito-idp update-user-pool --user-pool-id "$pool" --deletion-protection INACTIVE
        [ "$domain" = None ] || [ -z "$domain" ] || act aws cognito-idp delete-user-pool-domain --user-pool-id "$pool" --domain "$domain"
        act aws cognito-idp delete-user-pool --user-pool-id "$pool"
    done < <(resources AWS::Cognito::UserPool)

    while IFS=$'\t' read -r logical construct; do
        retained "$logical" || continue
        group="$(physical "$logical" "$construct" AWS::Logs::LogGroup)"
        [ -n "$group" ] || continue
        act aws logs delete-log-group --log-group-name "$group" || echo "   $construct: already gone"
    done < <(resources AWS::Logs::LogGroup)

    while IFS=$'\t' read -r logical construct; do
        retained "$logical" || continue
        vault="$(physical "$logical" "$construct" AWS::Backup::BackupVault)"
        [ -n "$vault" ] || continue
        points=0
        $OPS_DRY_RUN || points="$(aws backup list-recovery-points-by-backup-vault --backup-vault-name "$vault" \
            --query 'length(RecoveryPoints)' --output text 2>/dev/null || echo 0)"
        if [ "$points" = 0 ]; then
            act aws backup delete-backup-vault --backup-vault-name "$vault"
        else
            kept_vaults+=("$vault ($points recovery points)")
        fi
    done < <(resources AWS::Backup::BackupVault)
fi

# ---- 6. what is left, on purpose ---------------------------------------------------------------
echo "== 5/5 kept"
for arn in "${made[@]}"; do echo "   backup $arn (aws dynamodb delete-backup --backup-arn <arn> when no longer needed)"; done
$OPS_DRY_RUN && [ "$backup" = yes ] && echo "   the backups above (aws dynamodb list-backups)"
for vault in "${kept_vaults[@]}"; do echo "   backup vault $vault: delete its recovery points, then the vault"; done
if [ -z "$OPS_LOCAL_PREFIX" ] && [ -n "$(resources AWS::IAM::Role | awk -F'\t' '$2 == "ApiGatewayCloudWatchRole"')" ]; then
    echo "   API Gateway's CloudWatch Logs role: an account-wide setting other stacks may use"
fi
if $OPS_DRY_RUN; then echo "done (dry run: nothing was changed)"; else echo "done"; fi
