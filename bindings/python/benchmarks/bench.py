#!/usr/bin/env python3
"""Key loading and decrypt_request: wa_flows_crypto (aws-lc through the C ABI) side by side with
Python `cryptography` doing what pywa does. A script, not a test:

    bindings/python/.venv/bin/python bindings/python/benchmarks/bench.py [--vectors DIR]
"""
import argparse
import base64
import json
import statistics
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.padding import MGF1, OAEP
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import load_pem_private_key

import wa_flows_crypto as wfc


def timeit(fn, min_time=1.0, min_runs=5):
    runs = []
    start = time.perf_counter()
    while len(runs) < min_runs or time.perf_counter() - start < min_time:
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs), len(runs)


def pywa_style_decrypt(body, key):
    flow_data = base64.b64decode(body["encrypted_flow_data"])
    iv = base64.b64decode(body["initial_vector"])
    aes_key = key.decrypt(
        base64.b64decode(body["encrypted_aes_key"]),
        OAEP(mgf=MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    )
    decryptor = Cipher(algorithms.AES(aes_key), modes.GCM(iv, flow_data[-16:])).decryptor()
    return json.loads((decryptor.update(flow_data[:-16]) + decryptor.finalize()).decode("utf-8"))


def main():
    default = Path(__file__).resolve().parents[3] / "tests" / "vectors"
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vectors", type=Path, default=default)
    args = parser.parse_args()

    pem = (args.vectors / "keys" / "rsa2048_pkcs8.pem").read_bytes()
    vectors = json.loads((args.vectors / "requests.json").read_text())["vectors"]
    body = next(v["request"] for v in vectors if v["name"] == "data_exchange")
    raw = json.dumps(body).encode()

    ours_key = wfc.FlowPrivateKey.from_pem(pem)
    theirs_key = load_pem_private_key(pem, password=None)
    assert wfc.decrypt_request(raw, ours_key).json() == pywa_style_decrypt(body, theirs_key)

    rows = [
        ("key load (PKCS#8 PEM, 2048)", lambda: load_pem_private_key(pem, password=None),
         lambda: wfc.FlowPrivateKey.from_pem(pem)),
        ("decrypt_request", lambda: pywa_style_decrypt(body, theirs_key),
         lambda: wfc.decrypt_request(raw, ours_key).json()),
    ]
    print(f"wa_flows_crypto {wfc.__version__}; medians over >= 1 s each\n")
    print(f"{'operation':32} {'cryptography':>14} {'wa_flows_crypto':>16} {'speed-up':>9}")
    for name, theirs, ours in rows:
        t_theirs, _ = timeit(theirs)
        t_ours, _ = timeit(ours)
        print(f"{name:32} {t_theirs * 1e3:11.3f} ms {t_ours * 1e3:13.3f} ms {t_theirs / t_ours:8.1f}x")


if __name__ == "__main__":
    main()
