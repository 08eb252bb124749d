#!/usr/bin/env bash
# Lints the synthesized CloudFormation template with cfn-lint and checkov.
#
#   infra/lint.sh            synthesizes first when the template is missing or older than the
#                            CDK sources, then lints infra/cdk.out/Csms.template.json
#   infra/lint.sh --all-options
#                            also synthesizes (into a temporary directory) and lints the templates
#                            of infra/env/example.json, which sets every setting: custom domains,
#                            WAF, alarm email, CORS, backup plan, budget, the us-east-1 edge stack
#                            (what the default template cannot show)
#
# Passes only with no cfn-lint error or warning and zero failed checkov checks. A finding is fixed
# in lib/, or suppressed next to the resource it concerns with the reason written there
# (lib/suppressions.ts: skipCheckov / ignoreCfnLint), never here.
#
# The linters live in <repo>/.local/lint-venv, made with pyenv's Python 3.11 and filled from
# infra/requirements-lint.txt (fully pinned); it is rebuilt only when the interpreter or the
# requirements change, with uv from localstack/install.sh when present (pip otherwise). PyPI is
# the only network it uses, and only then; the linters themselves run offline (checkov with
# --skip-download).
set -euo pipefail

INFRA="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$INFRA/.." && pwd)"
LOCAL="$ROOT/.local"
VENV="$LOCAL/lint-venv"
REQUIREMENTS="$INFRA/requirements-lint.txt"
TEMPLATE="$INFRA/cdk.out/Csms.template.json"

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 UV_NO_PROGRESS=1

now() { date +%s%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", (b - a) / 1e9 }'; }
fail() {
    echo "lint: $*" >&2
    exit 1
}

find_python311() {
    if [ -n "${LINT_PYTHON:-}" ]; then
        echo "$LINT_PYTHON"
        return
    fi
    local root="${PYENV_ROOT:-$HOME/.pyenv}" candidate
    candidate="$(ls -d "$root"/versions/3.11*/bin/python3 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -z "$candidate" ] && command -v python3.11 >/dev/null; then
        candidate="$(command -v python3.11)"
    fi
    [ -n "$candidate" ] && [ -x "$candidate" ] ||
        fail "no Python 3.11 found (looked in $root/versions/3.11*, python3.11 on PATH); install one (pyenv install 3.11) or set LINT_PYTHON"
    echo "$candidate"
}

ensure_venv() {
    local start python pyver stamp log
    start="$(now)"
    python="$(find_python311)"
    pyver="$("$python" -c 'import sys; print(".".join(map(str, sys.version_info[:3])))')"
    stamp="python $pyver $(sha256sum "$REQUIREMENTS" | cut -c1-16)"
    if [ -f "$VENV/.stamp" ] && [ "$(cat "$VENV/.stamp")" = "$stamp" ] &&
        [ -x "$VENV/bin/cfn-lint" ] && [ -x "$VENV/bin/checkov" ]; then
        return
    fi
    mkdir -p "$LOCAL/logs"
    log="$LOCAL/logs/install-lint-venv.log"
    : >"$log"
    # One install at a time (two terminals, parallel CI steps).
    exec 8>"$LOCAL/.lint-venv.lock"
    flock 8
    if [ -f "$VENV/.stamp" ] && [ "$(cat "$VENV/.stamp")" = "$stamp" ]; then
        return
    fi
    rm -rf "$VENV"
    {
        "$python" -m venv "$VENV" &&
            if [ -x "$LOCAL/uv/bin/uv" ]; then
                "$LOCAL/uv/bin/uv" pip install -q --python "$VENV/bin/python" -r "$REQUIREMENTS" &&
                    "$LOCAL/uv/bin/uv" pip check -q --python "$VENV/bin/python"
            else
                "$VENV/bin/python" -m pip install -q -r "$REQUIREMENTS" && "$VENV/bin/python" -m pip check
            fi
    } >>"$log" 2>&1 || {
        tail -n 40 "$log" >&2
        fail "could not install the linters into $VENV (log: $log)"
    }
    echo "$stamp" >"$VENV/.stamp"
    echo "lint: installed cfn-lint and checkov into $VENV (Python $pyver) in $(elapsed "$start")"
}

ensure_template() {
    local newer=""
    if [ -f "$TEMPLATE" ]; then
        newer="$(find "$INFRA/bin" "$INFRA/lib" "$INFRA/env" "$INFRA/cdk.json" "$INFRA/package.json" "$INFRA/package-lock.json" \
            -newer "$TEMPLATE" -type f -print -quit 2>/dev/null || true)"
        [ -z "$newer" ] && return
    fi
    if [ -n "$newer" ]; then
        echo "lint: ${newer#"$INFRA"/} is newer than the template: synthesizing (npm run synth)"
    else
        echo "lint: no template yet: synthesizing (npm run synth)"
    fi
    (cd "$INFRA" && npm run --silent synth >/dev/null)
}

# lint TEMPLATE LABEL: cfn-lint and checkov over one template; returns non-zero on any finding.
lint() {
    local template="$1" label="$2" start rc out summary status=0
    start="$(now)"
    # Exit status is a bit mask: 2 errors, 4 warnings, 8 informational; errors and warnings fail.
    set +e
    "$VENV/bin/cfn-lint" --format parseable "$template"
    rc=$?
    set -e
    if ((rc & 6)); then
        echo "lint: $label: cfn-lint FAILED (exit $rc) in $(elapsed "$start")" >&2
        status=1
    else
        echo "lint: $label: cfn-lint clean in $(elapsed "$start")"
    fi

    start="$(now)"
    set +e
    out="$("$VENV/bin/checkov" --file "$template" --framework cloudformation --skip-download --compact --quiet 2>&1)"
    rc=$?
    set -e
    summary="$(grep -m1 -E '^Passed checks:' <<<"$out" || true)"
    if [ "$rc" -ne 0 ]; then
        echo "$out" >&2
        echo "lint: $label: checkov FAILED (exit $rc) in $(elapsed "$start")" >&2
        status=1
    elif [ -z "$summary" ]; then
        echo "$out" >&2
        echo "lint: $label: checkov printed no summary (did it scan the template?)" >&2
        status=1
    else
        echo "lint: $label: checkov clean ($summary) in $(elapsed "$start")"
    fi
    return "$status"
}

all_options=false
for arg in "$@"; do
    case "$arg" in
    --all-options) all_options=true ;;
    *) fail "unknown argument $arg (usage: lint.sh [--all-options])" ;;
    esac
done

ensure_venv
ensure_template

status=0
lint "$TEMPLATE" "cdk.out/Csms.template.json" || status=1

if $all_options; then
    out_dir="$(mktemp -d)"
    trap 'rm -rf "$out_dir"' EXIT
    echo "lint: synthesizing infra/env/example.json (every setting) into $out_dir"
    (cd "$INFRA" && CSMS_SKIP_BUNDLING=1 CDK_DISABLE_CLI_TELEMETRY=true AWS_EC2_METADATA_DISABLED=true \
        npx --no-install cdk synth --quiet --no-notices --no-version-reporting --output "$out_dir" -c env=example >/dev/null)
    lint "$out_dir/Csms.template.json" "every setting (example.json)" || status=1
    lint "$out_dir/CsmsEdge.template.json" "edge stack (example.json)" || status=1
fi

exit "$status"
