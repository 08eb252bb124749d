# Shared by run.sh and test.sh: install what is missing, synthesize the CDK template, build, and
# start the local stack (DynamoDB Local, LocalStack, csms-local) under a state directory.
# Every process started here is recorded by pid and stopped by stack_down.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

# prepare: toolchains and dependencies, the CDK template, and the Rust binaries.
prepare() {
    step "installing local dependencies (DynamoDB Local, LocalStack, test venv, infra npm)"
    bash "$ROOT/localstack/install.sh"
    step "synthesizing the CDK template (offline, no Rust build)"
    (cd "$ROOT/infra" && npm run --silent synth >/dev/null)
    step "building the workspace"
    (cd "$ROOT" && cargo build --workspace --bins --quiet)
    step "building the web apps (web/dist)"
    (cd "$ROOT/web" && npm run --silent build >/dev/null)
}

# stack_up STATE PREFIX: emulators + csms-local; exports everything into this shell.
stack_up() {
    local state="$1" prefix="$2" i
    STACK_STATE="$state"
    step "starting DynamoDB Local and LocalStack"
    bash "$ROOT/localstack/emulators.sh" start "$state"
    # shellcheck disable=SC1091
    source "$state/emulators.env"
    step "starting csms-local (the stand-in for API Gateway and the SQS triggers)"
    rm -f "$state/csms.env"
    # The web door serves the built apps; CSMS_TILE_URL (tests: generated tiles) and
    # CSMS_DEV_ORIGIN (run.sh: Vite's dev server) are optional.
    local web=()
    [ -f "$ROOT/web/dist/index.html" ] && web+=(--web "$ROOT/web")
    [ -n "${CSMS_TILE_URL:-}" ] && web+=(--tile-url "$CSMS_TILE_URL")
    [ -n "${CSMS_DEV_ORIGIN:-}" ] && web+=(--cors-origin "$CSMS_DEV_ORIGIN")
    "${CSMS_LOCAL_BIN:-$ROOT/target/debug/csms-local}" --template "$ROOT/infra/cdk.out/Csms.template.json" --prefix "$prefix" \
        --state-file "$state/csms.env" "${web[@]}" >"$state/csms-local.log" 2>&1 &
    CSMS_LOCAL_PID=$!
    for ((i = 0; i < 300; i++)); do
        [ -s "$state/csms.env" ] && break
        kill -0 "$CSMS_LOCAL_PID" 2>/dev/null || { tail -n 40 "$state/csms-local.log" >&2; echo "csms-local exited" >&2; return 1; }
        sleep 0.1
    done
    [ -s "$state/csms.env" ] || { tail -n 40 "$state/csms-local.log" >&2; echo "csms-local did not come up in 30 s" >&2; return 1; }
    # shellcheck disable=SC1091
    source "$state/csms.env"
    export CSMS_REGISTRY_BIN="$ROOT/target/debug/csms-registry"
}

stack_down() {
    if [ -n "${CSMS_LOCAL_PID:-}" ] && kill -0 "$CSMS_LOCAL_PID" 2>/dev/null; then
        kill -INT "$CSMS_LOCAL_PID" 2>/dev/null || true
        wait "$CSMS_LOCAL_PID" 2>/dev/null || true
    fi
    CSMS_LOCAL_PID=""
    if [ -n "${STACK_STATE:-}" ]; then
        bash "$ROOT/localstack/emulators.sh" stop "$STACK_STATE" || true
    fi
}
