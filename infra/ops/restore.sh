#!/usr/bin/env bash
# Restores one table of a CSMS stack to a point in time, and puts the data back under the stack.
#
#   infra/ops/restore.sh point-in-time --stack csms-prod --table SessionsTable --time 2026-12-01T09:55:00Z
#       restores the table as it was then into a new table beside it (<name>-at-<time>); the
#       stack's table is not touched. --time latest: the latest restorable time.
#   infra/ops/restore.sh copy-back --stack csms-prod --table SessionsTable --from <restored table>
#       writes every item of the restored table into the stack's table (same keys are overwritten,
#       items written since stay): for repairing bad writes while the system runs.
#   infra/ops/restore.sh swap --stack csms-prod --table SessionsTable --from <restored table>
#       replaces the stack's table by the restored one under the same name, so CloudFormation
#       manages it again without an import: backs the restored table up, deletes the stack's table,
#       restores the backup under its name, and sets again what a restore does not carry (TTL,
#       point-in-time recovery, deletion protection). Functions using the table fail until the
#       restore ends (minutes for small tables): for a table lost or damaged beyond repair.
# Every subcommand takes --dry-run (shows the commands, runs the read-only ones) and, instead of
# --stack, --template <file> [--local <prefix>] like the other scripts in infra/ops (lib.sh).
set -euo pipefail
OPS_NAME=restore
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
point-in-time | copy-back | swap) ;;
-h | --help | "") sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
*) die "unknown subcommand $command (point-in-time, copy-back or swap; see --help)" ;;
esac
table_id=""
time_spec=""
from=""
assume_yes=false
while [ $# -gt 0 ]; do
    case "$1" in
    --stack) OPS_STACK="${2:?--stack needs a name}"; shift 2 ;;
    --template) OPS_TEMPLATE_FILE="${2:?--template needs a file}"; shift 2 ;;
    --local) OPS_LOCAL_PREFIX="${2:?--local needs the prefix csms-local was given}"; shift 2 ;;
    --table) table_id="${2:?--table needs a construct id, e.g. SessionsTable}"; shift 2 ;;
    --time) time_spec="${2:?--time needs an RFC 3339 time or latest}"; shift 2 ;;
    --from) from="${2:?--from needs the name of the restored table}"; shift 2 ;;
    --dry-run) OPS_DRY_RUN=true; shift ;;
    --yes) assume_yes=true; shift ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done
[ -n "$table_id" ] || die "name the table by its construct id: --table SessionsTable (ARCHITECTURE.md, Resources)"
load_stack
$OPS_TEMPLATE_ONLY && ! $OPS_DRY_RUN && die "with a template alone there is nothing to restore: add --dry-run, or --local <prefix>"
logical="$(resources AWS::DynamoDB::Table | awk -F'\t' -v id="$table_id" '$2 == id { print $1 }')"
[ -n "$logical" ] || die "the stack has no table $table_id (it has: $(resources AWS::DynamoDB::Table | cut -f2 | paste -sd, -))"
name="$(physical "$logical" "$table_id" AWS::DynamoDB::Table)"
[ -n "$name" ] || die "$table_id has no physical name in this stack"
ttl_attribute="$(jq -r --arg id "$logical" '.Resources[$id].Properties.TimeToLiveSpecification | select(.Enabled == true or .Enabled == "true") | .AttributeName' <<<"$OPS_TEMPLATE_JSON")"
protected="$(jq -r --arg id "$logical" '.Resources[$id].Properties.DeletionProtectionEnabled // false' <<<"$OPS_TEMPLATE_JSON")"
echo "== $table_id: $name"

confirm() {
    $OPS_DRY_RUN && return
    $assume_yes && return
    [ -t 0 ] || die "not confirmed: give --yes (no terminal to ask)"
    read -r -p "$1 Type the table's name to go on: " answer
    [ "$answer" = "$name" ] || die "not confirmed: nothing changed"
}

case "$command" in
point-in-time)
    [ -n "$time_spec" ] || die "give --time <RFC 3339 time, e.g. 2026-12-01T09:55:00Z> or --time latest"
    aws_cmd dynamodb describe-continuous-backups --table-name "$name" \
        --query 'ContinuousBackupsDescription.PointInTimeRecoveryDescription' --output json
    look "${AWS_CMD[@]}" || echo "   (the restorable window could not be read)"
    if [ "$time_spec" = latest ]; then
        target="$name-at-latest-$(date -u +%Y%m%dT%H%M%SZ)"
        when=(--use-latest-restorable-time)
    else
        epoch="$(date -u -d "$time_spec" +%s 2>/dev/null)" || die "--time $time_spec is not a time (RFC 3339, e.g. 2026-12-01T09:55:00Z)"
        target="$name-at-$(date -u -d "@$epoch" +%Y%m%dT%H%M%SZ)"
        when=(--restore-date-time "$epoch")
    fi
    # The restored table keeps the keys, indexes and data; billing on demand and encryption as
    # the stack sets them. It has no TTL, PITR, deletion protection or tags until `swap` sets them.
    act_aws dynamodb restore-table-to-point-in-time --source-table-name "$name" --target-table-name "$target" "${when[@]}" \
        --billing-mode-override PAY_PER_REQUEST --sse-specification-override Enabled=true,SSEType=KMS \
        --query TableDescription.TableName --output text
    act_aws dynamodb wait table-exists --table-name "$target"
    aws_cmd dynamodb describe-table --table-name "$target" --query 'Table.[TableStatus,ItemCount]' --output text
    act "${AWS_CMD[@]}"
    cat <<NEXT
Restored into $target. Look at it (aws dynamodb scan --table-name $target --max-items 20), then either
  repair the live table from it:  $0 copy-back ${OPS_STACK:+--stack $OPS_STACK}${OPS_TEMPLATE_FILE:+--template $OPS_TEMPLATE_FILE}${OPS_LOCAL_PREFIX:+ --local $OPS_LOCAL_PREFIX} --table $table_id --from $target
  or replace the live table:      $0 swap ${OPS_STACK:+--stack $OPS_STACK}${OPS_TEMPLATE_FILE:+--template $OPS_TEMPLATE_FILE}${OPS_LOCAL_PREFIX:+ --local $OPS_LOCAL_PREFIX} --table $table_id --from $target
and delete it afterwards: aws dynamodb delete-table --table-name $target
NEXT
    ;;

copy-back)
    [ -n "$from" ] || die "give --from <the restored table's name>"
    confirm "Write every item of $from into $name (items with the same key are overwritten)?"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    # The CLI pages through the whole scan; items go back in batches of 25 (BatchWriteItem's limit),
    # and whatever DynamoDB leaves unprocessed is sent again.
    aws_cmd dynamodb scan --table-name "$from" --output json
    show "${AWS_CMD[@]}"
    if $OPS_DRY_RUN; then
        show aws dynamodb batch-write-item --request-items "file://<25 items of $from, as PutRequests on $name>"
        echo "done (dry run: nothing was changed)"
        exit 0
    fi
    "${AWS_CMD[@]}" >"$work/items.json"
    total="$(jq '.Items | length' "$work/items.json")"
    batches=0
    while read -r chunk; do
        echo "$chunk" >"$work/batch.json"
        for attempt in 1 2 3 4 5 6 7 8; do
            aws_for dynamodb batch-write-item --request-items "file://$work/batch.json" --output json >"$work/out.json"
            jq -e '(.UnprocessedItems // {}) | length == 0' "$work/out.json" >/dev/null && break
            [ "$attempt" -lt 8 ] || die "DynamoDB kept items unprocessed after 8 tries; run copy-back again (it only overwrites)"
            jq '.UnprocessedItems' "$work/out.json" >"$work/batch.json"
            sleep "$attempt"
        done
        batches=$((batches + 1))
    done < <(jq -c --arg to "$name" '.Items | [range(0; length; 25) as $i | .[$i:$i + 25]] | .[] | {($to): map({PutRequest: {Item: .}})}' "$work/items.json")
    echo "copied $total item(s) from $from into $name in $batches batch(es)"
    ;;

swap)
    [ -n "$from" ] || die "give --from <the restored table's name>"
    [ "$from" != "$name" ] || die "--from is the stack's table itself"
    confirm "Delete $name and put $from in its place? Functions that use $table_id fail until the restore ends."
    stamp="$(date -u +%Y%m%dT%H%M%SZ)"
    # 1. A backup of the restored table: what comes back under the stack's name.
    aws_cmd dynamodb create-backup --table-name "$from" --backup-name "$from-swap-$stamp" --query BackupDetails.BackupArn --output text
    show "${AWS_CMD[@]}"
    if $OPS_DRY_RUN; then backup_arn="<backup-arn>"; else backup_arn="$("${AWS_CMD[@]}")"; fi
    if ! $OPS_DRY_RUN; then
        until [ "$(aws_for dynamodb describe-backup --backup-arn "$backup_arn" --query BackupDescription.BackupDetails.BackupStatus --output text)" = AVAILABLE ]; do
            sleep 5
        done
    fi
    # 2. The stack's table goes (its own PITR ends with it; DynamoDB keeps a system backup of it).
    act_aws dynamodb update-table --table-name "$name" --no-deletion-protection-enabled --query TableDescription.TableName --output text
    act_aws dynamodb delete-table --table-name "$name" --query TableDescription.TableName --output text
    act_aws dynamodb wait table-not-exists --table-name "$name"
    # 3. The backup comes back under the stack's name: CloudFormation knows the table by it.
    act_aws dynamodb restore-table-from-backup --target-table-name "$name" --backup-arn "$backup_arn" \
        --billing-mode-override PAY_PER_REQUEST --sse-specification-override Enabled=true,SSEType=KMS \
        --query TableDescription.TableName --output text
    act_aws dynamodb wait table-exists --table-name "$name"
    # 4. What a restore does not carry, as the template sets it.
    act_aws dynamodb update-continuous-backups --table-name "$name" \
        --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true --query 'ContinuousBackupsDescription.ContinuousBackupsStatus' --output text
    if [ -n "$ttl_attribute" ]; then
        act_aws dynamodb update-time-to-live --table-name "$name" \
            --time-to-live-specification "Enabled=true,AttributeName=$ttl_attribute" --query 'TimeToLiveSpecification.Enabled' --output text
    fi
    if [ "$protected" = true ]; then
        act_aws dynamodb update-table --table-name "$name" --deletion-protection-enabled --query TableDescription.TableName --output text
    fi
    [ -z "$OPS_STACK" ] || act aws cloudformation detect-stack-drift --stack-name "$OPS_STACK" --logical-resource-ids "$logical"
    cat <<DONE
$name holds the restored data again, under the stack. When satisfied, delete the rest:
  aws dynamodb delete-table --table-name $from
  aws dynamodb delete-backup --backup-arn $backup_arn
DONE
    ;;
esac
