#!/usr/bin/env bash
# Builds every Lambda function (each crate under functions/) for arm64 (Graviton, provided.al2023)
# as a Lambda zip with cargo-lambda:
#
#   infra/build-functions.sh          -> target/lambda/<function>/bootstrap.zip
#   (or: cd infra && npm run build:functions)
#
# What it needs, installed on first use and pinned:
# - the Rust target aarch64-unknown-linux-gnu (rustup target add; from the Rust distribution
#   server, so the first run needs that network);
# - cargo-lambda and zig (its cross-linker, through cargo-zigbuild), from PyPI into the venv
#   <repo>/.local/cargo-lambda (pins in infra/requirements-build.txt).
#
# `cdk deploy` builds the same binaries again through cargo-lambda-cdk's local bundling when
# `cargo lambda` is on PATH (`npm run deploy` puts this venv first on PATH), reusing this build's
# target/ directory, so after this script a deploy only re-packages. Not run by the tests: a cold
# release build of the workspace for arm64 takes many minutes; `npm run synth` never needs it.
set -euo pipefail

INFRA="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$INFRA/.." && pwd)"
LOCAL="$ROOT/.local"
VENV="$LOCAL/cargo-lambda"
REQUIREMENTS="$INFRA/requirements-build.txt"
TARGET=aarch64-unknown-linux-gnu

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 UV_NO_PROGRESS=1

fail() {
    echo "build-functions: $*" >&2
    exit 1
}

command -v cargo >/dev/null || fail "cargo not found: install Rust (rustup)"
command -v rustup >/dev/null || fail "rustup not found: the arm64 target is added with rustup"

if ! rustup target list --installed | grep -qx "$TARGET"; then
    echo "build-functions: adding the Rust target $TARGET"
    rustup target add "$TARGET"
fi

python="${BUILD_PYTHON:-}"
if [ -z "$python" ]; then
    python="$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.11*/bin/python3 2>/dev/null | sort -V | tail -n 1 || true)"
    [ -n "$python" ] || python="$(command -v python3 || true)"
fi
[ -n "$python" ] && [ -x "$python" ] || fail "no Python found for the cargo-lambda venv (set BUILD_PYTHON)"
stamp="$("$python" --version 2>&1) $(sha256sum "$REQUIREMENTS" | cut -c1-16)"
if ! { [ -f "$VENV/.stamp" ] && [ "$(cat "$VENV/.stamp")" = "$stamp" ] && [ -x "$VENV/bin/cargo-lambda" ]; }; then
    echo "build-functions: installing cargo-lambda and zig into $VENV"
    rm -rf "$VENV"
    "$python" -m venv "$VENV"
    if [ -x "$LOCAL/uv/bin/uv" ]; then
        "$LOCAL/uv/bin/uv" pip install -q --python "$VENV/bin/python" -r "$REQUIREMENTS"
    else
        "$VENV/bin/python" -m pip install -q -r "$REQUIREMENTS"
    fi
    echo "$stamp" >"$VENV/.stamp"
fi
# cargo-lambda finds `cargo-lambda` and zig (`python3 -m ziglang`) through PATH.
export PATH="$VENV/bin:$PATH"

functions=()
for manifest in "$ROOT"/functions/*/Cargo.toml; do
    functions+=("$(basename "$(dirname "$manifest")")")
done
[ "${#functions[@]}" -gt 0 ] || fail "no function crates under functions/"
bins=()
for f in "${functions[@]}"; do bins+=(--bin "$f"); done

echo "build-functions: cargo lambda build --release --arm64 for: ${functions[*]}"
cd "$ROOT"
cargo lambda build --release --arm64 --output-format zip "${bins[@]}"

for f in "${functions[@]}"; do
    zip="$ROOT/target/lambda/$f/bootstrap.zip"
    [ -f "$zip" ] || fail "expected $zip"
    printf '  %-12s %s (%s)\n' "$f" "${zip#"$ROOT"/}" "$(du -h "$zip" | cut -f1)"
done
