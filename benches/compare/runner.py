#!/usr/bin/env python3
"""The Python side of the comparison: our package (through its pywa drop-ins, the same
signatures and results as pywa's) against pywa's own default functions (Python `cryptography`).
Run with the interpreter of bindings/python/.venv (see run.sh):

    runner.py bench DIR [SECONDS]           # JSON medians on stdout
    runner.py mem DIR SIZE MODE IMPL        # one media run (MODE idle|oneshot|stream, IMPL python|pywa)
"""
import json
import os
import statistics
import sys
import time

import cryptography
import pywa
import pywa.utils as pywa_utils

import wa_flows_crypto as wfc
from wa_flows_crypto import pywa as wfc_pywa

ROUNDS = 7
CHUNK = 64 << 10
MEDIA_MIB = (1, 16)


def measure(seconds, fn):
    """Median seconds per call over ROUNDS calibrated batches, about `seconds` in all."""
    start = time.perf_counter()
    calls = 0
    while calls == 0 or time.perf_counter() - start < seconds / 10:
        fn()
        calls += 1
    per_call = (time.perf_counter() - start) / calls
    batch = max(1, round(seconds * 0.9 / ROUNDS / per_call))
    times = []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        for _ in range(batch):
            fn()
        times.append((time.perf_counter() - t) / batch)
    return statistics.median(times), batch * ROUNDS


def read(directory, name, mode="rb"):
    with open(os.path.join(directory, name), mode) as f:
        return f.read()


def pywa_load_key(pem):
    # pywa caches the parsed key (lru_cache); its uncached body is the cost of one load.
    return pywa_utils._load_flow_private_key.__wrapped__(pem, None)


def stream_ours(cdn_file, metadata):
    decryptor = wfc.MediaDecryptor(metadata)
    view = memoryview(cdn_file)
    total = 0
    for at in range(0, len(cdn_file), CHUNK):
        total += len(decryptor.update(view[at : at + CHUNK]))
    return total + len(decryptor.finish())


def bench(directory, seconds):
    pem = read(directory, "key.pem", "r")
    results = []

    def push(op, impl, measured, nbytes=None):
        median, n = measured
        entry = {"op": op, "impl": impl, "median_s": median, "ops_per_s": 1 / median, "n": n}
        if nbytes is not None:
            entry["mb_per_s"] = nbytes / median / 1e6
        print(f"  {impl:8} {op:24} {1 / median:12.1f} ops/s", file=sys.stderr)
        results.append(entry)

    push("key_load", "python", measure(seconds, lambda: wfc.FlowPrivateKey.from_pem(pem)))
    push("key_load", "pywa", measure(seconds, lambda: pywa_load_key(pem)))

    aes_key = iv = None
    for op, name in (("decrypt_request_300b", "request_small.json"), ("decrypt_request_200kb", "request_large.json")):
        body = json.loads(read(directory, name))
        args = (body["encrypted_flow_data"], body["encrypted_aes_key"], body["initial_vector"], pem, None)
        ours = wfc_pywa.flow_request_decryptor(*args)
        theirs = pywa_utils.default_flow_request_decryptor(*args)
        assert ours == theirs, "our drop-in and pywa disagree"
        if aes_key is None:
            _, aes_key, iv = ours
        push(op, "python", measure(seconds, lambda: wfc_pywa.flow_request_decryptor(*args)))
        push(op, "pywa", measure(seconds, lambda: pywa_utils.default_flow_request_decryptor(*args)))

    response_text = read(directory, "response.json")
    response = json.loads(response_text)
    size = len(json.dumps(response).encode())
    assert wfc_pywa.flow_response_encryptor(response, aes_key, iv) == pywa_utils.default_flow_response_encryptor(
        response, aes_key, iv
    )
    push("encrypt_response_10kb", "python",
         measure(seconds, lambda: wfc_pywa.flow_response_encryptor(response, aes_key, iv)), size)
    push("encrypt_response_10kb", "pywa",
         measure(seconds, lambda: pywa_utils.default_flow_response_encryptor(response, aes_key, iv)), size)

    for mib in MEDIA_MIB:
        cdn_file = read(directory, f"media_{mib}m.enc")
        metadata = json.loads(read(directory, f"media_{mib}m.json"))
        assert wfc_pywa.media_decryptor(cdn_file, metadata) == pywa_utils._flow_request_media_decryptor(cdn_file, metadata)
        op = f"media_{mib}mib"
        push(op, "python", measure(seconds, lambda: wfc_pywa.media_decryptor(cdn_file, metadata)), len(cdn_file))
        push(op, "pywa", measure(seconds, lambda: pywa_utils._flow_request_media_decryptor(cdn_file, metadata)),
             len(cdn_file))
        push(op + "_stream", "python", measure(seconds, lambda: stream_ours(cdn_file, metadata)), len(cdn_file))

    version = f"Python {sys.version.split()[0]}, wa_flows_crypto {wfc.__version__}, pywa {pywa.__version__}, cryptography {cryptography.__version__}"
    print(json.dumps({"runtime": "python", "version": version, "results": results}))


def memory(directory, mib, mode, impl):
    metadata = json.loads(read(directory, f"media_{mib}m.json"))
    path = os.path.join(directory, f"media_{mib}m.enc")
    if mode == "idle":
        n = len(read(directory, f"media_{mib}m.enc"))
    elif mode == "oneshot":
        decrypt = wfc_pywa.media_decryptor if impl == "python" else pywa_utils._flow_request_media_decryptor
        n = len(decrypt(read(directory, f"media_{mib}m.enc"), metadata))
    elif mode == "stream" and impl == "python":
        decryptor = wfc.MediaDecryptor(metadata)
        n = 0
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                n += len(decryptor.update(chunk))
        n += len(decryptor.finish())
    else:
        raise SystemExit(f"unknown mode {mode} for {impl}")
    print(json.dumps({"bytes": n, "peak_rss_kib": peak_rss_kib()}))


def peak_rss_kib():
    """This process's peak RSS (Linux VmHWM: reset by exec, unlike ru_maxrss); 0 elsewhere."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main():
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "bench":
        bench(args[1], float(args[2]) if len(args) > 2 else 1.5)
    elif len(args) == 5 and args[0] == "mem":
        memory(args[1], args[2], args[3], args[4])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
