#!/usr/bin/env python3
"""Orchestrates the cross-runtime comparison (called by run.sh, which builds and installs
everything first). Standard library only.

    compare.py --rust-bin PATH --python PATH [--node node] [--seconds 1.5] [--out DIR]

Generates the inputs once (Rust: a 2048-bit key, sealed requests, a response, sealed media),
runs every runner on the same files, `openssl speed` as the hardware reference, one child
process per media memory run (peak RSS from wait4), and writes latest.md, latest.json and
compare.svg to --out (default benches/results/).
"""
import argparse
import base64
import datetime
import gzip
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

# Operation id -> (label, unit shown, payload bytes key for MB/s or None)
OPS = [
    ("key_load", "key load (2048-bit PKCS#8 PEM)"),
    ("decrypt_request_300b", "decrypt_request, ~300 B request"),
    ("decrypt_request_200kb", "decrypt_request, ~200 KB request"),
    ("encrypt_response_10kb", "encrypt_response, 10 KB"),
    ("media_1mib", "media one-shot, 1 MiB"),
    ("media_1mib_stream", "media streaming (64 KiB chunks), 1 MiB"),
    ("media_16mib", "media one-shot, 16 MiB"),
    ("media_16mib_stream", "media streaming (64 KiB chunks), 16 MiB"),
]
# Implementation id -> (label, kind)
IMPLS = {
    "rust": ("Rust API", "ours"),
    "python": ("Python package (pywa drop-ins)", "ours"),
    "npm": ("npm package", "ours"),
    "npm:node": ("npm package, engine node", "ours"),
    "npm:webcrypto": ("npm package, engine webcrypto", "ours"),
    "npm:wasm": ("npm package, engine wasm", "ours"),
    "pywa": ("pywa defaults (Python cryptography)", "peer"),
    "node:crypto": ("hand-written node:crypto", "peer"),
    "webcrypto": ("hand-written WebCrypto (Node)", "peer"),
    "npm:workerd": ("npm package in workerd (engine webcrypto)", "ours"),
    "webcrypto:workerd": ("hand-written WebCrypto (workerd)", "peer"),
    "openssl": ("openssl speed (primitive bound)", "reference"),
}
ORDER = list(IMPLS)
# The issues' speed targets, each a ratio of two rows of the same run:
# (what, op, ours, baseline, "time" (ours' time over the baseline's, at most target) or
#  "speed" (ours' speed over the baseline's, at least target), target)
TARGETS = [
    ("npm decryptRequest in Node vs hand-written node:crypto", "decrypt_request_300b", "npm:node", "node:crypto", "time", 1.2),
    ("npm decryptRequest in Node vs hand-written node:crypto", "decrypt_request_200kb", "npm:node", "node:crypto", "time", 1.2),
    ("npm decryptRequest in workerd vs hand-written WebCrypto", "decrypt_request_300b", "npm:workerd", "webcrypto:workerd", "time", 1.2),
    ("npm decryptRequest in workerd vs hand-written WebCrypto", "decrypt_request_200kb", "npm:workerd", "webcrypto:workerd", "time", 1.2),
    ("npm media one-shot vs the platform (node:crypto)", "media_1mib", "npm", "node:crypto", "speed", 0.9),
    ("npm media one-shot vs the platform (node:crypto)", "media_16mib", "npm", "node:crypto", "speed", 0.9),
    ("Rust media one-shot (`parallel`) vs node:crypto", "media_1mib", "rust", "node:crypto", "speed", 1.8),
    ("Rust media one-shot (`parallel`) vs node:crypto", "media_16mib", "rust", "node:crypto", "speed", 1.8),
    ("Rust media streaming (one thread) vs the 3×SHA-256+CBC bound", "media_1mib_stream", "rust", "openssl", "speed", 0.95),
    ("Rust media streaming (one thread) vs the 3×SHA-256+CBC bound", "media_16mib_stream", "rust", "openssl", "speed", 0.95),
    # Issue 15 ("Platform speed in every runtime").
    ("npm MediaDecryptor streaming vs hand-written node:crypto streaming", "media_1mib_stream", "npm", "node:crypto", "speed", 0.9),
    ("npm MediaDecryptor streaming vs hand-written node:crypto streaming", "media_16mib_stream", "npm", "node:crypto", "speed", 0.9),
    ("npm encryptResponse vs hand-written node:crypto", "encrypt_response_10kb", "npm", "node:crypto", "speed", 0.9),
    ("npm decryptRequest in Node vs hand-written node:crypto", "decrypt_request_200kb", "npm:node", "node:crypto", "time", 1.0),
    ("Python decrypt_request vs pywa", "decrypt_request_300b", "python", "pywa", "speed", 1.0),
    ("Python decrypt_request vs pywa", "decrypt_request_200kb", "python", "pywa", "speed", 1.1),
    ("Python encrypt_response vs pywa", "encrypt_response_10kb", "python", "pywa", "speed", 1.2),
    ("Python decrypt_media_content vs pywa", "media_16mib", "python", "pywa", "speed", 2.0),
    ("Python decrypt_media_content vs the Rust API", "media_16mib", "python", "rust", "speed", 0.9),
    ("Python key load vs pywa (Python cryptography)", "key_load", "python", "pywa", "speed", 100),
    ("Rust decrypt_request vs the openssl-speed primitive bound", "decrypt_request_200kb", "rust", "openssl", "speed", 0.7),
]
# Size targets: (what, file under the repository, at most this many KiB gzipped).
SIZE_TARGETS = [
    ("npm package's wasm module, gzipped", "bindings/node/pkg/wa_flows_crypto_wasm_bg.wasm", 200),
]
MEM_RUNS = [  # (runtime, impl, mode) for the 16 MiB file
    ("rust", "rust", "idle"), ("rust", "rust", "oneshot"), ("rust", "rust", "stream"),
    ("python", "python", "idle"), ("python", "python", "oneshot"), ("python", "python", "stream"),
    ("python", "pywa", "oneshot"),
    ("node", "npm", "idle"), ("node", "npm", "oneshot"), ("node", "npm", "stream"),
    ("node", "node:crypto", "oneshot"), ("node", "node:crypto", "stream"), ("node", "webcrypto", "oneshot"),
]


def log(message):
    print(message, file=sys.stderr, flush=True)


def run_json(command, **kwargs):
    log("$ " + " ".join(str(c) for c in command))
    out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True, **kwargs).stdout
    return json.loads(out.strip().splitlines()[-1])


def peak_rss_kib(command):
    """Runs `command`; returns its peak RSS in KiB: the VmHWM the child reports (Linux), else
    ru_maxrss from wait4 (which also counts the forking parent's pages before exec)."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{command} exited {proc.returncode}")
    reported = json.loads(out.decode().strip().splitlines()[-1]).get("peak_rss_kib", 0)
    return reported or usage.ru_maxrss  # KiB on Linux


def openssl_speed(seconds):
    """Primitive rates from `openssl speed` (wall clock): RSA-2048 private ops/s, bytes/s."""
    exe = shutil.which("openssl")
    if not exe:
        log("openssl not found: no reference rows")
        return None
    secs = str(max(1, round(seconds)))

    def speed(*args):
        command = [exe, "speed", "-mr", "-elapsed", "-seconds", secs, *args]
        log("$ " + " ".join(command))
        out = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
        return out.splitlines()

    rates = {}
    for line in speed("rsa2048"):
        if line.startswith("+F2:"):  # +F2:n:bits:sign/s:verify/s
            rates["rsa2048_private"] = float(line.split(":")[3])
    for name, args in [
        ("aes128gcm", ["-bytes", "16384", "-evp", "aes-128-gcm"]),
        ("aes256cbc_dec", ["-bytes", "16384", "-decrypt", "-evp", "aes-256-cbc"]),
        ("sha256", ["-bytes", "16384", "-evp", "sha256"]),
        ("hmac_sha256", ["-bytes", "16384", "-hmac", "sha256"]),
    ]:
        for line in speed(*args):
            if line.startswith("+F:"):
                rates[name] = float(line.split(":")[-1])
    version = subprocess.run([exe, "version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    return {"version": version, "rates": rates}


def reference_rows(openssl, inputs):
    """Lower bounds of the work each operation must do, from the primitive rates (serial)."""
    if not openssl:
        return []
    r = openssl["rates"]
    rows = []

    def add(op, seconds, nbytes=None):
        entry = {"op": op, "impl": "openssl", "median_s": seconds, "ops_per_s": 1 / seconds}
        if nbytes:
            entry["mb_per_s"] = nbytes / seconds / 1e6
        rows.append(entry)

    if "rsa2048_private" in r and "aes128gcm" in r:
        for op, name in [("decrypt_request_300b", "request_small.json"), ("decrypt_request_200kb", "request_large.json")]:
            body = json.loads((inputs / name).read_text())
            n = len(base64.b64decode(body["encrypted_flow_data"]))
            add(op, 1 / r["rsa2048_private"] + n / r["aes128gcm"])
        n = (inputs / "response.json").stat().st_size
        add("encrypt_response_10kb", n / r["aes128gcm"], n)
    if all(k in r for k in ("sha256", "hmac_sha256", "aes256cbc_dec")):
        for mib in (1, 16):
            n = (inputs / f"media_{mib}m.enc").stat().st_size
            # file hash + HMAC + CBC decrypt + plaintext hash, one after the other
            per_byte = 2 / r["sha256"] + 1 / r["hmac_sha256"] + 1 / r["aes256cbc_dec"]
            add(f"media_{mib}mib", n * per_byte, n)
            add(f"media_{mib}mib_stream", n * per_byte, n)
    return rows


# ---- report ---------------------------------------------------------------------------------


def fmt_rate(value):
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_ratio(value):
    return f"{value:.2f}×" if value is not None else "–"


def table_rows(results):
    """Per operation: rows in display order with ratios vs the Rust API and vs the best peer."""
    by_op = {}
    for entry in results:
        by_op.setdefault(entry["op"], []).append(entry)
    sections = []
    for op, label in OPS:
        entries = sorted(by_op.get(op, []), key=lambda e: ORDER.index(e["impl"]))
        if not entries:
            continue
        rust = next((e["ops_per_s"] for e in entries if e["impl"] == "rust"), None)
        peers = [e["ops_per_s"] for e in entries if IMPLS[e["impl"]][1] == "peer"]
        best_peer = max(peers) if peers else None
        rows = []
        for e in entries:
            rows.append({
                **e,
                "label": IMPLS[e["impl"]][0],
                "kind": IMPLS[e["impl"]][1],
                "vs_rust": e["ops_per_s"] / rust if rust else None,
                "vs_peer": e["ops_per_s"] / best_peer if best_peer else None,
            })
        sections.append((op, label, rows))
    return sections


def median_over_passes(passes):
    """One entry per (op, impl): the pass whose speed is the median of the passes'."""
    by_key = {}
    for runs in passes:
        for run in runs:
            for entry in run["results"]:
                by_key.setdefault((entry["op"], entry["impl"]), []).append(entry)
    merged = []
    for entries in by_key.values():
        entries.sort(key=lambda e: e["ops_per_s"])
        merged.append({**entries[len(entries) // 2], "passes": [e["ops_per_s"] for e in entries]})
    return merged


def target_rows(results):
    """The TARGETS measured in this run: (what, operation label, measured, target text, met)."""
    speed = {(e["op"], e["impl"]): e["ops_per_s"] for e in results}
    labels = dict(OPS)
    rows = []
    for what, op, ours, baseline, kind, target in TARGETS:
        if (op, ours) not in speed or (op, baseline) not in speed:
            continue
        if kind == "time":
            ratio = speed[(op, baseline)] / speed[(op, ours)]
            rows.append((what, labels[op], f"{ratio:.2f}× the time", f"≤ {target}×", ratio <= target))
        else:
            ratio = speed[(op, ours)] / speed[(op, baseline)]
            rows.append((what, labels[op], f"{ratio:.2f}× the speed", f"≥ {target}×", ratio >= target))
    for what, path, limit_kib in SIZE_TARGETS:
        file = REPO / path
        if file.exists():
            kib = len(gzip.compress(file.read_bytes(), compresslevel=9)) / 1024
            rows.append((what, "module size", f"{kib:.1f} KiB", f"≤ {limit_kib} KiB", kib <= limit_kib))
    return rows


def markdown(meta, sections, memory, targets):
    lines = [
        "# wa-flows-crypto: cross-runtime comparison",
        "",
        f"Generated by `benches/compare/run.sh` on {meta['date']} in {meta['duration_s']:.0f} s "
        f"(measurements only; builds and installs excluded). Commit `{meta['commit']}`.",
        "",
        f"Machine: {meta['cpu']}, {meta['cores']} cores, {meta['os']}. Load average "
        f"{meta['load_before']} before, {meta['load_after']} after. {meta['note']}",
        "",
        "Runtimes: " + "; ".join(meta["versions"]) + ".",
        "",
        f"Each figure is the median over {meta['passes']} passes (every runtime's runner once per pass) "
        f"of a median of 7 rounds (about {meta['seconds']} s per measurement, after a warm-up), on the "
        "same input files for every implementation. Higher is faster. "
        "**× Rust** is the row's speed over our Rust API on the same operation; **× best peer** is "
        "over the fastest peer (pywa, hand-written node:crypto or WebCrypto) on it. The openssl "
        "row is a bound computed from `openssl speed` primitive rates (see README), not an "
        "implementation.",
        "",
        "![chart](compare.svg)",
        "",
        "| Operation | Implementation | ops/s | MB/s | × Rust | × best peer |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for _, label, rows in sections:
        for i, row in enumerate(rows):
            name = row["label"] if row["kind"] != "ours" else f"**{row['label']}**"
            if row["kind"] == "reference":
                name = f"_{row['label']}_"
            mb = fmt_rate(row["mb_per_s"]) if "mb_per_s" in row else ""
            lines.append(
                f"| {label if i == 0 else ''} | {name} | {fmt_rate(row['ops_per_s'])} | {mb} | "
                f"{fmt_ratio(row['vs_rust'])} | {fmt_ratio(row['vs_peer'])} |"
            )
    lines += [
        "",
        "## Speed targets",
        "",
        "The issues' targets, each the ratio of two rows above (same run, same inputs).",
        "",
        "| Target | Operation | Measured | Target | Met |",
        "|---|---|---:|---:|---|",
    ]
    for what, op, measured, target, met in targets:
        lines.append(f"| {what} | {op} | {measured} | {target} | {'yes' if met else '**no**'} |")
    lines += [
        "",
        "## Peak memory, media 16 MiB",
        "",
        "One child process per run; peak RSS as the child's own `VmHWM` (Linux). **Baseline** is the same runtime "
        "reading the whole encrypted file and doing nothing else (the streaming runs read the "
        "file from disk in 64 KiB chunks instead, so they can go below it).",
        "",
        "| Runtime | Implementation | Mode | Peak RSS (MiB) | Over baseline (MiB) |",
        "|---|---|---|---:|---:|",
    ]
    for m in memory:
        over = f"{m['over_baseline_kib'] / 1024:+.1f}" if m["mode"] != "idle" else ""
        label = "baseline (read the file)" if m["mode"] == "idle" else IMPLS[m["impl"]][0]
        lines.append(f"| {m['runtime']} | {label} | {m['mode']} | {m['peak_kib'] / 1024:.1f} | {over} |")
    lines.append("")
    return "\n".join(lines)


def esc(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg(meta, sections, memory):
    colors = {"ours": "#2b6cb0", "peer": "#dd6b20", "reference": "#a0aec0"}
    width, left, bar_h, gap = 980, 330, 16, 4
    plot_w = width - left - 190
    y = 60
    parts = []
    for _, label, rows in sections:
        parts.append(f'<text x="10" y="{y + 14}" class="h">{esc(label)}</text>')
        y += 22
        top = max(r["ops_per_s"] for r in rows)
        for row in rows:
            w = max(1.0, plot_w * row["ops_per_s"] / top)
            value = f"{fmt_rate(row['mb_per_s'])} MB/s" if "mb_per_s" in row else f"{fmt_rate(row['ops_per_s'])} ops/s"
            ratio = f"  ({row['vs_rust']:.2f}× Rust)" if row["vs_rust"] is not None and row["impl"] != "rust" else ""
            parts.append(f'<text x="{left - 8}" y="{y + bar_h - 4}" class="l">{esc(row["label"])}</text>')
            parts.append(
                f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colors[row["kind"]]}"/>'
            )
            parts.append(f'<text x="{left + w + 6:.1f}" y="{y + bar_h - 4}" class="v">{esc(value + ratio)}</text>')
            y += bar_h + gap
        y += 14
    if memory:
        parts.append(f'<text x="10" y="{y + 14}" class="h">peak RSS, media 16 MiB (MiB, lower is better)</text>')
        y += 22
        top = max(m["peak_kib"] for m in memory)
        for m in memory:
            kind = "reference" if m["mode"] == "idle" else IMPLS[m["impl"]][1]
            name = f"{m['runtime']}: " + ("baseline (read file)" if m["mode"] == "idle" else f"{IMPLS[m['impl']][0]}, {m['mode']}")
            w = max(1.0, plot_w * m["peak_kib"] / top)
            parts.append(f'<text x="{left - 8}" y="{y + bar_h - 4}" class="l">{esc(name)}</text>')
            parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colors[kind]}"/>')
            parts.append(f'<text x="{left + w + 6:.1f}" y="{y + bar_h - 4}" class="v">{m["peak_kib"] / 1024:.1f} MiB</text>')
            y += bar_h + gap
        y += 14
    height = y + 10
    legend = "".join(
        f'<rect x="{left + i * 130}" y="36" width="12" height="12" fill="{c}"/>'
        f'<text x="{left + i * 130 + 18}" y="46" class="v">{k}</text>'
        for i, (k, c) in enumerate(colors.items())
    )
    title = f"wa-flows-crypto vs peers — medians, higher is faster ({meta['date']}, {meta['cores']} cores, load {meta['load_before']})"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="Helvetica, Arial, sans-serif">'
        "<style>.h{font-size:14px;font-weight:bold;fill:#1a202c}.l{font-size:12px;text-anchor:end;fill:#2d3748}"
        ".v{font-size:11px;fill:#4a5568}.t{font-size:15px;font-weight:bold}</style>"
        f'<rect width="100%" height="100%" fill="white"/><text x="10" y="22" class="t">{esc(title)}</text>'
        f"{legend}{''.join(parts)}</svg>\n"
    )


# ---- main -----------------------------------------------------------------------------------


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return cpu, os.cpu_count(), f"{platform.system()} {platform.release()}"


def load():
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def commit():
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain"], stdout=subprocess.PIPE,
                               text=True).stdout.strip()
        return head + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rust-bin", required=True)
    parser.add_argument("--python", required=True)
    parser.add_argument("--node", default="node")
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--passes", type=int, default=3, help="runs of every runner; medians over them")
    parser.add_argument("--out", type=Path, default=REPO / "benches" / "results")
    parser.add_argument("--note", default="", help="a remark for the report (e.g. 'machine was loaded')")
    parser.add_argument("--keep-inputs", action="store_true")
    args = parser.parse_args()

    started = time.monotonic()
    load_before = load()
    inputs = Path(tempfile.mkdtemp(prefix="wfc-compare-"))
    try:
        log(f"inputs in {inputs}")
        subprocess.run([args.rust_bin, "gen", str(inputs)], check=True)
        secs = str(args.seconds)
        commands = [
            [args.rust_bin, "bench", str(inputs), secs],
            [args.python, str(HERE / "runner.py"), "bench", str(inputs), secs],
            [args.node, str(HERE / "runner.mjs"), "bench", str(inputs), secs],
            [args.node, str(HERE / "workerd.mjs"), "bench", str(inputs), secs],
        ]
        # Every runner runs once per pass, so a slow spell of a shared machine hits each
        # runtime in at most one pass, and the median over passes drops it.
        passes = []
        for number in range(1, args.passes + 1):
            log(f"pass {number} of {args.passes}")
            runs = [run_json(command) for command in commands]
            openssl = openssl_speed(args.seconds)
            passes.append(runs + [{"results": reference_rows(openssl, inputs)}])
        runs = passes[0][:len(commands)]
        results = median_over_passes(passes)

        commands = {
            "rust": lambda impl, mode: [args.rust_bin, "mem", str(inputs), "16", mode],
            "python": lambda impl, mode: [args.python, str(HERE / "runner.py"), "mem", str(inputs), "16", mode, impl],
            "node": lambda impl, mode: [args.node, str(HERE / "runner.mjs"), "mem", str(inputs), "16", mode, impl],
        }
        memory = []
        baselines = {}
        for runtime, impl, mode in MEM_RUNS:
            log(f"memory: {runtime} {impl} {mode}")
            peak = peak_rss_kib(commands[runtime](impl, mode))
            if mode == "idle":
                baselines[runtime] = peak
            memory.append({"runtime": runtime, "impl": impl, "mode": mode, "peak_kib": peak,
                           "over_baseline_kib": peak - baselines.get(runtime, peak)})
    finally:
        if args.keep_inputs:
            log(f"inputs kept in {inputs}")
        else:
            shutil.rmtree(inputs, ignore_errors=True)

    cpu, cores, system = machine()
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "duration_s": time.monotonic() - started,
        "commit": commit(),
        "cpu": cpu,
        "cores": cores,
        "os": system,
        "load_before": load_before,
        "load_after": load(),
        "note": args.note,
        "seconds": args.seconds,
        "passes": args.passes,
        "versions": [run["version"] for run in runs] + ([openssl["version"]] if openssl else []),
    }
    sections = table_rows(results)
    args.out.mkdir(parents=True, exist_ok=True)
    targets = target_rows(results)
    (args.out / "latest.md").write_text(markdown(meta, sections, memory, targets))
    (args.out / "compare.svg").write_text(svg(meta, sections, memory))
    (args.out / "latest.json").write_text(
        json.dumps({"meta": meta, "results": results, "openssl": openssl, "memory": memory,
                    "targets": [dict(zip(("what", "op", "measured", "target", "met"), t)) for t in targets]},
                   indent=1) + "\n"
    )
    log(f"wrote {args.out / 'latest.md'}, {args.out / 'compare.svg'}, {args.out / 'latest.json'} "
        f"({meta['duration_s']:.0f} s)")


if __name__ == "__main__":
    main()
