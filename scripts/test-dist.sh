#!/usr/bin/env bash
# Builds the release artifacts (scripts/dist.sh) and proves each one works where users run it:
#   c       the installed prefix: the C tests, the C example and a C++ consumer, built through
#           `pkg-config --cflags --libs wa_flows_crypto` (shared) and `--static`, and run
#   cli     the static musl binary: no dynamic loader, runs with an empty environment, --version
#           names the commit, completions load in bash/zsh/fish, the man page renders
#   python  the wheel in a fresh venv without cargo or rustc on PATH, then the sdist built in
#           another fresh venv; the package's pytest suite runs against each installed copy
#   crates  `cargo publish --dry-run` of the core, wasm, gateway and CLI crates, and the core's doctests
#           from its packaged .crate
#
#   scripts/test-dist.sh [c] [cli] [python] [crates]   (no part: all; scripts/test.sh dist)
# Respects CARGO_TARGET_DIR. scripts/install-deps.sh dist installs what it needs.
# WFC_DIST_BUILT="cli ..." names parts that scripts/dist.sh has already built into dist/ (the full
# suite builds the CLI in the background); they are tested, not built again.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dist=$root/dist
target=${CARGO_TARGET_DIR:-target}
case $target in /*) ;; *) target=$root/$target ;; esac
export CARGO_TARGET_DIR=$target
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
major=${version%%.*}
vectors=$root/tests/vectors
parts=("$@")
((${#parts[@]})) || parts=(c cli python crates)
want() { [[ " ${parts[*]} " == *" $1 "* ]]; }

work=$(mktemp -d "${TMPDIR:-/tmp}/wfc-dist.XXXXXX")
trap 'rm -rf "$work"' EXIT

started=$(date +%s)
checks=0
step() {
    printf '\n--> [%ss] %s\n' "$(($(date +%s) - started))" "$*"
    checks=$((checks + 1))
}
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

to_build=()
for part in "${parts[@]}"; do
    [[ " ${WFC_DIST_BUILT:-} " == *" $part "* ]] || to_build+=("$part")
done
if ((${#to_build[@]})); then
    step "scripts/dist.sh ${to_build[*]}"
    bash scripts/dist.sh "${to_build[@]}"
fi

if want c; then
    prefix=$dist/c
    lib=$prefix/lib
    step "C: the prefix has cargo-c's layout"
    for path in lib/libwa_flows_crypto.so.$version lib/libwa_flows_crypto.so.$major \
        lib/libwa_flows_crypto.so lib/libwa_flows_crypto.a \
        include/wa_flows_crypto/wa_flows_crypto.h lib/pkgconfig/wa_flows_crypto.pc; do
        [[ -e $prefix/$path ]] || fail "missing $prefix/$path"
    done
    [[ $(readlink "$lib/libwa_flows_crypto.so.$major") == "libwa_flows_crypto.so.$version" ]] \
        || fail "libwa_flows_crypto.so.$major does not point at libwa_flows_crypto.so.$version"
    [[ $(readlink "$lib/libwa_flows_crypto.so") == "libwa_flows_crypto.so.$version" ]] \
        || fail "libwa_flows_crypto.so does not point at libwa_flows_crypto.so.$version"
    readelf -d "$lib/libwa_flows_crypto.so.$version" | grep -F "(SONAME)" | tee "$work/soname"
    grep -qF "[libwa_flows_crypto.so.$major]" "$work/soname" || fail "wrong soname"
    nm -D --defined-only "$lib/libwa_flows_crypto.so.$version" | awk '$2 == "T" { print $3 }' \
        | sort >"$work/exported"
    grep -oE '\bwfc_[a-z0-9_]+\(' "$prefix/include/wa_flows_crypto/wa_flows_crypto.h" | tr -d '(' \
        | sort -u >"$work/declared"
    diff -u "$work/declared" "$work/exported" || fail "the .so exports other functions than the header declares"
    echo "$(wc -l <"$work/exported") exported functions, all declared in the installed header"

    export PKG_CONFIG_PATH=$lib/pkgconfig
    step "C: pkg-config wa_flows_crypto"
    [[ $(pkg-config --modversion wa_flows_crypto) == "$version" ]] || fail "pkg-config --modversion"
    cflags=$(pkg-config --cflags wa_flows_crypto)
    libs=$(pkg-config --libs wa_flows_crypto)
    static=$(pkg-config --static --libs wa_flows_crypto)
    printf '  --cflags: %s\n  --libs: %s\n  --static --libs: %s\n' "$cflags" "$libs" "$static"
    python3 bindings/c/tests/gen_fixtures.py "$vectors" "$work/fixtures" >/dev/null
    python3 - "$vectors" "$work/ping.json" <<'PY'
import json, sys
vectors = json.load(open(sys.argv[1] + "/requests.json"))["vectors"]
json.dump(next(v["request"] for v in vectors if v["name"] == "ping"), open(sys.argv[2], "w"))
PY
    # Only the installed header: bindings/c/include is not on any include path here.
    cstd=(-std=c11 -Wall -Wextra -Werror -pedantic -O1)
    build_and_run() { # shared|static, libs...
        local kind=$1
        shift
        local out=$work/$kind
        mkdir -p "$out"
        for t in test_vectors test_api; do
            # shellcheck disable=SC2086 # pkg-config output is a list of words
            gcc "${cstd[@]}" -pthread $cflags "bindings/c/tests/$t.c" -o "$out/$t" "$@"
        done
        # shellcheck disable=SC2086
        gcc "${cstd[@]}" $cflags bindings/c/examples/flow_endpoint.c -o "$out/flow_endpoint" "$@"
        # shellcheck disable=SC2086
        g++ -std=c++11 -Wall -Wextra -Werror -pedantic $cflags bindings/c/tests/cxx_consumer.cpp \
            -o "$out/cxx_consumer" "$@"
        for exe in "$out"/*; do
            if [[ $kind == shared ]]; then
                readelf -d "$exe" | grep -qF "Shared library: [libwa_flows_crypto.so.$major]" \
                    || fail "$exe does not load libwa_flows_crypto.so.$major"
            elif readelf -d "$exe" | grep -q "libwa_flows_crypto"; then
                fail "$exe links libwa_flows_crypto dynamically"
            fi
        done
        WFC_FIXTURES=$work/fixtures "$out/test_vectors" "$work/fixtures" "$vectors" | tail -1
        WFC_FIXTURES=$work/fixtures "$out/test_api" "$vectors" | tail -1
        "$out/flow_endpoint" "$vectors/keys/rsa2048_pkcs8.pem" "$work/ping.json" >"$out.example"
        grep -q '"action": *"ping"' "$out.example" || fail "the example did not answer the ping"
        echo "flow_endpoint answered the ping"
        "$out/cxx_consumer"
    }
    step "C: shared: the C tests, the example and the C++ consumer via pkg-config --cflags --libs"
    # No rpath: the loader finds libwa_flows_crypto.so.$major by its soname, as after ldconfig.
    export LD_LIBRARY_PATH=$lib
    # shellcheck disable=SC2086
    build_and_run shared $libs
    ldd "$work/shared/test_api" | grep -F "libwa_flows_crypto.so.$major => $lib/" \
        || fail "ldd does not resolve libwa_flows_crypto.so.$major into the prefix"
    unset LD_LIBRARY_PATH
    step "C: static: the same through pkg-config --static --libs"
    # With both libraries in one directory the linker prefers the .so; -l:libwa_flows_crypto.a
    # names the archive (what -Bstatic would do), and Libs.private supplies the rest.
    # shellcheck disable=SC2086
    build_and_run static ${static/-lwa_flows_crypto/-l:libwa_flows_crypto.a}
fi

if want cli; then
    name=wa-flows-crypto-cli-$version-x86_64-unknown-linux-musl
    step "CLI: the tarball unpacks to the binary, completions, man page and README"
    tar -C "$work" -xzf "$dist/$name.tar.gz"
    tar -tzf "$dist/$name.tar.gz" | sort | tee "$work/tar.list"
    for f in wa-flows-crypto completions/wa-flows-crypto.bash completions/_wa-flows-crypto \
        completions/wa-flows-crypto.fish man/man1/wa-flows-crypto.1 README.md; do
        grep -qx "$name/$f" "$work/tar.list" || fail "the tarball lacks $f"
    done
    cli=$work/$name/wa-flows-crypto
    step "CLI: static (ldd, readelf: no interpreter, no NEEDED)"
    ldd "$cli" 2>&1 | tee "$work/ldd" || true
    grep -Eq "not a dynamic executable|statically linked" "$work/ldd" || fail "ldd: dynamic"
    ! readelf -l "$cli" | grep -q "INTERP" || fail "the binary asks for a dynamic loader"
    ! readelf -d "$cli" | grep -q "(NEEDED)" || fail "the binary needs shared libraries"
    file "$cli" 2>/dev/null || true
    step "CLI: runs with an empty environment"
    (cd "$work" && env -i "$cli" demo --media-size 1024) | tee "$work/demo.out"
    grep -q "refused: error\[encrypted_hash_mismatch\]" "$work/demo.out" || fail "demo output"
    env -i "$cli" keygen --out "$work/keys" >/dev/null
    env -i "$cli" inspect-key --key "$work/keys/private.pem" | head -3
    step "CLI: --version names the commit"
    got=$(env -i "$cli" --version)
    echo "$got"
    commit=$(sed -n 's/^wa-flows-crypto [0-9.]* (\([0-9a-f]\{7,\}\))$/\1/p' <<<"$got")
    [[ -n $commit ]] || fail "--version names no commit: $got"
    git cat-file -e "$commit^{commit}" || fail "$commit is not a commit of this repository"
    step "CLI: completions load in bash (and zsh, fish when installed); the man page renders"
    bash -c "source '$work/$name/completions/wa-flows-crypto.bash' && complete -p wa-flows-crypto"
    # What bash offers after `wa-flows-crypto dec<TAB>`.
    offered=$(bash -c "source '$work/$name/completions/wa-flows-crypto.bash'
        COMP_WORDS=(wa-flows-crypto dec); COMP_CWORD=1; COMP_LINE='wa-flows-crypto dec'
        COMP_POINT=\${#COMP_LINE}; _wa__flows__crypto wa-flows-crypto dec wa-flows-crypto
        printf '%s\n' \"\${COMPREPLY[@]}\"" | sort | paste -sd' ')
    echo "bash completes 'dec' to: $offered"
    [[ $offered == *decrypt-media*decrypt-request* ]] || fail "bash completion of 'dec'"
    if command -v zsh >/dev/null; then
        zsh -n "$work/$name/completions/_wa-flows-crypto" && echo "zsh: parses"
    else echo "zsh: not installed, skipped"; fi
    if command -v fish >/dev/null; then
        fish -n "$work/$name/completions/wa-flows-crypto.fish" && echo "fish: parses"
        fish -c "source '$work/$name/completions/wa-flows-crypto.fish'
            complete -C 'wa-flows-crypto dec'" | tee "$work/fish.out"
        grep -q "^decrypt-request" "$work/fish.out" || fail "fish completion of 'dec'"
    else echo "fish: not installed, skipped"; fi
    man_out=$(MANWIDTH=80 man --warnings -l "$work/$name/man/man1/wa-flows-crypto.1" 2>"$work/man.err")
    [[ ! -s $work/man.err ]] || { cat "$work/man.err"; fail "man page warnings"; }
    grep -q "^NAME" <<<"$man_out" && grep -q "keygen" <<<"$man_out" || fail "man page content"
    head -6 <<<"$man_out"
fi

if want python; then
    # An interpreter, not a pyenv shim: the venvs must not depend on the caller's PATH.
    python=$(python3 -c 'import sys; print(sys.executable)')
    wheel=$(ls "$dist"/python/*.whl)
    sdist=$(ls "$dist"/python/*.tar.gz)
    step "Python: the wheel's tag and the glibc symbol versions its library needs"
    echo "wheel: ${wheel##*/}"
    tag=$(sed -n 's/.*-\(manylinux_[0-9]*_[0-9]*\)_x86_64\.whl$/\1/p' <<<"${wheel##*/}")
    [[ -n $tag ]] || fail "not a manylinux wheel: ${wheel##*/}"
    mkdir "$work/wheel" && (cd "$work/wheel" && python3 -m zipfile -e "$wheel" .)
    needed=$(find "$work/wheel" -name '*.so' -exec objdump -T {} + | grep -o 'GLIBC_[0-9.]*' \
        | sort -uV | tail -1)
    echo "tag $tag; newest glibc symbol needed: $needed"
    tag_glibc=${tag#manylinux_}
    [[ $(printf '%s\n%s\n' "${needed#GLIBC_}" "${tag_glibc/_/.}" | sort -V | tail -1) == "${tag_glibc/_/.}" ]] \
        || fail "the library needs $needed, more than $tag promises"

    # The package's tests, copied away from the source tree (they read api.txt, README.md and
    # examples/ beside them); the vectors come from WFC_VECTORS.
    suite=$work/suite
    mkdir -p "$suite"
    cp -r bindings/python/tests bindings/python/api.txt bindings/python/README.md \
        bindings/python/examples "$suite/"
    find "$suite" -name __pycache__ -prune -exec rm -rf {} +
    deps=(pytest pywa httpx cryptography fastapi uvicorn)
    run_suite() { # venv
        local venv=$1
        (cd "$suite" && PYTHONNOUSERSITE=1 PYTHONPATH='' "$venv/bin/python" - <<'PY'
import sysconfig, wa_flows_crypto
site = sysconfig.get_paths()["purelib"]
assert wa_flows_crypto.__file__.startswith(site), (wa_flows_crypto.__file__, site)
print("import wa_flows_crypto:", wa_flows_crypto.__file__)
PY
        )
        (cd "$suite" && WFC_VECTORS=$vectors PYTHONNOUSERSITE=1 PYTHONPATH='' \
            "$venv/bin/python" -m pytest -q -rfE -p no:cacheprovider tests >"$venv.pytest.log" 2>&1) \
            || { tail -80 "$venv.pytest.log"; fail "pytest against $venv"; }
        tail -1 "$venv.pytest.log"
    }

    step "Python: the wheel in a fresh venv, no cargo or rustc on PATH"
    "$python" -m venv "$work/venv-wheel"
    (
        export PATH=$work/venv-wheel/bin:/usr/local/bin:/usr/bin:/bin
        ! command -v cargo && ! command -v rustc || fail "cargo or rustc on PATH"
        # --only-binary: nothing at all may be built on the way in.
        pip install --quiet --disable-pip-version-check --only-binary=:all: "$wheel" "${deps[@]}"
        run_suite "$work/venv-wheel"
    )

    step "Python: the sdist built from source in another fresh venv (cargo on PATH)"
    "$python" -m venv "$work/venv-sdist"
    (
        export PATH=$work/venv-sdist/bin:$PATH
        "$work/venv-sdist/bin/pip" install --quiet --disable-pip-version-check "${deps[@]}"
        # Built in pip's isolated environment with maturin from PyPI, as `pip install` does.
        "$work/venv-sdist/bin/pip" install --quiet --disable-pip-version-check --no-binary=wa-flows-crypto "$sdist"
        run_suite "$work/venv-sdist"
    )
fi

if want crates; then
    # The gateway too: the CLI depends on it, and a crate publishes only after its dependencies.
    step "crates: cargo publish --dry-run (core, wasm, gateway, CLI; each packaged crate built)"
    cargo publish --dry-run --locked --allow-dirty -p wa-flows-crypto -p wa-flows-crypto-wasm \
        -p wa-flows-crypto-gateway -p wa-flows-crypto-cli >"$work/publish.log" 2>&1 || { cat "$work/publish.log"; fail "cargo publish --dry-run"; }
    grep -E '^ *(Packaged|Verifying|Uploading|warning)' "$work/publish.log"
    step "crates: the core's doctests from its packaged .crate"
    tar -C "$work" -xzf "$dist/crates/wa-flows-crypto-$version.crate"
    pkg=$work/wa-flows-crypto-$version
    ! ls "$pkg/tests/"*.rs 2>/dev/null || fail "integration tests got into the package"
    # The package carries its Cargo.lock (cargo derives it from the workspace's).
    [[ -f $pkg/Cargo.lock ]] || fail "the .crate has no Cargo.lock"
    (cd "$pkg" && cargo test --locked --doc >"$work/doctest.log" 2>&1) || { cat "$work/doctest.log"; fail "doctests"; }
    grep -E '^test result' "$work/doctest.log"
fi

printf '\ndist: %s checks passed in %ss (%s)\n' "$checks" "$(($(date +%s) - started))" "${parts[*]}"
