#!/usr/bin/env bash
# Builds the release artifacts into dist/ (gitignored):
#
#   dist/c/                  the C library installed into a prefix, cargo-c's layout:
#                              lib/libwa_flows_crypto.so.X.Y.Z (soname libwa_flows_crypto.so.X),
#                              lib/libwa_flows_crypto.so.X and .so (symlinks), lib/libwa_flows_crypto.a,
#                              include/wa_flows_crypto/wa_flows_crypto.h,
#                              lib/pkgconfig/wa_flows_crypto.pc
#   dist/wa-flows-crypto-cli-X.Y.Z-x86_64-unknown-linux-musl.tar.gz
#                            the static CLI, its shell completions and man page (also unpacked
#                            in dist/cli/)
#   dist/python/             the wheel (manylinux) and the sdist
#   dist/crates/             the .crate files cargo publish would upload
#
#   scripts/dist.sh [--prefix DIR] [c] [cli] [python] [crates]    (no part: all of them)
#
# --prefix DIR installs the C library into DIR instead of dist/c (the .pc file names DIR).
# Respects CARGO_TARGET_DIR (default: target). scripts/install-deps.sh dist installs what it needs
# (musl-tools, the musl target, pkg-config, maturin); scripts/test.sh dist tests the artifacts.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dist=$root/dist
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$root/$target ;; esac
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
major=${version%%.*}

prefix=$dist/c
parts=()
while (($#)); do
    case $1 in
        --prefix) prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        c | cli | python | crates) parts+=("$1"); shift ;;
        *) echo "usage: scripts/dist.sh [--prefix DIR] [c] [cli] [python] [crates]" >&2; exit 2 ;;
    esac
done
((${#parts[@]})) || parts=(c cli python crates)
case $prefix in /*) ;; *) prefix=$root/$prefix ;; esac
want() { [[ " ${parts[*]} " == *" $1 "* ]]; }

started=$(date +%s)
step() { printf '\n==> [%ss] %s\n' "$(($(date +%s) - started))" "$*"; }
mkdir -p "$dist"

if want c; then
    step "C library: cargo rustc --release (cdylib with soname libwa_flows_crypto.so.$major, staticlib)"
    # The soname goes to this one link only: the workspace's own builds (the C tests, maturin)
    # keep linking libwa_flows_crypto_ffi.so by path. `--print native-static-libs` says what a
    # static link needs besides the archive; cargo replays the note when the build is fresh.
    # Captured, then shown: `tee /dev/stderr` would reopen stderr and, when it is a file (a CI
    # log), truncate it.
    notes=$(cargo rustc --release --locked -p wa-flows-crypto-ffi --lib \
        --crate-type cdylib,staticlib -- \
        -C "link-arg=-Wl,-soname,libwa_flows_crypto.so.$major" \
        --print native-static-libs 2>&1) || { echo "$notes" >&2; exit 1; }
    echo "$notes" >&2
    static_libs=$(sed -n 's/.*native-static-libs: //p' <<<"$notes" | tail -1)
    [[ -n $static_libs ]] || static_libs="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"
    # -lc is implied by every C link; the rest is what the archive's objects (std) need.
    static_libs=$(tr ' ' '\n' <<<"$static_libs" | grep -vx -- '-lc' | awk 'NF && !seen[$0]++' | paste -sd' ')
    rel=$target/release
    readelf -d "$rel/libwa_flows_crypto_ffi.so" | grep -q "SONAME.*\[libwa_flows_crypto.so.$major\]" \
        || { echo "FAIL: $rel/libwa_flows_crypto_ffi.so has no soname libwa_flows_crypto.so.$major" >&2; exit 1; }

    step "C library: install into $prefix"
    rm -rf "$prefix/lib/libwa_flows_crypto".* "$prefix/include/wa_flows_crypto" \
        "$prefix/lib/pkgconfig/wa_flows_crypto.pc"
    install -d "$prefix/lib/pkgconfig" "$prefix/include/wa_flows_crypto"
    install -m 755 "$rel/libwa_flows_crypto_ffi.so" "$prefix/lib/libwa_flows_crypto.so.$version"
    ln -s "libwa_flows_crypto.so.$version" "$prefix/lib/libwa_flows_crypto.so.$major"
    ln -s "libwa_flows_crypto.so.$version" "$prefix/lib/libwa_flows_crypto.so"
    install -m 644 "$rel/libwa_flows_crypto_ffi.a" "$prefix/lib/libwa_flows_crypto.a"
    install -m 644 bindings/c/include/wa_flows_crypto.h "$prefix/include/wa_flows_crypto/"
    cat >"$prefix/lib/pkgconfig/wa_flows_crypto.pc" <<EOF
prefix=$prefix
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Name: wa_flows_crypto
Description: The cryptography of a WhatsApp Flows endpoint (C ABI of the Rust core)
URL: https://github.com/wa-flows-crypto/wa-flows-crypto
Version: $version
Cflags: -I\${includedir}/wa_flows_crypto
Libs: -L\${libdir} -lwa_flows_crypto
Libs.private: $static_libs
EOF
    (cd "$prefix" && find lib include -path '*wa_flows_crypto*' | sort | sed 's/^/  /')
fi

if want cli; then
    musl=x86_64-unknown-linux-musl
    step "CLI: cargo build --release --target $musl (static)"
    # aws-lc-sys compiles its C with the target's compiler: musl-gcc from musl-tools.
    CC_x86_64_unknown_linux_musl=${CC_x86_64_unknown_linux_musl:-musl-gcc} \
        cargo build --release --locked -p wa-flows-crypto-cli --target "$musl"
    bin=$target/$musl/release/wa-flows-crypto
    name=wa-flows-crypto-cli-$version-$musl
    stage=$dist/cli/$name
    rm -rf "$dist/cli" "$dist/$name.tar.gz"
    install -d "$stage/completions" "$stage/man/man1"
    install -m 755 "$bin" "$stage/wa-flows-crypto"
    step "CLI: completions and man page, from the binary itself"
    "$stage/wa-flows-crypto" completions bash >"$stage/completions/wa-flows-crypto.bash"
    "$stage/wa-flows-crypto" completions zsh >"$stage/completions/_wa-flows-crypto"
    "$stage/wa-flows-crypto" completions fish >"$stage/completions/wa-flows-crypto.fish"
    "$stage/wa-flows-crypto" man >"$stage/man/man1/wa-flows-crypto.1"
    cp crates/wa-flows-crypto-cli/README.md "$stage/"
    tar -C "$dist/cli" -czf "$dist/$name.tar.gz" "$name"
    "$stage/wa-flows-crypto" --version
    echo "  $dist/$name.tar.gz ($(du -k "$dist/$name.tar.gz" | cut -f1) KiB)"
fi

if want python; then
    tools=$target/dist-tools
    [[ -x $tools/bin/maturin ]] || {
        python3 -m venv "$tools"
        "$tools/bin/pip" install --quiet --disable-pip-version-check "maturin>=1.9,<2"
    }
    # The lowest manylinux level this machine's binary meets: the auditor refuses a level
    # the library's glibc symbol versions exceed (see bindings/python/README.md).
    manylinux=${WFC_MANYLINUX:-manylinux_2_34}
    rm -rf "$dist/python"
    step "Python: maturin build --release --compatibility $manylinux"
    (cd bindings/python && "$tools/bin/maturin" build --release --locked \
        --compatibility "$manylinux" --out "$dist/python")
    step "Python: maturin sdist"
    (cd bindings/python && "$tools/bin/maturin" sdist --out "$dist/python")
    ls -l "$dist/python"
fi

if want crates; then
    step "crates: cargo package (core, wasm, gateway (the CLI needs it), CLI; verified by scripts/test.sh dist)"
    rm -rf "$dist/crates"
    # --allow-dirty: the packages are the working tree (the verify step warns if it is dirty).
    git diff --quiet HEAD -- crates || echo "warning: crates/ has uncommitted changes; they go into the .crate files"
    cargo package --locked --no-verify --allow-dirty -p wa-flows-crypto -p wa-flows-crypto-wasm -p wa-flows-crypto-gateway \
        -p wa-flows-crypto-cli
    install -d "$dist/crates"
    for crate in wa-flows-crypto wa-flows-crypto-wasm wa-flows-crypto-gateway wa-flows-crypto-cli; do
        cp "$target/package/$crate-$version.crate" "$dist/crates/"
    done
    ls -l "$dist/crates"
fi

step "done (${parts[*]}): $(cd "$dist" && ls | paste -sd' ')"
