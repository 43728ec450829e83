#!/usr/bin/env python3
"""Counts the malformed inputs each runtime's tests feed, for docs/evidence/README.md.

By a rule anyone can check:
- every vector case whose expected outcome is an error counts once for each runtime whose
  tests read that vector file (the vector tests run the cases of the file they read and check
  the error code, and that no plaintext came out);
- hostile-caller tests (lying buffers, mutating getters, detached buffers, NULLs) are counted
  as test functions, each of which feeds at least one such input.
Fuzzing is counted apart, in executions (fuzz/README.md).
"""
import json
import pathlib
import re

root = pathlib.Path(__file__).resolve().parent.parent
vectors = root / "tests" / "vectors"


def failing_cases(name: str) -> int:
    cases = json.loads((vectors / f"{name}.json").read_text())["vectors"]
    if name == "signatures":
        return sum(1 for case in cases if not case["valid"])
    if name == "responses":
        return 0  # every response vector is a success case
    return sum(1 for case in cases if not case["expect"]["ok"])


FILES = ["requests", "media", "signatures", "flow_token", "responses"]
RUNTIMES = {
    "Rust core": ["crates/wa-flows-crypto/tests"],
    "CLI": ["crates/wa-flows-crypto-cli/tests"],
    "C ABI (C tests)": ["bindings/c/tests"],
    "Python": ["bindings/python/tests"],
    "Node (wasm + node:crypto)": ["bindings/node/test/vectors.test.mjs", "bindings/node/test/flow.test.mjs"],
    "workerd, Deno, Bun, Chromium (one suite)": ["bindings/node/test/runtimes"],
    "wasm (wasm-bindgen-test)": ["crates/wa-flows-crypto-wasm/tests"],
    "Go": ["bindings/go/waflows"],
    "PHP": ["bindings/php/tests"],
}
HOSTILE = {
    "Python": ("bindings/python/tests/test_hostile_callers.py", r"^\s*def test_"),
    "Node (wasm + node:crypto)": ("bindings/node/test/hostile-callers.test.mjs", r"^\s*(test|it)\("),
    "CLI": ("crates/wa-flows-crypto-cli/tests/hostile_callers.rs", r"^\s*#\[test\]"),
    "C ABI (C tests)": ("crates/wa-flows-crypto-ffi/tests/abi.rs", r"^\s*#\[test\]"),
}


def reads(paths: list, name: str) -> bool:
    for path in paths:
        full = root / path
        files = [full] if full.is_file() else [p for p in full.rglob("*") if p.is_file()]
        for file in files:
            if file.suffix in {".rs", ".py", ".mjs", ".js", ".c", ".go", ".php"} and f"{name}.json" in file.read_text(errors="ignore"):
                return True
    return False


counts = {name: failing_cases(name) for name in FILES}
print("| runtime | malformed vector cases | " + " | ".join(f"`{n}.json`" for n in FILES[:4]) + " | hostile-caller tests |")
print("|---|---:|" + "---:|" * 4 + "---:|")
for runtime, paths in RUNTIMES.items():
    read = {name: reads(paths, name) for name in FILES}
    total = sum(counts[name] for name in FILES if read[name])
    hostile = ""
    if runtime in HOSTILE:
        path, pattern = HOSTILE[runtime]
        hostile = str(sum(1 for line in (root / path).read_text().splitlines() if re.match(pattern, line)))
    cells = " | ".join(str(counts[name]) if read[name] else "—" for name in FILES[:4])
    print(f"| {runtime} | {total} | {cells} | {hostile} |")
