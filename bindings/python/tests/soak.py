"""Soak: REQUESTS decrypt_request + encrypt_response calls (every good request vector of the
key, in turn) and MEDIA streamed decryptions of the 1 MiB media vector, with the resident set
sampled along the way. Exits 1 when it grows by 2 MiB or more after the warm-up (the first
tenth of each phase), or when a call gives another plaintext than the vectors.

    python tests/soak.py REQUESTS MEDIA

tests/test_soak.py runs a short variant; scripts/soak.sh the long one."""
import json
import os
import sys
from pathlib import Path

import wa_flows_crypto as wfc

# As in conftest.py: WFC_VECTORS when the tests run away from the source tree (the installed
# wheel and sdist in scripts/test-dist.sh).
VECTORS = Path(
    os.environ.get("WFC_VECTORS", Path(__file__).resolve().parents[3] / "tests" / "vectors")
)
GROWTH_LIMIT_KIB = 2048
CHUNK = 65536
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def rss_kib():
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * PAGE_KIB


def soak(phase, iterations, step):
    warm_up = iterations // 10
    start = peak = None
    for i in range(iterations):
        step(i)
        if i >= warm_up:
            now = rss_kib()
            start = now if start is None else start
            peak = max(peak or now, now)
    growth = (peak or 0) - (start or 0)
    print(f"python {phase} {iterations}: rss_kib {start} .. {peak} (growth {growth} KiB)")
    return growth < GROWTH_LIMIT_KIB


def main(requests, media):
    key = wfc.FlowPrivateKey.from_pem((VECTORS / "keys/rsa2048_pkcs8.pem").read_text())
    cases = [
        (json.dumps(v["request"]), v["expect"]["plaintext"])
        for v in json.loads((VECTORS / "requests.json").read_text())["vectors"]
        if v["key"] == "keys/rsa2048_pkcs8.pem" and v["passphrase"] is None and v["expect"]["ok"]
    ]
    assert len(cases) >= 3

    def request(i):
        body, plaintext = cases[i % len(cases)]
        decrypted = wfc.decrypt_request(body, key)
        assert decrypted.plaintext == plaintext
        assert decrypted.encrypt_response({"screen": "NEXT", "data": {"ok": True}})

    vector = next(
        v
        for v in json.loads((VECTORS / "media.json").read_text())["vectors"]
        if "1048579" in v["name"] and v["expect"]["ok"]
    )
    file = (VECTORS / vector["file"]).read_bytes()
    want = (VECTORS / vector["expect"]["plaintext_file"]).read_bytes()

    def stream(_):
        decryptor = wfc.MediaDecryptor(vector["metadata"])
        parts = [decryptor.update(file[at : at + CHUNK]) for at in range(0, len(file), CHUNK)]
        parts.append(decryptor.finish())
        assert b"".join(parts) == want

    flat = soak("requests", requests, request)
    flat = soak("media", media, stream) and flat
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2])))
