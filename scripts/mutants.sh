#!/usr/bin/env bash
# Mutation testing (cargo-mutants): every mutant of the core, or of the files named, is built
# and run against the core's unit and integration tests; docs/evidence/mutants.md gets the
# counts and every mutant that survived. Doctests are left out of the run (each mutant would
# recompile every example), so the figures are a lower bound on what the suite catches.
#
#   scripts/mutants.sh                         the whole core (about 650 mutants: hours on 2 cores)
#   scripts/mutants.sh src/signature.rs ...    only these files of the core
#   scripts/mutants.sh --in-diff BASE          only the mutants in lines changed since BASE
#   scripts/mutants.sh --report SCOPE          only write the report of the last run
#   scripts/mutants.sh --ffi [ARGS...]         the C ABI crate instead (report in mutants-ffi.md),
#                                              against its Rust tests and the C test suite
#                                              (tests/c_suite.rs: needs gcc and python3)
#   scripts/mutants.sh --changed               what scripts/test.sh runs: --in-diff against the
#                                              merge base with main, for the core and the C ABI
#                                              crate; fails if a mutant survives. Reports go to
#                                              target/, not docs/. Nothing to do on main itself.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

if [[ ${1:-} == --changed ]]; then
    # origin/main in a clone (.ci/run clones the checkout), main in the repository itself.
    main=${WFC_MUTANTS_MAIN:-origin/main}
    git rev-parse --verify --quiet "$main^{commit}" >/dev/null || main=main
    base=$(git merge-base HEAD "$main")
    status=0
    for crate in wa-flows-crypto wa-flows-crypto-ffi; do
        if git diff --quiet "$base" -- "crates/$crate/src"; then
            echo "$crate: no line of src/ changed since $(git rev-parse --short "$base") (the merge base with $main): no mutant to run"
            continue
        fi
        flag=()
        [[ $crate == wa-flows-crypto ]] || flag=(--ffi)
        rm -rf "$root/target/mutants-changed-$crate"
        MUTANTS_REPORT=$root/target/mutants-changed-$crate.md MUTANTS_OUT=$root/target/mutants-changed-$crate \
            bash "$0" "${flag[@]}" --in-diff "$base" || status=$?
    done
    exit "$status"
fi
out=${MUTANTS_OUT:-$root/target/mutants}
tools=$root/target/tools

if ! command -v cargo-mutants >/dev/null && [[ ! -x $tools/bin/cargo-mutants ]]; then
    cargo install --locked --root "$tools" cargo-mutants
fi
export PATH=$tools/bin:$PATH

crate=wa-flows-crypto
report=${MUTANTS_REPORT:-docs/evidence/mutants.md}
tests="the core's unit and integration tests"
test_args=(--lib --tests)
# The two-thread media pass is behind a feature that only the bindings turn on.
features=(--features parallel)
if [[ ${1:-} == --ffi ]]; then
    shift
    crate=wa-flows-crypto-ffi
    out=${MUTANTS_OUT:-$root/target/mutants-ffi}
    report=${MUTANTS_REPORT:-docs/evidence/mutants-ffi.md}
    tests="the crate's Rust tests and the C test suite of bindings/c"
    # The C suite is an ignored test in a plain `cargo test` (run-tests.sh runs it itself).
    test_args=(--lib --tests -- --include-ignored)
    features=()
fi
args=(-p "$crate" --test-package "$crate" --no-shuffle -o "$out" --timeout 180 "${features[@]}")
scope="the whole crate"
run=1
if [[ ${1:-} == --report ]]; then
    run=0
    scope=$2
elif [[ ${1:-} == --in-diff ]]; then
    base=$2
    mkdir -p "$(dirname "$out")"
    git diff "$base" -- "crates/$crate/src" > "$out.diff"
    args+=(--in-diff "$out.diff")
    scope="the lines changed since $base"
elif (($#)); then
    scope="$*"
    for file in "$@"; do args+=(-f "crates/$crate/$file"); done
fi
mkdir -p "$out"
status=0
if ((run)); then
    cargo mutants "${args[@]}" -- "${test_args[@]}" || status=$?
fi
# cargo-mutants exits 2 when a mutant survived, 3 on a timeout: the report says which.
python3 - "$out/mutants.out" "$scope" "$crate" "$tests" > "$report" <<'PY'
import json, pathlib, sys
out, scope, crate, tests = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
if not (out / "outcomes.json").exists():
    # cargo-mutants writes nothing when no mutant falls in the scope (say, a diff of comments).
    print(f"# Mutation testing: {crate}\n\nNo mutant in {scope}.")
    sys.exit()
outcomes = json.loads((out / "outcomes.json").read_text())
counts = {k: outcomes.get(k, 0) for k in ("caught", "missed", "timeout", "unviable")}
viable = counts["caught"] + counts["missed"] + counts["timeout"]
rate = 100 * (counts["caught"] + counts["timeout"]) / viable if viable else 0
print(f"# Mutation testing: {crate}\n")
print(f"`scripts/mutants.sh` (cargo-mutants, {tests}) over {scope} of `{crate}`.\n")
print("| mutants | caught | timeout (caught) | missed | unviable | caught of viable |")
print("|---|---|---|---|---|---|")
print(f"| {outcomes.get('total_mutants', sum(counts.values()))} | {counts['caught']} | {counts['timeout']} "
      f"| {counts['missed']} | {counts['unviable']} | {rate:.1f}% |\n")
missed = (out / "missed.txt").read_text().splitlines() if (out / "missed.txt").exists() else []
print("## Survivors\n")
print("Each with what kills it now, or why it is equivalent (see below the list).\n")
for line in missed:
    print(f"- `{line}`")
if not missed:
    print("None.")
PY
cat "$report"
exit $status
