#!/usr/bin/env bash
# dudect timing tests: every secret compare and the RSA-OAEP unwrap in both engines.
#   benches/timing/run.sh                      10⁶ measurements per class everywhere
#   WFC_TIMING_RSA_SAMPLES=100000 benches/timing/run.sh [FILTER]
# Writes the raw dudect output to benches/results/timing.txt and its table to
# benches/results/timing.md. |t| < 4.5 passes; the script fails if a bench does not.
set -euo pipefail
cd "$(dirname "$0")/../.."
export WFC_TIMING_SAMPLES=${WFC_TIMING_SAMPLES:-1000000}
export WFC_TIMING_RSA_SAMPLES=${WFC_TIMING_RSA_SAMPLES:-1000000}
cargo build --release --quiet -p wa-flows-crypto-timing
out=benches/results/timing.txt
{
    echo "# $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')"
    echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
    echo "# WFC_TIMING_SAMPLES=$WFC_TIMING_SAMPLES WFC_TIMING_RSA_SAMPLES=$WFC_TIMING_RSA_SAMPLES"
    target/release/timing ${1:+--filter "$1"}
} | tee "$out"
python3 - "$out" benches/results/timing.md <<'PY'
import re, sys
raw, md = sys.argv[1], sys.argv[2]
lines = open(raw).read().splitlines()
header = [l[2:] for l in lines if l.startswith("# ")]
rsa = int(re.search(r"WFC_TIMING_RSA_SAMPLES=(\d+)", header[2]).group(1))
fast = int(re.search(r"WFC_TIMING_SAMPLES=(\d+)", header[2]).group(1))
rows, failed = [], 0
for line in lines:
    m = re.match(r"bench (\S+)\s+\.\.\. : n == \+?([\d.]+)M, max t = ([+-][\d.]+)", line)
    if not m:
        continue
    name, n_cropped, t = m.group(1), float(m.group(2)), float(m.group(3))
    per_class = rsa if name.startswith("oaep_") else fast
    ok = abs(t) < 4.5
    failed += not ok
    rows.append(f"| `{name}` | {per_class:,} | {n_cropped * 1e6:,.0f} | {t:+.2f} | {'yes' if ok else '**no**'} |")
with open(md, "w") as f:
    f.write("# Timing tests (dudect)\n\n")
    f.write("`benches/timing/run.sh`; " + "; ".join(header) + ".\n\n")
    f.write("max t: the largest |Welch t| of dudect's 101 tests (all measurements, and 100 "
            "percentile crops); n: the measurements in that test. Pass: |t| < 4.5.\n\n")
    f.write("| bench | measurements per class | n in the max-t test | max t | pass |\n|---|---:|---:|---:|---|\n")
    f.write("\n".join(rows) + "\n")
print(f"{len(rows)} benches, {failed} over |t| = 4.5", file=sys.stderr)
sys.exit(1 if failed else 0)
PY
