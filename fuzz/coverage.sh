#!/usr/bin/env bash
# Line coverage of the core by the committed fuzz corpora: each target's corpus runs through
# its coverage build (`cargo fuzz coverage`), the profiles are merged, and llvm-cov reports
# per file. Writes coverage/report.txt (every file) and coverage/core.md (the core's files).
#   fuzz/coverage.sh            every target
#   fuzz/coverage.sh media c_abi
set -euo pipefail
cd "$(dirname "$0")"
installed=$(rustup component list --toolchain nightly --installed)
grep -q '^llvm-tools' <<<"$installed" || rustup component add --toolchain nightly llvm-tools
host=$(rustc +nightly -vV | sed -n 's/^host: //p')
tools=$(rustc +nightly --print sysroot)/lib/rustlib/$host/bin
targets=${*:-$(cargo +nightly fuzz list)}
objects=()
profiles=()
for target in $targets; do
    mkdir -p "corpus/$target"
    echo "== $target ($(find "corpus/$target" -type f | wc -l) inputs)" >&2
    mkdir -p coverage
    cargo +nightly fuzz coverage "$target" "corpus/$target" >"coverage/$target.log" 2>&1 \
        || { tail -20 "coverage/$target.log" >&2; exit 1; }
    objects+=(-object "target/$host/coverage/$host/release/$target")
    profiles+=("coverage/$target/coverage.profdata")
done
"$tools/llvm-profdata" merge -sparse "${profiles[@]}" -o coverage/all.profdata
"$tools/llvm-cov" report "${objects[@]}" -instr-profile=coverage/all.profdata \
    --ignore-filename-regex='(/\.cargo/|/rustc/|/rustlib/|fuzz_targets|fuzz-harness)' >coverage/report.txt
# The core's files alone: llvm-cov drops the prefix common to the files it lists, which for the
# whole report depends on which targets ran (and so on which other crates' files are in it).
# With a list of sources llvm-cov wants the first binary without -object in front of it.
core=$(cd ../crates/wa-flows-crypto/src && pwd)
"$tools/llvm-cov" report "${objects[1]}" "${objects[@]:2}" -instr-profile=coverage/all.profdata \
    "$core" >coverage/core.txt
python3 - coverage/core.txt coverage/core.md <<'PY'
import re, sys
rows = []
for line in open(sys.argv[1]):
    fields = line.split()
    if len(fields) < 9 or not fields[0].endswith(".rs"):
        continue
    name = re.sub(r"^(?:.*/)?wa-flows-crypto/src/|^src/", "", fields[0])
    lines, missed = int(fields[7]), int(fields[8])
    if lines:
        rows.append((name, lines, missed))
if not rows:
    sys.exit(f"no file of the core in {sys.argv[1]}: did any target reach it?")
total = sum(r[1] for r in rows), sum(r[2] for r in rows)
with open(sys.argv[2], "w") as out:
    out.write("| file (crates/wa-flows-crypto/src/) | lines | covered | line coverage |\n|---|---:|---:|---:|\n")
    for name, lines, missed in rows:
        out.write(f"| `{name}` | {lines} | {lines - missed} | {100 * (lines - missed) / lines:.1f}% |\n")
    out.write(f"| **all** | {total[0]} | {total[0] - total[1]} | {100 * (total[0] - total[1]) / total[0]:.1f}% |\n")
print(open(sys.argv[2]).read())
PY
