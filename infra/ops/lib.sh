# Shared by the operations scripts in infra/ops: where a stack's resources are, and how commands
# are shown and run. Needs bash, jq and the AWS CLI (v2 in AWS; v1 works too).
#
# A stack is read in one of three ways, chosen by the options every script takes:
#   --stack NAME              the deployed stack: its template (get-template) and its resources'
#                             physical ids (describe-stack-resources), with your AWS credentials
#   --template FILE           a synthesized template only (infra/cdk.out/Csms.template.json);
#                             physical ids are shown as <ConstructId>: for dry runs
#   --template FILE --local PREFIX
#                             the local stack that csms-local provisioned from that template
#                             (tables and queues named <PREFIX>-<ConstructId>, on DynamoDB Local
#                             and LocalStack through AWS_ENDPOINT_URL_DYNAMODB / _SQS)

OPS_TEMPLATE_JSON=""
OPS_STACK=""
OPS_LOCAL_PREFIX=""
OPS_DRY_RUN=false
# No deployed or local stack, only a template: nothing to run, even read-only.
OPS_TEMPLATE_ONLY=false
declare -A OPS_PHYSICAL=()

die() {
    echo "$OPS_NAME: $*" >&2
    exit 1
}

need() {
    command -v "$1" >/dev/null || die "$1 is needed ($2)"
}

# aws_cmd SERVICE ARGS...: sets AWS_CMD to the aws command for SERVICE, with the local endpoint
# when the stack is local (the CLI v1 does not read every AWS_ENDPOINT_URL_<SERVICE>).
aws_cmd() {
    local service="$1" endpoint=""
    shift
    if [ -n "$OPS_LOCAL_PREFIX" ]; then
        case "$service" in
        dynamodb) endpoint="${AWS_ENDPOINT_URL_DYNAMODB:-}" ;;
        sqs) endpoint="${AWS_ENDPOINT_URL_SQS:-}" ;;
        esac
        [ -n "$endpoint" ] || die "--local needs AWS_ENDPOINT_URL_${service^^} (source the local stack's emulators.env)"
    fi
    AWS_CMD=(aws ${endpoint:+--endpoint-url "$endpoint"} "$service" "$@")
}

# aws_for SERVICE ARGS...: runs that command.
aws_for() {
    aws_cmd "$@"
    "${AWS_CMD[@]}"
}

# show CMD...: the command as it would be typed, on stderr.
show() {
    local out="+" arg
    for arg in "$@"; do
        if [[ "$arg" =~ ^[A-Za-z0-9_./:=@,+\<\>-]+$ ]]; then out+=" $arg"; else out+=" '${arg//\'/\'\\\'\'}'"; fi
    done
    echo "$out" >&2
}

# act CMD...: show, then run unless --dry-run. Prints the command's output.
act() {
    show "$@"
    $OPS_DRY_RUN || "$@"
}

# look CMD...: a read-only command: show, then run unless there is only a template.
look() {
    show "$@"
    $OPS_TEMPLATE_ONLY || "$@"
}

# act_aws SERVICE ARGS...: act on an aws command (with the local endpoint when local).
act_aws() {
    aws_cmd "$@"
    act "${AWS_CMD[@]}"
}

# load_stack: reads the template and the physical ids, as the options chose.
load_stack() {
    need jq "to read templates"
    if [ -n "$OPS_STACK" ]; then
        need aws "the AWS CLI"
        OPS_TEMPLATE_JSON="$(aws cloudformation get-template --stack-name "$OPS_STACK" --template-stage Original \
            --query TemplateBody --output json)" || die "cannot read the template of stack $OPS_STACK"
        # TemplateBody comes back as a string when the template was given as one.
        if jq -e 'type == "string"' <<<"$OPS_TEMPLATE_JSON" >/dev/null; then
            OPS_TEMPLATE_JSON="$(jq -r . <<<"$OPS_TEMPLATE_JSON")"
        fi
        local logical physical
        while IFS=$'\t' read -r logical physical; do
            OPS_PHYSICAL["$logical"]="$physical"
        done < <(aws cloudformation describe-stack-resources --stack-name "$OPS_STACK" \
            --query 'StackResources[].[LogicalResourceId,PhysicalResourceId]' --output text)
    elif [ -n "${OPS_TEMPLATE_FILE:-}" ]; then
        [ -f "$OPS_TEMPLATE_FILE" ] || die "no template at $OPS_TEMPLATE_FILE (cd infra && npm run synth)"
        OPS_TEMPLATE_JSON="$(cat "$OPS_TEMPLATE_FILE")"
        [ -n "$OPS_LOCAL_PREFIX" ] || OPS_TEMPLATE_ONLY=true
    else
        die "name the stack: --stack <name> (deployed) or --template <file> [--local <prefix>]"
    fi
    jq -e '.Resources | type == "object"' <<<"$OPS_TEMPLATE_JSON" >/dev/null || die "the template has no Resources"
}

# resources TYPE: "<logical id>\t<construct id>" for each resource of that type, in template order.
resources() {
    jq -r --arg type "$1" '.Resources | to_entries[] | select(.value.Type == $type)
        | [.key, ((.value.Metadata["aws:cdk:path"] // ("x/" + .key)) | split("/") | .[1])] | @tsv' <<<"$OPS_TEMPLATE_JSON"
}

# dead_letter_queues: logical ids of the queues another queue's RedrivePolicy names.
dead_letter_queues() {
    jq -r '[.Resources[] | select(.Type == "AWS::SQS::Queue") | .Properties.RedrivePolicy.deadLetterTargetArn["Fn::GetAtt"][0]
        | select(. != null)] | unique[]' <<<"$OPS_TEMPLATE_JSON"
}

# is_fifo LOGICAL_ID
is_fifo() {
    jq -e --arg id "$1" '.Resources[$id].Properties.FifoQueue == true or .Resources[$id].Properties.FifoQueue == "true"' \
        <<<"$OPS_TEMPLATE_JSON" >/dev/null
}

# physical LOGICAL_ID CONSTRUCT_ID TYPE: the resource's physical id (a queue's is its URL).
physical() {
    local logical="$1" construct="$2" type="$3"
    if [ -n "$OPS_STACK" ]; then
        echo "${OPS_PHYSICAL[$logical]:-}"
    elif [ -n "$OPS_LOCAL_PREFIX" ]; then
        local name="$OPS_LOCAL_PREFIX-$construct"
        case "$type" in
        AWS::SQS::Queue)
            is_fifo "$logical" && name="$name.fifo"
            aws_for sqs get-queue-url --queue-name "$name" --query QueueUrl --output text 2>/dev/null || true
            ;;
        AWS::DynamoDB::Table) echo "$name" ;;
        *) echo "" ;; # not provisioned locally
        esac
    else
        echo "<$construct>"
    fi
}
